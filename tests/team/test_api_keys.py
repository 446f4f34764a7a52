"""API keys for managers: the establishment's keys, "Créer une clé" (shown once) and "Révoquer", through the
same ApiKey.generate and revoke as the admin and the management command."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import ApiKey, Membership
from tests.factories import make_establishment, make_user
from tests.orders.pages import logged_in

pytestmark = pytest.mark.django_db

KEY = re.compile(r"gr_[0-9a-f]+_[\w-]+")


@pytest.fixture
def bistrot():
    return make_establishment("Le Petit Bistrot")


@pytest.fixture
def manager(bistrot):
    return logged_in(make_user(bistrot, "claire", role=Membership.Role.MANAGER))


def keys_url(establishment, name: str = "api_keys", *args) -> str:
    return reverse(f"team:{name}", args=[establishment.pk, *args])


def api_answer(raw_key: str) -> int:
    return Client().get(reverse("v1:order-list"), HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code


def test_a_manager_creates_a_key_that_is_shown_once_and_works_on_the_api(bistrot, manager):
    response = manager.post(keys_url(bistrot, "create_api_key"), {"name": "Menu QR code"})

    [raw_key] = set(KEY.findall(response.text))
    key = ApiKey.objects.get(establishment=bistrot)
    assert key.name == "Menu QR code"
    assert key.key_hash == ApiKey.hash(raw_key)
    assert "no-store" in response["Cache-Control"]
    assert api_answer(raw_key) == 200
    later = manager.get(keys_url(bistrot)).text
    assert "Menu QR code" in later
    assert raw_key not in later


def test_a_revoked_key_is_refused_by_the_api_at_once(bistrot, manager):
    key, raw_key = ApiKey.generate(bistrot, "Borne")
    assert "Révoquer la clé «\u00a0Borne\u00a0»\u00a0?" in manager.get(keys_url(bistrot, "revoke_api_key", key.pk)).text

    manager.post(keys_url(bistrot, "revoke_api_key", key.pk))

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_answer(raw_key) == 401
    assert "révoquée le" in manager.get(keys_url(bistrot)).text


def test_a_key_needs_a_name(bistrot, manager):
    response = manager.post(keys_url(bistrot, "create_api_key"), {"name": " "})

    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_staff_cannot_see_create_or_revoke_keys(bistrot):
    key, raw_key = ApiKey.generate(bistrot, "Borne")
    cook = logged_in(make_user(bistrot, "marc", role=Membership.Role.STAFF))

    responses = [
        cook.get(keys_url(bistrot)),
        cook.post(keys_url(bistrot, "create_api_key"), {"name": "La mienne"}),
        cook.post(keys_url(bistrot, "revoke_api_key", key.pk)),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["Borne"]
    assert api_answer(raw_key) == 200


def test_a_manager_neither_sees_nor_revokes_another_establishments_keys(bistrot, manager):
    other = make_establishment("Chez Paul")
    theirs, raw_key = ApiKey.generate(other, "Clé de Paul")

    page = manager.get(keys_url(bistrot)).text
    responses = [
        manager.post(keys_url(bistrot, "revoke_api_key", theirs.pk)),
        manager.post(keys_url(other, "revoke_api_key", theirs.pk)),
        manager.post(keys_url(other, "create_api_key"), {"name": "Intrus"}),
    ]

    assert "Clé de Paul" not in page
    assert [response.status_code for response in responses] == [404, 404, 404]
    assert api_answer(raw_key) == 200
    assert ApiKey.objects.count() == 1
