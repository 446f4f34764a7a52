"""Connecting an establishment to HubRise with OAuth 2.0, against the sandbox over HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from django.db import connection as db_connection
from django.urls import reverse

from hubrise_sync.models import Connection, OutboxMessage
from orders.models import Membership
from tests.factories import make_establishment, make_order
from tests.hubrise.oauth_steps import come_back, connect, consent, query_of, shown_messages, start_connect

pytestmark = pytest.mark.django_db


def api(sandbox, token: str, path: str) -> requests.Response:
    return requests.get(f"{sandbox.api_url}{path}", headers={"X-Access-Token": token}, timeout=10)


def settings_url(establishment) -> str:
    return reverse("hubrise:settings", args=[establishment.pk])


# --- Starting ---------------------------------------------------------------------------


def test_every_establishment_page_links_to_its_hubrise_settings(client, manager, establishment):
    response = client.get(reverse("orders:list", args=[establishment.pk]))

    assert f'href="{settings_url(establishment)}"' in response.text


def test_a_manager_sees_the_connect_button_when_not_connected(client, manager, establishment):
    response = client.get(settings_url(establishment))

    assert response.status_code == 200
    assert "Connecter à HubRise" in response.text
    assert reverse("hubrise:connect", args=[establishment.pk]) in response.text


def test_connect_sends_the_manager_to_hubrise_with_our_client_scope_redirect_and_a_state(client, manager, establishment, hubrise):
    response = client.post(reverse("hubrise:connect", args=[establishment.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{hubrise.oauth_url}/authorize?")
    params = query_of(response["Location"])
    assert params["client_id"] == hubrise.client_id
    assert params["scope"] == "location[orders.write,customer_list.write,catalog.write,inventory.write]"
    assert params["redirect_uri"] == "http://127.0.0.1:8000/hubrise/oauth/callback/"
    assert len(params["state"]) >= 40


def test_each_connect_gets_a_new_state(client, manager, establishment, hubrise):
    first = start_connect(client, establishment.pk)["state"]
    second = start_connect(client, establishment.pk)["state"]

    assert first != second


# --- Completing -------------------------------------------------------------------------


def test_allowing_on_hubrise_stores_the_connection_and_shows_its_details(client, manager, establishment, hubrise):
    location = hubrise.locations()[0]

    response = connect(client, hubrise, establishment.pk)

    assert response.redirect_chain[-1][0] == settings_url(establishment)
    connection = Connection.objects.get(establishment=establishment)
    assert connection.location_id == location["id"]
    assert connection.connected_by == manager
    for shown in (
        location["account_name"],
        location["name"],
        location["id"],
        location["customer_lists"][0]["name"],
        connection.customer_list_id,
        "Connecté",
    ):
        assert shown in response.text
    assert "Tester la connexion" in response.text
    assert "Déconnecter" in response.text


def test_the_token_is_stored_encrypted(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    connection = Connection.objects.get(establishment=establishment)

    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM hubrise_sync_connection WHERE id = %s", [connection.pk])
        (stored,) = cursor.fetchone()

    assert connection.access_token
    assert connection.access_token not in stored
    assert api(hubrise, connection.access_token, f"/locations/{connection.location_id}").status_code == 200


def test_a_local_public_url_registers_a_passive_callback_for_order_and_location_events(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    connection = Connection.objects.get(establishment=establishment)

    callback = api(hubrise, connection.access_token, "/callback").json()

    assert callback["url"] is None
    assert sorted(callback["events"]["order"]) == ["create", "update"]
    # A pause set at the POS reaches us as location.update.
    assert callback["events"]["location"] == ["update"]
    assert connection.callback_mode == Connection.CallbackMode.PASSIVE


def test_a_public_url_registers_an_active_callback_to_our_webhook(client, manager, establishment, hubrise, settings):
    settings.PUBLIC_URL = "https://bo.example.com"

    connect(client, hubrise, establishment.pk)
    connection = Connection.objects.get(establishment=establishment)

    callback = api(hubrise, connection.access_token, "/callback").json()
    assert callback["url"] == "https://bo.example.com/hubrise/callback/"
    assert sorted(callback["events"]["order"]) == ["create", "update"]
    assert connection.callback_mode == Connection.CallbackMode.ACTIVE


def test_the_callback_mode_setting_forces_passive_on_a_public_url(client, manager, establishment, hubrise, settings):
    settings.PUBLIC_URL = "https://bo.example.com"
    settings.HUBRISE_CALLBACK_MODE = "passive"

    connect(client, hubrise, establishment.pk)

    assert Connection.objects.get(establishment=establishment).callback_mode == Connection.CallbackMode.PASSIVE


def test_refusing_on_hubrise_says_so_and_connects_nothing(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)

    response = come_back(client, consent(hubrise, authorize, decision="deny"))

    assert "La connexion a été refusée sur HubRise" in " ".join(shown_messages(response))
    assert not Connection.objects.exists()


def test_a_failed_code_exchange_connects_nothing(client, manager, establishment, hubrise):
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    hubrise.inject_fault("500", path_prefix="/oauth2/v1/token")

    response = come_back(client, back)

    assert "HubRise est injoignable" in " ".join(shown_messages(response))
    assert not Connection.objects.exists()


def test_an_expired_code_is_a_bad_grant_and_connects_nothing(client, manager, establishment, hubrise):
    hubrise.settings(auth_code_ttl=0.05)
    authorize = start_connect(client, establishment.pk)
    back = consent(hubrise, authorize)
    time.sleep(0.1)

    response = come_back(client, back)

    assert "a expiré ou a déjà servi" in " ".join(shown_messages(response))
    assert not Connection.objects.exists()


def test_a_callback_registration_failure_connects_nothing(client, manager, establishment, hubrise):
    hubrise.inject_fault("500", method="POST", path_prefix="/v1/callback")

    response = connect(client, hubrise, establishment.pk)

    assert "n’a pas accepté" in " ".join(shown_messages(response))
    assert not Connection.objects.exists()


# --- Reconnecting, switching location ----------------------------------------------------


def test_reconnecting_a_broken_connection_makes_it_healthy_and_removes_the_banner(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    connection = Connection.objects.get(establishment=establishment)
    connection.mark_broken("HTTP 401: The access token is invalid or the connection has been revoked")
    orders_page = reverse("orders:list", args=[establishment.pk])
    assert "Votre connexion HubRise est interrompue" in client.get(orders_page).text

    connect(client, hubrise, establishment.pk)

    connection.refresh_from_db()
    assert not connection.is_broken
    assert connection.last_failed_reason == ""
    assert "Votre connexion HubRise est interrompue" not in client.get(orders_page).text


def confirm_name(client, establishment, decision: str = "connect"):
    """Answers the question asked when the chosen location's name is not the establishment's."""
    return client.post(reverse("hubrise:confirm_replacement", args=[establishment.pk]), {"decision": decision}, follow=True)


def test_connecting_to_another_location_asks_for_confirmation_first(client, manager, establishment, hubrise):
    first, second = hubrise.locations()[:2]
    connect(client, hubrise, establishment.pk, location_id=first["id"])
    connect(client, hubrise, establishment.pk, location_id=second["id"])

    response = confirm_name(client, establishment)

    assert response.redirect_chain[-1][0] == reverse("hubrise:confirm_replacement", args=[establishment.pk])
    assert first["id"] in response.text and second["id"] in response.text
    assert Connection.objects.get(establishment=establishment).location_id == first["id"]


def test_confirming_the_switch_connects_the_new_location_and_revokes_the_old(client, manager, establishment, hubrise):
    first, second = hubrise.locations()[:2]
    connect(client, hubrise, establishment.pk, location_id=first["id"])
    old_token = Connection.objects.get(establishment=establishment).access_token
    connect(client, hubrise, establishment.pk, location_id=second["id"])
    confirm_name(client, establishment)

    client.post(reverse("hubrise:confirm_replacement", args=[establishment.pk]), {"decision": "replace"})

    connection = Connection.objects.get(establishment=establishment)
    assert connection.location_id == second["id"]
    assert api(hubrise, old_token, f"/locations/{first['id']}").status_code == 401
    assert api(hubrise, connection.access_token, f"/locations/{second['id']}").status_code == 200


def test_keeping_the_current_location_changes_nothing(client, manager, establishment, hubrise):
    first, second = hubrise.locations()[:2]
    connect(client, hubrise, establishment.pk, location_id=first["id"])
    connect(client, hubrise, establishment.pk, location_id=second["id"])
    confirm_name(client, establishment)

    client.post(reverse("hubrise:confirm_replacement", args=[establishment.pk]), {"decision": "keep"})
    response = client.post(reverse("hubrise:confirm_replacement", args=[establishment.pk]), {"decision": "replace"})

    assert Connection.objects.get(establishment=establishment).location_id == first["id"]
    assert response.status_code == 302


def test_a_location_connected_to_another_establishment_is_refused(client, manager, establishment, hubrise):
    other = make_establishment("La Brasserie")
    Membership.objects.create(user=manager, establishment=other, role=Membership.Role.MANAGER)
    connect(client, hubrise, other.pk)
    confirm_name(client, other)

    response = connect(client, hubrise, establishment.pk)

    assert "déjà connecté à un autre établissement" in " ".join(shown_messages(response))
    assert not Connection.objects.filter(establishment=establishment).exists()
    assert Connection.objects.filter(establishment=other).exists()


def test_a_location_named_otherwise_is_connected_only_once_the_manager_confirms(client, manager, establishment, hubrise):
    other_location = hubrise.locations()[1]

    asked = connect(client, hubrise, establishment.pk, location_id=other_location["id"])

    assert asked.redirect_chain[-1][0] == reverse("hubrise:confirm_replacement", args=[establishment.pk])
    assert "«\u00a0La Brasserie du Port\u00a0», et non «\u00a0Le Petit Bistrot\u00a0»" in asked.text
    assert not Connection.objects.filter(establishment=establishment).exists()
    confirm_name(client, establishment)
    assert Connection.objects.get(establishment=establishment).location_id == other_location["id"]


def test_declining_a_location_named_otherwise_connects_nothing_and_gives_the_access_back(client, manager, establishment, hubrise):
    other_location = hubrise.locations()[1]
    connect(client, hubrise, establishment.pk, location_id=other_location["id"])

    response = confirm_name(client, establishment, decision="keep")

    assert not Connection.objects.filter(establishment=establishment).exists()
    assert "Rien n’a été connecté." in " ".join(shown_messages(response))
    still_open = hubrise._control("GET", f"/locations/{other_location['id']}/connections")
    assert [connection for connection in still_open if connection["client_id"] == hubrise.client_id] == []


def test_a_location_in_another_time_zone_is_refused_with_the_reason(client, manager, establishment, hubrise):
    abroad = hubrise._control("POST", "/locations", json={"name": "Le Petit Bistrot", "timezone": "America/New_York"})

    response = connect(client, hubrise, establishment.pk, location_id=abroad["id"])

    assert not Connection.objects.filter(establishment=establishment).exists()
    assert "est dans le fuseau horaire America/New_York et Le Petit Bistrot dans Europe/Paris" in " ".join(
        shown_messages(response)
    )


def test_a_location_in_another_currency_is_refused_with_the_reason(client, manager, establishment, hubrise):
    establishment.currency = "GBP"
    establishment.save()

    response = connect(client, hubrise, establishment.pk)

    assert not Connection.objects.filter(establishment=establishment).exists()
    assert "compte en EUR et Le Petit Bistrot en GBP" in " ".join(shown_messages(response))


def test_the_settings_page_says_none_in_agreement_and_hides_the_oauth_scope(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)

    connected = client.get(settings_url(establishment)).text

    assert "Dernière erreur</dt><dd>aucune</dd>" in connected.replace("\n", "").replace("  ", "")
    assert "orders.write" not in connected


# --- Testing the connection --------------------------------------------------------------


def test_testing_a_healthy_connection_shows_hubrises_answer(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)

    response = client.post(reverse("hubrise:test", args=[establishment.pk]), follow=True)

    location_name = hubrise.locations()[0]["name"]
    assert any("HubRise a répondu" in message and location_name in message for message in shown_messages(response))
    assert Connection.objects.get(establishment=establishment).last_success_at is not None


def test_testing_a_revoked_connection_marks_it_broken_and_shows_the_banner(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    token = Connection.objects.get(establishment=establishment).access_token
    requests.post(
        f"{hubrise.oauth_url}/revoke", data={"token": token}, auth=(hubrise.client_id, hubrise.client_secret), timeout=10
    ).raise_for_status()

    response = client.post(reverse("hubrise:test", args=[establishment.pk]), follow=True)

    connection = Connection.objects.get(establishment=establishment)
    assert connection.is_broken
    assert "401" in connection.last_failed_reason
    assert "Votre connexion HubRise est interrompue" in response.text
    assert "Reconnecter HubRise" in response.text
    orders_page = client.get(reverse("orders:list", args=[establishment.pk]))
    assert "Votre connexion HubRise est interrompue" in orders_page.text
    assert settings_url(establishment) in orders_page.text


# --- Disconnecting ------------------------------------------------------------------------


def test_disconnect_asks_for_confirmation_first(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)

    response = client.get(reverse("hubrise:disconnect", args=[establishment.pk]))

    assert response.status_code == 200
    assert "Déconnecter HubRise\u00a0?" in response.text
    assert Connection.objects.filter(establishment=establishment).exists()


def test_disconnecting_revokes_the_token_removes_the_callback_and_keeps_the_orders(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    token = Connection.objects.get(establishment=establishment).access_token
    order = make_order(establishment)

    response = client.post(reverse("hubrise:disconnect", args=[establishment.pk]), follow=True)

    assert not Connection.objects.filter(establishment=establishment).exists()
    assert api(hubrise, token, "/callback").status_code == 401
    assert hubrise.requests_log(method="DELETE", path_prefix="/v1/callback")
    order.refresh_from_db()
    assert order.history.exists()
    assert "Déconnecté de HubRise" in " ".join(shown_messages(response))
    assert "Connecter à HubRise" in response.text


def test_disconnecting_when_hubrise_is_down_still_removes_the_connection_and_says_so(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    hubrise.inject_fault("500", count=5)

    response = client.post(reverse("hubrise:disconnect", args=[establishment.pk]), follow=True)

    assert not Connection.objects.filter(establishment=establishment).exists()
    assert "HubRise n’a pas pu en être informé" in " ".join(shown_messages(response))


# --- Messages waiting for HubRise -----------------------------------------------------------


def test_disconnecting_keeps_the_messages_waiting_for_hubrise(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    order = make_order(establishment)
    waiting = list(OutboxMessage.objects.filter(order=order).values_list("pk", "state"))
    assert waiting

    client.post(reverse("hubrise:disconnect", args=[establishment.pk]))

    kept = OutboxMessage.objects.filter(order=order)
    assert list(kept.values_list("pk", "state")) == waiting
    assert set(kept.values_list("connection", flat=True)) == {None}


def test_reconnecting_a_broken_connection_releases_the_held_messages(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    order = make_order(establishment)
    connection = Connection.objects.get(establishment=establishment)
    connection.mark_broken("HTTP 401: The access token is invalid or the connection has been revoked")
    OutboxMessage.objects.filter(order=order).update(state=OutboxMessage.State.HELD)

    connect(client, hubrise, establishment.pk)

    assert set(OutboxMessage.objects.filter(order=order).values_list("state", "connection")) == {
        (OutboxMessage.State.PENDING, connection.pk)
    }
