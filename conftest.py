"""Root of the test suite: the services every test may need, checked once, and loud failures.

The suite runs on PostgreSQL and Redis everywhere: those of DATABASE_URL and
CELERY_BROKER_URL, or the ones that `python3 dev.py test` embeds. If one cannot be
reached the run stops at once, saying which; a test that needs anything else that
is missing (Chromium, a tool) fails with the reason. Nothing is skipped for a
missing service.
"""

import pytest

pytest_plugins = ["tests.sandbox_fixture", "tests.worker_fixture", "tests.web_fixture", "tests.postgres_server"]

HOW_TO = "run the suite with `python3 dev.py test`, which starts a PostgreSQL and a Redis of its own, or set {name}"


def pytest_sessionstart(session: pytest.Session) -> None:
    import psycopg2
    import redis
    from django.conf import settings

    database = settings.DATABASES["default"]
    try:
        # The maintenance database: the test database does not exist yet.
        psycopg2.connect(
            host=database["HOST"] or None,
            port=database["PORT"] or None,
            user=database["USER"] or None,
            password=database["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg2.OperationalError as error:
        pytest.exit(f"PostgreSQL cannot be reached ({str(error).strip()}): {HOW_TO.format(name='DATABASE_URL')}.", returncode=3)
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        pytest.exit(f"Redis cannot be reached ({error}): {HOW_TO.format(name='CELERY_BROKER_URL')}.", returncode=3)
    forget_rate_limit_counters(client)
    forget_screen_versions(client)


def forget_rate_limit_counters(client) -> None:
    """The test database's connection ids start again at 1 every run, but Redis keeps
    the rate-limit counters of earlier runs for up to a day: without this, runs on the
    same Redis would add up to HubRise's daily limit and start waiting."""
    from hubrise_sync import ratelimit

    ratelimit.forget_counters(client)


def forget_screen_versions(client) -> None:
    """Ids start again at 1 every run: versions and fragments an earlier run left for them are not this run's."""
    from orders import screen_versions

    for key in client.scan_iter(f"{screen_versions.PREFIX}:*", count=1000):
        client.delete(key)


def missing_service(reason: str) -> None:
    """A test that needs something this machine lacks fails, with the reason: it must not pass unrun."""
    pytest.fail(reason, pytrace=False)


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
    broker.forget_queued_drains(broker.redis_client())


@pytest.fixture(autouse=True)
def each_test_starts_in_the_default_language():
    """A request through the test client activates its language for the thread and leaves it active: a test
    that asked in English made the next one on that process speak English."""
    from django.utils import translation

    yield
    translation.deactivate()
