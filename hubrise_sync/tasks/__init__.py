"""Celery tasks of hubrise_sync; Celery's autodiscovery imports this package.

push: deliveries of the outbox to HubRise. inbound: webhook events, passive
callbacks and reconciliation.
"""

from hubrise_sync.tasks import catalog, inbound, push  # noqa: F401
