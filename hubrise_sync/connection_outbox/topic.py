"""What a topic of the connection outbox is, and what its ``send`` is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from hubrise_sync.client import HubRiseClient
from hubrise_sync.models import Connection
from hubrise_sync.outbox.result import Result
from orders.models import Establishment


@dataclass(frozen=True)
class TopicSending:
    """One claimed topic of one connection, about to be sent."""

    client: HubRiseClient
    connection: Connection
    establishment: Establishment


@dataclass(frozen=True)
class Topic:
    # Stored in ConnectionMessage.topic (32 characters at most); never renamed once rows carry it.
    name: str
    # What staff read on the settings page ("Emplacement HubRise"): gettext_lazy.
    label: str
    # Builds the payload from the current state, makes the call(s), says how it went; never
    # raises for HubRise's errors and never writes the row itself.
    send: Callable[[TopicSending], Result]
    # How long the first change waits for the next ones before it goes out: they all make one call.
    debounce: timedelta = timedelta(0)
