"""The connection flow holds against forged or replayed returns, other users and other establishments."""

from __future__ import annotations

import logging

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from hubrise_sync.models import Connection
from orders.models import Membership
from tests.factories import make_establishment, make_user
from tests.hubrise.oauth_steps import come_back, connect, consent, shown_messages, start_connect

pytestmark = pytest.mark.django_db

REFUSED = "Connexion HubRise refusée"


def token_exchanges(sandbox) -> int:
    return len(sandbox.requests_log(path_prefix="/oauth2/v1/token"))


# --- State --------------------------------------------------------------------------------


def test_a_forged_state_is_refused_before_the_code_is_used(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)

    response = come_back(client, {**back, "state": "forged-" + back["state"][7:]})

    assert response.status_code == 400
    assert REFUSED in response.text
    assert token_exchanges(hubrise) == 0
    assert not Connection.objects.exists()


def test_a_missing_state_is_refused(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)

    response = come_back(client, {"code": back["code"]})

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_replayed_return_is_refused(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    come_back(client, back)
    Connection.objects.all().delete()

    response = come_back(client, back)

    assert response.status_code == 400
    assert token_exchanges(hubrise) == 1
    assert not Connection.objects.exists()


def test_a_state_from_another_session_is_refused(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    attacker = make_user(establishment, username="mallory", role=Membership.Role.MANAGER)
    other_browser = Client()
    other_browser.force_login(attacker)

    response = come_back(other_browser, back)

    assert response.status_code == 400
    assert token_exchanges(hubrise) == 0
    assert not Connection.objects.exists()


def test_a_state_issued_before_logging_in_as_someone_else_is_refused(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    other = make_user(establishment, username="mallory", role=Membership.Role.MANAGER)
    state_kept = client.session["hubrise_oauth_states"]
    client.force_login(other)
    session = client.session
    session["hubrise_oauth_states"] = state_kept
    session.save()

    response = come_back(client, back)

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_reused_code_is_a_bad_grant(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    requests.post(
        f"{hubrise.oauth_url}/token", data={"code": back["code"]}, auth=(hubrise.client_id, hubrise.client_secret), timeout=10
    ).raise_for_status()
    fresh_state = start_connect(client, establishment.pk)["state"]

    response = come_back(client, {"code": back["code"], "state": fresh_state})

    assert "a expiré ou a déjà servi" in " ".join(shown_messages(response))
    assert not Connection.objects.exists()


def test_a_manager_who_lost_the_role_meanwhile_cannot_complete(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    Membership.objects.filter(user=manager).update(role=Membership.Role.STAFF)

    response = come_back(client, back)

    assert response.status_code == 403
    assert not Connection.objects.exists()


# --- Roles and establishments --------------------------------------------------------------


def manager_urls(establishment_id: int) -> list[tuple[str, str]]:
    return [
        ("post", reverse("hubrise:connect", args=[establishment_id])),
        ("post", reverse("hubrise:test", args=[establishment_id])),
        ("get", reverse("hubrise:disconnect", args=[establishment_id])),
        ("post", reverse("hubrise:disconnect", args=[establishment_id])),
        ("get", reverse("hubrise:confirm_replacement", args=[establishment_id])),
        ("post", reverse("hubrise:confirm_replacement", args=[establishment_id])),
    ]


def test_staff_see_the_settings_read_only(client, establishment, hubrise):
    client.force_login(make_user(establishment, username="marc", role=Membership.Role.STAFF))

    response = client.get(reverse("hubrise:settings", args=[establishment.pk]))

    assert response.status_code == 200
    assert "Seul un responsable de cet établissement" in response.text
    assert "Connecter à HubRise" not in response.text
    assert reverse("hubrise:connect", args=[establishment.pk]) not in response.text


def test_staff_cannot_connect_test_or_disconnect(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    staff = Client()
    staff.force_login(make_user(establishment, username="marc", role=Membership.Role.STAFF))

    statuses = {(method, url): getattr(staff, method)(url).status_code for method, url in manager_urls(establishment.pk)}

    assert set(statuses.values()) == {403}, statuses
    assert Connection.objects.filter(establishment=establishment).exists()


def test_another_establishments_settings_and_actions_are_404(client, manager, establishment, hubrise):
    other = make_establishment("La Brasserie")
    urls = [("get", reverse("hubrise:settings", args=[other.pk])), *manager_urls(other.pk)]

    statuses = {(method, url): getattr(client, method)(url).status_code for method, url in urls}

    assert set(statuses.values()) == {404}, statuses


def test_every_post_needs_the_csrf_token(manager, establishment, hubrise):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    posts = [url for method, url in manager_urls(establishment.pk) if method == "post"]

    statuses = {url: browser.post(url).status_code for url in posts}

    assert set(statuses.values()) == {403}, statuses
    assert not Connection.objects.exists()


def test_the_return_from_hubrise_needs_a_login(hubrise):
    response = Client().get(reverse("hubrise:oauth_callback"), {"code": "x", "state": "y"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Secrets never shown --------------------------------------------------------------------


def test_the_token_never_appears_in_pages_logs_or_messages(client, manager, establishment, hubrise, caplog):
    caplog.set_level(logging.DEBUG)
    superuser = get_user_model().objects.create_superuser("admin", "admin@example.fr", "correct-horse-battery")
    admin = Client()
    admin.force_login(superuser)

    pages = [connect(client, hubrise, establishment.pk)]
    connection = Connection.objects.get(establishment=establishment)
    token = connection.access_token
    pages.append(client.post(reverse("hubrise:test", args=[establishment.pk]), follow=True))
    pages.append(client.get(reverse("hubrise:disconnect", args=[establishment.pk])))
    pages.append(client.get(reverse("orders:list", args=[establishment.pk])))
    for path in admin_pages_of(connection):
        pages.append(admin.get(path))
    hubrise.inject_fault("500", count=5)
    pages.append(client.post(reverse("hubrise:test", args=[establishment.pk]), follow=True))
    pages.append(client.post(reverse("hubrise:disconnect", args=[establishment.pk]), follow=True))

    for page in pages:
        assert page.status_code == 200, page.request
        assert token not in page.content.decode()
        assert hubrise.client_secret not in page.content.decode()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert token not in logged
    assert hubrise.client_secret not in logged
    assert "HubRise OAuth /token answered 200" in logged


def admin_pages_of(connection: Connection) -> list[str]:
    """Every admin page that shows a connection, if the admin registers the model."""
    from django.contrib import admin

    if Connection not in admin.site._registry:
        return []
    prefix = f"admin:{Connection._meta.app_label}_{Connection._meta.model_name}"
    return [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_change", args=[connection.pk])]
