"""What the menu tells other apps (a sync with a POS or a hub), sent synchronously inside the change's transaction.

A receiver that writes rows (an outbox message) commits or rolls back with the
change; anything that must wait for the commit belongs in
``transaction.on_commit``. ``source`` says where the change came from: the
menu's own entry points use ``"staff"`` (the staff pages), ``"admin"`` and
``"demo"``; an app that feeds the menu passes its own name, and skips the
signals that carry it, so that it never sends a change back where it came from.
``menu`` never imports its listeners: they connect in their AppConfig.ready().
"""

from django.dispatch import Signal

# The menu's content changed (not its availability alone).
# kwargs: establishment (orders.models.Establishment), source (str), changes (menu.changes.MenuChanges)
menu_changed = Signal()

# SKUs or options became unavailable ("en rupture") or available again.
# kwargs: establishment, source (str), items (list[menu.changes.AvailabilityChange], only those that changed)
availability_changed = Signal()
