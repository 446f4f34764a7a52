"""The sandbox's own tools: request log, web page, control API and persistence across restarts."""

from __future__ import annotations

import hashlib
import hmac
import time

import requests

from tests.sandbox.conftest import ApiClient
from tests.sandbox_fixture import SandboxProcess


def test_the_request_log_records_method_path_status_and_bodies_with_the_token_masked(hubrise_sandbox, app_api):
    order = app_api.create_order(private_ref="GR-1")

    [entry] = hubrise_sandbox.requests_log(method="POST")

    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/v1/location/orders", 200)
    assert '"private_ref": "GR-1"' in entry["request_body"]
    assert order["id"] in entry["response_body"]
    assert entry["client_name"] == "Get Resto"
    assert app_api.token not in str(entry)
    assert entry["token_hint"].startswith(app_api.token[:4])


def test_the_request_log_filters_by_status(hubrise_sandbox, app_api):
    app_api.get("/location")
    app_api.get("/location/orders/nope")

    assert [entry["path"] for entry in hubrise_sandbox.requests_log(status=404)] == ["/v1/location/orders/nope"]


def test_the_page_shows_each_location_with_its_orders_and_keeps_tokens_masked(hubrise_sandbox, app_api):
    order = app_api.create_order(status="received")

    page = requests.get(hubrise_sandbox.base_url + "/", timeout=10)

    assert page.status_code == 200
    assert "Le Petit Bistrot" in page.text
    assert "La Brasserie du Port" in page.text
    assert order["id"] in page.text
    assert "received" in page.text
    assert app_api.token not in page.text


def test_the_page_form_changes_a_status_as_the_pos_and_fires_our_callback(hubrise_sandbox, app_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"order": ["update"]}})
    order = app_api.create_order()

    response = requests.post(
        f"{hubrise_sandbox.base_url}/ui/orders/{order['id']}/status", data={"status": "accepted"}, timeout=10
    )
    callback = callback_receiver.wait_for(1)[0]

    assert response.status_code == 200
    assert app_api.get(f"/location/orders/{order['id']}").json()["status"] == "accepted"
    assert callback.json()["new_state"]["status"] == "accepted"
    expected = hmac.new(hubrise_sandbox.client_secret.encode(), callback.body, hashlib.sha256).hexdigest()
    assert callback.headers["X-HubRise-Hmac-SHA256"] == expected


def test_the_control_api_rejects_an_unknown_fault_mode(hubrise_sandbox):
    response = requests.post(f"{hubrise_sandbox.control_url}/faults", json={"mode": "explode"}, timeout=10)

    assert response.status_code == 422


def test_the_seeded_account_has_the_two_demo_locations_in_euros_in_paris(hubrise_sandbox):
    locations = hubrise_sandbox.locations()

    assert [location["name"] for location in locations[:2]] == ["Le Petit Bistrot", "La Brasserie du Port"]
    assert {(location["account_name"], location["currency"], location["timezone"]) for location in locations} == {
        ("Get Resto Démo", "EUR", "Europe/Paris")
    }
    assert all(location["catalogs"] and location["customer_lists"] for location in locations)


def test_an_unknown_api_path_gets_a_json_404(app_api):
    response = app_api.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["error_type"] in ("routing_error", "not_found")


def test_data_survive_a_restart(hubrise_sandbox, app_api, callback_receiver):
    order = app_api.create_order(private_ref="GR-1")
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"order": ["update"]}})

    hubrise_sandbox.restart()

    survivor = ApiClient(hubrise_sandbox.api_url, app_api.token)
    assert survivor.get(f"/location/orders/{order['id']}").json() == order
    assert survivor.get("/callback").json()["url"] == callback_receiver.url


def test_oauth_tokens_and_secrets_never_reach_the_request_log(hubrise_sandbox):
    from tests.sandbox.test_oauth import exchange, new_code

    token = exchange(hubrise_sandbox, new_code(hubrise_sandbox)).json()["access_token"]
    requests.post(
        f"{hubrise_sandbox.oauth_url}/token",
        params={"code": "x", "client_id": hubrise_sandbox.client_id, "client_secret": hubrise_sandbox.client_secret},
        timeout=10,
    )

    log = str(hubrise_sandbox.requests_log())
    page = requests.get(hubrise_sandbox.base_url + "/", timeout=10).text
    assert token not in log
    assert token not in page
    assert hubrise_sandbox.client_secret not in log


def test_the_demo_token_connects_our_app_to_the_first_location_without_oauth(tmp_path):
    process = SandboxProcess(tmp_path, {"HUBRISE_SANDBOX_DEMO_TOKEN": "demo-token-for-the-tour"})
    process.start()
    try:
        location = ApiClient(f"{process.base_url}/v1", "demo-token-for-the-tour").get("/location")
    finally:
        process.stop()

    assert location.status_code == 200
    assert location.json()["name"] == "Le Petit Bistrot"


def test_a_location_added_through_the_control_api_gets_its_own_token_orders_and_rate_limits(hubrise_sandbox, app_api):
    response = requests.post(f"{hubrise_sandbox.control_url}/locations", json={"name": "Chez Paul"}, timeout=10)
    location = response.json()
    api = ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_token(location["id"]))
    order = api.create_order()
    other_location = api.get(f"/locations/{hubrise_sandbox.location_id}")
    if 60 - time.time() % 60 < 3:
        # Both calls below must fall in the same round minute.
        time.sleep(60 - time.time() % 60 + 0.1)
    hubrise_sandbox.set_rate_limits(per_minute=1)
    api.get("/location")

    assert response.status_code == 201
    assert (location["name"], location["currency"], location["timezone"]) == ("Chez Paul", "EUR", "Europe/Paris")
    assert location["catalogs"] and location["customer_lists"]
    assert location["id"] in [known["id"] for known in hubrise_sandbox.locations()]
    assert [o["id"] for o in hubrise_sandbox.orders(location["id"])] == [order["id"]]
    assert other_location.status_code == 403
    assert api.get("/location").status_code == 429
    assert app_api.get("/location").status_code == 200


def test_adding_a_location_refuses_an_unknown_time_zone(hubrise_sandbox):
    response = requests.post(f"{hubrise_sandbox.control_url}/locations", json={"timezone": "Mars/Olympus"}, timeout=10)

    assert response.status_code == 422
    assert len(hubrise_sandbox.locations()) == 2


def test_the_request_log_keeps_as_many_rows_as_configured(tmp_path):
    process = SandboxProcess(tmp_path, {"HUBRISE_SANDBOX_REQUEST_LOG_KEPT": "3"})
    process.start()
    try:
        token = requests.post(f"{process.base_url}/_sandbox/connections", json={}, timeout=10).json()["access_token"]
        api = ApiClient(f"{process.base_url}/v1", token)
        for _ in range(5):
            api.get("/location")
        log = requests.get(f"{process.base_url}/_sandbox/requests", timeout=10).json()
    finally:
        process.stop()

    assert len(log) == 3
