"""The kinds of outbox message, one module each.

How to add a kind (say a catalog PUT, or an inventory PATCH):

1. Write ``kinds/<name>.py`` with
   - receivers of the signal that calls for the message: each checks it concerns a
     pushed order (``write.pushed_connection``), supersedes its own waiting messages
     if a newer one makes them useless (``state.supersede_waiting``), and writes the
     message with ``write.write_message`` (in the sender's transaction); a change that
     came from HubRise is never sent back, and makes the kind's messages not yet at
     HubRise useless (``state.overtaken_by_hubrise``);
   - ``send(sending) -> Result``: builds the payload (in ``mapping``) and makes the
     call through ``result.call``, which turns HubRise's answer into the outcome the
     retry rules need; it never writes the message itself;
   - ``KIND = Kind(name=…, label=…, send=send, receivers=(…,))``, with
     ``look_up_before_retry`` if a call that got no answer may have created something.
2. Add it to ``KINDS`` below.

That is all: the drain claims, rate-limits, sends and records it like any other,
one message of an order at a time and oldest first; staff see it on the order's
badge and admins in the outbox. ``kinds/confirmed_time.py`` is the smallest example.
"""

from __future__ import annotations

from hubrise_sync.models import OutboxMessage
from hubrise_sync.outbox.kind import Kind
from hubrise_sync.outbox.kinds import confirmed_time, create, status

KINDS: dict[str, Kind] = {kind.name: kind for kind in (create.KIND, status.KIND, confirmed_time.KIND)}


def of(message: OutboxMessage) -> Kind:
    return KINDS[message.kind]


def label(name: str) -> str:
    kind = KINDS.get(name)
    return str(kind.label) if kind else name


def looked_up_before_retry() -> list[str]:
    return [kind.name for kind in KINDS.values() if kind.look_up_before_retry]


def carrying_status() -> list[str]:
    return [kind.name for kind in KINDS.values() if kind.carries_status]


def connect_receivers() -> None:
    """Connects every kind's receivers to their signals (the app's ready())."""
    for kind in KINDS.values():
        for signal, receiver in kind.receivers:
            signal.connect(receiver, dispatch_uid=f"hubrise_outbox_{kind.name}_{receiver.__name__}")
