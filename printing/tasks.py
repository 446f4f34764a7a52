"""Celery tasks of printing: thin wrappers around printing.jobs."""

from celery import shared_task

from printing import jobs


@shared_task(name="printing.drain", ignore_result=True, bind=True)
def drain_print_jobs(self, slot: int = 0) -> int:
    """Print the due jobs, for a while (one drain slot)."""
    # Run in the caller's process (CELERY_TASK_ALWAYS_EAGER), other threads' database
    # connections would not see the caller's uncommitted transaction.
    return jobs.drain(slot, threads=1 if self.request.is_eager else None)


@shared_task(name="printing.sweep", ignore_result=True)
def sweep_print_jobs() -> int:
    return jobs.sweep()
