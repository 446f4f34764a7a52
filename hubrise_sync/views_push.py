"""The "Retry" buttons: of an order's HubRise sync badge, and of a refused topic on the settings page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubrise_sync.connection_outbox import status, topics
from hubrise_sync.connection_services import connection_of
from hubrise_sync.outbox import badge
from orders import selectors
from orders.permissions import is_manager


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


@login_required
@require_POST
def retry_topic(request: HttpRequest, establishment_id: int, topic: str) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    connection = connection_of(establishment)
    if connection is None or topic not in topics.BY_NAME:
        raise Http404
    label = topics.label(topic)
    if status.retry(connection, topic):
        messages.success(request, _("%(topic)s will be sent to HubRise again.") % {"topic": label})
    else:
        messages.info(request, _("%(topic)s has nothing waiting for HubRise.") % {"topic": label})
    return redirect("hubrise:settings", establishment_id=establishment.pk)
