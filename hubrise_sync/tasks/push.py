"""Celery tasks of the outbox: thin wrappers that call hubrise_sync.outbox (queued by hubrise_sync.queue)."""

from celery import shared_task

from hubrise_sync.outbox import drain, sweep


@shared_task(name="hubrise_sync.push.drain", ignore_result=True, bind=True)
def drain_outbox(self, slot: int = 0) -> int:
    """The due messages of the outbox, for a while (one deliverer slot)."""
    # Run in the caller's process (tests, CELERY_TASK_ALWAYS_EAGER), other threads'
    # database connections would not see the caller's uncommitted transaction.
    return drain.drain(slot, threads=1 if self.request.is_eager else None)


@shared_task(name="hubrise_sync.push.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return sweep.sweep()
