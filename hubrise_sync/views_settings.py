"""The HubRise settings of an establishment: connect (OAuth 2.0), check, disconnect.

Every member of the establishment sees the page; only its managers act. Another
establishment's id is a 404, so ids leak nothing.

Before a location chosen on HubRise is connected, it is read once: a location
whose currency or time zone differs from the establishment's is refused (every
order sent to it would come back as a 422), and one whose name differs asks the
manager to confirm, since the consent page may have preselected another
establishment's location.
"""

from __future__ import annotations

import json
import logging
import time
from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hubrise_sync import connection_services as services
from hubrise_sync import oauth
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.connection_outbox import status as connection_status
from hubrise_sync.crypto import decrypt, encrypt
from orders import selectors
from orders.models import Establishment
from orders.permissions import is_manager

logger = logging.getLogger(__name__)

PENDING_SESSION_KEY = "hubrise_pending_replacement"
PENDING_LIFETIME_SECONDS = 15 * 60


def _member_establishment(request: HttpRequest, establishment_id: int) -> Establishment:
    return selectors.establishment_for(request.user, establishment_id)


def _managed_establishment(request: HttpRequest, establishment_id: int) -> Establishment:
    establishment = _member_establishment(request, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    return establishment


def _render(request: HttpRequest, establishment: Establishment, template: str, context: dict, status: int = 200) -> HttpResponse:
    with timezone.override(establishment.tzinfo):
        context = {
            "establishment": establishment,
            "establishments": list(selectors.establishments_of(request.user)),
            **context,
        }
        return render(request, template, context, status=status)


def _forms_may_lead_to_hubrise(view):
    """The Content-Security-Policy's form-action also allows HubRise's OAuth origin on this page.

    Browsers apply form-action to the redirects that follow a form's POST too: the
    Connect button POSTs here and is sent on to HubRise's consent page. Read per
    request, as HUBRISE_OAUTH_URL is (the sandbox's under dev.py run and in tests).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = urlsplit(settings.HUBRISE_OAUTH_URL)
        return csp_update({"form-action": [f"{address.scheme}://{address.netloc}"]})(view)(request, *args, **kwargs)

    return wrapped


@login_required
@require_GET
@_forms_may_lead_to_hubrise
def settings_page(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _member_establishment(request, establishment_id)
    connection = services.connection_of(establishment)
    context = {
        "connection": connection,
        "can_manage": is_manager(request.user, establishment),
        # What the location, the catalog … stand at with HubRise (the connection outbox).
        "topics": connection_status.of(connection) if connection else [],
    }
    return _render(request, establishment, "hubrise_sync/settings.html", context)


@login_required
@require_POST
def connect(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _managed_establishment(request, establishment_id)
    state = oauth.issue_state(request.session, request.user.pk, establishment.pk)
    return redirect(oauth.authorize_url(state))


@login_required
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    establishment_id = oauth.consume_state(request.session, request.GET.get("state", ""), request.user.pk)
    if establishment_id is None:
        logger.warning("HubRise OAuth return refused: unknown, used or expired state (user %s)", request.user.pk)
        return render(request, "hubrise_sync/oauth_refused.html", status=400)
    establishment = _managed_establishment(request, establishment_id)
    back = redirect("hubrise:settings", establishment_id=establishment.pk)

    if request.GET.get("error"):
        if request.GET["error"] == "access_denied":
            messages.error(request, _("The connection was refused on HubRise: nothing has changed."))
        else:
            messages.error(request, _("HubRise did not authorise the connection: nothing has changed."))
        return back
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, _("HubRise sent no authorisation code: nothing has changed."))
        return back
    try:
        grant = oauth.exchange_code(code)
    except oauth.BadGrant:
        messages.error(
            request,
            _("HubRise refused the authorisation: it has expired or was already used. Nothing has changed; connect again."),
        )
        return back
    except HubRiseError:
        messages.error(request, _("HubRise could not be reached to complete the connection. Nothing has changed; try again."))
        return back
    try:
        location = HubRiseClient(grant.access_token).get_location(grant.location_id).data
    except HubRiseError:
        messages.error(request, _("HubRise could not be reached to complete the connection. Nothing has changed; try again."))
        return back
    refusal = _mismatch(establishment, location if isinstance(location, dict) else {})
    if refusal:
        _revoke_quietly(grant)
        messages.error(request, refusal)
        return back
    if not _same_name(grant.location_name, establishment.name):
        _keep_pending(request, establishment, grant, NAME_CHECK)
        return redirect("hubrise:confirm_replacement", establishment_id=establishment.pk)
    return _connect_with(request, establishment, grant, replace=False)


def _mismatch(establishment: Establishment, location: dict) -> str:
    """Why this location cannot serve the establishment, or "" when its currency and time zone agree."""
    account = location.get("account") if isinstance(location.get("account"), dict) else {}
    currency = account.get("currency") or ""
    zone = location.get("timezone")
    zone_name = (zone.get("name") if isinstance(zone, dict) else zone) or ""
    names = {"location": location.get("name", ""), "name": establishment.name}
    if currency and currency != establishment.currency:
        return _(
            "The HubRise location “%(location)s” counts in %(theirs)s and %(name)s in %(ours)s: its orders could not be "
            "sent there. Nothing has changed; choose a location in %(ours)s."
        ) % {**names, "theirs": currency, "ours": establishment.currency}
    if zone_name and zone_name != establishment.timezone:
        return _(
            "The HubRise location “%(location)s” is in the time zone %(theirs)s and %(name)s in %(ours)s: its times would be "
            "wrong there. Nothing has changed; choose a location in %(ours)s."
        ) % {**names, "theirs": zone_name, "ours": establishment.timezone}
    return ""


def _same_name(location_name: str, establishment_name: str) -> bool:
    return " ".join(location_name.split()).casefold() == " ".join(establishment_name.split()).casefold()


def _revoke_quietly(grant: oauth.Grant) -> None:
    """The access HubRise just gave is of no use: give it back rather than leave it lying at HubRise."""
    try:
        oauth.revoke_token(grant.access_token)
    except HubRiseError as error:
        logger.warning("HubRise access of a refused location not revoked: %s", error)


# What the confirmation page asks: connect a location whose name differs, or replace the connected one.
NAME_CHECK = "name"
REPLACEMENT = "replacement"


def _keep_pending(request: HttpRequest, establishment: Establishment, grant: oauth.Grant, question: str) -> None:
    request.session[PENDING_SESSION_KEY] = {
        "user": request.user.pk,
        "establishment": establishment.pk,
        "issued": time.time(),
        "question": question,
        # The session is stored in the database: the token stays encrypted there too.
        "grant": encrypt(json.dumps(grant.as_dict())),
    }


def _connect_with(request: HttpRequest, establishment: Establishment, grant: oauth.Grant, *, replace: bool) -> HttpResponse:
    back = redirect("hubrise:settings", establishment_id=establishment.pk)
    try:
        connection = services.connect_establishment(establishment, grant, user=request.user, replace=replace)
    except services.ReplacementNeeded:
        _keep_pending(request, establishment, grant, REPLACEMENT)
        return redirect("hubrise:confirm_replacement", establishment_id=establishment.pk)
    except services.ConnectionRefused as refusal:
        messages.error(request, _("This HubRise location is already connected to another establishment: nothing has changed."))
        logger.info("HubRise connection of establishment %s refused: %s", establishment.pk, refusal)
        return back
    except HubRiseError:
        messages.error(
            request, _("HubRise did not accept our callback registration. Nothing has changed; try again in a moment.")
        )
        return back
    messages.success(
        request,
        _("Connected to HubRise: %(location)s (%(location_id)s).")
        % {"location": connection.location_name, "location_id": connection.location_id},
    )
    return back


def _pending_grant(request: HttpRequest, establishment: Establishment) -> tuple[oauth.Grant | None, str]:
    pending = request.session.get(PENDING_SESSION_KEY)
    if (
        not isinstance(pending, dict)
        or pending.get("user") != request.user.pk
        or pending.get("establishment") != establishment.pk
        or pending.get("issued", 0) < time.time() - PENDING_LIFETIME_SECONDS
    ):
        return None, ""
    try:
        return oauth.Grant(**json.loads(decrypt(pending["grant"]))), pending.get("question", REPLACEMENT)
    except (ValueError, TypeError, KeyError):
        return None, ""


@login_required
@require_http_methods(["GET", "POST"])
def confirm_replacement(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """Asks the manager to confirm a connection: to a location named otherwise, or instead of the current one."""
    establishment = _managed_establishment(request, establishment_id)
    grant, question = _pending_grant(request, establishment)
    if grant is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.error(request, _("There is no connection waiting for confirmation: connect again."))
        return redirect("hubrise:settings", establishment_id=establishment.pk)
    if request.method == "GET":
        if question == NAME_CHECK:
            return _render(request, establishment, "hubrise_sync/confirm_location_name.html", {"new": grant})
        context = {"current": services.connection_of(establishment), "new": grant}
        return _render(request, establishment, "hubrise_sync/confirm_replacement.html", context)
    request.session.pop(PENDING_SESSION_KEY, None)
    if question == NAME_CHECK:
        if request.POST.get("decision") != "connect":
            _revoke_quietly(grant)
            messages.info(request, _("Nothing was connected. Connect again and choose this establishment's location."))
            return redirect("hubrise:settings", establishment_id=establishment.pk)
        return _connect_with(request, establishment, grant, replace=False)
    if request.POST.get("decision") != "replace":
        messages.info(request, _("The connection was kept as it was."))
        return redirect("hubrise:settings", establishment_id=establishment.pk)
    return _connect_with(request, establishment, grant, replace=True)


@login_required
@require_POST
def test_connection(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _managed_establishment(request, establishment_id)
    connection = services.connection_of(establishment)
    if connection is None:
        messages.error(request, _("This establishment is not connected to HubRise."))
    else:
        result = services.check_connection(connection)
        if result.ok:
            messages.success(
                request,
                _("HubRise answered in %(ms)s ms: location %(name)s.") % {"ms": result.elapsed_ms, "name": result.message},
            )
        else:
            messages.error(request, _("HubRise call failed: %(error)s") % {"error": result.message})
    return redirect("hubrise:settings", establishment_id=establishment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _managed_establishment(request, establishment_id)
    connection = services.connection_of(establishment)
    if connection is None:
        messages.info(request, _("This establishment is not connected to HubRise."))
        return redirect("hubrise:settings", establishment_id=establishment.pk)
    if request.method == "GET":
        return _render(request, establishment, "hubrise_sync/confirm_disconnect.html", {"connection": connection})
    problems = services.disconnect_establishment(establishment)
    if problems:
        messages.warning(
            request,
            _(
                "Disconnected from HubRise, but HubRise could not be told (%(error)s). "
                "You can also remove the app from your HubRise back office."
            )
            % {"error": "; ".join(problems)},
        )
    else:
        messages.success(request, _("Disconnected from HubRise. Orders and their history are kept."))
    return redirect("hubrise:settings", establishment_id=establishment.pk)
