"""Wires the Flask app: blueprints, HubRise-style errors, and the network layer in front."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .api import api
from .config import Settings
from .control import control
from .errors import ApiError
from .network import NetworkLayer
from .oauth import oauth
from .printer import attach as attach_printers
from .routes_catalogs import api_catalogs, control_catalogs
from .routes_deliveries import api_deliveries, control_other_apps
from .routes_location import api_location, control_location
from .sandbox import Sandbox
from .web import web
from .web_pos import web_pos


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    sandbox = Sandbox(settings or Settings.from_env())
    app.extensions["hubrise_sandbox"] = sandbox
    for blueprint in (
        api,
        api_catalogs,
        api_location,
        api_deliveries,
        oauth,
        control,
        control_catalogs,
        control_location,
        control_other_apps,
        web,
        web_pos,
    ):
        app.register_blueprint(blueprint)
    attach_printers(app)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        response = jsonify(error.body())
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Unknown paths and methods answer like HubRise's router, in JSON.
        error_type = "routing_error" if error.code in (404, 405) else "bad_request"
        response = jsonify({"message": error.description, "error_type": error_type})
        response.status_code = 404 if error.code == 405 else error.code
        return response

    @app.errorhandler(Exception)
    def internal_error(error: Exception):
        app.logger.exception("unexpected error")
        response = jsonify({"message": f"{type(error).__name__}: {error}", "error_type": "internal_error"})
        response.status_code = 500
        return response

    @app.template_filter("local_datetime")
    def local_datetime(timestamp: float) -> str:
        return datetime.fromtimestamp(timestamp, UTC).astimezone().strftime("%H:%M:%S")

    app.wsgi_app = NetworkLayer(app.wsgi_app, sandbox.store, sandbox.faults, sandbox.settings.request_log_kept)
    return app
