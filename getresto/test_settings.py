"""Settings of the test suite: the normal settings with GETRESTO_ENV=test.

DATABASE_URL and CELERY_BROKER_URL come from the environment: the system's
PostgreSQL and Redis in CI, the ones that `python3 dev.py test` embeds elsewhere.
"""

import os

os.environ.setdefault("GETRESTO_ENV", "test")

from getresto.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# whitenoise warns on every request when the collected-static folder is absent.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405
