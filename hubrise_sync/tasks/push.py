"""Celery tasks of the push: thin wrappers that take an id and call hubrise_sync.push."""

from celery import shared_task

from hubrise_sync import push


@shared_task(name="hubrise_sync.push.deliver", ignore_result=True)
def deliver_message(message_id: int) -> int:
    return push.deliver(message_id)


@shared_task(name="hubrise_sync.push.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return push.sweep()
