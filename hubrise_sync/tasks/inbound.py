"""Celery tasks of the inbound side: thin wrappers that take an id and call hubrise_sync.inbound / .polling / .reconcile.

Queued by name through hubrise_sync.queue.
"""

from celery import shared_task

from hubrise_sync import inbound, open_orders, polling, queue, reconcile
from hubrise_sync.models import Connection
from orders.models import Order


@shared_task(name="hubrise_sync.tasks.inbound.apply_recorded_events", ignore_result=True)
def apply_recorded_events(slot: int = 0) -> int:
    """The callback events the webhook recorded (those of one applier slot)."""
    return inbound.drain(slot)


@shared_task(name="hubrise_sync.tasks.inbound.apply_pending_events", ignore_result=True)
def apply_pending_events() -> int:
    """Beat: recorded events whose task never ran."""
    return inbound.apply_pending()


@shared_task(name="hubrise_sync.tasks.inbound.poll_passive_callbacks", ignore_result=True)
def poll_passive_callbacks() -> int:
    """Beat: queue one poll per passive connection that is due."""
    due = polling.claim_due_connections()
    for connection_id in due:
        queue.poll_connection(connection_id)
    return len(due)


@shared_task(name="hubrise_sync.tasks.inbound.poll_connection", ignore_result=True)
def poll_connection(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    return len(polling.poll_connection(connection).applied)


@shared_task(name="hubrise_sync.tasks.inbound.reconcile_orders", ignore_result=True)
def reconcile_orders() -> int:
    """Beat: queue one reconciliation run per healthy connection."""
    connection_ids = list(Connection.objects.healthy().values_list("pk", flat=True))
    for connection_id in connection_ids:
        queue.reconcile_connection(connection_id)
    return len(connection_ids)


@shared_task(name="hubrise_sync.tasks.inbound.reconcile_connection", ignore_result=True)
def reconcile_connection(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    # Orders of other apps whose events we missed, before our own orders' statuses.
    open_orders.catch_up(connection)
    return len(reconcile.reconcile_connection(connection).applied)


@shared_task(name="hubrise_sync.tasks.inbound.import_open_orders", ignore_result=True)
def import_open_orders(connection_id: int) -> int:
    """After a first connection: the orders still open at HubRise from the last 24 hours."""
    connection = Connection.objects.filter(pk=connection_id).select_related("establishment").first()
    if connection is None:
        return 0
    result = open_orders.first_import(connection)
    return len(result.imported) if result else 0


@shared_task(name="hubrise_sync.tasks.inbound.check_order", ignore_result=True)
def check_order(order_id: int) -> str:
    """One order whose status at HubRise is in doubt."""
    order = Order.objects.select_related("hubrise").filter(pk=order_id).first()
    if order is None:
        return "no such order"
    return reconcile.check_order(order)
