"""The menu's HubRise catalog on the settings page: "Réimporter la carte" and the last imports.

Any member sees the imports (a refused catalog says why); only managers ask for one.
The import itself runs in a task (catalog_import.py), never in the request: the
catalog read is one of HubRise's heavy calls.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hubrise_sync import catalog_import
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
