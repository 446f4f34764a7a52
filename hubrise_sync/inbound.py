"""HubRise's events: checked, recorded once (HubRise's event id is unique), then applied.

The webhook records an event (``record_event``) and answers; a worker applies it
moments later (``drain``). Polling and replays record and apply in one transaction
(``receive_event``), so an event is either recorded and applied, or neither (and
the next poll brings it again). What an order update means for our order is
decided in ``order_updates``, the one path shared with reconciliation; statuses
change only through ``orders.services.change_status`` with source "hubrise",
which the push side never sends back to HubRise (no echo). The contract:
docs/hubrise/callbacks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from getresto import statements
from hubrise_sync import (
    broker,
    catalog_events,
    deliveries,
    location_updates,
    order_edits,
    order_import,
    order_updates,
    queue,
)
from hubrise_sync.models import Connection, InboundEvent, OrderLink
from orders.models import Order

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HubRise-Hmac-SHA256"
Outcome = InboundEvent.Outcome
Via = InboundEvent.Via

# Events outside these years are not HubRise's (and some cannot even be shown in UTC).
MIN_EVENT_YEAR = 1970
MAX_EVENT_YEAR = 9998
EVENT_ID_MAX_LENGTH = InboundEvent._meta.get_field("event_id").max_length


class MalformedEvent(ValueError):
    """A body that is not an event we can read; the message says why (for admins)."""


@dataclass(frozen=True)
class Event:
    """The parts of a HubRise event we rely on, checked once."""

    id: str
    resource_type: str
    event_type: str
    created_at: datetime
    location_id: str
    order_id: str
    new_state: dict | None
    raw: str
    # The resource before the change, on updates: what a location or an order update changed besides the status.
    previous_state: dict | None = None

    @property
    def kind(self) -> str:
        return f"{self.resource_type}.{self.event_type}"


@dataclass(frozen=True)
class Received:
    event: InboundEvent
    duplicate: bool


# Signature ------------------------------------------------------------------------


def expected_signature(raw_body: bytes) -> str:
    return hmac.new(settings.HUBRISE_CLIENT_SECRET.encode(), raw_body, hashlib.sha256).hexdigest()


def signature_is_valid(raw_body: bytes, signature: str | None) -> bool:
    """HubRise's HMAC-SHA256 of the exact bytes received, compared in constant time."""
    # A header with non-ASCII bytes cannot be a hex digest (and compare_digest refuses non-ASCII text).
    if not signature or not signature.isascii() or not settings.HUBRISE_CLIENT_SECRET:
        return False
    return hmac.compare_digest(expected_signature(raw_body), signature.strip().lower())


# Parsing --------------------------------------------------------------------------


