"""``Idempotency-Key`` on POST /api/v1/orders/: a retried creation gets the first answer, not a second order.

A client whose first answer was lost (a timeout, a 5xx while the database
restarted) cannot know whether its order exists. With a key it simply sends
the request again: the same key and body within IDEMPOTENCY_KEY_HOURS get the
first answer byte for byte and create nothing; the same key with another body
is refused (422). Keys belong to the API key that sent them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException, ValidationError

from orders.models import ApiKey, IdempotentRequest, Order

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class KeyReused(APIException):
    status_code = 422
    default_detail = _(
        "This Idempotency-Key was already used for another order body in the last 24 hours: send a new key for a new order."
    )
    default_code = "idempotency_key_reused"


class KeyInUse(APIException):
    status_code = 409
    default_detail = _("Another request with this Idempotency-Key is being handled: retry in a moment.")
    default_code = "idempotency_key_in_use"


def key_of(headers: Any) -> str | None:
    """The request's key, None without one; a 400 for a key that is not 1 to 255 visible ASCII characters."""
    value = headers.get(HEADER)
    if value is None:
        return None
    if not _VALID_KEY.fullmatch(value):
        raise ValidationError({HEADER: [_("Must be 1 to 255 visible ASCII characters, e.g. a UUID.")]})
    return value


def fingerprint(data: Any) -> str:
    """SHA-256 of the body as canonical JSON: spacing and key order do not make another body."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _valid_since(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def earlier_answer(api_key: ApiKey, key: str, body_fingerprint: str) -> HttpResponse | None:
    """The answer already given for this key, None if there is none; KeyReused if it was for another body."""
    earlier = IdempotentRequest.objects.filter(api_key=api_key, key=key, created_at__gte=_valid_since()).first()
    if earlier is None:
        return None
    if earlier.fingerprint != body_fingerprint:
        raise KeyReused
    response = HttpResponse(earlier.response_body, status=earlier.status_code, content_type="application/json")
    response[REPLAYED_HEADER] = "true"
    return response


def create_once(api_key: ApiKey, key: str, body_fingerprint: str, create: Callable[[], tuple[Order, bytes]]) -> HttpResponse:
    """Runs ``create`` (which returns the order and the 201 body) unless this key already has an answer.

    The key's row is written first, in the order's own transaction: a second
    request with the key waits on that row (PostgreSQL's unique index) until the
    first commits, then finds the first's answer; if the first fails, its row
    goes with it and the second creates the order.
    """
    with transaction.atomic():
        IdempotentRequest.objects.filter(api_key=api_key, key=key, created_at__lt=_valid_since()).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    api_key=api_key, key=key, fingerprint=body_fingerprint, status_code=201, response_body=""
                )
        except IntegrityError:
            row = None
        if row is not None:
            order, body = create()
            row.order, row.response_body = order, body.decode()
            row.save(update_fields=["order", "response_body"])
            return HttpResponse(body, status=201, content_type="application/json")
    answer = earlier_answer(api_key, key, body_fingerprint)
    if answer is None:
        # The other request's row vanished meanwhile (purged as it expired): nothing to repeat.
        raise KeyInUse
    return answer


def expired(now: datetime | None = None) -> QuerySet[IdempotentRequest]:
    """The keys past IDEMPOTENCY_KEY_HOURS, for the retention task to delete."""
    return IdempotentRequest.objects.filter(created_at__lt=_valid_since(now))
