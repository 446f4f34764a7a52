"""The Équipe page: a manager sees the establishment's members, changes their roles, removes them and hands
out password links, within the rules of team.services; staff get a 403 and another establishment is a 404."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.test import Client
from django.urls import reverse

from orders.models import Membership
from team import services
from tests.factories import PASSWORD, make_establishment, make_user
from tests.orders.pages import logged_in
from tests.snapshot import changed_tables, snapshot

pytestmark = pytest.mark.django_db

User = get_user_model()
MANAGER, STAFF = Membership.Role.MANAGER, Membership.Role.STAFF
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"
NBSP = "\u00a0"


@pytest.fixture
def bistrot():
    return make_establishment("Le Petit Bistrot")


@pytest.fixture
def claire(bistrot):
    return make_user(bistrot, "claire", role=MANAGER)


@pytest.fixture
def marc(bistrot):
    return make_user(bistrot, "marc", role=STAFF)


def team_url(establishment, name: str = "members", membership: Membership | None = None) -> str:
    args = [establishment.pk] if membership is None else [establishment.pk, membership.pk]
    return reverse(f"team:{name}", args=args)


def membership_of(user, establishment) -> Membership:
    return Membership.objects.get(user=user, establishment=establishment)


def role_of(user, establishment) -> str | None:
    return Membership.objects.filter(user=user, establishment=establishment).values_list("role", flat=True).first()


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who sees the page ---------------------------------------------------------------------------


def test_a_manager_sees_every_member_of_the_establishment_with_their_role(bistrot, claire, marc):
    make_user(make_establishment("Chez Paul"), "paul", role=STAFF)

    response = logged_in(claire).get(team_url(bistrot))

    assert response.status_code == 200
    shown = {member.membership.user.username: member.membership.role for member in response.context["members"]}
    assert shown == {"claire": MANAGER, "marc": STAFF}
    assert "paul" not in response.text


def test_staff_get_a_403_on_every_team_page_and_action(bistrot, claire, marc):
    cook = logged_in(marc)
    target = membership_of(claire, bistrot)
    before = snapshot()

    responses = [
        cook.get(team_url(bistrot)),
        cook.post(team_url(bistrot, "invite"), {"name": "Léa", "role": MANAGER}),
        cook.post(team_url(bistrot, "change_role", target), {"role": STAFF}),
        cook.post(team_url(bistrot, "remove", target)),
        cook.post(team_url(bistrot, "password_link", target)),
    ]

    assert [response.status_code for response in responses] == [403] * len(responses)
    assert changed_tables(before, snapshot()) == []


def test_another_establishments_team_page_is_a_404(bistrot, claire):
    other = make_establishment("Chez Paul")
    make_user(other, "paul", role=MANAGER)

    assert logged_in(claire).get(team_url(other)).status_code == 404


def test_the_top_bar_shows_the_team_and_api_key_entries_to_managers_only(bistrot, claire, marc):
    orders_page = reverse("orders:list", args=[bistrot.pk])

    as_manager = logged_in(claire).get(orders_page).text
    as_staff = logged_in(marc).get(orders_page).text

    assert f'href="{team_url(bistrot)}"' in as_manager
    assert f'href="{team_url(bistrot, "api_keys")}"' in as_manager
    assert f'href="{team_url(bistrot)}"' not in as_staff
    assert f'href="{team_url(bistrot, "api_keys")}"' not in as_staff
    assert f'href="{reverse("hubrise:settings", args=[bistrot.pk])}"' in as_staff


# --- Roles -----------------------------------------------------------------------------------------


def test_a_manager_makes_a_staff_member_manager(bistrot, claire, marc):
    url = team_url(bistrot, "change_role", membership_of(marc, bistrot))

    response = logged_in(claire).post(url, {"role": MANAGER}, follow=True)

    assert role_of(marc, bistrot) == MANAGER
    assert shown_messages(response) == ["marc est maintenant responsable."]


def test_a_manager_makes_another_manager_staff(bistrot, claire):
    louise = make_user(bistrot, "louise", role=MANAGER)

    logged_in(claire).post(team_url(bistrot, "change_role", membership_of(louise, bistrot)), {"role": STAFF})

    assert role_of(louise, bistrot) == STAFF


def test_the_last_manager_cannot_make_themselves_staff_and_the_page_says_why(bistrot, claire, marc):
    client = logged_in(claire)

    response = client.post(team_url(bistrot, "change_role", membership_of(claire, bistrot)), {"role": STAFF}, follow=True)

    assert role_of(claire, bistrot) == MANAGER
    assert shown_messages(response) == [
        f"Un établissement a besoin d’au moins un responsable{NBSP}: nommez d’abord un autre responsable."
    ]
    assert "au moins un responsable" in client.get(team_url(bistrot)).text


def test_a_manager_may_make_themselves_staff_when_another_manager_remains(bistrot, claire):
    make_user(bistrot, "louise", role=MANAGER)
    client = logged_in(claire)

    client.post(team_url(bistrot, "change_role", membership_of(claire, bistrot)), {"role": STAFF})

    assert role_of(claire, bistrot) == STAFF
    assert client.get(team_url(bistrot)).status_code == 403


def test_an_unknown_role_is_refused_and_changes_nothing(bistrot, claire, marc):
    for role in ("superuser", "", "admin"):
        logged_in(claire).post(team_url(bistrot, "change_role", membership_of(marc, bistrot)), {"role": role})

    assert role_of(marc, bistrot) == STAFF
    marc.refresh_from_db()
    assert not marc.is_staff and not marc.is_superuser


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_making_each_other_staff_at_the_same_moment_leave_one_manager():
    bistrot = make_establishment()
    claire = make_user(bistrot, "claire", role=MANAGER)
    louise = make_user(bistrot, "louise", role=MANAGER)
    barrier = threading.Barrier(2)
    refused: list[Exception] = []

    def demote(actor, target) -> None:
        try:
            barrier.wait()
            services.change_role(actor, bistrot, membership_of(target, bistrot).pk, STAFF)
        except (services.TeamError, PermissionDenied) as refusal:
            # The later one finds either itself demoted (no longer a manager) or its target the last manager.
            refused.append(refusal)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((claire, louise), (louise, claire))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Membership.objects.filter(establishment=bistrot, role=MANAGER).count() == 1
    assert len(refused) == 1


# --- Removing a member -----------------------------------------------------------------------------


def test_a_removed_member_no_longer_sees_the_establishment(bistrot, claire, marc):
    remove_page = team_url(bistrot, "remove", membership_of(marc, bistrot))
    manager = logged_in(claire)
    assert "marc" in manager.get(remove_page).text

    manager.post(remove_page)

    assert role_of(marc, bistrot) is None
    assert logged_in(marc).get(reverse("orders:list", args=[bistrot.pk])).status_code == 404
    assert User.objects.filter(username="marc").exists()


def test_the_last_manager_cannot_remove_themselves(bistrot, claire, marc):
    logged_in(claire).post(team_url(bistrot, "remove", membership_of(claire, bistrot)))

    assert role_of(claire, bistrot) == MANAGER


def test_a_manager_who_removes_themselves_while_another_manager_remains_goes_back_to_the_home_page(bistrot, claire):
    make_user(bistrot, "louise", role=MANAGER)

    response = logged_in(claire).post(team_url(bistrot, "remove", membership_of(claire, bistrot)))

    assert role_of(claire, bistrot) is None
    assert response["Location"] == reverse("orders:home")


def test_removing_a_member_who_also_works_elsewhere_keeps_their_other_establishment(bistrot, claire):
    elsewhere = make_establishment("Chez Paul")
    shared = make_user(elsewhere, "julie", role=STAFF)
    Membership.objects.create(user=shared, establishment=bistrot, role=STAFF)

    logged_in(claire).post(team_url(bistrot, "remove", membership_of(shared, bistrot)))

    assert role_of(shared, bistrot) is None
    assert role_of(shared, elsewhere) == STAFF


# --- Password links --------------------------------------------------------------------------------


def reset_link(client, establishment, membership) -> str:
    response = client.post(team_url(establishment, "password_link", membership))
    assert response.status_code == 200
    return response.context["reset"]["url"]


def test_a_password_link_lets_the_member_choose_a_new_password_once_and_logs_them_in(bistrot, claire, marc):
    link = reset_link(logged_in(claire), bistrot, membership_of(marc, bistrot))
    assert marc.check_password(PASSWORD)
    newcomer = Client()

    form_page = newcomer.get(link, follow=True)
    done = newcomer.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    marc.refresh_from_db()
    assert marc.check_password(NEW_PASSWORD)
    assert done["Location"] == reverse("orders:home")
    assert int(newcomer.session["_auth_user_id"]) == marc.pk
    assert newcomer.get(link, follow=True).context["validlink"] is False


def test_the_password_link_page_refuses_a_weak_password(bistrot, claire, marc):
    link = reset_link(logged_in(claire), bistrot, membership_of(marc, bistrot))
    visitor = Client()
    form_page = visitor.get(link, follow=True)

    response = visitor.post(form_page.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 200
    assert response.context["form"].errors
    marc.refresh_from_db()
    assert marc.check_password(PASSWORD)


def test_the_password_link_is_shown_once_and_never_cached(bistrot, claire, marc):
    client = logged_in(claire)

    response = client.post(team_url(bistrot, "password_link", membership_of(marc, bistrot)))

    assert "no-store" in response["Cache-Control"]
    assert response.context["reset"]["url"] in response.text
    assert response.context["reset"]["url"] not in client.get(team_url(bistrot)).text


def test_no_password_link_for_a_member_who_also_belongs_to_an_establishment_the_manager_does_not_manage(bistrot, claire):
    shared = make_user(make_establishment("Chez Paul"), "julie", role=STAFF)
    Membership.objects.create(user=shared, establishment=bistrot, role=STAFF)
    client = logged_in(claire)
    before = snapshot()

    page = client.get(team_url(bistrot)).text
    response = client.post(team_url(bistrot, "password_link", membership_of(shared, bistrot)), follow=True)

    assert "appartient aussi à un établissement que vous ne gérez pas" in page
    assert shown_messages(response) == [
        f"Cette personne appartient aussi à un établissement que vous ne gérez pas{NBSP}: seuls les administrateurs "
        "de la plateforme peuvent changer son mot de passe."
    ]
    assert "reset" not in response.context
    assert changed_tables(before, snapshot()) == []


def test_a_manager_of_both_establishments_of_a_member_may_give_them_a_password_link(bistrot, claire):
    annex = make_establishment("Le Petit Bistrot, l'annexe")
    Membership.objects.create(user=claire, establishment=annex, role=MANAGER)
    shared = make_user(annex, "julie", role=STAFF)
    Membership.objects.create(user=shared, establishment=bistrot, role=STAFF)

    assert reset_link(logged_in(claire), bistrot, membership_of(shared, bistrot))


def test_no_password_link_for_a_platform_administrator(bistrot, claire):
    operator = User.objects.create_superuser("plateforme", "ops@example.fr", PASSWORD)
    Membership.objects.create(user=operator, establishment=bistrot, role=STAFF)

    response = logged_in(claire).post(team_url(bistrot, "password_link", membership_of(operator, bistrot)), follow=True)

    assert "reset" not in response.context
    assert shown_messages(response) == [
        f"C’est le compte d’un administrateur de la plateforme{NBSP}; seule la plateforme peut le modifier."
    ]


# --- The attack from the audit, through this page ---------------------------------------------------


def test_a_manager_of_one_establishment_cannot_join_another_nor_take_over_its_cook(bistrot, claire):
    """Manager of establishment 3 tries to add herself to 1, attach a kitchen user of 1 to 3 and change that
    user's password: every request is refused and nothing changes."""
    other = make_establishment("Brasserie du Port")
    bob = make_user(other, "bob", role=MANAGER)
    cook = make_user(other, "cuisine", role=STAFF)
    cook_membership, bob_membership = membership_of(cook, other), membership_of(bob, other)
    attacker = logged_in(claire)
    before = snapshot()

    responses = [
        attacker.get(team_url(other)),
        attacker.post(team_url(other, "invite"), {"name": "claire", "role": MANAGER}),
        attacker.post(team_url(other, "change_role", bob_membership), {"role": STAFF}),
        attacker.post(team_url(bistrot, "change_role", cook_membership), {"role": STAFF}),
        attacker.post(team_url(other, "password_link", cook_membership)),
        attacker.post(team_url(bistrot, "password_link", cook_membership)),
        attacker.post(team_url(other, "remove", bob_membership)),
        attacker.post(team_url(bistrot, "remove", cook_membership)),
    ]

    assert [response.status_code for response in responses] == [404] * len(responses)
    assert changed_tables(before, snapshot()) == []
    assert role_of(claire, other) is None
    assert role_of(cook, bistrot) is None
