"""What a kind of outbox message is: the signal receivers that write it and the call that sends it.

Each kind is one module of ``hubrise_sync.outbox.kinds`` defining a ``KIND``; the
registry there lists them (and says how to add one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal

from hubrise_sync.client import HubRiseClient
from hubrise_sync.models import OrderLink, OutboxMessage
from hubrise_sync.outbox.result import Result
from orders.models import Order


@dataclass(frozen=True)
class Sending:
    """What a kind's ``send`` gets: one claimed message, its order and where it goes."""

    client: HubRiseClient
    link: OrderLink
    order: Order
    message: OutboxMessage
    # An earlier try may have reached HubRise unanswered (only for look_up_before_retry kinds).
    look_up_first: bool


@dataclass(frozen=True)
class Kind:
    # Stored in OutboxMessage.kind (32 characters at most); never renamed once messages carry it.
    name: str
    # What staff and admins read (gettext_lazy).
    label: str
    # Makes the HubRise call(s) for one message and says how it went; never raises for HubRise's errors.
    send: Callable[[Sending], Result]
    # (signal, receiver) pairs connected at start-up; receivers write messages with outbox.write (order_rows'
    # receivers return theirs, written in the new order's own statement).
    receivers: tuple[tuple[Signal, Callable], ...]
    # A message that may have reached HubRise unanswered must be looked up before it is sent
    # again (a create: HubRise has no idempotency key). A PATCH or PUT saying the same thing twice
    # is harmless: False. A lookup counts in HubRise's heavy limit.
    look_up_before_retry: bool = False
    # The message sets the order's status at HubRise: a HubRise status change applied while it is
    # out means HubRise is asked afterwards which status is current (outbox.state.overtaken_by_hubrise).
    carries_status: bool = False
