import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "getresto.settings")

django_application = get_wsgi_application()

# Imported once Django is set up: it reads the settings and the cache.
from orders.live_front import answering_current_screens  # noqa: E402

application = answering_current_screens(django_application)
