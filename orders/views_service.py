"""The service page: pause new orders, say the kitchen is very busy, back to normal; the preparation time.

Every member sees the state (it is also the banner on every page); managers
change it, and staff too where the establishment allows it. Changes go through
orders.acceptance, which tells HubRise's side through a signal.
"""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from orders import acceptance, selectors
from orders.models import Establishment, StatusChange
from orders.permissions import is_manager, may_pause
from orders.ready_time import PastReadyTime, ready_time_at
from orders.views import _render

STAFF = StatusChange.Source.STAFF


@login_required
@require_GET
def service_page(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    context = {
        "establishments": list(selectors.establishments_of(request.user)),
        "can_pause": may_pause(request.user, establishment),
        "can_manage": is_manager(request.user, establishment),
        "pause_minutes": acceptance.PAUSE_MINUTES,
        "busy_extra_minutes": acceptance.BUSY_EXTRA_MINUTES,
        "busy_for": [(minutes, _duration(minutes)) for minutes in acceptance.BUSY_FOR_MINUTES],
        "mode": establishment.acceptance_now(),
    }
    return _render(request, establishment, "orders/service.html", context)


def _duration(minutes: int) -> str:
    if minutes % 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    return ngettext("%(hours)d hour", "%(hours)d hours", minutes // 60) % {"hours": minutes // 60}


def _pausing_establishment(request: HttpRequest, establishment_id: int) -> Establishment:
    establishment = selectors.establishment_for(request.user, establishment_id)
    if not may_pause(request.user, establishment):
        raise PermissionDenied
    return establishment


def _until(request: HttpRequest, establishment: Establishment) -> datetime | None:
    """The end chosen: in N minutes ("for"), or a typed time ("until"); an unreadable time is an error."""
    minutes = request.POST.get("for", "")
    if minutes.isdigit() and 0 < int(minutes) <= 24 * 60:
        return acceptance.in_minutes(int(minutes))
    clock = request.POST.get("until", "")
    try:
        return ready_time_at(time.fromisoformat(clock), timezone.now(), establishment.tzinfo)
    except PastReadyTime:
        raise acceptance.AcceptanceError(_("This time has already passed: choose a later one.")) from None
    except ValueError:
        raise acceptance.AcceptanceError(_("Choose how long, or type a time such as 19:30.")) from None


def _back(establishment: Establishment) -> HttpResponse:
    return redirect("orders:service", establishment_id=establishment.pk)


def _until_text(establishment: Establishment) -> str:
    local = timezone.localtime(establishment.acceptance_until, establishment.tzinfo)
    return formats.time_format(local, "H:i")


@login_required
@require_POST
def pause(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _pausing_establishment(request, establishment_id)
    try:
        until = _until(request, establishment)
        acceptance.pause_orders(
            establishment, until=until, source=STAFF, actor=request.user, reason=request.POST.get("reason", "")
        )
    except acceptance.AcceptanceError as error:
        messages.error(request, str(error))
        return _back(establishment)
    messages.success(request, _("New orders are paused until %(time)s.") % {"time": _until_text(establishment)})
    return redirect("orders:list", establishment_id=establishment.pk)


@login_required
@require_POST
def busy(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _pausing_establishment(request, establishment_id)
    extra = request.POST.get("extra", "")
    try:
        until = _until(request, establishment)
        acceptance.set_busy(
            establishment,
            extra_minutes=int(extra) if extra.isdigit() else 0,
            until=until,
            source=STAFF,
            actor=request.user,
        )
    except acceptance.AcceptanceError as error:
        messages.error(request, str(error))
        return _back(establishment)
    messages.success(
        request,
        _("Very busy until %(time)s: %(minutes)s more minutes to prepare each order.")
        % {"time": _until_text(establishment), "minutes": establishment.busy_extra_time},
    )
    return redirect("orders:list", establishment_id=establishment.pk)


@login_required
@require_POST
def resume(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _pausing_establishment(request, establishment_id)
    acceptance.resume_orders(establishment, source=STAFF, actor=request.user)
    messages.success(request, _("Orders are taken as usual again."))
    return redirect("orders:list", establishment_id=establishment.pk)


@login_required
@require_POST
def settings(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    minutes = request.POST.get("preparation_time", "")
    try:
        if minutes != str(establishment.preparation_time):
            acceptance.set_preparation_time(
                establishment, int(minutes) if minutes.isdigit() else 0, source=STAFF, actor=request.user
            )
    except acceptance.AcceptanceError as error:
        messages.error(request, str(error))
        return _back(establishment)
    acceptance.allow_staff_to_pause(establishment, request.POST.get("staff_may_pause") == "on")
    messages.success(request, _("Settings saved."))
    return _back(establishment)
