"""Admin of hubrise_sync, one module per topic; Django's autodiscovery imports this package."""

from hubrise_sync.admin import catalog, connection_outbox, inbound, push  # noqa: F401
