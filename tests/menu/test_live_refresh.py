"""The menu page asks every few seconds whether the menu changed elsewhere, and reloads once it has."""

import pytest
from django.urls import reverse

from menu import services
from menu.models import Menu, Sku
from orders.models import Membership
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def cook(client, establishment):
    client.force_login(make_user(establishment, username="marc", role=Membership.Role.STAFF))


def test_the_page_polls_with_its_version_and_hears_nothing_until_the_menu_changes(client, cook, establishment):
    version = Menu.objects.get(establishment=establishment).version
    page = client.get(reverse("menu:page", args=[establishment.pk])).text
    url = reverse("menu:version", args=[establishment.pk])
    assert f'hx-get="{url}?v={version}"' in page

    assert client.get(url, {"v": version}).status_code == 204

    services.set_availability(establishment, available=False, sku_refs=["MOUSSE"], source="hubrise")
    answer = client.get(url, {"v": version})
    assert answer.status_code == 200 and answer["HX-Refresh"] == "true"


def test_a_tap_on_this_screen_moves_the_version_it_polls_with(client, cook, establishment):
    mousse = Sku.objects.get(menu__establishment=establishment, ref="MOUSSE")

    answer = client.post(
        reverse("menu:availability", args=[establishment.pk]),
        {"kind": "sku", "id": mousse.pk, "available": "0"},
        HTTP_HX_REQUEST="true",
    )

    version = Menu.objects.get(establishment=establishment).version
    assert f'?v={version}" hx-trigger="every 5s" hx-swap="none" hx-swap-oob="true"' in answer.text
