"""The database stops under a running gunicorn: every API path answers a JSON 503 to retry, never an HTML 500.

A private PostgreSQL (never the shared one) serves the web process; the test
stops it, asks every API path, and starts it again.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.hubrise.callbacks import SECRET, fixture_bytes, sign
from tests.orders.test_api import CROQUE
from tests.processes import REPO_ROOT, django_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def manage(database_url: str, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO_ROOT,
        env=django_env(database_url),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def test_with_the_database_down_every_api_path_answers_a_json_503_and_works_again_once_it_is_back(
    private_postgres, start_gunicorn, settings
):
    settings.HUBRISE_CLIENT_SECRET = SECRET
    url = private_postgres.create_database("getresto")
    private_postgres.migrate(url)
    new_establishment = "from tests.factories import make_establishment; print(make_establishment().pk)"
    establishment_id = manage(url, "shell", "-c", new_establishment)
    raw_key = manage(url, "create_api_key", "--establishment", establishment_id, "--name", "QR menu")
    web = start_gunicorn(database_url=url)
    api = requests.Session()
    api.headers.update({"Authorization": f"Api-Key {raw_key}", "Accept-Language": "en"})
    orders = f"{web.base_url}/api/v1/orders/"
    order_id = api.post(orders, json=CROQUE, timeout=10).json()["id"]
    callback = fixture_bytes("order_update_accepted")

    private_postgres.stop()

    answers = {
        "create": api.post(orders, json=CROQUE, timeout=10),
        "create with a key": api.post(orders, json=CROQUE, headers={"Idempotency-Key": "retry-me"}, timeout=10),
        "list": api.get(orders, timeout=10),
        "read": api.get(f"{orders}{order_id}/", timeout=10),
        "webhook": requests.post(
            f"{web.base_url}/hubrise/callback/",
            data=callback,
            headers={"Content-Type": "application/json", "X-HubRise-Hmac-SHA256": sign(callback)},
            timeout=10,
        ),
    }
    for path, answer in answers.items():
        assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
        assert answer.headers["Content-Type"] == "application/json", path
        assert answer.json(), path
    for path in ("create", "create with a key", "list", "read"):
        assert answers[path].json() == {"message": "The service is temporarily unavailable: please retry in a few seconds."}
        assert int(answers[path].headers["Retry-After"]) > 0

    private_postgres.start()

    retried = api.post(orders, json=CROQUE, headers={"Idempotency-Key": "retry-me"}, timeout=10)
    assert retried.status_code == 201
    assert api.get(orders, timeout=10).json()["results"][0]["id"] == retried.json()["id"]
