"""What staff and admins see of the push, and how they attach a connection or retry."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hubrise_sync.models import Connection, DeliveryAttempt, OutboxMessage
from hubrise_sync.outbox import badge
from tests.factories import make_establishment, make_order, make_user

pytestmark = pytest.mark.django_db

TOKEN = "secret-token-0123456789abcdef"


def connect(establishment) -> Connection:
    return Connection.objects.create(establishment=establishment, access_token=TOKEN, location_id="abc12-0")


def failed_order(establishment):
    order = make_order(establishment)
    message = OutboxMessage.objects.get(order=order)
    OutboxMessage.objects.filter(pk=message.pk).update(
        state="failed", attempts=1, last_status_code=422, last_error="HTTP 422: Validation failed (price: bad)"
    )
    DeliveryAttempt.objects.create(
        message=message, http_status=422, duration_ms=12, outcome="failed", error="HTTP 422: Validation failed (price: bad)"
    )
    return order


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "pw-long-enough-1"))
    return client


def test_the_outbox_admin_lists_messages_with_their_attempts_and_retries_them(admin_client):
    establishment = make_establishment()
    connect(establishment)
    order = failed_order(establishment)
    message = OutboxMessage.objects.get(order=order)
    listing = admin_client.get("/admin/hubrise_sync/outboxmessage/?state=failed").content.decode()
    assert order.ref in listing and "HTTP 422" in listing
    page = admin_client.get(f"/admin/hubrise_sync/outboxmessage/{message.pk}/change/").content.decode()
    assert "12" in page and "422" in page
    admin_client.post(
        "/admin/hubrise_sync/outboxmessage/", {"action": "retry_now", "_selected_action": [message.pk]}, follow=True
    )
    message.refresh_from_db()
    assert message.state == "pending"


def test_the_connection_admin_never_shows_the_token(admin_client):
    connection = connect(make_establishment())
    page = admin_client.get(f"/admin/hubrise_sync/connection/{connection.pk}/change/").content.decode()
    assert TOKEN not in page
    assert "••••cdef" in page
    listing = admin_client.get("/admin/hubrise_sync/connection/").content.decode()
    assert TOKEN not in listing


def test_the_failed_badge_shows_hubrise_message_and_the_retry_button():
    establishment = make_establishment()
    connect(establishment)
    order = failed_order(establishment)
    staff = Client()
    staff.force_login(make_user(establishment))
    page = staff.get(f"/e/{establishment.pk}/orders/{order.pk}/").content.decode()
    assert "sync-failed" in page
    assert "Validation failed (price: bad)" in page
    assert f"/hubrise/e/{establishment.pk}/orders/{order.pk}/retry/" in page


def test_retry_is_a_post_for_members_of_the_establishment_only():
    establishment = make_establishment()
    connect(establishment)
    order = failed_order(establishment)
    url = f"/hubrise/e/{establishment.pk}/orders/{order.pk}/retry/"
    outsider = Client()
    outsider.force_login(make_user(make_establishment("Ailleurs"), username="dominique"))
    assert outsider.post(url).status_code == 404
    member = Client(enforce_csrf_checks=True)
    member.force_login(make_user(establishment))
    assert member.get(url).status_code == 405
    assert member.post(url).status_code == 403, "CSRF token required"
    assert OutboxMessage.objects.get(order=order).state == "failed"


def test_an_order_of_an_establishment_without_connection_says_not_connected():
    establishment = make_establishment()
    order = make_order(establishment)
    staff = Client()
    staff.force_login(make_user(establishment))
    assert "sync-not-connected" in staff.get(f"/e/{establishment.pk}/orders/{order.pk}/").content.decode()


def test_the_order_list_loads_sync_badges_without_a_query_per_row():
    establishment = make_establishment()
    connect(establishment)
    staff = Client()
    staff.force_login(make_user(establishment))
    url = f"/e/{establishment.pk}/orders/?tab=recu"
    make_order(establishment)
    # The connection's first render also prepares the list's statements (getresto/statements.py): not per row.
    staff.get(url)
    with CaptureQueriesContext(db_connection) as one:
        assert "sync-waiting" in staff.get(url).content.decode()
    for _ in range(5):
        make_order(establishment)
    with CaptureQueriesContext(db_connection) as six:
        staff.get(url)
    assert len(six) == len(one)


def test_a_waiting_badge_shows_the_next_attempt_time():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    next_try = timezone.now() + timezone.timedelta(minutes=3)
    OutboxMessage.objects.filter(order=order).update(attempts=2, next_attempt_at=next_try, last_error="HTTP 500: boom")
    state = badge.sync_state(order, establishment.hubrise_connection)
    assert (state.state, state.attempts, state.next_attempt_at) == ("waiting", 2, next_try)


def test_attaching_a_connection_from_a_token_fills_the_names_and_never_prints_the_token(hubrise_sandbox, monkeypatch):
    establishment = make_establishment()
    token = hubrise_sandbox.create_token()
    monkeypatch.setenv("HUBRISE_ACCESS_TOKEN", token)
    from django.conf import settings

    monkeypatch.setattr(settings, "HUBRISE_API_URL", hubrise_sandbox.api_url)
    out = io.StringIO()
    call_command("attach_hubrise_connection", str(establishment.pk), stdout=out)
    connection = Connection.objects.get(establishment=establishment)
    assert connection.access_token == token
    assert connection.location_id == hubrise_sandbox.location_id
    assert connection.location_name and connection.account_name
    assert token not in out.getvalue()
    assert connection.location_name in out.getvalue()


def test_attaching_with_a_bad_token_is_refused(hubrise_sandbox, monkeypatch):
    from django.conf import settings
    from django.core.management.base import CommandError

    establishment = make_establishment()
    monkeypatch.setenv("HUBRISE_ACCESS_TOKEN", "not-a-token")
    monkeypatch.setattr(settings, "HUBRISE_API_URL", hubrise_sandbox.api_url)
    with pytest.raises(CommandError, match="401"):
        call_command("attach_hubrise_connection", str(establishment.pk), stdout=io.StringIO())
    assert not Connection.objects.exists()


def test_attaching_a_location_already_used_by_another_establishment_is_refused(hubrise_sandbox, monkeypatch, settings):
    from django.core.management.base import CommandError

    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    monkeypatch.setenv("HUBRISE_ACCESS_TOKEN", hubrise_sandbox.create_token())
    first, second = make_establishment("Bistrot"), make_establishment("Brasserie")
    call_command("attach_hubrise_connection", str(first.pk), stdout=io.StringIO())

    with pytest.raises(CommandError, match="already connected to another establishment"):
        call_command("attach_hubrise_connection", str(second.pk), stdout=io.StringIO())
    assert list(Connection.objects.values_list("establishment", flat=True)) == [first.pk]


def test_the_order_list_with_hubrise_badges_and_banner_stays_within_six_queries(client, hubrise_sandbox, settings):
    from django.urls import reverse

    from orders.models import Membership
    from tests.factories import make_order, make_user
    from tests.hubrise.callbacks import sandbox_connection
    from tests.orders.pages import sql_queries

    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    establishment = make_establishment()
    sandbox_connection(hubrise_sandbox, establishment)
    client.force_login(make_user(establishment, username="claire", role=Membership.Role.MANAGER))
    for _ in range(30):
        make_order(establishment)

    with sql_queries() as page:
        response = client.get(reverse("orders:list", args=[establishment.pk]))

    assert response.status_code == 200
    assert response.content.decode().count("sync-badge") == 25
    # Session, user, establishments with counts and the connection, orders with their links, their dishes,
    # their outbox messages (and whatever other apps add for their own badges: the printing app's jobs).
    hubrise_and_list = [sql for sql in page if 'FROM "printing_' not in sql]
    assert len(hubrise_and_list) <= 6, len(hubrise_and_list)
