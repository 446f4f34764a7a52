"""The README's "Try the demo", steps 1 to 5, followed as written by a newcomer.

``python3 dev.py run`` is started as a person would start it (on free ports and a fresh
database of its own, since this machine runs other copies), then a browser does what each
step says and checks what it promises. Ctrl+C ends it. Slow (a whole start-up): marked slow.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.processes import REPO_ROOT, current_database_url, free_port, wait_until
from tests.worker_fixture import purge_broker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

START_UP = 240.0
LIVE = 15_000
# What pytest and the test settings put in the environment: the demo must not see it.
NOT_FOR_THE_DEMO = ("DJANGO_SETTINGS_MODULE", "GETRESTO_ENV", "HUBRISE_CLIENT_ID", "HUBRISE_CLIENT_SECRET", "PUBLIC_URL")


class Demo:
    """``python3 dev.py run`` in a session of its own, its output in a file."""

    def __init__(self, workdir: Path, database_url: str, broker_url: str) -> None:
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.output_path = workdir / "dev-run.out"
        self.env = {key: value for key, value in os.environ.items() if key not in NOT_FOR_THE_DEMO}
        self.env |= {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "WEB_PORT": str(self.web_port),
            "STREAM_PORT": str(free_port()),
            "HUBRISE_SANDBOX_PORT": str(self.sandbox_port),
            "HUBRISE_SANDBOX_PRINTER_PORT": str(free_port()),
            "HUBRISE_SANDBOX_DB": str(workdir / "sandbox.sqlite3"),
            "GETRESTO_VAR_DIR": str(workdir / "var"),
        }
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "dev.py", "run"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def ready(self) -> bool:
        assert self.process.poll() is None, f"dev.py run ended:\n{self.output()[-4000:]}"
        try:
            return requests.get(self.url + "/login/", timeout=2).ok and requests.get(self.sandbox_url + "/", timeout=2).ok
        except requests.RequestException:
            return False

    def manage(self, *args: str) -> str:
        env = {**self.env, "GETRESTO_ENV": "development"}
        python = REPO_ROOT / ".venv" / "bin" / "python"
        done = subprocess.run([python, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def control(self, path: str):
        response = requests.get(f"{self.sandbox_url}/_sandbox{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def ctrl_c(self) -> int:
        """What a terminal does on Ctrl+C: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise


