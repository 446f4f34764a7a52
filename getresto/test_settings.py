"""Settings of the test suite: the normal settings with GETRESTO_ENV=test.

DATABASE_URL and CELERY_BROKER_URL come from the environment: the system's
PostgreSQL and Redis in CI, the ones that `python3 dev.py test` embeds elsewhere.

`dev.py test` runs the suite in parallel processes (pytest-xdist). Each has its own
test database (pytest-django names it after the process) and its own Redis database,
the next ones after CELERY_BROKER_URL's, so that one process's queues, versions and
counters are never another's.
"""

import os
from urllib.parse import urlsplit, urlunsplit

# Set with the shifted URL, and inherited by the web and worker processes that a test starts: they must use the
# test's broker, not shift it once more.
SHIFTED = "GETRESTO_TEST_BROKER_SHIFTED"


def broker_of_worker(url: str, worker: str) -> str:
    """The Redis URL of the xdist process ``worker`` (gw0, gw1…): CELERY_BROKER_URL's database plus its number."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get(SHIFTED) and os.environ.get("CELERY_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = broker_of_worker(os.environ["CELERY_BROKER_URL"], os.environ["PYTEST_XDIST_WORKER"])
    os.environ[SHIFTED] = "1"

os.environ.setdefault("GETRESTO_ENV", "test")

from getresto.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# whitenoise warns on every request when the collected-static folder is absent.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405
