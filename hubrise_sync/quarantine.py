"""Callbacks refused for their signature (or size): what is kept of them for admins, and the replay.

Anyone can POST to the webhook, so nothing here may grow with what a client
sends: of each refused call only the start of its body (a genuine HubRise
event fits in it whole, so it can still be replayed), its size, its SHA-256,
its headers (secrets left out) and the source address are kept; at most
HUBRISE_QUARANTINE_MAX_PER_HOUR are kept a clock hour (the others are only
counted in RefusedCallbackTally); and one address that goes on being refused
is answered 429 for the rest of the minute. The counters of that throttle live
in Redis (the broker's) so that every web process shares them.

Signed callbacks never come here: they are checked first, so a flood of
refused ones slows none of HubRise's.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hubrise_sync import broker, inbound
from hubrise_sync.models import QuarantinedCallback, RefusedCallbackTally

logger = logging.getLogger(__name__)

Reason = QuarantinedCallback.Reason

# A refused-signature burst this large within the window is logged as an error:
# most likely our client secret is wrong and genuine events are being refused.
REFUSAL_BURST = 10
REFUSAL_WINDOW = timedelta(minutes=5)
# Headers never kept: they may carry someone's credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-csrftoken", "x-api-key", "x-access-token"})
# Headers are the client's too: a bounded number, each cut to a bounded length.
MAX_HEADERS = 50
MAX_HEADER_LENGTH = 1000
THROTTLE_WINDOW = 60
THROTTLE_KEY_PREFIX = "hubrise:refused-from:"


@dataclass(frozen=True)
class Refusal:
    """What became of a refused callback: kept (or only counted), or throttled (answer 429 after ``retry_after`` s)."""

    kept: QuarantinedCallback | None = None
    retry_after: int | None = None


def refuse(reason: str, *, headers: dict[str, str], body: bytes, body_size: int, remote_addr: str = "") -> Refusal:
    """Records a refused callback within the bounds above; raises DatabaseError if the database cannot."""
    hour = _hour_of(timezone.now())
    retry_after = _throttle(remote_addr)
    if retry_after is not None:
        _count(hour, "throttled")
        return Refusal(retry_after=retry_after)
    if not _take_a_place(hour):
        _count_not_kept(hour)
        return Refusal()
    kept = QuarantinedCallback.objects.create(
        reason=reason,
        headers=_kept_headers(headers),
        body=body[: settings.HUBRISE_QUARANTINE_KEEP_BYTES],
        body_size=body_size,
        # A body refused unread (too large) has no digest.
        body_sha256=hashlib.sha256(body).hexdigest() if len(body) == body_size else "",
        remote_addr=remote_addr[:64],
    )
    if reason != Reason.TOO_LARGE:
        _log_refusal_burst()
    return Refusal(kept=kept)


def _kept_headers(headers: dict[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            continue
        if len(kept) == MAX_HEADERS:
            break
        kept[name[:MAX_HEADER_LENGTH]] = str(value)[:MAX_HEADER_LENGTH]
    return kept


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# Hourly cap --------------------------------------------------------------------------


def _take_a_place(hour: datetime) -> bool:
    """Counts one more kept callback this hour if the cap allows; False when it is reached.

    A conditional UPDATE: concurrent requests re-check ``kept`` on the row they
    wait for, so the cap holds across processes.
    """
    cap = settings.HUBRISE_QUARANTINE_MAX_PER_HOUR
    tally = RefusedCallbackTally.objects.filter(hour=hour)
    if tally.filter(kept__lt=cap).update(kept=F("kept") + 1):
        return True
    if not tally.exists():
        _create_tally(hour)
        return bool(tally.filter(kept__lt=cap).update(kept=F("kept") + 1))
    return False


def _create_tally(hour: datetime) -> None:
    try:
        # A savepoint: another process may create the hour's row first.
        with transaction.atomic():
            RefusedCallbackTally.objects.create(hour=hour)
    except IntegrityError:
        pass


def _count(hour: datetime, field: str) -> None:
    tally = RefusedCallbackTally.objects.filter(hour=hour)
    if not tally.update(**{field: F(field) + 1}):
        _create_tally(hour)
        tally.update(**{field: F(field) + 1})


def _count_not_kept(hour: datetime) -> None:
    # The first one over the cap (0 → 1, decided by the row) logs, once an hour whatever the process.
    if RefusedCallbackTally.objects.filter(hour=hour, not_kept=0).update(not_kept=1):
        logger.error(
            "More than %d HubRise callbacks refused this hour: the others are only counted (admin: refused HubRise "
            "callbacks per hour). Check HUBRISE_CLIENT_SECRET, and who is calling the webhook.",
            settings.HUBRISE_QUARANTINE_MAX_PER_HOUR,
        )
        return
    _count(hour, "not_kept")


# Throttle per source address ---------------------------------------------------------


def _throttle(remote_addr: str, now: float | None = None) -> int | None:
    """None if this address may be heard, else the seconds until the end of its minute."""
    limit = settings.HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE
    now = time.time() if now is None else now
    window = int(now // THROTTLE_WINDOW) * THROTTLE_WINDOW
    key = f"{THROTTLE_KEY_PREFIX}{remote_addr or '-'}:{window}"
    count = _increment(key, ttl=2 * THROTTLE_WINDOW)
    if count is None or count <= limit:
        return None
    if count == limit + 1:
        logger.warning(
            "More than %d HubRise callbacks from %s refused within a minute: answering 429 until the minute ends.",
            limit,
            remote_addr or "(unknown address)",
        )
    return max(1, math.ceil(window + THROTTLE_WINDOW - now))


def _increment(key: str, *, ttl: int) -> int | None:
    """The counter after adding one, in the broker's Redis: shared by every web process."""
    try:
        with broker.redis_client().pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl)
            count, _ = pipe.execute()
        return int(count)
    except Exception as error:  # Redis' errors vary; the hourly cap still bounds the table
        logger.warning("Cannot count refused HubRise callbacks per address (%s); not throttling", type(error).__name__)
        return None


