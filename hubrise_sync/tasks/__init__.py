"""Celery tasks of hubrise_sync; Celery's autodiscovery imports this package.

push: deliveries of the outbox to HubRise. connection_push: the connection outbox. inbound: webhook events, passive
callbacks and reconciliation.
"""

from hubrise_sync.tasks import catalog, connection_push, inbound, push  # noqa: F401
