"""OAuth 2.0 under /oauth2/v1: consent page, code exchange and revocation."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, render_template, request

from .api import sandbox
from .permissions import ScopeError, parse_scope

oauth = Blueprint("oauth", __name__, url_prefix="/oauth2/v1")

OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "scope", "state", "device_id", "country", "account_name", "location_name")


def _with_query(url: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(params)}"


def _authorize_request(source) -> tuple[dict, str | None]:
    """Returns the authorize parameters and an error message when they can't be honoured."""
    params = {key: source.get(key, "") for key in AUTHORIZE_PARAMS}
    client = sandbox().client(params["client_id"])
    if client is None:
        return params, f"Unknown client_id {params['client_id']!r}."
    params["client_name"] = client["name"]
    if not params["redirect_uri"]:
        return params, "The redirect_uri parameter is missing."
    try:
        params["parsed_scope"] = parse_scope(params["scope"])
    except ScopeError as error:
        return params, f"Invalid scope: {error}."
    return params, None


@oauth.get("/authorize")
def authorize():
    params, error = _authorize_request(request.args)
    if error:
        return render_template("oauth_error.html", message=error), 400
    return render_template("consent.html", params=params, locations=sandbox().locations())


@oauth.post("/authorize")
def decide():
    params, error = _authorize_request(request.form)
    if error:
        return render_template("oauth_error.html", message=error), 400
    state = {"state": params["state"]} if params["state"] else {}
    if request.form.get("decision") != "allow":
        if params["redirect_uri"] == OUT_OF_BAND:
            return render_template("oauth_error.html", message="Accès refusé (access_denied)."), 200
        return redirect(_with_query(params["redirect_uri"], {"error": "access_denied", **state}))
    location_id = request.form.get("location_id", "")
    location = next((location for location in sandbox().locations() if location["id"] == location_id), None)
    if location is None:
        return render_template("oauth_error.html", message=f"Unknown location {location_id!r}."), 400
    catalog_id = request.form.get("catalog_id") or None
    if catalog_id and catalog_id not in {catalog["id"] for catalog in location["catalogs"]}:
        message = f"The catalog {catalog_id!r} belongs neither to {location['name']} nor to its account."
        return render_template("oauth_error.html", message=message), 400
    code = sandbox().create_auth_code(params["client_id"], location_id, params["scope"], params["device_id"], catalog_id)
    if params["redirect_uri"] == OUT_OF_BAND:
        return render_template("oauth_code.html", code=code)
    return redirect(_with_query(params["redirect_uri"], {"code": code, **state}))


def _credentials_and_params() -> tuple[str | None, str | None, dict]:
    """Basic auth first; then the legacy places HubRise still accepts: form, query string, JSON body."""
    params: dict = {}
    if request.mimetype == "application/json":
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
            params.update(body if isinstance(body, dict) else {})
        except ValueError:
            pass
    params.update(request.args.to_dict())
    params.update(request.form.to_dict())
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password, params
    return params.get("client_id"), params.get("client_secret"), params


@oauth.post("/token")
def token():
    client_id, secret, params = _credentials_and_params()
    client = sandbox().check_client_credentials(client_id, secret)
    request.environ["hubrise_sandbox.client_name"] = client["name"]
    return jsonify(sandbox().exchange_code(client, params.get("code")))


@oauth.post("/revoke")
def revoke():
    client_id, secret, params = _credentials_and_params()
    client = sandbox().check_client_credentials(client_id, secret)
    request.environ["hubrise_sandbox.client_name"] = client["name"]
    sandbox().revoke(client, params.get("token"))
    return jsonify({})
