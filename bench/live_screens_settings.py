"""Settings of bench/live_screens.py's server: the normal settings, each answer carrying the CPU its thread spent.

The header lets the bench split the server's CPU between answers that rendered a
fragment and answers that found nothing new, which /proc alone cannot.
"""

from getresto.settings import *  # noqa: F403

MIDDLEWARE = ["bench.cpu_header.ThreadCpuHeader", *MIDDLEWARE]  # noqa: F405
