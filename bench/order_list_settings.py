"""Settings of bench/order_list.py's server: the normal settings plus a trivial view's URLconf."""

from getresto.settings import *  # noqa: F403

ROOT_URLCONF = "bench.order_list_urls"
