"""Admins read the connection outbox; nobody edits it, and a manager never reaches it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from hubrise_sync.models import Connection, ConnectionMessage
from orders.models import Membership
from tests.factories import make_establishment, make_user

pytestmark = pytest.mark.django_db


def refused_location() -> ConnectionMessage:
    establishment = make_establishment()
    connection = Connection.objects.create(establishment=establishment, access_token="secret-token-0123", location_id="abc12-0")
    return ConnectionMessage.objects.create(
        connection=connection,
        topic="location",
        state="failed",
        requested_version=2,
        sent_version=1,
        attempts=1,
        last_status_code=422,
        last_error="HTTP 422: order_acceptance.mode is not one of online, busy, paused",
        last_payload={"preparation_time": 20, "order_acceptance": {"mode": "online"}},
    )


def test_the_admin_shows_each_topic_with_its_last_payload_and_answer_read_only():
    message = refused_location()
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "pw-long-enough-1"))

    listing = admin.get("/admin/hubrise_sync/connectionmessage/?state=failed").content.decode()
    assert "Emplacement HubRise" in listing and "order_acceptance.mode" in listing
    page = admin.get(f"/admin/hubrise_sync/connectionmessage/{message.pk}/change/").content.decode()
    assert "preparation_time" in page and "422" in page
    assert 'name="_save"' not in page and 'name="last_error"' not in page  # shown, not editable
    assert admin.get("/admin/hubrise_sync/connectionmessage/add/").status_code == 403


def test_a_manager_is_kept_out_of_the_admin():
    message = refused_location()
    manager = Client()
    manager.force_login(make_user(message.connection.establishment, role=Membership.Role.MANAGER))
    response = manager.get("/admin/hubrise_sync/connectionmessage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
