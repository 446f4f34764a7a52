"""Callbacks: subscriptions, event recording and active delivery with HubRise's retry schedule.

An event row is the outbox: it is written in the same transaction as the order change,
then the dispatcher thread claims due rows and POSTs them. Attempts are kept on the row
so the control API can show the exact retry timing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from .errors import ValidationFailed
from .formats import local_time
from .store import Store, unused_id

log = logging.getLogger(__name__)

ALLOWED_EVENTS = {
    "catalog": ("create", "update", "delete"),
    "customer": ("create", "update"),
    "delivery": ("create", "update"),
    "inventory": ("patch", "update"),
    "location": ("update",),
    "order": ("create", "update"),
}
# Waits before each retry, in time units; after the last one fails the event is dropped.
RETRY_WAITS = (1, 2, 4, 8, 16, 32)
PENDING, IN_FLIGHT, DELIVERED, ACKNOWLEDGED, DROPPED = "pending", "in_flight", "delivered", "acknowledged", "dropped"
UNACKNOWLEDGED = (PENDING, IN_FLIGHT)


def validate_callback(payload: Any) -> tuple[str | None, dict[str, list[str]]]:
    errors = []
    if not isinstance(payload, dict):
        raise ValidationFailed([{"field": "base", "message": "the body must be a JSON object"}])
    url = payload.get("url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        errors.append({"field": "url", "message": f"{url!r} is not an http(s) URL"})
    events = payload.get("events")
    if not isinstance(events, dict) or not events:
        errors.append({"field": "events", "message": 'must map resources to event types, e.g. {"order": ["update"]}'})
        events = {}
    normalised: dict[str, list[str]] = {}
    for resource, types in events.items():
        if resource not in ALLOWED_EVENTS:
            errors.append({"field": f"events.{resource}", "message": f"{resource!r} is not a resource with events"})
            continue
        if not isinstance(types, list) or not types:
            errors.append({"field": f"events.{resource}", "message": "must be a non-empty array of event types"})
            continue
        for event_type in types:
            if event_type not in ALLOWED_EVENTS[resource]:
                errors.append({"field": f"events.{resource}", "message": f"{event_type!r} is not an event of {resource}"})
        normalised[resource] = sorted(set(t for t in types if isinstance(t, str)))
    unknown = set(payload) - {"url", "events"}
    errors.extend({"field": key, "message": "is not a known field"} for key in sorted(unknown))
    if errors:
        raise ValidationFailed(errors)
    return url, normalised


def record_event(db, connection_id: str, body: dict) -> None:
    """Inside the caller's transaction, so the event exists if and only if the change does."""
    now = time.time()
    db.execute(
        "INSERT INTO events (id, connection_id, created_at, body, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
        (body["id"], connection_id, now, json.dumps(body, ensure_ascii=False), PENDING, now),
    )


def emit(
    db,
    *,
    location_ids: list[str],
    resource: str,
    event_type: str,
    actor_client_id: str | None,
    fields: Callable[[Any], dict],
) -> int:
    """Records ``resource.event_type`` for every connection on those locations that subscribed to it,
    except the actor's: an app never receives events it caused. ``actor_client_id`` is None for
    HubRise's own changes (an inventory entry expiring), which everyone subscribed receives.
    ``fields(receiver)`` gives the resource's ids and states as that receiver sees them.
    Returns the number of events recorded."""
    if not location_ids:
        return 0
    receivers = db.execute(
        "SELECT cn.id, cn.client_id, cn.location_id, l.account_id, l.timezone, cb.events FROM connections cn"  # noqa: S608
        " JOIN callbacks cb ON cb.connection_id = cn.id JOIN locations l ON l.id = cn.location_id"
        f" WHERE cn.location_id IN ({', '.join('?' * len(location_ids))}) AND cn.revoked_at IS NULL AND cn.client_id != ?"
        " ORDER BY cn.created_at",
        (*location_ids, actor_client_id or ""),
    ).fetchall()
    recorded = 0
    for receiver in receivers:
        if event_type not in json.loads(receiver["events"]).get(resource, []):
            continue
        body = {
            "id": unused_id(db, "events"),
            "resource_type": resource,
            "event_type": event_type,
            "created_at": local_time(time.time(), receiver["timezone"]),
            **fields(receiver),
        }
        record_event(db, receiver["id"], body)
        recorded += 1
    return recorded


def signature(secret: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


class Dispatcher:
    """Delivers pending events of connections that have a callback URL."""

    def __init__(self, store: Store, time_unit: Callable[[], float], timeout: Callable[[], float]) -> None:
        self.store = store
        self.time_unit = time_unit
        self.timeout = timeout
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="callback")
        self._thread = threading.Thread(target=self._run, name="callback-dispatcher", daemon=True)

    def start(self) -> None:
        with self.store.transaction() as db:
            # Deliveries cut short by a stop are simply due again.
            db.execute("UPDATE events SET state = ? WHERE state = ?", (PENDING, IN_FLIGHT))
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self._dispatch_due()
            except Exception:
                log.exception("callback dispatcher failed")
                wait = 1.0
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch_due(self) -> float:
        """Claims every due event; returns how long to sleep until the next one is due."""
        now = time.time()
        with self.store.transaction() as db:
            due = db.execute(
                "SELECT e.id, e.body, cb.url, cl.secret FROM events e"
                " JOIN callbacks cb ON cb.connection_id = e.connection_id"
                " JOIN connections cn ON cn.id = e.connection_id"
                " JOIN clients cl ON cl.id = cn.client_id"
                " WHERE e.state = ? AND e.next_attempt_at <= ? AND cb.url IS NOT NULL"
                " ORDER BY e.seq",
                (PENDING, now),
            ).fetchall()
            for row in due:
                db.execute("UPDATE events SET state = ? WHERE id = ?", (IN_FLIGHT, row["id"]))
            upcoming = db.execute(
                "SELECT MIN(e.next_attempt_at) FROM events e JOIN callbacks cb"
                " ON cb.connection_id = e.connection_id WHERE e.state = ? AND cb.url IS NOT NULL",
                (PENDING,),
            ).fetchone()[0]
        for row in due:
            self._pool.submit(self._deliver, row["id"], row["body"], row["url"], row["secret"])
        if upcoming is None:
            return 1.0
        return min(1.0, max(0.0, upcoming - time.time()))

    def _deliver(self, event_id: str, body: str, url: str, secret: str) -> None:
        raw = body.encode()
        started = time.time()
        status, error = None, None
        try:
            response = requests.post(
                url,
                data=raw,
                headers={"Content-Type": "application/json", "X-HubRise-Hmac-SHA256": signature(secret, raw)},
                timeout=self.timeout(),
            )
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        # Any answer below 500 acknowledges: a 4xx means the receiver has seen the event.
        acknowledged = status is not None and 200 <= status < 500
        attempt = {"at": started, "status": status, "error": error}
        with self.store.transaction() as db:
            row = db.execute("SELECT state, attempts FROM events WHERE id = ?", (event_id,)).fetchone()
            if row is None or row["state"] != IN_FLIGHT:
                return
            attempts = [*json.loads(row["attempts"]), attempt]
            failures = len(attempts)
            if acknowledged:
                state, next_at = DELIVERED, None
            elif failures > len(RETRY_WAITS):
                state, next_at = DROPPED, None
            else:
                state, next_at = PENDING, time.time() + RETRY_WAITS[failures - 1] * self.time_unit()
            db.execute(
                "UPDATE events SET state = ?, attempts = ?, next_attempt_at = ? WHERE id = ?",
                (state, json.dumps(attempts), next_at, event_id),
            )
        self._wake.set()