def parse_event(raw_body: bytes) -> Event:
    """Checks the shape of an event body; raises MalformedEvent with the reason."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEvent("The body is not UTF-8.") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise MalformedEvent("The body is not JSON we can read: it is nested too deeply.") from None
    except ValueError as error:
        raise MalformedEvent(f"The body is not JSON: {error}.") from None
    if _holds_unstorable_text(body, text):
        raise MalformedEvent("The body holds a NUL character or an unpaired surrogate.")
    return event_from_json(body, text)


def _holds_unstorable_text(body: Any, text: str) -> bool:
    """Whether any key or string holds what PostgreSQL's text cannot store (NUL, lone surrogates).

    Iterative: a body may be nested nearly as deep as json allows.
    """
    # Decoded UTF-8 holds no surrogate and JSON strings no raw control character:
    # both can only come from a \u escape, which most bodies do not have.
    if "\\u" not in text:
        return False
    waiting = [body]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= character <= "\udfff" for character in value):
                return True
        elif isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
    return False


def event_from_json(body: Any, raw: str) -> Event:
    if not isinstance(body, dict):
        raise MalformedEvent("The body is not a JSON object.")
    for field in ("id", "resource_type", "event_type", "created_at"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise MalformedEvent(f"The event has no {field}.")
    # Cut to the column, two different ids could become one, and the second event be taken for a redelivery.
    if len(body["id"]) > EVENT_ID_MAX_LENGTH:
        raise MalformedEvent(f"The event id is longer than {EVENT_ID_MAX_LENGTH} characters.")
    try:
        created_at = parse_datetime(body["created_at"])
    except ValueError:  # well formed but impossible, e.g. 30 February
        created_at = None
    if created_at is None or timezone.is_naive(created_at):
        raise MalformedEvent(f"created_at is not a time with an offset: {body['created_at']!r}.")
    try:
        year = created_at.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not MIN_EVENT_YEAR <= year <= MAX_EVENT_YEAR:
        raise MalformedEvent(f"created_at is out of range: {body['created_at']!r}.")
    new_state = body.get("new_state")
    if new_state is not None and not isinstance(new_state, dict):
        raise MalformedEvent("new_state is not an object.")
    state = new_state or {}
    # The older event format named the resource "resource_id".
    order_id = body.get("order_id") or state.get("id") or body.get("resource_id") or ""
    location_id = body.get("location_id") or state.get("location_id") or ""
    if not isinstance(location_id, str):
        raise MalformedEvent("location_id is not a string.")
    if body["resource_type"] == "order":
        if not isinstance(order_id, str) or not order_id:
            raise MalformedEvent("The order event has no order_id.")
        if body["event_type"] == "update" and not isinstance(state.get("status"), str):
            raise MalformedEvent("The order.update event has no new_state.status.")
    previous_state = body.get("previous_state")
    return Event(
        previous_state=previous_state if isinstance(previous_state, dict) else None,
        id=body["id"],
        resource_type=body["resource_type"][:32],
        event_type=body["event_type"][:32],
        created_at=created_at,
        location_id=str(location_id)[:64],
        order_id=str(order_id)[:64],
        new_state=new_state,
        raw=raw,
    )


def record_malformed(raw_body: bytes, problem: str, *, via: str, connection: Connection | None = None) -> InboundEvent:
    return InboundEvent.objects.create(
        connection=connection,
        location_id=connection.location_id if connection else "",
        via=via,
        outcome=Outcome.MALFORMED,
        detail=problem,
        # PostgreSQL's text cannot hold NUL: shown as the replacement character, like undecodable bytes.
        raw_body=raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
    )


# Receiving ------------------------------------------------------------------------


def _new_record(event: Event, *, via: str, connection: Connection | None) -> InboundEvent:
    return InboundEvent(
        event_id=event.id,
        connection=connection,
        location_id=event.location_id or (connection.location_id if connection else ""),
        resource_type=event.resource_type,
        event_type=event.event_type,
        hubrise_order_id=event.order_id if event.resource_type in ("order", "delivery") else "",
        new_status=str((event.new_state or {}).get("status", ""))[:32],
        created_at=event.created_at,
        via=via,
        outcome=Outcome.PENDING,
        raw_body=event.raw,
    )


def _insert_if_new(record: InboundEvent) -> bool:
    """Saves the new record unless its event id is already recorded; False if it was.

    One statement (INSERT … ON CONFLICT DO NOTHING RETURNING), valid inside or
    outside a transaction: two deliveries of one event racing each other meet
    on the unique id, and the loser inserts nothing. Its SQL is built once (every webhook call runs it).
    """
    return statements.insert([record], skip_conflicts_on="event_id") == 1


def record_event(event: Event, *, via: str) -> Received:
    """Records a callback event once, to be applied by a worker (``drain``).

    This is all the webhook does before answering: HubRise wants a quick 2xx,
    and once the row is committed the event cannot be lost. A worker applies it
    moments later, and the sweep applies any that no worker was told about.
    """
    record = _new_record(event, via=via, connection=None)
    if not _insert_if_new(record):
        return Received(InboundEvent.objects.get(event_id=event.id), duplicate=True)
    # Only the drain of the event's own slot reads it.
    wake_applier(slots=(record.pk % settings.HUBRISE_INBOUND_APPLIERS,))
    return Received(record, duplicate=False)


def wake_applier(slots: Iterable[int] | None = None) -> None:
    """Queue a drain of the recorded events of each slot (all by default), unless one is queued already; never raises.

    Events are shared among HUBRISE_INBOUND_APPLIERS drains (by primary key), so
    that as many worker processes apply them at once. A flag per slot in Redis
    says its drain is queued: a burst of events costs one Redis round trip per
    event and a task per slot, not a task per event. A drain clears its flag
    before it reads the events, so an event recorded after its last read always
    queues the next drain.
    """
    slots = range(settings.HUBRISE_INBOUND_APPLIERS) if slots is None else slots
    try:
        flags = broker.redis_client()
        # A webhook call wakes one slot: one SET, cheaper than a pipeline of one.
        for slot in [slot for slot in slots if broker.set_drain_flag(flags, "inbound", slot)]:
            queue.apply_recorded_events(slot)
    except Exception as error:  # the broker's errors vary with the transport
        logger.warning("Could not queue the applying of HubRise events (%s); the sweep will apply them", type(error).__name__)


def drain(slot: int = 0, limit: int = 1000) -> int:
    """Applies this slot's recorded events, oldest first, until none is left or ``limit``; returns how many."""
    broker.clear_drain_flag("inbound", slot)
    applied = 0
    while applied < limit:
        batch = apply_pending(older_than=timedelta(0), limit=min(100, limit - applied), slot=slot)
        if not batch:
            return applied
        applied += batch
    # More are waiting: a new task, so that other work queued meanwhile gets its turn.
    wake_applier()
    return applied


