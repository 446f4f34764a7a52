"""The orders of other apps on the HubRise settings page: those not imported and "Réessayer", the acknowledgement
setting, and the one-time offer to send the orders recorded before the connection. Managers only, their own
establishment only (another establishment's id is a 404, an event of another one too)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hubrise_sync import connection_services, earlier_orders, order_import
from hubrise_sync.models import Connection, InboundEvent
from hubrise_sync.views_settings import _managed_establishment


def _connection(request: HttpRequest, establishment_id: int) -> Connection:
    establishment = _managed_establishment(request, establishment_id)
    connection = connection_services.connection_of(establishment)
    if connection is None:
        raise Http404
    return connection


@login_required
@require_POST
def retry_import(request: HttpRequest, establishment_id: int, event_id: int) -> HttpResponse:
    connection = _connection(request, establishment_id)
    event = order_import.not_imported(connection).filter(pk=event_id).first()
    if event is None:
        raise Http404
    result = order_import.retry(event)
    if result.outcome == InboundEvent.Outcome.NOT_IMPORTED:
        messages.error(request, _("Still not imported: %(reason)s") % {"reason": result.detail})
    else:
        messages.success(request, _("The order is now on the order list."))
    return redirect("hubrise:settings", establishment_id=establishment_id)


@login_required
@require_POST
def acknowledge_setting(request: HttpRequest, establishment_id: int) -> HttpResponse:
    connection = _connection(request, establishment_id)
    wanted = request.POST.get("acknowledge_new_orders") == "on"
    Connection.objects.filter(pk=connection.pk).update(acknowledge_new_orders=wanted)
    messages.success(request, _("Saved."))
    return redirect("hubrise:settings", establishment_id=establishment_id)


@login_required
@require_POST
def earlier_orders_answer(request: HttpRequest, establishment_id: int) -> HttpResponse:
    connection = _connection(request, establishment_id)
    sent = earlier_orders.answer(connection, send=request.POST.get("send") == "yes")
    if sent:
        messages.success(
            request,
            ngettext("%(count)d order is on its way to HubRise.", "%(count)d orders are on their way to HubRise.", sent)
            % {"count": sent},
        )
    return redirect("hubrise:settings", establishment_id=establishment_id)
