"""The menu's HubRise catalog on the settings page: "Réimporter la carte", its switches and the last imports.

Any member sees the imports (a refused catalog says why); only managers ask for one.
The import itself runs in a task (catalog_import.py), never in the request: the
catalog read is one of HubRise's heavy calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hubrise_sync import catalog_import, catalog_push
from hubrise_sync.connection_services import connection_of
from orders import selectors
from orders.permissions import is_manager


@login_required
@require_POST
def reimport(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    connection = connection_of(establishment)
    if connection is None or not connection.catalog_id:
        messages.error(request, _("This establishment has no HubRise catalog to import: connect it to HubRise first."))
    else:
        catalog_import.request_import(establishment, trigger=catalog_import.Trigger.MANUAL, user=request.user)
        messages.info(request, _("The menu is being imported from HubRise: the result shows below in a few seconds."))
    return redirect("hubrise:settings", establishment_id=establishment.pk)


@login_required
@require_GET
def imports_fragment(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """The list of imports alone: the settings page refreshes it while one is waiting."""
    establishment = selectors.establishment_for(request.user, establishment_id)
    with timezone.override(establishment.tzinfo):
        return render(
            request,
            "hubrise_sync/_catalog_imports.html",
            {"establishment": establishment, "imports": catalog_import.recent_imports(establishment)},
        )


def _managed(request: HttpRequest, establishment_id: int):
    establishment = selectors.establishment_for(request.user, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    return establishment


@login_required
@require_POST
def push(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """ "Envoyer la carte à HubRise": the whole menu, through the connection outbox."""
    establishment = _managed(request, establishment_id)
    if catalog_push.push_now(establishment):
        messages.info(request, _("The menu is being sent to HubRise: its state shows under “Kept up to date at HubRise”."))
    else:
        messages.error(request, _("This establishment has no HubRise catalog to send the menu to: connect it to HubRise first."))
    return redirect("hubrise:settings", establishment_id=establishment.pk)


def _switch(
    request: HttpRequest, establishment_id: int, name: str, turn: Callable[[Any, bool], None], on: str, off: str
) -> HttpResponse:
    """One of the connection's catalog switches, set from its checkbox ``name``; ``on``/``off``: what staff are told."""
    establishment = _managed(request, establishment_id)
    connection = connection_of(establishment)
    if connection is not None:
        wanted = request.POST.get(name) == "on"
        turn(connection, wanted)
        messages.success(request, on if wanted else off)
    return redirect("hubrise:settings", establishment_id=establishment.pk)


@login_required
@require_POST
def auto_push(request: HttpRequest, establishment_id: int) -> HttpResponse:
    return _switch(
        request,
        establishment_id,
        "auto_push",
        catalog_push.set_auto_push,
        _("Each change of the menu will be sent to HubRise, a minute after the last one."),
        _("Changes of the menu are no longer sent to HubRise by themselves."),
    )


@login_required
@require_POST
def auto_import(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """ "Réimporter la carte automatiquement quand la caisse la change", on or off."""
    return _switch(
        request,
        establishment_id,
        "auto_import",
        catalog_import.set_auto_import,
        _("The menu will be imported again each time the POS changes the catalog."),
        _("Changes of the catalog at HubRise no longer change the menu by themselves."),
    )
