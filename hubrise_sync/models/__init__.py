"""HubRise models, one module per topic; each is imported here for Django."""

from hubrise_sync.models.connection import Connection
from hubrise_sync.models.order_link import OrderLink

__all__ = ["Connection", "OrderLink"]
