"""HubRise models, one module per topic; each is imported here for Django."""

from hubrise_sync.models.catalog_import import CatalogImport, CatalogSync, InventoryRefresh
from hubrise_sync.models.connection import Connection
from hubrise_sync.models.connection_message import ConnectionMessage
from hubrise_sync.models.delivery import OrderDelivery
from hubrise_sync.models.events import InboundEvent, PollingState, ReconcileCheck
from hubrise_sync.models.order_link import OrderLink
from hubrise_sync.models.outbox import DeliveryAttempt, OutboxMessage
from hubrise_sync.models.quarantine import QuarantinedCallback, RefusedCallbackTally

__all__ = [
    "CatalogImport",
    "CatalogSync",
    "Connection",
    "ConnectionMessage",
    "DeliveryAttempt",
    "InboundEvent",
    "InventoryRefresh",
    "OrderDelivery",
    "OrderLink",
    "OutboxMessage",
    "PollingState",
    "QuarantinedCallback",
    "ReconcileCheck",
    "RefusedCallbackTally",
]
