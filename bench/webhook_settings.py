"""Settings of bench/webhook.py's server: the normal settings plus a trivial baseline view's URLconf."""

from getresto.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhook_urls"
