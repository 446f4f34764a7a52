"""What one call to HubRise for one message gave: the outcome the state module records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hubrise_sync.client import HubRiseError, HubRiseResponse
from hubrise_sync.models import DeliveryAttempt

Outcome = DeliveryAttempt.Outcome


@dataclass
class Result:
    outcome: str
    http_status: int | None = None
    error: str = ""
    retry_after: float | None = None
    # The HubRise id of the order, when this call created or found it.
    hubrise_order_id: str | None = None
    request: str = ""
    duration_ms: int = 0
    payload: dict | None = None
    # HubRise surely did not store what was sent (a refusal, a 429, a 503 from its load
    # balancer): a create need not be looked up before it is posted again.
    surely_not_recorded: bool = False

    @property
    def delivered(self) -> bool:
        return self.outcome in (Outcome.DELIVERED, Outcome.ADOPTED)


def call(result: Result, request: Callable[[], HubRiseResponse], description: str) -> HubRiseResponse | None:
    """Makes the call, filling ``result`` with its answer or its failure; None when it failed.

    The retry rules (docs/hubrise/limits.md): a 401 holds the message (the
    connection is broken), timeouts, dropped connections, 5xx and 429 are retried,
    any other 4xx fails the message with HubRise's message.
    """
    result.request = description
    try:
        response = request()
    except HubRiseError as error:
        result.http_status = error.status
        result.error = str(error)
        result.retry_after = error.retry_after
        if error.unauthorized:
            result.outcome = Outcome.HELD
        elif error.retryable:
            result.outcome = Outcome.RETRY
        else:
            result.outcome = Outcome.FAILED
        # A 503 comes from the load balancer when the API behind it is down: the API never
        # saw the request. Another 5xx, a timeout or a dropped connection leaves it unknown.
        result.surely_not_recorded = error.status is not None and (error.status < 500 or error.status == 503)
        return None
    result.http_status = response.status
    result.duration_ms += response.elapsed_ms
    return response