def receive_event(event: Event, *, via: str, connection: Connection | None = None) -> Received:
    """Records the event once and applies it, in one transaction (polling, reconciliation, replays).

    A redelivered event (same id) is found and left alone. Any exception rolls
    both back, so that the next poll brings the event again.
    """
    existing = InboundEvent.objects.filter(event_id=event.id).first()
    if existing is not None:
        return Received(existing, duplicate=True)
    with transaction.atomic():
        record = _new_record(event, via=via, connection=connection)
        if not _insert_if_new(record):
            return Received(InboundEvent.objects.get(event_id=event.id), duplicate=True)
        _apply_and_save(record, event)
    return Received(record, duplicate=False)


def apply_recorded(event_pk: int, *, record: InboundEvent | None = None) -> InboundEvent | None:
    """Applies a recorded event, and before it the older recorded events of its order; None if already done.

    The order's row lock makes the events of one order apply one at a time and
    in the order they reached us, whichever worker runs them; an event already
    applied (by another worker, or the sweep) is left alone. ``record`` is the
    event as the caller read it (maybe applied since): it saves reading it again.
    """
    if record is None:
        record = InboundEvent.objects.filter(pk=event_pk, outcome=Outcome.PENDING).first()
    if record is None or record.outcome != Outcome.PENDING:
        return None
    event = _event_of(record)
    with transaction.atomic():
        # The order first, then its events: every applier takes the locks in this order.
        order = _locked_order_of(record, event)
        if order is None:
            pending = InboundEvent.objects.filter(pk=record.pk)
        else:
            pending = InboundEvent.objects.filter(
                location_id=record.location_id, hubrise_order_id=record.hubrise_order_id, pk__lte=record.pk
            )
        # Re-read under the lock: the sweep or another worker may have applied some meanwhile.
        for earlier in pending.filter(outcome=Outcome.PENDING).select_for_update().order_by("pk"):
            # The same row as read before the lock, its body already parsed.
            _apply_and_save(earlier, event if earlier.pk == record.pk else _event_of(earlier), order=order)
            if earlier.pk == record.pk:
                record = earlier
    return record if record.outcome != Outcome.PENDING else None


def apply_pending(*, older_than: timedelta = timedelta(seconds=5), limit: int = 500, slot: int | None = None) -> int:
    """Applies recorded events, oldest first; returns how many.

    The sweep calls it for the events whose drain never ran (broker down,
    worker killed); a drain for those of its slot.
    """
    before = timezone.now() - older_than
    pending = InboundEvent.objects.filter(outcome=Outcome.PENDING, received_at__lt=before)
    if slot is not None:
        pending = pending.alias(slot=Mod("pk", settings.HUBRISE_INBOUND_APPLIERS)).filter(slot=slot)
    records = list(pending.order_by("received_at", "pk")[:limit])
    applied = 0
    for record in records:
        try:
            applied += apply_recorded(record.pk, record=record) is not None
        except Exception:
            # Rolled back and still pending: the next sweep tries it again. The events
            # behind it do not wait for it.
            logger.exception("Could not apply recorded HubRise event %s; it stays pending", record.pk)
    return applied


def _event_of(record: InboundEvent) -> Event:
    # Recorded only once parse_event accepted it, so it parses again.
    return event_from_json(json.loads(record.raw_body), record.raw_body)


def _locked_order_of(record: InboundEvent, event: Event) -> Order | None:
    """The event's order, read under its row lock (call inside a transaction); None if not an order update of ours."""
    if event.resource_type != "order" or event.event_type != "update" or not record.location_id:
        return None
    # Found through its link and locked in one statement; the lock is the order's row only.
    order = (
        Order.objects.select_for_update(of=("self",))
        .filter(hubrise__location_id=record.location_id, hubrise__hubrise_order_id=event.order_id)
        .first()
    )
    if order is not None:
        return order
    found = find_order(record.location_id, event.order_id, (event.new_state or {}).get("private_ref"))
    return None if found is None else Order.objects.select_for_update().get(pk=found.pk)


def _apply_and_save(record: InboundEvent, event: Event, *, order: Order | None = None) -> None:
    _apply(record, event, record.connection, order=order)
    record.save(update_fields=["connection", "location_id", "order", "outcome", "detail"])


