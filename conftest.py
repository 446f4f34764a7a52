"""Root of the test suite: which services a test needs, and loud failures in CI.

Locally a bare machine runs the suite on SQLite and skips the tests that need
PostgreSQL or Redis, saying so. In CI (CI=true) those tests fail instead, and
the whole run stops at once if it is not on PostgreSQL.
"""

import os

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

pytest_plugins = ["tests.sandbox_fixture", "tests.worker_fixture", "tests.web_fixture", "tests.postgres_server"]


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if IN_CI and "postgresql" not in engine:
        pytest.exit(f"CI must run on PostgreSQL (DATABASE_URL), not {engine}.", returncode=3)
    if IN_CI and not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.exit("CI must run with CELERY_BROKER_URL pointing at Redis.", returncode=3)
    forget_rate_limit_counters(settings.CELERY_BROKER_URL)


def forget_rate_limit_counters(broker_url: str) -> None:
    """The test database's connection ids start again at 1 every run, but Redis keeps
    the rate-limit counters of earlier runs for up to a day: without this, runs on the
    same Redis would add up to HubRise's daily limit and start waiting."""
    if not broker_url.startswith("redis"):
        return
    import redis

    from hubrise_sync import ratelimit

    try:
        ratelimit.forget_counters(redis.Redis.from_url(broker_url, socket_connect_timeout=2))
    except redis.RedisError:
        return  # the tests that need Redis say so themselves


def missing_service(reason: str) -> None:
    """Skip locally, fail in CI: CI must prove the production configuration."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.conf import settings

    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        missing_service("needs PostgreSQL: set DATABASE_URL=postgres://…")
    if item.get_closest_marker("redis") and not redis_available(settings.CELERY_BROKER_URL):
        missing_service("needs Redis: set CELERY_BROKER_URL=redis://…")


def redis_available(url: str) -> bool:
    if not url.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker_applies_at_once(monkeypatch):
    """Celery runs tasks in the calling process, as soon as they are queued.

    For tests of what a recorded webhook event does once applied, without a
    worker: the webhook's own answer still comes only after the row is
    committed. tests/hubrise/test_webhook_sandbox.py covers the real worker.
    """
    from getresto.celery import app
    from hubrise_sync import broker

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    # A drain queued by an earlier test for a worker that never ran would make this one wait for it.
    if (client := broker.redis_client()) is not None:
        broker.forget_queued_drains(client)
