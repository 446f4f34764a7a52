"""POST /hubrise/callback/: HubRise's callbacks for every connected establishment.

HubRise treats any answer from 200 to 499 as delivered and deletes the event,
and retries only after a 5xx or a timeout. So: 401 for a refused signature (the
request is quarantined for admins, within bounds: hubrise_sync.quarantine), 429
when one address is refused too often, 4xx for an authentic body we cannot read
(recorded), 200 once the event is recorded, 503 when we could not record it.
Applying the event is a worker's job (inbound.drain): the answer only
waits for the row to be committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hubrise_sync import inbound, quarantine
from hubrise_sync.models import QuarantinedCallback

logger = logging.getLogger(__name__)


class AlwaysJSON(BaseContentNegotiation):
    """JSON whatever the Accept header says: a 406 would count as delivered for HubRise, and lose the event."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HubRiseCallbackView(APIView):
    # The HMAC is the authentication; nothing may parse the body before it is checked,
    # so the view declares no parser and reads request.body itself.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()
    renderer_classes = (JSONRenderer,)
    throttle_classes = ()
    content_negotiation_class = AlwaysJSON

    @extend_schema(
        summary="HubRise callback (order events)",
        description="Called by HubRise only. The body is a HubRise event, signed with our client secret.",
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(inbound.SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Recorded, to be applied (or already received)."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Authentic but not a readable event; recorded."),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="Missing or wrong signature; quarantined."),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="Body too large."),
            415: OpenApiResponse(OpenApiTypes.OBJECT, description="Not application/json; recorded."),
            429: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Too many refused callbacks from this address; see Retry-After."
            ),
            503: OpenApiResponse(OpenApiTypes.OBJECT, description="Could not record it; HubRise will retry."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        max_bytes = settings.HUBRISE_WEBHOOK_MAX_BYTES
        declared = _declared_length(request)
        if declared is not None and declared > max_bytes:
            return self._refuse_too_large(request, declared, max_bytes)

        raw = request.body
        signature = request.headers.get(inbound.SIGNATURE_HEADER)
        if not inbound.signature_is_valid(raw, signature):
            reason = QuarantinedCallback.Reason.BAD_SIGNATURE if signature else QuarantinedCallback.Reason.MISSING_SIGNATURE
            try:
                refusal = quarantine.refuse(
                    reason, headers=dict(request.headers), body=raw, body_size=len(raw), remote_addr=_remote(request)
                )
            except DatabaseError:
                logger.exception("Could not quarantine a refused HubRise callback")
                return _unavailable()
            if refusal.retry_after is not None:
                return _too_many(refusal.retry_after)
            return Response({"detail": f"Missing or invalid {inbound.SIGNATURE_HEADER} signature."}, status=401)

        try:
            if request.content_type.split(";")[0].strip().lower() != "application/json":
                problem = f"Content-Type is {request.content_type or '(none)'}, not application/json."
                inbound.record_malformed(raw, problem, via=inbound.Via.WEBHOOK)
                return Response({"detail": problem}, status=415)
            try:
                event = inbound.parse_event(raw)
            except inbound.MalformedEvent as problem:
                inbound.record_malformed(raw, str(problem), via=inbound.Via.WEBHOOK)
                return Response({"detail": str(problem)}, status=400)
            received = inbound.record_event(event, via=inbound.Via.WEBHOOK)
        except DatabaseError:
            logger.exception("Could not record a HubRise callback; HubRise will send it again")
            return _unavailable()
        if received.duplicate:
            return Response({"event": event.id, "result": "already received"})
        return Response({"event": event.id, "result": "received"})

    def _refuse_too_large(self, request: Request, declared: int, max_bytes: int) -> Response:
        # Not read, so not verifiable: only the headers are kept, for admins.
        try:
            refusal = quarantine.refuse(
                QuarantinedCallback.Reason.TOO_LARGE,
                headers=dict(request.headers),
                body=b"",
                body_size=declared,
                remote_addr=_remote(request),
            )
        except DatabaseError:
            logger.exception("Could not quarantine an oversized HubRise callback")
        else:
            if refusal.retry_after is not None:
                return _too_many(refusal.retry_after)
        return Response({"detail": f"The body is larger than {max_bytes} bytes."}, status=413)


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _remote(request: Request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _too_many(retry_after: int) -> Response:
    return Response(
        {"detail": f"Too many refused callbacks from this address; retry in {retry_after} s."},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def _unavailable() -> Response:
    return Response({"detail": "Temporarily unable to record the event; please retry."}, status=503)
