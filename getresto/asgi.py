"""The Procfile's ``stream`` process: the open screens' streams (orders.live_stream), and Django for the rest."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "getresto.settings")

django_application = get_asgi_application()

# Imported once Django is set up: it reads the settings and the cache.
from orders.live_stream import Streams  # noqa: E402

application = Streams(django_application, settings.CELERY_BROKER_URL)
