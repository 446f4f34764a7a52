"""What the HubRise settings page says of each topic, and its "Retry" button."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hubrise_sync.connection_outbox import state, topics, wake
from hubrise_sync.models import Connection, ConnectionMessage

State = ConnectionMessage.State


@dataclass(frozen=True)
class TopicStatus:
    topic: str
    label: str
    # A short sentence in plain words ("up to date", "waiting (3 tries, last error: …)").
    text: str
    # HubRise refused it: staff may send it again once the cause is fixed.
    can_retry: bool
    problem: bool


def of(connection: Connection) -> list[TopicStatus]:
    """Every topic, in the registry's order, with what it stands at for this connection."""
    rows = {row.topic: row for row in ConnectionMessage.objects.filter(connection=connection)}
    return [_status(module.TOPIC.name, str(module.TOPIC.label), rows.get(module.TOPIC.name)) for module in topics.TOPICS]


def _status(name: str, label: str, row: ConnectionMessage | None) -> TopicStatus:
    if row is None:
        return TopicStatus(name, label, _("nothing sent yet"), False, False)
    if row.state == State.DELIVERED:
        return TopicStatus(name, label, _("up to date"), False, False)
    if row.state == State.HELD:
        return TopicStatus(name, label, _("waiting for HubRise to be reconnected"), False, True)
    if row.state == State.FAILED:
        text = _("refused by HubRise (%(error)s)") % {"error": row.last_error or row.last_status_code}
        return TopicStatus(name, label, text, True, True)
    if not row.attempts:
        return TopicStatus(name, label, _("waiting to be sent"), False, False)
    text = ngettext(
        "waiting (%(count)s try, last error: %(error)s)",
        "waiting (%(count)s tries, last error: %(error)s)",
        row.attempts,
    ) % {"count": row.attempts, "error": row.last_error or row.last_status_code}
    return TopicStatus(name, label, text, False, True)


def retry(connection: Connection, topic: str) -> bool:
    """Sends a failed topic again; False if it was not failed (nothing to do)."""
    row = ConnectionMessage.objects.filter(connection=connection, topic=topic).first()
    if row is None or not state.retry(row):
        return False
    wake.after_commit(timezone.now())
    return True
