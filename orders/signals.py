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

# kwargs: order (Order, not written yet: no id, no ref, no lines), source, facts (as order_created's). Sent by
# create_order before it writes anything. A receiver returns the rows it wants written with the order, in the
# statement of its lines: a list of groups, each a list of new objects of one model (getresto.statements.new) that
# refer to the order; or None. They cost no round trip of their own, which the intake API's throughput is mostly made
# of. Rows that need the order's id or lines in hand belong to order_created.
order_rows = Signal()

# kwargs: order (Order, already saved with the new status), change (StatusChange)
status_changed = Signal()

# kwargs: order (Order, saved), fields (set of the names of the fields that changed, e.g. {"confirmed_time"}),
# source (StatusChange.Source value). For changes that are not a status change, such as a delay.
order_updated = Signal()

# kwargs: establishment (Establishment, saved), source (StatusChange.Source value). Sent when whether
# it takes orders (paused, very busy, online) or its preparation time changes; a change applied
# from HubRise has source "hubrise" and must not be sent back.
service_state_changed = Signal()
