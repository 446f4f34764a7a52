""" "Nothing lost": the check every push fault test ends with, made against HubRise's own record.

What the outbox believes it sent proves nothing; what the HubRise sandbox holds does. For
each of our orders: it is at HubRise exactly once (found by our private_ref, the order's
uid) and linked to that HubRise order, with our status; no message of it is left
unfinished in our outbox; and its history is an unbroken chain of changes ending at its
status. Also the small helpers the push tests share to get there.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import state
from orders.models import Order


def connect(establishment, sandbox) -> Connection:
    """The establishment connected to the sandbox's first location, as after the OAuth flow."""
    return Connection.objects.create(
        establishment=establishment, access_token=sandbox.create_token(), location_id=sandbox.location_id
    )


def at_hubrise(sandbox, order: Order) -> list[dict]:
    """The sandbox's orders carrying this order's uid as our private_ref."""
    return [o for o in sandbox.orders() if o["private_refs"].get(sandbox.client_id) == str(order.uid)]


def delivered(order: Order) -> bool:
    return not OutboxMessage.objects.filter(order=order, state__in=state.UNFINISHED).exists()


def hubrise_status_is(sandbox, order: Order, status: str) -> bool:
    found = at_hubrise(sandbox, order)
    return len(found) == 1 and found[0]["status"] == status


def patches(sandbox, order: Order) -> list[dict]:
    """The PATCHes HubRise received for this order, oldest first."""
    hubrise_id = OrderLink.objects.get(order=order).hubrise_order_id
    log = sandbox.requests_log(method="PATCH", limit=200)
    return [entry for entry in reversed(log) if entry["path"].endswith(f"/orders/{hubrise_id}")]


def history_breaks(order: Order) -> list[str]:
    """Where the order's history is not a chain from its creation to its current status."""
    changes = list(order.history.order_by("at", "id").values_list("from_status", "to_status"))
    if not changes:
        return ["no history"]
    breaks = []
    if changes[0][0]:
        breaks.append(f"starts with a change from {changes[0][0]!r} instead of the creation")
    for (_before, previous), (from_status, to_status) in pairwise(changes):
        if from_status != previous:
            breaks.append(f"{from_status} → {to_status} follows a change to {previous}")
    if changes[-1][1] != order.status:
        breaks.append(f"ends at {changes[-1][1]} but the order is {order.status}")
    return breaks


def assert_nothing_lost(sandbox, orders: Iterable[Order] | None = None) -> None:
    """Fails with every problem found, for ``orders`` (default: every order of a connected establishment).

    With the default, HubRise must also hold no order of ours that we do not know.
    """
    if orders is None:
        ours = list(Order.objects.filter(establishment__hubrise_connection__isnull=False))
    else:
        ours = list(Order.objects.filter(pk__in=[order.pk for order in orders]))
    assert ours, "no order to check"
    remote = sandbox.orders()
    by_ref: dict[str, list[dict]] = {}
    for hubrise_order in remote:
        ref = hubrise_order["private_refs"].get(sandbox.client_id)
        if ref is not None:
            by_ref.setdefault(ref, []).append(hubrise_order)
    links = dict(OrderLink.objects.filter(order__in=ours).values_list("order_id", "hubrise_order_id"))
    unfinished = OutboxMessage.objects.filter(order__in=ours, state__in=state.UNFINISHED)
    unfinished = list(unfinished.values_list("order__ref", "kind", "status", "state"))

    problems = [f"order {ref}: {kind} ({status}) still {state} in the outbox" for ref, kind, status, state in unfinished]
    for order in ours:
        found = by_ref.get(str(order.uid), [])
        if len(found) != 1:
            problems.append(f"order {order.ref}: {len(found)} orders at HubRise instead of 1")
        else:
            if found[0]["status"] != order.status:
                problems.append(f"order {order.ref}: {found[0]['status']} at HubRise, {order.status} here")
            if links.get(order.pk) != found[0]["id"]:
                problems.append(f"order {order.ref}: linked to {links.get(order.pk)!r}, HubRise id {found[0]['id']!r}")
        problems.extend(f"order {order.ref}: history {gap}" for gap in history_breaks(order))
    if orders is None:
        strangers = sorted(set(by_ref) - {str(order.uid) for order in ours})
        problems.extend(f"HubRise holds an order of ours we do not know: private_ref {ref}" for ref in strangers)
    assert not problems, "lost or wrong at HubRise:\n" + "\n".join(problems)
