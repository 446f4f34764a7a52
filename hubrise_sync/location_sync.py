"""Our pause, busy mode and preparation time, kept in step with the HubRise location.

Outbound: ``orders.acceptance`` sends ``service_state_changed`` in its
transaction; the receiver here asks the connection outbox to PATCH the location
(topic ``location``). A change that came from HubRise (source "hubrise") is not
sent back. A pause's end needs no call: we send ``resume_at`` and HubRise puts
the location back online by itself then (docs/hubrise/location.md).
"""

from __future__ import annotations

from datetime import timedelta

from hubrise_sync.connection_outbox.request import request_send
from hubrise_sync.models import Connection
from orders import signals
from orders.models import Establishment, StatusChange


def on_service_state_changed(sender, establishment: Establishment, source: str, **kwargs) -> None:
    if source == StatusChange.Source.HUBRISE:
        return
    connection = Connection.objects.filter(establishment_id=establishment.pk).first()
    if connection is None:
        # Not connected to HubRise: nobody to tell.
        return
    # No debounce: the delivery platforms must stop taking orders now.
    request_send(connection, "location", delay=timedelta(0))


def connect_receivers() -> None:
    signals.service_state_changed.connect(on_service_state_changed, dispatch_uid="hubrise_location_sync")
