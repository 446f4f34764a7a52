"""The one place where hubrise_sync queues Celery tasks: by name, so that no service imports a task module.

Tasks (``hubrise_sync.tasks``) import the services and call them; services ask for
work through these functions and never import a task. The names are the tasks'
registered names: kept stable, since a task already waiting in Redis is looked up
by its name when a worker takes it.

A Celery signature by name still honours ``CELERY_TASK_ALWAYS_EAGER`` (it finds
the registered task), unlike ``send_task``. Each function raises what the broker
raises: its callers decide what a broker outage means for them.
"""

from __future__ import annotations

from celery import current_app

DRAIN_OUTBOX = "hubrise_sync.push.drain"
SWEEP_OUTBOX = "hubrise_sync.push.sweep"
DRAIN_CONNECTION_OUTBOX = "hubrise_sync.connection_push.drain"
APPLY_RECORDED_EVENTS = "hubrise_sync.tasks.inbound.apply_recorded_events"
CHECK_ORDER = "hubrise_sync.tasks.inbound.check_order"
POLL_CONNECTION = "hubrise_sync.tasks.inbound.poll_connection"
RECONCILE_CONNECTION = "hubrise_sync.tasks.inbound.reconcile_connection"
IMPORT_OPEN_ORDERS = "hubrise_sync.tasks.inbound.import_open_orders"
IMPORT_CATALOG = "hubrise_sync.tasks.catalog.import_catalog"
REFRESH_INVENTORY = "hubrise_sync.tasks.catalog.refresh_inventory"


def _queue(name: str, *args: object, countdown: float | None = None) -> None:
    # retry=False: a staff member's request must not wait for kombu's publish retries.
    current_app.signature(name, args=args).apply_async(retry=False, countdown=countdown)


def drain_outbox(slot: int) -> None:
    _queue(DRAIN_OUTBOX, slot)


def sweep_outbox() -> None:
    _queue(SWEEP_OUTBOX)


def drain_connection_outbox(countdown: float | None = None) -> None:
    _queue(DRAIN_CONNECTION_OUTBOX, countdown=countdown)


def apply_recorded_events(slot: int) -> None:
    _queue(APPLY_RECORDED_EVENTS, slot)


def check_order(order_id: int) -> None:
    _queue(CHECK_ORDER, order_id)


def poll_connection(connection_id: int) -> None:
    _queue(POLL_CONNECTION, connection_id)


def reconcile_connection(connection_id: int) -> None:
    _queue(RECONCILE_CONNECTION, connection_id)


def import_open_orders(connection_id: int) -> None:
    _queue(IMPORT_OPEN_ORDERS, connection_id)


def import_catalog(import_id: int, countdown: float | None = None) -> None:
    _queue(IMPORT_CATALOG, import_id, countdown=countdown)


def refresh_inventory(connection_id: int, countdown: float | None = None) -> None:
    _queue(REFRESH_INVENTORY, connection_id, countdown=countdown)
