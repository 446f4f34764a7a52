"""The demo's logins: a restaurant manager, a cook, and a separate platform admin for the Django admin."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from orders.management.commands.seed_demo import ADMIN_PASSWORD, ADMIN_USERNAME, DEMO_PASSWORD, DEMO_USERNAME

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_manager_is_not_a_superuser_and_a_platform_admin_is_printed(client):
    printed = seed()

    manager = User.objects.get(username=DEMO_USERNAME)
    assert not manager.is_superuser and not manager.is_staff
    assert User.objects.get(username=ADMIN_USERNAME).is_superuser
    assert f"{DEMO_USERNAME} / {DEMO_PASSWORD}" in printed
    assert f"{ADMIN_USERNAME} / {ADMIN_PASSWORD}" in printed
    assert client.login(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


def test_seeding_again_demotes_a_demo_manager_left_superuser_by_an_older_demo():
    seed()
    User.objects.filter(username=DEMO_USERNAME).update(is_superuser=True, is_staff=True)
    User.objects.filter(username=ADMIN_USERNAME).delete()

    printed = seed()

    assert not User.objects.get(username=DEMO_USERNAME).is_superuser
    assert User.objects.get(username=ADMIN_USERNAME).is_superuser
    assert f"{ADMIN_USERNAME} / {ADMIN_PASSWORD}" in printed
