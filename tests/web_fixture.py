"""Pytest plugin: the back office served by a real gunicorn, as the ``web`` process of the Procfile.

A test asks for ``start_gunicorn`` (a factory) and calls it once per web process it
wants (``serves=STREAM``: the stream process instead); each gets a free port of 127.0.0.1. By default a server uses the test's own
database (so such tests need ``@pytest.mark.django_db(transaction=True)`` and
PostgreSQL: the server cannot see rows of a transaction that never commits) and the
broker of CELERY_BROKER_URL; ``database_url=`` points it elsewhere, and keyword
arguments become environment variables. Connections are kept between requests as in
production (DATABASE_CONN_MAX_AGE=60). Servers are stopped after the test.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.factories import PASSWORD
from tests.processes import ChildProcess, free_port, peer_env

# As the Procfile runs them: the web process and the open screens' streams.
WEB = ["getresto.wsgi", "--worker-class=gthread", "--threads=4"]
STREAM = ["getresto.asgi", "--worker-class=asgi", "--worker-connections=10000", "--graceful-timeout=1"]


class GunicornServer(ChildProcess):
    def __init__(self, env: dict[str, str], workdir: Path, workers: int, serves: list[str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            *serves,
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            "--timeout=30",
            "--log-level=info",
        ]
        log_path = workdir / f"gunicorn-{self.port}-{uuid.uuid4().hex[:6]}.log"
        super().__init__("gunicorn", command, env, log_path)

    def ready(self) -> bool:
        try:
            # The login page needs no database: it only says the server is up.
            return requests.get(f"{self.base_url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def logged_in_session(base_url: str, username: str = "camille", password: str = PASSWORD) -> requests.Session:
    """A session logged in through the server's login form, as a browser would be: CSRF cookie, then POST."""
    session = requests.Session()
    session.get(f"{base_url}/login/", timeout=10)
    session.post(
        f"{base_url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base_url}/login/"},
        timeout=10,
    )
    assert "sessionid" in session.cookies, f"{username} could not log in at {base_url}"
    return session


@pytest.fixture
def start_gunicorn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., GunicornServer]]:
    from django.conf import settings

    servers: list[GunicornServer] = []

    def start(*, database_url: str | None = None, workers: int = 2, serves: list[str] = WEB, **extra_env: str) -> GunicornServer:
        production_like = {
            "DEBUG": "false",
            # Production's default: a worker keeps its connection between requests.
            "DATABASE_CONN_MAX_AGE": "60",
            "HUBRISE_CLIENT_SECRET": settings.HUBRISE_CLIENT_SECRET,
            "LOG_LEVEL": "WARNING",
        }
        env = peer_env(request, database_url, **{**production_like, **extra_env})
        server = GunicornServer(env, tmp_path, workers, serves)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop_and_print_log()
