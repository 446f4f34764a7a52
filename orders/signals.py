"""The hooks other apps use to act inside an order's transaction.

Every signal is sent synchronously *inside* the database transaction of the
service that changes the order, after the order row is written and locked. A
receiver that writes rows (hubrise_sync writes its outbox message there) thus
commits or rolls back together with the change; anything that must wait for
the commit (queueing a Celery task) belongs in ``transaction.on_commit``.

``orders`` never imports its listeners: they connect in their AppConfig.ready().
"""

from django.dispatch import Signal

# kwargs: order (Order, with items etc. saved), source (StatusChange.Source value)
order_created = Signal()

# kwargs: order (Order, already saved with the new status), change (StatusChange)
status_changed = Signal()

# kwargs: order (Order, already saved), fields (list of the names of the fields that changed),
# source (StatusChange.Source value: who made the change). Not sent for a status change.
order_updated = Signal()
