"""HubRise models, one module per topic; each is imported here for Django."""

from hubrise_sync.models.connection import Connection
from hubrise_sync.models.order_link import OrderLink
from hubrise_sync.models.outbox import DeliveryAttempt, OutboxMessage, RateWindow

__all__ = ["Connection", "DeliveryAttempt", "OrderLink", "OutboxMessage", "RateWindow"]
