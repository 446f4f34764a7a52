"""Inviting someone: the manager gets a signed, single-use link that expires; the new person opens it, chooses
a username and password (the project's password validators apply) and arrives in the establishment."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Membership
from team.models import Invitation
from tests.factories import make_establishment, make_user
from tests.orders.pages import logged_in
from tests.snapshot import changed_tables, snapshot

pytestmark = pytest.mark.django_db

User = get_user_model()
MANAGER, STAFF = Membership.Role.MANAGER, Membership.Role.STAFF
NEW_PASSWORD = "Un-mot-de-passe-solide-2026"


@pytest.fixture
def bistrot():
    return make_establishment("Le Petit Bistrot")


@pytest.fixture
def manager(bistrot):
    return logged_in(make_user(bistrot, "claire", role=MANAGER))


def invite(manager, establishment, name: str = "Léa Martin", role: str = STAFF) -> str:
    """The link the team page shows for the new invitation."""
    manager.post(reverse("team:invite", args=[establishment.pk]), {"name": name, "role": role})
    invitation = Invitation.objects.get(name=name)
    page = manager.get(reverse("team:members", args=[establishment.pk]))
    [url] = [url for shown, url in page.context["invitations"] if shown == invitation]
    return url


def accept(link: str, username: str = "lea", password: str = NEW_PASSWORD, **extra):
    """The new person, on their own phone (not logged in), fills in the invitation page."""
    visitor = Client()
    return visitor, visitor.post(link, {"username": username, "password1": password, "password2": password, **extra})


def test_an_invited_person_chooses_a_username_and_password_and_arrives_in_the_establishment(bistrot, manager):
    link = invite(manager, bistrot, role=MANAGER)

    visitor, response = accept(link)

    lea = User.objects.get(username="lea")
    assert lea.first_name == "Léa Martin"
    assert lea.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=lea).establishment == bistrot
    assert Membership.objects.get(user=lea).role == MANAGER
    assert response["Location"] == reverse("orders:list", args=[bistrot.pk])
    assert visitor.get(response["Location"]).status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.accepted_user == lea and invitation.accepted_at is not None


def test_the_invitation_page_names_the_establishment_and_the_role(bistrot, manager):
    link = invite(manager, bistrot)

    text = Client().get(link).text

    assert "Le Petit Bistrot" in text
    assert "Léa Martin" in text
    assert "employé" in text


def test_an_invitation_link_works_only_once(bistrot, manager):
    link = invite(manager, bistrot)
    accept(link, username="lea")

    _visitor, second = accept(link, username="intrus")

    assert second.status_code == 404
    assert not User.objects.filter(username="intrus").exists()
    assert Membership.objects.filter(establishment=bistrot).count() == 2


def test_an_expired_invitation_link_is_refused(bistrot, manager):
    link = invite(manager, bistrot)
    Invitation.objects.update(created_at=timezone.now() - Invitation.LIFETIME - timedelta(minutes=1))

    _visitor, response = accept(link)

    assert response.status_code == 404
    assert not User.objects.filter(username="lea").exists()


def test_a_cancelled_invitation_link_is_refused(bistrot, manager):
    link = invite(manager, bistrot)

    manager.post(reverse("team:cancel_invitation", args=[bistrot.pk, Invitation.objects.get().pk]))
    _visitor, response = accept(link)

    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_a_forged_invitation_link_is_refused(bistrot, manager):
    link = invite(manager, bistrot)
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    _visitor, response = accept(forged)

    assert response.status_code == 404
    assert not User.objects.filter(username="lea").exists()


def test_an_invited_account_is_never_staff_nor_superuser_whatever_is_posted(bistrot, manager):
    link = invite(manager, bistrot, role=MANAGER)

    accept(link, is_staff="on", is_superuser="on", user_permissions="1", groups="1")

    lea = User.objects.get(username="lea")
    assert not lea.is_staff and not lea.is_superuser
    assert not lea.user_permissions.exists() and not lea.groups.exists()


def test_a_password_too_close_to_the_name_or_too_common_is_refused(bistrot, manager):
    link = invite(manager, bistrot, name="Léa Martin")

    for password in ("password123", "12345678", "lea-martin"):
        _visitor, response = accept(link, username="lea", password=password)
        assert response.status_code == 400
        assert response.context["form"].errors["password2"]

    assert not User.objects.filter(username="lea").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_taken_username_is_refused_and_the_invitation_stays_usable(bistrot, manager):
    make_user(make_establishment("Chez Paul"), "lea")
    link = invite(manager, bistrot)

    _visitor, refused = accept(link, username="lea")
    _visitor, accepted = accept(link, username="lea.martin")

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert Membership.objects.get(user__username="lea.martin").establishment == bistrot


def test_an_invitation_needs_a_name_and_one_of_the_apps_roles(bistrot, manager):
    before = snapshot()

    responses = [
        manager.post(reverse("team:invite", args=[bistrot.pk]), {"name": "", "role": STAFF}),
        manager.post(reverse("team:invite", args=[bistrot.pk]), {"name": "Léa", "role": "superuser"}),
    ]

    assert [response.status_code for response in responses] == [400, 400]
    assert changed_tables(before, snapshot()) == []


def test_staff_cannot_invite_nor_cancel_an_invitation(bistrot, manager):
    invite(manager, bistrot)
    cook = logged_in(make_user(bistrot, "marc", role=STAFF))

    assert cook.post(reverse("team:invite", args=[bistrot.pk]), {"name": "Ami", "role": MANAGER}).status_code == 403
    assert cook.post(reverse("team:cancel_invitation", args=[bistrot.pk, Invitation.objects.get().pk])).status_code == 403
    assert Invitation.objects.count() == 1


def test_a_manager_cannot_cancel_another_establishments_invitation(bistrot, manager):
    other = make_establishment("Chez Paul")
    invitation = Invitation.objects.create(establishment=other, name="Paulette", role=STAFF)

    responses = [
        manager.post(reverse("team:cancel_invitation", args=[bistrot.pk, invitation.pk])),
        manager.post(reverse("team:cancel_invitation", args=[other.pk, invitation.pk])),
    ]

    assert [response.status_code for response in responses] == [404, 404]
    assert Invitation.objects.filter(pk=invitation.pk).exists()
