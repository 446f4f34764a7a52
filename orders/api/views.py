"""The order intake API: thin views over orders.services and orders.selectors."""

import math
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from orders.api import idempotency, input_plan
from orders.api.answers import order_answer
from orders.api.authentication import ApiKeyAuthentication, HasApiKey, intake_facts
from orders.api.negotiation import KeptNegotiation
from orders.api.parsers import JSONParser
from orders.api.serializers import OrderInputSerializer, OrderSerializer
from orders.inputs import NewOrder
from orders.models import Order, StatusChange
from orders.services import OrderError, OrdersPaused, create_order
from orders.status import OrderStatus

NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"items[0].price": ["…"]}, one key per field."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if key == NON_FIELD:
                child = path or NON_FIELD
            elif isinstance(key, int):
                child = f"{path}[{key}]"
            else:
                child = f"{path}.{key}" if path else str(key)
            for field, messages in flatten_errors(value, child).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(entry, dict | list) for entry in detail):
        flat = {}
        for index, value in enumerate(detail):
            for field, messages in flatten_errors(value, f"{path}[{index}]").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {path or NON_FIELD: [str(message) for message in messages]}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Errors as {"message": …} plus, for invalid input, {"errors": {path: [messages]}}."""
    response = exception_handler(exc, context)
    if response is None:
        return response
    if isinstance(exc, ValidationError):
        response.data = {"message": str(_("Invalid input.")), "errors": flatten_errors(exc.detail)}
    elif isinstance(exc, ParseError):
        # A body that is not JSON is a 400 like any invalid input, and clients read every 400 the same way.
        message = str(exc.detail)
        response.data = {"message": message, "errors": {NON_FIELD: [message]}}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"message": str(response.data["detail"])}
    return response


ErrorSerializer = inline_serializer("Error", fields={"message": serializers.CharField()})
PausedSerializer = inline_serializer(
    "OrdersPaused",
    fields={
        "message": serializers.CharField(),
        "resume_at": serializers.DateTimeField(allow_null=True, help_text=_("When orders resume; null: until further notice.")),
    },
)
ValidationErrorSerializer = inline_serializer(
    "ValidationError",
    fields={
        "message": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text=_('Messages by field path, e.g. "items[0].price".'),
        ),
    },
)
COMMON_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description=_("Missing, wrong or revoked API key.")),
    # getresto.middleware.DatabaseUnavailableAsJSON, on every API path.
    503: OpenApiResponse(ErrorSerializer, description=_("The database cannot be reached: retry after Retry-After seconds.")),
}


class OrderPagination(CursorPagination):
    # Like HubRise's list: ?count= (at most 100) and an opaque ?cursor=.
    ordering = ("-created_at", "-id")
    page_size_query_param = "count"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        # DRF silently ignores a bad ?count=; a client should learn of its mistake.
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError({"count": [_("Must be a whole number from 1 to %(max)s.") % {"max": self.max_page_size}]})
        return int(value)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


def orders_of(establishment_id: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(establishment_id=establishment_id)
        .select_related("establishment")
        .prefetch_related(
            "items__options",
            "deals",
            "discounts",
            "charges",
            "payments",
            Prefetch("history", queryset=StatusChange.objects.order_by("at", "id")),
        )
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the establishment's orders, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values, description="Only orders with this status."),
        ],
        responses={
            200: OrderSerializer(many=True),
            400: ValidationErrorSerializer,
            404: OpenApiResponse(ErrorSerializer, description=_("Invalid cursor.")),
            **COMMON_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="Read one order",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={200: OrderSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
    ),
    create=extend_schema(
        summary="Create an order (HubRise vocabulary)",
        description=(
            "When the establishment has a menu, every item must name an available SKU of it by `sku_ref`, every option an "
            "available option of that SKU's option lists by `ref`, each option list's min/max selections must hold and a deal "
            "must be one of the menu's (`deals.<key>.ref`) holding its items' SKUs. Names, prices and tax rates left out are "
            "taken from the menu; prices that differ from it are refused unless the establishment accepts other prices. "
            "Each problem is a 400 entry under its field path, and nothing is created."
        ),
        request=OrderInputSerializer,
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                pattern=r"^[\x21-\x7e]{1,255}$",
                description=_(
                    "Any unique string per order (a UUID, say), 1 to 255 visible ASCII characters. Sent again with the "
                    "same body within 24 hours, the request creates nothing and gets the first answer again (status and "
                    "body, with the header Idempotent-Replayed: true); with another body, a 422. Two requests with one "
                    "key at once make one order: the second waits for the first and gets its answer. Keys are per API key."
                ),
            ),
        ],
        responses={
            201: OrderSerializer,
            400: ValidationErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description=_("Another request with this key is being handled: retry.")),
            422: OpenApiResponse(ErrorSerializer, description=_("The Idempotency-Key was used with another body.")),
            **COMMON_ERRORS,
            503: OpenApiResponse(
                PausedSerializer,
                description=_(
                    "The establishment has paused new orders (nothing was created; the message says until when, for "
                    "the guest, and Retry-After gives the seconds left when the pause has an end), or the database "
                    "cannot be reached (retry after Retry-After seconds)."
                ),
            ),
        },
    ),
)
class OrderViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders of the establishment that owns the API key."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    # Nested lines cannot be expressed as form fields: JSON only.
    parser_classes = [JSONParser]
    content_negotiation_class = KeptNegotiation
    # Any segment reaches the view, so that a malformed id gets the API's JSON 404.
    lookup_value_regex = r"[^/]+"
    pagination_class = OrderPagination
    serializer_class = OrderSerializer

    def get_exception_handler(self):
        return api_exception_handler

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        orders = orders_of(self.request.auth.establishment_id)
        if self.action == "list" and "status" in self.request.query_params:
            wanted = self.request.query_params["status"]
            if wanted not in OrderStatus.values:
                raise ValidationError({"status": [_("Unknown status: %(status)s.") % {"status": wanted}]})
            orders = orders.filter(status=wanted)
        return orders

    def get_serializer_class(self):
        return OrderInputSerializer if self.action == "create" else OrderSerializer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        api_key = getattr(self.request, "auth", None)
        if api_key is not None:
            context["currency"] = api_key.establishment.currency
            context["country"] = api_key.establishment.country
            context["channel"] = api_key.name
            context["establishment"] = api_key.establishment
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        key = idempotency.key_of(request.headers)
        if key is not None:
            body_fingerprint = idempotency.fingerprint(request.data)
            earlier = idempotency.earlier_answer(request.auth, key, body_fingerprint)
            if earlier is not None:
                return earlier
        new_order = self._new_order(request.data)
        try:
            if key is not None:
                return idempotency.create_once(
                    request.auth, key, body_fingerprint, lambda: self._create(new_order, rendered=True)
                )
            # The answer is built from the objects written, nothing is read after the commit: an order
            # committed always gets its answer (a database that fails before gives a 503 and no order).
            _order, data = self._create(new_order)
        except OrdersPaused as paused:
            # Nothing was created and the key is not kept: the same request succeeds once orders resume.
            return _paused_response(paused, request.auth.establishment)
        return Response(data, status=status.HTTP_201_CREATED)

    def _new_order(self, data: Any) -> NewOrder:
        # The plan compiled from OrderInputSerializer's fields vouches for a valid body; for any other, the
        # serializer itself runs and raises its 400 (orders/api/input_plan.py).
        context = self.get_serializer_context()
        attrs = input_plan.validated(OrderInputSerializer, data, context)
        if attrs is not None:
            return attrs["new_order"]
        incoming = OrderInputSerializer(data=data, context=context)
        incoming.is_valid(raise_exception=True)
        return incoming.new_order()

    def _create(self, new_order: NewOrder, *, rendered: bool = False) -> tuple[Order, Any]:
        establishment = self.request.auth.establishment
        try:
            # The answer is built from what was written, not read back (the same objects, the same values).
            order = create_order(
                establishment,
                new_order,
                source=StatusChange.Source.API,
                keep_lines=True,
                facts=intake_facts(self.request.auth),
            )
        except OrdersPaused:
            raise
        except OrderError as error:
            raise ValidationError({NON_FIELD: [str(error)]}) from error
        data = order_answer(order, order.written_lines)
        return order, JSONRenderer().render(data) if rendered else data


def _paused_response(paused: OrdersPaused, establishment) -> Response:
    headers = {}
    resume_at = None
    if paused.resume_at is not None:
        resume_at = timezone.localtime(paused.resume_at, establishment.tzinfo).isoformat(timespec="seconds")
        headers["Retry-After"] = str(max(1, math.ceil((paused.resume_at - timezone.now()).total_seconds())))
    return Response({"message": str(paused), "resume_at": resume_at}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
