"""Celery task of the retention: a thin wrapper over hubrise_sync.retention."""

from celery import shared_task

from hubrise_sync import retention


@shared_task(name="hubrise_sync.tasks.retention.purge_old_records", ignore_result=True)
def purge_old_records() -> dict[str, int]:
    """Beat: delete what is past its retention."""
    return retention.purge_old_records()
