"""The courier section of the order page, served alone so that it refreshes itself (htmx, every few seconds)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orders import selectors
from orders.views import partial_login_required


@partial_login_required
@require_GET
def delivery_live(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment).select_related("hubrise_delivery"), pk=order_id)
    with timezone.override(establishment.tzinfo):
        return render(request, "hubrise_sync/_delivery_section.html", {"order": order, "establishment": establishment})
