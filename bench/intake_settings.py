"""Settings of bench/intake.py's server: the normal settings plus the bare create view's URLconf."""

from getresto.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_urls"
