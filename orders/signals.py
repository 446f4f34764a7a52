"""The hooks other apps use to act inside an order's transaction.

Every signal is sent synchronously *inside* the database transaction of the
service that changes the order, after the order row is written and locked. A
receiver that writes rows (hubrise_sync writes its outbox message there) thus
commits or rolls back together with the change; anything that must wait for
the commit (queueing a Celery task) belongs in ``transaction.on_commit``.

``orders`` never imports its listeners: they connect in their AppConfig.ready().
"""

from django.dispatch import Signal

# kwargs: order (Order, with items etc. saved), source (StatusChange.Source value), facts (dict: what the intake API
# read about the establishment in the request, orders.extensions.intake_facts; empty elsewhere)
order_created = Signal()

# kwargs: order (Order, already saved with the new status), change (StatusChange)
status_changed = Signal()

# kwargs: order (Order, saved), fields (set of the names of the fields that changed, e.g. {"confirmed_time"}),
# source (StatusChange.Source value). For changes that are not a status change, such as a delay.
order_updated = Signal()

# kwargs: establishment (Establishment, saved), source (StatusChange.Source value). Sent when whether
# it takes orders (paused, very busy, online) or its preparation time changes; a change applied
# from HubRise has source "hubrise" and must not be sent back.
service_state_changed = Signal()
