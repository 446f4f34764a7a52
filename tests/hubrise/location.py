"""What the sandbox's location says, and the PATCHes our app sent it."""

import json


def acceptance_at_hubrise(sandbox) -> dict:
    return sandbox.location()["order_acceptance"]


def location_patches(sandbox) -> list[dict]:
    log = sandbox.requests_log(method="PATCH", path_prefix="/v1/locations/", limit=100)
    return [json.loads(entry["request_body"]) for entry in reversed(log)]
