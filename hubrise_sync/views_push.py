"""The staff's "Retry" button of an order's HubRise sync badge."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubrise_sync.outbox import badge
from orders import selectors


@login_required
@require_POST
def retry_order(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    if badge.retry_order(order):
        messages.success(request, _("Order %(ref)s will be sent to HubRise again.") % {"ref": order.ref})
    else:
        messages.info(request, _("Order %(ref)s has nothing waiting for HubRise.") % {"ref": order.ref})
    return redirect("orders:detail", establishment.pk, order.pk)
