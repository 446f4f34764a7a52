"""Who may see and change what on the staff pages, CSRF, and the two languages."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Membership
from tests.factories import make_establishment, make_order, make_user
from tests.orders.pages import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_establishment():
    return make_establishment("La Brasserie d'en face")


@pytest.fixture
def user(establishment):
    return make_user(establishment)


@pytest.fixture
def client(user):
    return logged_in(user)


def page_urls(order) -> list[str]:
    e = order.establishment_id
    return [
        reverse("orders:list", args=[e]),
        reverse("orders:detail", args=[e, order.pk]),
    ]


def test_every_page_asks_an_anonymous_visitor_to_log_in(establishment):
    order = make_order(establishment)

    for url in [reverse("orders:home"), *page_urls(order)]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_an_anonymous_status_change_is_sent_to_the_login_page_and_changes_nothing(establishment):
    order = make_order(establishment)

    response = Client().post(reverse("orders:change_status", args=[establishment.pk, order.pk]), {"status": "accepted"})

    order.refresh_from_db()
    assert response.status_code == 302
    assert order.status == "new"


def test_another_establishments_list_is_not_found(client, other_establishment):
    assert client.get(reverse("orders:list", args=[other_establishment.pk])).status_code == 404
    assert client.get(reverse("orders:list_live", args=[other_establishment.pk])).status_code == 404


def test_another_establishments_order_is_not_found_even_through_my_own_establishment(client, establishment, other_establishment):
    foreign = make_order(other_establishment)

    for establishment_id in (establishment.pk, other_establishment.pk):
        assert client.get(reverse("orders:detail", args=[establishment_id, foreign.pk])).status_code == 404
        assert client.get(reverse("orders:detail_live", args=[establishment_id, foreign.pk])).status_code == 404


def test_another_establishments_order_cannot_change_status(client, establishment, other_establishment):
    foreign = make_order(other_establishment)

    for establishment_id in (establishment.pk, other_establishment.pk):
        url = reverse("orders:change_status", args=[establishment_id, foreign.pk])
        response = client.post(url, {"status": "accepted", "expected_current": "new"})
        assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "new"
    assert foreign.history.count() == 1


def test_a_status_change_without_the_csrf_token_is_refused(user, establishment):
    order = make_order(establishment)
    client = logged_in(user, enforce_csrf_checks=True)

    response = client.post(reverse("orders:change_status", args=[establishment.pk, order.pk]), {"status": "accepted"})

    order.refresh_from_db()
    assert response.status_code == 403
    assert order.status == "new"


def test_a_status_change_with_the_pages_csrf_token_goes_through(user, establishment):
    order = make_order(establishment)
    client = logged_in(user, enforce_csrf_checks=True)
    page = client.get(reverse("orders:detail", args=[establishment.pk, order.pk]))
    token = page.context["csrf_token"]

    response = client.post(
        reverse("orders:change_status", args=[establishment.pk, order.pk]),
        {"status": "accepted", "expected_current": "new", "csrfmiddlewaretoken": str(token)},
    )

    order.refresh_from_db()
    assert response.status_code == 302
    assert order.status == "accepted"


def test_home_opens_the_orders_of_the_users_first_establishment(client, establishment):
    response = client.get(reverse("orders:home"))

    assert response["Location"] == reverse("orders:list", args=[establishment.pk])


def test_a_user_without_establishment_is_told_to_ask_for_access():
    response = logged_in(make_user(username="nobody")).get(reverse("orders:home"))

    assert response.status_code == 403
    assert "Votre compte n’est rattaché à aucun établissement." in response.content.decode()


def test_a_user_of_several_establishments_can_switch_between_them(user, establishment, other_establishment):
    Membership.objects.create(user=user, establishment=other_establishment)

    html = logged_in(user).get(reverse("orders:list", args=[establishment.pk])).content.decode()

    assert 'class="dropdown establishment-switcher"' in html
    assert f'href="{reverse("orders:list", args=[other_establishment.pk])}"' in html
    assert "La Brasserie d&#x27;en face" in html


def test_a_user_of_one_establishment_sees_its_name_without_a_switcher(client, establishment):
    html = client.get(reverse("orders:list", args=[establishment.pk])).content.decode()

    assert '<span class="establishment-name">Le Petit Bistrot</span>' in html
    assert "establishment-switcher" not in html


def test_the_login_page_is_in_french_and_leads_to_the_orders(establishment, user):
    client = Client()
    page = client.get(reverse("login")).content.decode()

    response = client.post(reverse("login"), {"username": "camille", "password": "correct-horse-battery"}, follow=True)

    assert "Se connecter" in page
    assert "Nom d’utilisateur" in page
    assert response.redirect_chain[-1][0] == reverse("orders:list", args=[establishment.pk])


def test_a_wrong_password_is_refused_with_a_message(user):
    response = Client().post(reverse("login"), {"username": "camille", "password": "wrong"})

    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.content.decode()


def test_logging_out_is_a_post(client):
    assert client.get(reverse("logout")).status_code == 405

    response = client.post(reverse("logout"))

    assert response["Location"] == reverse("login")
    assert client.get(reverse("orders:home")).status_code == 302


def test_pages_are_in_french_by_default(client, establishment):
    make_order(establishment)

    html = client.get(reverse("orders:list", args=[establishment.pk])).content.decode()

    assert '<html lang="fr"' in html
    assert "dès que possible" in html
    assert "21,00\u00a0€" in html
    assert ">English</button>" in html


def test_the_language_switch_shows_the_pages_in_english(client, establishment):
    order = make_order(establishment, ref="0001")
    list_url = reverse("orders:list", args=[establishment.pk])

    response = client.post(reverse("set_language"), {"language": "en", "next": list_url}, follow=True)
    detail = client.get(reverse("orders:detail", args=[establishment.pk, order.pk])).content.decode()

    html = response.content.decode()
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en"' in html
    assert '<span class="tab-label">Received</span>' in html
    assert "as soon as possible" in html
    assert "€21.00" in html
    assert ">New</span>" in html
    assert "Order 0001" in detail
    assert "Accept: ready in" in detail
    # Day before month, as in the UK, not Django's American English.
    placed = timezone.localtime(order.created_at, establishment.tzinfo)
    assert f"{placed:%d/%m/%Y %H:%M}" in detail
    assert 'class="action ready-in primary-action">15 min</button>' in detail
    assert ">Français</button>" in html
