"""The Django admin: pages load, status actions go through the service, API keys, superusers only."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.inputs import NewCustomer
from orders.models import ApiKey, Company, Establishment, Membership, Order
from tests.factories import PASSWORD, make_order, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def order(establishment):
    return make_order(establishment)


@pytest.fixture
def admin_client(client, establishment):
    superuser = User.objects.create_superuser("admin", "admin@example.fr", "correct-horse-battery")
    client.force_login(superuser)
    client.user = superuser
    return client


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_page(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add_page(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def run_action(client, model, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(changelist(model), data, follow=True)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Every page loads -----------------------------------------------------------


@pytest.mark.parametrize("model", [Company, Establishment, Membership, ApiKey, Order, User])
def test_every_changelist_loads_for_a_superuser(admin_client, order, model):
    ApiKey.generate(order.establishment, "QR menu")
    Membership.objects.create(user=admin_client.user, establishment=order.establishment, role=Membership.Role.MANAGER)

    response = admin_client.get(changelist(model))

    assert response.status_code == 200


@pytest.mark.parametrize("model", [Company, Establishment, Membership, ApiKey, User])
def test_every_add_page_loads_for_a_superuser(admin_client, model):
    assert admin_client.get(add_page(model)).status_code == 200


def test_every_change_page_loads_for_a_superuser(admin_client, order):
    establishment = order.establishment
    api_key, _raw = ApiKey.generate(establishment, "QR menu")
    membership = Membership.objects.create(user=admin_client.user, establishment=establishment)

    for obj in (establishment.company, establishment, membership, api_key, admin_client.user):
        assert admin_client.get(change_page(obj)).status_code == 200, obj


def test_the_order_page_shows_lines_options_payments_and_history(admin_client, order):
    response = admin_client.get(change_page(order))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Croque-monsieur" in content
    assert "Œuf" in content
    assert "Carte bancaire" in content
    assert "21,00" in content or "21.00" in content


def test_orders_cannot_be_added_or_edited_in_the_admin(admin_client, order):
    assert admin_client.get(add_page(Order)).status_code == 403
    response = admin_client.post(change_page(order), {"status": "completed"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "new"


def test_the_order_list_can_be_searched_by_phone_and_filtered_by_status(admin_client, establishment):
    found = make_order(establishment, customer=NewCustomer(first_name="Élodie", phone="+33611111111"))
    make_order(establishment, status="completed")

    by_phone = admin_client.get(changelist(Order), {"q": "+33611111111"})
    by_status = admin_client.get(changelist(Order), {"status__exact": "completed"})

    assert list(by_phone.context["cl"].result_list) == [found]
    assert [o.status for o in by_status.context["cl"].result_list] == ["completed"]


# --- Status actions go through the service -------------------------------------


def test_a_status_action_changes_the_status_with_an_admin_history_entry(admin_client, order):
    response = run_action(admin_client, Order, "mark_accepted", [order])

    order.refresh_from_db()
    assert order.status == "accepted"
    last = order.history.last()
    assert (last.from_status, last.to_status, last.source, last.actor) == ("new", "accepted", "admin", admin_client.user)
    assert any("1" in message for message in shown_messages(response))


def test_the_cancel_action_records_its_fixed_reason(admin_client, order):
    run_action(admin_client, Order, "mark_cancelled", [order])

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.history.last().reason


def test_a_status_action_on_an_order_already_there_changes_nothing(admin_client, order):
    run_action(admin_client, Order, "mark_accepted", [order])
    run_action(admin_client, Order, "mark_accepted", [order])

    assert order.history.filter(to_status="accepted").count() == 1


def test_a_refused_change_is_reported_per_order(admin_client, order, monkeypatch):
    from orders import admin as orders_admin
    from orders.services import TransitionNotAllowed

    def refuse(*args, **kwargs):
        raise TransitionNotAllowed("not now")

    monkeypatch.setattr(orders_admin, "change_status", refuse)

    response = run_action(admin_client, Order, "mark_completed", [order])

    assert f"{order.ref}: not now" in shown_messages(response)
    order.refresh_from_db()
    assert order.status == "new"


# --- API keys ---------------------------------------------------------------


def test_adding_an_api_key_shows_it_once_and_stores_only_its_hash(admin_client, establishment):
    response = admin_client.post(add_page(ApiKey), {"establishment": establishment.pk, "name": "Borne"}, follow=True)

    api_key = ApiKey.objects.get(name="Borne")
    [raw_key] = [m for message in shown_messages(response) for m in re.findall(r"gr_\w+_[\w-]+", message)]
    assert api_key.key_hash == ApiKey.hash(raw_key)
    assert raw_key not in (api_key.prefix, api_key.key_hash)
    assert raw_key not in admin_client.get(change_page(api_key)).content.decode()
    assert raw_key not in admin_client.get(changelist(ApiKey)).content.decode()


def test_the_establishment_action_generates_a_key_shown_once(admin_client, establishment):
    response = run_action(admin_client, Establishment, "generate_api_key", [establishment])

    [raw_key] = [m for message in shown_messages(response) for m in re.findall(r"gr_\w+_[\w-]+", message)]
    assert ApiKey.objects.get(establishment=establishment).key_hash == ApiKey.hash(raw_key)
    assert raw_key not in admin_client.get(change_page(establishment)).content.decode()


def test_the_revoke_action_revokes_the_selected_keys(admin_client, establishment):
    api_key, _raw = ApiKey.generate(establishment, "QR menu")

    run_action(admin_client, ApiKey, "revoke", [api_key])

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert not ApiKey.objects.active().exists()


# --- The admin is for superusers only --------------------------------------------
# (tests/security/test_admin_superusers_only.py walks every model, form and inline.)


@pytest.fixture
def manager_client(client, establishment):
    manager = make_user(establishment, username="gerant", role=Membership.Role.MANAGER)
    manager.is_staff = True
    manager.save()
    manager.user_permissions.set(Permission.objects.all())
    client.force_login(manager)
    return client


def test_a_manager_with_admin_access_and_every_permission_is_sent_to_the_admin_login(manager_client, establishment):
    make_order(establishment)

    response = manager_client.get(reverse("admin:index"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert "Orders" not in response.text and "Commandes" not in response.text


def test_a_manager_cannot_log_in_to_the_admin_with_their_password(client, establishment):
    manager = make_user(establishment, username="gerant", role=Membership.Role.MANAGER)
    manager.is_staff = True
    manager.save()

    response = client.post(reverse("admin:login"), {"username": "gerant", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_superuser_logs_in_to_the_admin(client):
    User.objects.create_superuser("root", "root@example.fr", PASSWORD)

    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": reverse("admin:index")})

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_manager_cannot_run_a_status_action(manager_client, establishment):
    order = make_order(establishment)

    run_action(manager_client, Order, "mark_accepted", [order])

    order.refresh_from_db()
    assert order.status == "new"
