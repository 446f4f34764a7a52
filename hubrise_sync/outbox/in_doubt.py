"""Settling creates in doubt: orders that may have reached HubRise although no answer came back.

After a timeout, a dropped connection, a 5xx or a dead worker, a create is looked
up by ``private_ref`` before it is posted again (HubRise has no idempotency key:
docs/hubrise/orders.md). A lookup is a heavy call (10 a minute), so after a HubRise
outage a connection's creates in doubt are settled by listing its orders since the
oldest of them instead: those found are adopted, those not found are posted
without a lookup.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from hubrise_sync import mapping, ratelimit
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import Connection, OutboxMessage
from hubrise_sync.outbox import kinds
from hubrise_sync.outbox.result import Outcome, Result
from hubrise_sync.outbox.state import Claim, Sent
from orders.models import Order

State = OutboxMessage.State

# From this many creates in doubt of one connection in a round, one listing (at most that many
# pages) settles them; HubRise's clock may be behind ours.
LOOK_UP_TOGETHER_FROM = 2
LOOK_UP_TOGETHER_PAGES = 5
CLOCK_MARGIN = timedelta(minutes=10)


def settle(claims: list[Claim], orders: dict[int, Order]) -> tuple[list[Claim], list[Sent]]:
    """Settles a round's creates in doubt with one listing per connection; (claims left to send, adoptions to record).

    A listing serves the next rounds too, for the creates whose last try ended
    before it was taken (``_listing_for``).
    """
    in_doubt: dict[int, tuple[Connection, list[Claim]]] = {}
    for claimed in claims:
        if not kinds.of(claimed.message).look_up_before_retry or not claimed.look_up_first:
            continue
        connection = connection_of(orders[claimed.message.order_id])
        if connection is None or connection.is_broken:
            continue
        in_doubt.setdefault(connection.pk, (connection, []))[1].append(claimed)
    adopted: list[Sent] = []
    for connection, group in in_doubt.values():
        started = timezone.now()
        listing = _listing_for(connection, group)
        if listing is None:
            continue  # each is looked up on its own
        for claimed in group:
            hubrise_id = listing.found.get(str(orders[claimed.message.order_id].uid))
            if hubrise_id is None:
                # Not at HubRise: no one else sends it while we hold its lease.
                claimed.look_up_first = False
                continue
            request = f"GET /locations/{connection.location_id}/orders?after={mapping.local_time(listing.since, 'UTC')}"
            result = Result(outcome=Outcome.ADOPTED, hubrise_order_id=hubrise_id, http_status=200, request=request)
            adopted.append(Sent(claimed, connection, result, started))
    settled = {sent.claimed.message.pk for sent in adopted}
    return [claimed for claimed in claims if claimed.message.pk not in settled], adopted


@dataclass(frozen=True)
class Listing:
    """A connection's orders at HubRise created since ``since``, as listed at ``taken_at``: our private_ref → id."""

    taken_at: datetime
    since: datetime
    found: dict[str, str]


# The last complete listing of each connection, shared by the process's delivery threads.
_listings: dict[int, Listing] = {}
_listings_lock = threading.Lock()


def _listing_for(connection: Connection, group: list[Claim]) -> Listing | None:
    """A listing that settles every create of ``group``, the last one taken or a new one; None if none can.

    A listing settles a create if it reaches back to the create's order and was
    taken after the create's last try ended: a message is due (``due_at``) only
    after its last try, and its lease kept any other worker from trying it
    since. Creates not found in it were then never stored by HubRise.
    """
    oldest = min(claimed.message.created_at for claimed in group) - CLOCK_MARGIN
    with _listings_lock:
        last = _listings.get(connection.pk)
    if last is not None and last.since <= oldest and all(claimed.message.due_at <= last.taken_at for claimed in group):
        return last
    if len(group) < LOOK_UP_TOGETHER_FROM:
        return None  # one create: its own lookup costs the same heavy call
    # Far enough back for every create of the connection in doubt, so that the next rounds can use it too.
    in_doubt_since = (
        OutboxMessage.objects.filter(connection=connection, kind__in=kinds.looked_up_before_retry(), create_may_have_landed=True)
        .exclude(state__in=(State.DELIVERED, State.SUPERSEDED))
        .aggregate(oldest=Min("created_at"))["oldest"]
    )
    since = min(oldest, in_doubt_since - CLOCK_MARGIN) if in_doubt_since else oldest
    taken_at = timezone.now()
    found = _list_private_refs(connection, since)
    if found is None:
        return None
    listing = Listing(taken_at, since, found)
    with _listings_lock:
        _listings[connection.pk] = listing
    return listing


def connection_of(order: Order) -> Connection | None:
    """The connection of the order's establishment, as loaded with the order by the drain."""
    try:
        return order.establishment.hubrise_connection
    except Connection.DoesNotExist:
        return None


def _list_private_refs(connection: Connection, since: datetime) -> dict[str, str] | None:
    """Our private_ref → HubRise id of the connection's orders created since then; None unless all were listed."""
    client = HubRiseClient(connection.access_token)
    found: dict[str, str] = {}
    cursor = None
    for _page in range(LOOK_UP_TOGETHER_PAGES):
        if ratelimit.acquire(connection.pk, heavy=True):
            return None
        params = {"after": mapping.local_time(since, "UTC"), "count": "100"}
        if cursor:
            params["cursor"] = cursor
        try:
            page = client.find_orders(connection.location_id, **params)
        except HubRiseError:
            return None
        for remote in page.data if isinstance(page.data, list) else []:
            if isinstance(remote, dict) and remote.get("private_ref"):
                found[str(remote["private_ref"])] = str(remote["id"])
        cursor = page.headers.get("X-Cursor-Next")
        if not cursor:
            return found
    return None
