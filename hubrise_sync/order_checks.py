"""Asking HubRise for an order's status when ours may differ: now (a task), or at the next reconciliation."""

from __future__ import annotations

import logging

from django.db import transaction

from hubrise_sync import queue
from hubrise_sync.models import ReconcileCheck

logger = logging.getLogger(__name__)


def check_order_soon(order_id: int) -> None:
    """Once the current transaction commits, a task asks HubRise for the order's status and applies it if it differs."""

    def ask() -> None:
        try:
            queue.check_order(order_id)
        except Exception as error:  # the broker's errors vary with the transport
            put_first_in_line(order_id)
            logger.warning("Could not queue a HubRise status check (%s); reconciliation will do it", type(error).__name__)

    transaction.on_commit(ask)


def put_first_in_line(order_id: int) -> None:
    """The next reconciliation run checks this order first (never-checked orders come first)."""
    ReconcileCheck.objects.filter(order_id=order_id).delete()
