"""What the catalog import and the inventory refresh share: the source of the menu changes they make, their
retry and timeout rules, and the exception that puts a read off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# The menu's changes made from HubRise carry this source: the push side never sends them back.
SOURCE = "hubrise"
# A read that failed for a reason that may pass (timeout, 5xx) is tried again after this many seconds.
RETRY_AFTER_FAILURE = 30
# A worker that died while reading leaves its work started; after this the sweep queues it again.
STARTED_TIMEOUT = timedelta(minutes=5)
# Queued work whose task never ran (broker down) is queued again by the sweep after this.
QUEUED_TIMEOUT = timedelta(seconds=60)


@dataclass
class TryLater(Exception):
    """HubRise could not be read now (limits, outage); the task tries again in ``seconds``."""

    seconds: float