@pytest.fixture
def demo(tmp_path) -> Iterator[Demo]:
    from django.conf import settings

    server = settings.DATABASES["default"]
    name = f"gr_demo_{uuid.uuid4().hex[:8]}"
    host, port = server["HOST"] or "127.0.0.1", server["PORT"] or 5432
    admin = psycopg2.connect(host=host, port=port, user=server["USER"], password=server["PASSWORD"], dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    # Written as the test database's own URL: the embedded PostgreSQL's host is a socket folder, percent-encoded.
    database_url = current_database_url(name)
    purge_broker(settings.CELERY_BROKER_URL)
    running = Demo(tmp_path, database_url, settings.CELERY_BROKER_URL)
    try:
        wait_until(running.ready, timeout=START_UP, what="dev.py run serving the back office and the sandbox")
        yield running
    finally:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait()
        print(f"--- dev.py run ---\n{running.output()[-6000:]}")
        purge_broker(settings.CELERY_BROKER_URL)
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def newest_refs(demo: Demo, count: int) -> list[str]:
    with psycopg2.connect(demo.env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.ref FROM orders_order o JOIN orders_establishment e ON e.id = o.establishment_id"
            " WHERE e.id = 1 ORDER BY o.id DESC LIMIT %s",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_readme_demo_works_as_written(demo, browser_page):
    page = browser_page
    printed = demo.output()
    # Step 1: the logins and the API key are on screen, and how to get another key.
    assert "demo / bistrot-demo-2026" in printed
    assert "cuisine / bistrot-demo-2026" in printed
    assert "plateforme / plateforme-demo-2026" in printed
    assert re.search(r"Intake API key of Le Petit Bistrot \(shown once\): \S+", printed)
    assert "create_api_key" in printed

    listened: list[int] = []
    page.on("response", lambda response: listened.append(response.status) if "/live/stream/" in response.url else None)
    page.goto(demo.url + "/")
    page.get_by_label("Nom d’utilisateur").fill("demo")
    page.get_by_label("Mot de passe").fill("bistrot-demo-2026")
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#live-list").wait_for()
    assert "Le Petit Bistrot" in page.locator(".topbar-start").inner_text()
    orders_now = page.locator("li[data-order]").count()
    assert orders_now > 0

    # Step 2: connect to the sandbox's location, keeping Le Petit Bistrot.
    page.get_by_role("link", name="HubRise", exact=True).click()
    page.get_by_role("button", name="Connecter à HubRise").click()
    chosen = page.locator("#location_id option:checked").inner_text()
    assert chosen.startswith("Le Petit Bistrot"), chosen
    page.get_by_role("button", name="Autoriser").click()
    page.get_by_role("heading", name="Connecté").wait_for()
    assert "Le Petit Bistrot" in page.locator(".hubrise-connection").inner_text()
    [bistrot] = [location for location in demo.control("/locations") if location["name"] == "Le Petit Bistrot"]

    # Step 3: three new orders, from a second terminal.
    demo.manage("generate_orders", "--count", "3", "--establishment", "1")
    refs = newest_refs(demo, 3)
    page.get_by_role("link", name="Commandes", exact=True).first.click()
    for ref in refs:
        row = page.locator("li[data-order]", has_text=ref)
        row.wait_for(timeout=LIVE)
        row.locator(".sync-sent").wait_for(timeout=LIVE)
    at_hubrise = {order["ref"]: order for order in demo.control(f"/locations/{bistrot['id']}/orders")}
    assert set(refs) <= set(at_hubrise)
    sandbox_page = page.context.browser.new_page()
    sandbox_page.goto(demo.sandbox_url + "/")
    for ref in refs:
        assert ref in sandbox_page.content()

    # Step 4: each new order comes out on the virtual kitchen printer.
    sandbox_page.goto(demo.sandbox_url + "/printers")
    for ref in refs:
        sandbox_page.get_by_text(ref).first.wait_for(timeout=LIVE)

    # Step 5: a status changed here reaches the sandbox; one changed there shows up here by itself.
    ref = refs[0]
    page.locator("li[data-order]", has_text=ref).click()
    page.get_by_role("group", name="Accepter\u00a0: prête dans").get_by_role("button", name="20 min", exact=True).click()
    page.get_by_text(f"La commande {ref} est maintenant «\u00a0Acceptée\u00a0».").wait_for()
    assert page.locator("#live-status .status-big").inner_text() == "Acceptée"
    hubrise_id = at_hubrise[ref]["id"]

    def status_at_hubrise() -> str:
        return {order["id"]: order for order in demo.control(f"/locations/{bistrot['id']}/orders")}[hubrise_id]["status"]

    wait_until(lambda: status_at_hubrise() == "accepted", what="the acceptance at the sandbox")
    sandbox_page.goto(demo.sandbox_url + "/")
    sandbox_page.get_by_label(f"Nouveau statut de {hubrise_id}").select_option("in_preparation")
    sandbox_page.get_by_label(f"Nouveau statut de {hubrise_id}").locator("xpath=..").get_by_role("button", name="Envoyer").click()
    page.locator("#live-status .status-big", has_text="En préparation").wait_for(timeout=LIVE)
    sandbox_page.close()
    # The list and the order page listened to the demo's stream process rather than polling.
    assert listened.count(200) >= 2, listened

    # Ctrl+C ends everything, without a traceback.
    before = len(demo.output())
    returned = demo.ctrl_c()
    after = demo.output()[before:]
    assert "Traceback" not in after, after
    assert returned in (0, 130, -signal.SIGINT), after
