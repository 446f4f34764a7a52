"""OAuth 2.0: consent, code exchange in every accepted form, refusals, reuse and revocation."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests

from tests.sandbox_fixture import HubRiseSandbox

REDIRECT_URI = "http://localhost:9999/hubrise/callback"
SCOPE = "location[orders.write,customer_list.write,catalog.read]"


def authorize(sandbox: HubRiseSandbox, decision: str = "allow", location_id: str | None = None, **extra: str):
    form = {
        "client_id": sandbox.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "decision": decision,
        "location_id": location_id or sandbox.location_id,
        **extra,
    }
    return requests.post(f"{sandbox.oauth_url}/authorize", data=form, allow_redirects=False, timeout=10)


def redirect_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def new_code(sandbox: HubRiseSandbox, **extra: str) -> str:
    return redirect_params(authorize(sandbox, **extra))["code"]


def exchange(sandbox: HubRiseSandbox, code: str, secret: str | None = None) -> requests.Response:
    return requests.post(
        f"{sandbox.oauth_url}/token",
        data={"code": code},
        auth=(sandbox.client_id, secret or sandbox.client_secret),
        timeout=10,
    )


def test_authorize_shows_a_consent_page_with_the_locations_and_the_scope(hubrise_sandbox):
    response = requests.get(
        f"{hubrise_sandbox.oauth_url}/authorize",
        params={"client_id": hubrise_sandbox.client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPE, "state": "xyz"},
        timeout=10,
    )

    assert response.status_code == 200
    for text in ("Le Petit Bistrot", "La Brasserie du Port", SCOPE, "Autoriser", "Refuser", 'value="xyz"'):
        assert text in response.text


def test_authorize_with_an_unknown_client_id_shows_an_error(hubrise_sandbox):
    response = requests.get(
        f"{hubrise_sandbox.oauth_url}/authorize",
        params={"client_id": "nobody.clients.hubrise.com", "redirect_uri": REDIRECT_URI, "scope": SCOPE},
        timeout=10,
    )

    assert response.status_code == 400
    assert "Unknown client_id" in response.text


def test_allowing_redirects_back_with_a_code_and_the_state_unchanged(hubrise_sandbox):
    params = redirect_params(authorize(hubrise_sandbox, state="opaque-state-42"))

    assert params["code"]
    assert params["state"] == "opaque-state-42"


def test_denying_redirects_back_with_access_denied(hubrise_sandbox):
    params = redirect_params(authorize(hubrise_sandbox, decision="deny", state="s1"))

    assert params == {"error": "access_denied", "state": "s1"}


def test_code_exchanged_with_basic_auth_gives_the_token_and_the_connected_resources(hubrise_sandbox):
    location = hubrise_sandbox.locations()[1]

    response = exchange(hubrise_sandbox, new_code(hubrise_sandbox, location_id=location["id"]))

    assert response.status_code == 200
    token = response.json()
    assert token["access_token"]
    assert token["token_type"] == "Bearer"
    assert token["location_id"] == location["id"]
    assert token["location_name"] == "La Brasserie du Port"
    assert token["account_id"] == location["account_id"]
    assert token["account_name"] == "Get Resto Démo"
    assert token["catalog_id"] == location["catalogs"][0]["id"]
    assert token["catalog_name"] == location["catalogs"][0]["name"]
    assert token["customer_list_id"] == location["customer_lists"][0]["id"]
    assert token["customer_list_name"] == location["customer_lists"][0]["name"]


def test_token_answer_leaves_out_resources_the_scope_does_not_cover(hubrise_sandbox):
    code = new_code(hubrise_sandbox, scope="location[orders.write]")

    token = exchange(hubrise_sandbox, code).json()

    assert "catalog_id" not in token
    assert "customer_list_id" not in token


def test_legacy_exchange_with_credentials_in_form_fields_works(hubrise_sandbox):
    form = {"code": new_code(hubrise_sandbox), "client_id": hubrise_sandbox.client_id}
    form["client_secret"] = hubrise_sandbox.client_secret

    response = requests.post(f"{hubrise_sandbox.oauth_url}/token", data=form, timeout=10)

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_legacy_exchange_with_credentials_in_query_parameters_works(hubrise_sandbox):
    params = {"code": new_code(hubrise_sandbox), "client_id": hubrise_sandbox.client_id}
    params["client_secret"] = hubrise_sandbox.client_secret

    response = requests.post(f"{hubrise_sandbox.oauth_url}/token", params=params, timeout=10)

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_legacy_exchange_with_a_json_body_works(hubrise_sandbox):
    body = {"code": new_code(hubrise_sandbox), "client_id": hubrise_sandbox.client_id}
    body["client_secret"] = hubrise_sandbox.client_secret

    response = requests.post(f"{hubrise_sandbox.oauth_url}/token", json=body, timeout=10)

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_bad_client_secret_gets_401(hubrise_sandbox):
    response = exchange(hubrise_sandbox, new_code(hubrise_sandbox), secret="wrong-secret")

    assert response.status_code == 401
    assert response.json()["error_type"] == "unauthorized"


def test_a_code_used_twice_gets_400_the_second_time(hubrise_sandbox):
    code = new_code(hubrise_sandbox)
    assert exchange(hubrise_sandbox, code).status_code == 200

    response = exchange(hubrise_sandbox, code)

    assert response.status_code == 400
    assert "already been used" in response.json()["message"]


def test_an_expired_code_gets_400(hubrise_sandbox):
    hubrise_sandbox.settings(auth_code_ttl=0.2)
    code = new_code(hubrise_sandbox)
    time.sleep(0.3)

    response = exchange(hubrise_sandbox, code)

    assert response.status_code == 400
    assert "expired" in response.json()["message"]


def test_an_unknown_code_gets_400(hubrise_sandbox):
    response = exchange(hubrise_sandbox, "not-a-code")

    assert response.status_code == 400


def test_reauthorising_returns_the_same_token(hubrise_sandbox):
    first = exchange(hubrise_sandbox, new_code(hubrise_sandbox)).json()["access_token"]

    second = exchange(hubrise_sandbox, new_code(hubrise_sandbox)).json()["access_token"]

    assert second == first


def test_a_new_device_id_gets_its_own_token(hubrise_sandbox):
    first = exchange(hubrise_sandbox, new_code(hubrise_sandbox, device_id="till-1")).json()["access_token"]

    second = exchange(hubrise_sandbox, new_code(hubrise_sandbox, device_id="till-2")).json()["access_token"]

    assert second != first


def test_a_revoked_token_gets_401_on_the_api(hubrise_sandbox):
    token = exchange(hubrise_sandbox, new_code(hubrise_sandbox)).json()["access_token"]
    assert requests.get(f"{hubrise_sandbox.api_url}/location", headers={"X-Access-Token": token}, timeout=10).ok

    revoked = requests.post(
        f"{hubrise_sandbox.oauth_url}/revoke",
        data={"token": token},
        auth=(hubrise_sandbox.client_id, hubrise_sandbox.client_secret),
        timeout=10,
    )
    response = requests.get(f"{hubrise_sandbox.api_url}/location", headers={"X-Access-Token": token}, timeout=10)

    assert revoked.status_code == 200
    assert response.status_code == 401
    assert response.json() == {
        "message": "The access token is invalid or the connection has been revoked",
        "error_type": "unauthorized",
    }


def test_the_consent_page_offers_the_catalog_to_bind_when_the_scope_names_catalogs(hubrise_sandbox):
    response = requests.get(
        f"{hubrise_sandbox.oauth_url}/authorize",
        params={"client_id": hubrise_sandbox.client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPE},
        timeout=10,
    )

    assert 'name="catalog_id"' in response.text
    assert "Carte Le Petit Bistrot" in response.text


def test_the_catalog_picked_on_the_consent_page_is_bound_to_the_token(hubrise_sandbox):
    shared = hubrise_sandbox.create_catalog_as_pos({"name": "Carte commune"}, level="account")

    token = exchange(hubrise_sandbox, new_code(hubrise_sandbox, catalog_id=shared["id"])).json()

    assert (token["catalog_id"], token["catalog_name"]) == (shared["id"], "Carte commune")


def test_a_catalog_of_another_location_cannot_be_picked(hubrise_sandbox):
    other_catalog = hubrise_sandbox.locations()[1]["catalogs"][0]["id"]

    response = authorize(hubrise_sandbox, catalog_id=other_catalog)

    assert response.status_code == 400
    assert other_catalog in response.text
