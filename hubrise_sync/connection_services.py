"""Connecting an establishment to HubRise, checking the connection, disconnecting it.

Every entry point (the settings pages, a management command) goes through these
functions. HubRise is never called inside an open database transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from hubrise_sync import catalog_import, oauth, queue
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import Connection
from hubrise_sync.outbox.sweep import release_held_messages
from orders.models import Establishment

logger = logging.getLogger(__name__)


class ConnectionRefused(Exception):
    """The connection cannot be made as asked; the message is meant for the manager."""


class LocationTaken(ConnectionRefused):
    """The HubRise location is already connected to another establishment."""


class ReplacementNeeded(Exception):
    """The establishment is connected to another HubRise location: a manager must confirm the switch."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    elapsed_ms: int | None = None


def connection_of(establishment: Establishment) -> Connection | None:
    return Connection.objects.filter(establishment=establishment).select_related("connected_by").first()


def connect_establishment(
    establishment: Establishment, grant: oauth.Grant, *, user: AbstractBaseUser | None, replace: bool = False
) -> Connection:
    """Stores the connection HubRise granted and registers its callback.

    Raises LocationTaken when another establishment uses that location (their
    orders would mix), ReplacementNeeded when this establishment is connected to
    another location and ``replace`` is false, HubRiseError when the callback
    cannot be registered; in each case nothing is stored.
    """
    if Connection.objects.filter(location_id=grant.location_id).exclude(establishment=establishment).exists():
        raise LocationTaken("This HubRise location is already connected to another establishment.")
    current = connection_of(establishment)
    if current is not None and current.location_id != grant.location_id and not replace:
        raise ReplacementNeeded(current.location_id)

    url = oauth.callback_url()
    # POST /callback replaces the connection's single callback, so it lists every event we need.
    HubRiseClient(grant.access_token).set_callback(url, oauth.CALLBACK_EVENTS)
    mode = Connection.CallbackMode.PASSIVE if url is None else Connection.CallbackMode.ACTIVE

    if current is not None and current.location_id != grant.location_id:
        _forget_at_hubrise(current.access_token)

    was_broken = current is not None and current.is_broken
    now = timezone.now()
    with transaction.atomic():
        connection, _created = Connection.objects.select_for_update().update_or_create(
            establishment=establishment,
            defaults={
                **grant.as_dict(),
                "callback_mode": mode,
                "connected_at": now,
                "connected_by": user,
                "last_success_at": now,
                "last_failed_at": None,
                "last_failed_reason": "",
            },
        )
    logger.info("Establishment %s connected to HubRise location %s (%s callback)", establishment.pk, grant.location_id, mode)
    if current is None or was_broken or current.location_id != grant.location_id:
        release_held_messages(connection)
    if current is None or current.location_id != grant.location_id:
        # A restaurant connecting mid-service sees the orders already open at HubRise; a worker fetches them.
        Connection.objects.filter(pk=connection.pk).update(open_orders_imported_at=None)
        _queue_first_import(connection.pk)
    if connection.catalog_id:
        # Connecting is "import the menu from my POS": the bound catalog is pulled at once.
        catalog_import.request_import(establishment, trigger=catalog_import.Trigger.CONNECTION, user=user)
    return connection


def _queue_first_import(connection_id: int) -> None:
    try:
        queue.import_open_orders(connection_id)
    except Exception as error:  # the broker's errors vary with the transport
        # The next reconciliation run does it instead (open_orders.catch_up).
        logger.warning("Could not queue the first import of HubRise orders (%s)", type(error).__name__)


def check_connection(connection: Connection) -> CheckResult:
    """A harmless read of the connection's location; a 401 marks the connection broken."""
    was_broken = connection.is_broken
    try:
        response = HubRiseClient(connection.access_token).get_location(connection.location_id)
    except HubRiseError as error:
        if error.unauthorized:
            connection.mark_broken(str(error))
        return CheckResult(False, str(error))
    connection.mark_healthy()
    if was_broken:
        release_held_messages(connection)
    _subscribe_to_every_event(connection)
    name = response.data.get("name", "") if isinstance(response.data, dict) else ""
    return CheckResult(True, name or connection.location_id, response.elapsed_ms)


def _subscribe_to_every_event(connection: Connection) -> None:
    """A connection made before we listened to couriers gets the events it misses (POST /callback replaces the set)."""
    client = HubRiseClient(connection.access_token)
    try:
        current = client.get_callback().data or {}
        events = current.get("events") if isinstance(current, dict) else None
        wanted = {resource: sorted(kinds) for resource, kinds in oauth.CALLBACK_EVENTS.items()}
        if isinstance(events, dict) and {r: sorted(k) for r, k in events.items() if isinstance(k, list)} == wanted:
            return
        url = oauth.callback_url()
        client.set_callback(url, oauth.CALLBACK_EVENTS)
    except HubRiseError as error:
        logger.warning("Could not update the HubRise callback of connection %s: %s", connection.pk, error)
        return
    mode = Connection.CallbackMode.PASSIVE if url is None else Connection.CallbackMode.ACTIVE
    Connection.objects.filter(pk=connection.pk).update(callback_mode=mode)


def disconnect_establishment(establishment: Establishment) -> list[str]:
    """Removes the callback, revokes the token and deletes the connection; orders and history stay.

    The connection is deleted even when HubRise cannot be reached: the manager
    asked for it, and the access can also be removed from HubRise's side. The
    returned problems say what could not be done at HubRise.
    """
    connection = connection_of(establishment)
    if connection is None:
        return []
    problems = _forget_at_hubrise(connection.access_token)
    connection.delete()
    logger.info("Establishment %s disconnected from HubRise location %s", establishment.pk, connection.location_id)
    return problems


def _forget_at_hubrise(access_token: str) -> list[str]:
    problems = []
    try:
        HubRiseClient(access_token).delete_callback()
    except HubRiseError as error:
        # A revoked or unknown token has no callback left to delete.
        if error.status not in (401, 404):
            problems.append(str(error))
    try:
        oauth.revoke_token(access_token)
    except HubRiseError as error:
        problems.append(str(error))
    for problem in problems:
        logger.warning("HubRise disconnection incomplete: %s", problem)
    return problems
