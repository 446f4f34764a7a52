"""HubRise models, one module per topic; each is imported here for Django."""

from hubrise_sync.models.connection import Connection

__all__ = ["Connection"]
