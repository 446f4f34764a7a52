import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "getresto.settings")

django_application = get_wsgi_application()

# Imported once Django is set up: it reads the settings and the cache.
from getresto.warm_start import warm_and_freeze  # noqa: E402
from orders.live_front import answering_current_screens  # noqa: E402

application = answering_current_screens(django_application)

# Before the first request: see getresto/warm_start.py.
warm_and_freeze()
