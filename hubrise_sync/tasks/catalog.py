"""Celery tasks of the catalog and inventory pull: thin wrappers over hubrise_sync.catalog_import and .inventory_sync.

Queued by name through hubrise_sync.queue.
"""

from celery import shared_task

from hubrise_sync import catalog_import, inventory_sync


@shared_task(name="hubrise_sync.tasks.catalog.import_catalog", bind=True, ignore_result=True, max_retries=None)
def import_catalog(self, import_id: int) -> str:
    try:
        record = catalog_import.run_import(import_id)
    except catalog_import.TryLater as later:
        # The record says when; the sweep queues it again should this retry be lost
        # (and in the calling process, where a retry would run again at once, it is left to the sweep).
        if self.request.is_eager:
            return "put off"
        raise self.retry(countdown=later.seconds) from None
    return record.outcome if record else "not waiting"


@shared_task(name="hubrise_sync.tasks.catalog.requeue_stale_imports", ignore_result=True)
def requeue_stale_imports() -> int:
    """Beat: imports and inventory reads whose task never ran."""
    return catalog_import.requeue_stale() + inventory_sync.requeue_stale()


@shared_task(name="hubrise_sync.tasks.catalog.refresh_inventory", bind=True, ignore_result=True, max_retries=None)
def refresh_inventory(self, connection_id: int) -> str:
    try:
        return inventory_sync.refresh(connection_id)
    except inventory_sync.TryLater as later:
        if self.request.is_eager:
            return "put off"
        raise self.retry(countdown=later.seconds) from None