def _apply(record: InboundEvent, event: Event, connection: Connection | None, *, order: Order | None = None) -> None:
    """Decides what the event means for us; ``order`` is its order when the caller found it already."""
    if event.resource_type in catalog_events.RESOURCE_TYPES:
        record.outcome, record.detail = catalog_events.apply(
            event.raw, event.resource_type, event.event_type, record.location_id, connection
        )
        return
    if event.kind not in _USED:
        record.outcome, record.detail = Outcome.IGNORED_UNSUPPORTED, f"{event.kind} events are not used."
        return
    location_id = record.location_id
    if connection is None:
        connection = (
            Connection.objects.filter(location_id=location_id).select_related("establishment").first() if location_id else None
        )
        if connection is None:
            unknown = f"No establishment is connected to HubRise location {location_id or '(none given)'}."
            # An order another app created for a location of nobody here cannot be imported: said so, for admins.
            record.outcome = Outcome.NOT_IMPORTED if event.kind == "order.create" else Outcome.IGNORED_UNKNOWN_LOCATION
            record.detail = unknown
            return
        record.connection = connection
    if event.resource_type == "location":
        # The pause, busy mode or preparation time changed at HubRise (the POS, OrderLine, a pause ending).
        record.outcome, record.detail = location_updates.apply(
            connection, event.new_state, event.previous_state, event.created_at
        )
        return
    state = event.new_state or {}
    # Found under its row lock by apply_recorded; otherwise apply_status takes the lock itself.
    locked = order is not None
    if order is None:
        order = find_order(location_id or connection.location_id, event.order_id, state.get("private_ref"))
    if event.resource_type == "delivery":
        _apply_delivery(record, event, order, location_id or connection.location_id)
        return
    if order is None:
        if order_import.is_ours(state):
            record.outcome = Outcome.IGNORED_UNKNOWN_ORDER
            record.detail = f"No order of ours is HubRise order {event.order_id} at location {location_id}."
            return
        # An order.update may overtake its order.create: either one imports the order, once.
        result = order_import.import_order(connection, state, hubrise_order_id=event.order_id)
        record.order, record.outcome, record.detail = result.order, result.outcome, result.detail
        return
    record.order = order
    if event.event_type == "create":
        record.outcome, record.detail = Outcome.NO_CHANGE, f"Already here as order {order.ref}."
        return
    record.outcome, record.detail = order_updates.apply_status(order, state, happened_at=event.created_at, locked=locked)
    outdated = record.outcome == Outcome.IGNORED_OUTDATED
    edits = order_edits.apply_edits(order, event.previous_state, state, happened_at=event.created_at, outdated=outdated)
    if edits:
        if record.outcome in (Outcome.NO_CHANGE, Outcome.IGNORED_OUTDATED):
            record.outcome = Outcome.APPLIED
        record.detail = f"{record.detail} Changed: {', '.join(edits)}."


# The events a back office receiving orders listens to (oauth.CALLBACK_EVENTS subscribes to them).
_USED = {"order.create", "order.update", "delivery.create", "delivery.update", "location.update"}


def _apply_delivery(record: InboundEvent, event: Event, order: Order | None, location_id: str) -> None:
    if order is None:
        # A platform sends its courier right after its order, and another applier may be importing that order: under
        # the import's lock, either the order is here now, or its import (later) applies this event.
        order_import.lock(location_id, event.order_id)
        order = find_order(location_id, event.order_id)
    if order is None:
        record.outcome = Outcome.IGNORED_UNKNOWN_ORDER
        record.detail = f"No order here is HubRise order {event.order_id} of this delivery (applied if the order is imported)."
        return
    record.order = order
    record.outcome, record.detail = deliveries.store(order, event.new_state or {}, changed_at=event.created_at)


def find_order(location_id: str, hubrise_order_id: str, private_ref: Any = None) -> Order | None:
    """Our order for a HubRise order id, or by our private_ref (the order's uid).

    The private_ref covers an event that overtakes our own create: HubRise has
    the order (and the POS may already have accepted it) before the push task
    has stored HubRise's id.
    """
    link = OrderLink.objects.filter(location_id=location_id, hubrise_order_id=hubrise_order_id).select_related("order").first()
    if link is not None:
        return link.order
    if isinstance(private_ref, str):
        try:
            uid = uuid.UUID(private_ref)
        except ValueError:
            return None
        return Order.objects.filter(uid=uid, establishment__hubrise_connection__location_id=location_id).first()
    return None
