"""The ``catalog`` topic: the whole menu PUT onto the connection's HubRise catalog.

A PUT replaces the whole catalog (docs/hubrise/catalog.md), so the menu is read
whole, under its row lock (no import or edit half-way through it), and an empty
menu is never sent: it would wipe the catalog of every app connected to it.
Debounced a minute: ten edits in a minute make one PUT.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubrise_sync.catalog_upload import catalog_data
from hubrise_sync.connection_outbox.topic import Topic, TopicSending
from hubrise_sync.outbox.result import Outcome, Result, call
from menu import selectors
from menu.models import Menu


def send(sending: TopicSending) -> Result:
    establishment = sending.establishment
    with transaction.atomic():
        # The menu's row lock: every writer of the menu takes it, so the read is one state of it.
        Menu.objects.select_for_update().filter(establishment=establishment).first()
        menu = selectors.menu_description(establishment)
    if menu is None or not menu.products:
        return Result(Outcome.FAILED, error=_("The menu is empty: it is not sent, it would empty HubRise's catalog."))
    body = {"data": catalog_data(menu, establishment.currency)}
    result = Result(Outcome.DELIVERED, payload={"products": len(menu.products)})
    catalog_id = sending.connection.catalog_id
    call(result, lambda: sending.client.put_catalog(catalog_id, body), f"PUT /catalogs/{catalog_id}")
    return result


TOPIC = Topic(
    name="catalog",
    label=gettext_lazy("HubRise catalog"),
    send=send,
    debounce=timedelta(seconds=settings.HUBRISE_CATALOG_PUSH_DEBOUNCE),
)
