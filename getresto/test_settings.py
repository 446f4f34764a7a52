"""Settings of the test suite: the normal settings with GETRESTO_ENV=test.

DATABASE_URL and CELERY_BROKER_URL still come from the environment, so CI runs
the suite on PostgreSQL and Redis while a bare machine falls back to SQLite.
"""

import os

os.environ.setdefault("GETRESTO_ENV", "test")

from getresto.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# whitenoise warns on every request when the collected-static folder is absent.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405