def forget_throttle(client) -> None:
    """Drops every address's counter in that Redis (tests: each starts with a clean slate)."""
    counters = list(client.scan_iter(f"{THROTTLE_KEY_PREFIX}*", count=1000))
    if counters:
        client.delete(*counters)


def _log_refusal_burst() -> None:
    since = timezone.now() - REFUSAL_WINDOW
    refused = QuarantinedCallback.objects.filter(received_at__gte=since).exclude(reason=Reason.TOO_LARGE)
    count = refused.count()
    # One error per window is enough to wake someone; the admin lists every request kept.
    if count > REFUSAL_BURST and cache.add("hubrise:refusal-burst-logged", True, int(REFUSAL_WINDOW.total_seconds())):
        logger.error(
            "%d HubRise callbacks refused for their signature in the last %d minutes: check HUBRISE_CLIENT_SECRET, "
            "then re-verify and replay them from the admin (quarantined HubRise callbacks).",
            count,
            int(REFUSAL_WINDOW.total_seconds() // 60),
        )


# Replay ------------------------------------------------------------------------------


def replay(kept: QuarantinedCallback) -> str:
    """Re-verifies a refused callback with today's secret and, if it now passes, receives it."""
    if kept.reason == Reason.TOO_LARGE:
        result = "Not replayable: the body was too large to keep."
    elif not kept.body_is_whole:
        # The signature covers the whole body: without it nothing can be verified.
        result = (
            f"Not replayable: only the first {len(kept.body)} of its {kept.body_size} bytes were kept"
            f" (SHA-256 of the whole: {kept.body_sha256})."
        )
    else:
        result = _replay_whole(kept)
    kept.replayed_at = timezone.now()
    kept.replay_result = result
    kept.save(update_fields=["replayed_at", "replay_result", "event"])
    return result


def _replay_whole(kept: QuarantinedCallback) -> str:
    body = bytes(kept.body)
    signature = next((value for name, value in kept.headers.items() if name.lower() == inbound.SIGNATURE_HEADER.lower()), None)
    if not inbound.signature_is_valid(body, signature):
        return "Still refused: the signature does not match the current client secret."
    try:
        event = inbound.parse_event(body)
    except inbound.MalformedEvent as problem:
        kept.event = inbound.record_malformed(body, str(problem), via=inbound.Via.WEBHOOK)
        return f"Signature now valid, but the body is malformed: {problem}"
    received = inbound.receive_event(event, via=inbound.Via.WEBHOOK)
    kept.event = received.event
    return "Already received." if received.duplicate else f"Replayed: {received.event.get_outcome_display()}."
