"""Celery task of the connection outbox: a thin wrapper over hubrise_sync.connection_outbox.drain."""

from celery import shared_task

from hubrise_sync.connection_outbox import drain


@shared_task(name="hubrise_sync.connection_push.drain", ignore_result=True)
def drain_connection_outbox() -> int:
    """The due rows of the connection outbox (a location PATCH, a catalog PUT …), for a while."""
    return drain.drain()
