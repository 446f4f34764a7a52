"""Celery tasks of the push: thin wrappers that take an id and call hubrise_sync.push."""

from celery import shared_task

from hubrise_sync import push


@shared_task(name="hubrise_sync.push.drain", ignore_result=True)
def drain_outbox(slot: int = 0) -> int:
    """The due messages of the outbox, for a while (one deliverer slot)."""
    return push.drain(slot)


@shared_task(name="hubrise_sync.push.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return push.sweep()
