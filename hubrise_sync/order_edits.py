"""What an ``order.update`` changes besides the status: the confirmed time, the items, the seller notes.

Only what changed *in this event* is applied (its ``previous_state`` against its
``new_state``): an event carries the whole order, and a field it did not change
may be older than our own change still on its way to HubRise. HubRise does not
say which app made a change, so the history says "HubRise" and, when known,
nothing more. Each change goes through ``orders.remote_edits`` (the one place
that writes them) with source "hubrise", which the outbox never sends back.
"""

from __future__ import annotations

from hubrise_sync import deliveries
from hubrise_sync.import_mapping import NotImportable, active_items, read_items
from hubrise_sync.inbound_time import parse_time
from orders import remote_edits
from orders.models import Order, StatusChange

HUBRISE = StatusChange.Source.HUBRISE


def apply_edits(order: Order, previous: dict | None, new: dict, *, happened_at, outdated: bool = False) -> list[str]:
    """Applies the event's changes other than the status; returns what changed, for the event's record.

    ``outdated``: the event's status was older than our own last change; its confirmed time
    is then as old, and ours (on its way to HubRise) stays.
    """
    done: list[str] = []
    if not isinstance(previous, dict):
        # Without the state before, what changed cannot be told (reconciliation's GET): only the courier is taken.
        deliveries.from_order_state(order, new, changed_at=happened_at)
        return done
    if not outdated and previous.get("confirmed_time") != new.get("confirmed_time") and new.get("confirmed_time"):
        moment = parse_time(new.get("confirmed_time"))
        if moment is not None and remote_edits.set_confirmed_time(order, moment, source=HUBRISE):
            done.append("confirmed_time")
    notes = new.get("seller_notes") or ""
    changed_notes = previous.get("seller_notes") != new.get("seller_notes") and isinstance(notes, str)
    if changed_notes and remote_edits.set_seller_notes(order, notes.strip(), source=HUBRISE):
        done.append("seller_notes")
    if active_items(previous) != active_items(new):
        establishment = order.establishment
        try:
            items = read_items(new, currency=establishment.currency, country=establishment.country)
        except NotImportable as refused:
            done.append(f"items not applied ({refused})")
        else:
            if remote_edits.replace_items(order, items, source=HUBRISE):
                done.append("items")
    if previous.get("delivery") != new.get("delivery"):
        deliveries.from_order_state(order, new, changed_at=happened_at)
        done.append("delivery")
    return done
