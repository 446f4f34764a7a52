"""The live refresh as gunicorn serves it (getresto/wsgi.py): a current screen is answered in front of Django, a
change still shows at the next poll, and a member removed from the establishment gets nothing more."""

import pytest

from orders.models import Membership
from orders.services import change_status
from tests.factories import make_establishment, make_order, make_user
from tests.web_fixture import logged_in_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_a_screen_polling_gunicorn_gets_204s_until_a_change_and_nothing_once_removed(start_gunicorn):
    establishment = make_establishment()
    user = make_user(establishment)
    order = make_order(establishment, ref="G-1")
    server = start_gunicorn(workers=1)
    screen = logged_in_session(server.base_url, user.username)
    url = f"{server.base_url}/e/{establishment.pk}/orders/live/"
    htmx = {"HX-Request": "true"}

    first = screen.get(url, headers=htmx, timeout=10)
    assert first.status_code == 200 and "G-1" in first.text
    # Answered by orders.live_front: Django's SecurityMiddleware would have added its Referrer-Policy.
    current = screen.get(url, headers={**htmx, "If-None-Match": first.headers["ETag"]}, timeout=10)
    assert current.status_code == 204 and current.content == b""
    assert current.headers["ETag"] == first.headers["ETag"] and "Referrer-Policy" not in current.headers

    change_status(order, "accepted", source="hubrise")
    changed = screen.get(url, headers={**htmx, "If-None-Match": first.headers["ETag"]}, timeout=10)
    assert changed.status_code == 200 and "Acceptée" in changed.text

    Membership.objects.filter(user=user, establishment=establishment).delete()
    removed = screen.get(url, headers={**htmx, "If-None-Match": changed.headers["ETag"]}, timeout=10)
    assert removed.status_code == 404
