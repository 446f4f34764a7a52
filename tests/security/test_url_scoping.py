"""Every URL of the project that takes an establishment, order or object id, tried with another restaurant's ids.

The URL patterns are read from the resolver, so a URL added later is covered
without touching this file: a page or API call answers 404 (405 when the method
is not served at all), an admin page sends a manager (even one marked staff with
every permission) to the admin's login, the admin being for superusers only, and
nothing of the other restaurant appears in the response. The same
walk checks that every page a browser session can POST to wants the CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authentication import SessionAuthentication

from hubrise_sync.models import Connection
from menu.services import replace_menu
from orders.models import ApiKey, Membership, Order
from printing.models import Printer
from team.models import Invitation
from tests.factories import make_establishment, make_order, make_user
from tests.menu.bistro import BISTRO_MENU
from tests.security.tenants import path_to_establishment, rows_of

pytestmark = pytest.mark.django_db

# Keyword arguments that name a tenant's object in a URL.
ESTABLISHMENT_KWARGS = {"establishment_id"}
ORDER_KWARGS = {"order_id"}
OBJECT_KWARGS = {"pk", "object_id", "id"}
UNNAMED = "<unnamed>"
OTHER_NAME = "Brasserie Secrète du Port"
OTHER_TOKEN = "token-of-the-other-restaurant-1234"


@dataclass
class Route:
    name: str
    kwargs: set[str]
    callback: object
    lookups: dict[str, str] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, namespaces: list[str], inherited: set[str]) -> None:
        for pattern in patterns:
            own = set(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else set()
            own |= set(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, namespaces + ([pattern.namespace] if pattern.namespace else []), inherited | own)
            elif isinstance(pattern, URLPattern):
                name = ":".join([*namespaces, pattern.name or UNNAMED])
                routes.append(Route(name, inherited | own - {"format"}, pattern.callback))

    walk(get_resolver().url_patterns, [], set())
    return routes


def model_named_by(kwarg: str) -> type[models.Model] | None:
    """The model a ``<model>_id`` keyword names (``membership_id``, ``apikey_id``), if it belongs to an establishment."""
    if not kwarg.endswith("_id") or kwarg in ESTABLISHMENT_KWARGS:
        return None
    name = kwarg.removesuffix("_id").replace("_", "")
    for model in apps.get_models():
        if model._meta.model_name == name and path_to_establishment(model) is not None:
            return model
    return None


def names_a_tenant(kwarg: str) -> bool:
    return kwarg in ESTABLISHMENT_KWARGS | ORDER_KWARGS | OBJECT_KWARGS or model_named_by(kwarg) is not None


def tenant_routes() -> list[Route]:
    return [
        route
        for route in all_routes()
        if any(names_a_tenant(kwarg) for kwarg in route.kwargs) and not route.name.endswith(UNNAMED)
    ]


def unnamed_tenant_routes() -> list[Route]:
    # The admin's own unnamed URL only redirects to the (named, checked) change page.
    return [
        route
        for route in all_routes()
        if route.name.endswith(UNNAMED) and not route.is_admin and any(names_a_tenant(kwarg) for kwarg in route.kwargs)
    ]


def admin_model(route: Route) -> type[models.Model] | None:
    from django.contrib import admin

    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if route.name.startswith(prefix):
            return model
    return None


@pytest.fixture
def world(settings):
    ours = make_establishment("Le Petit Bistrot")
    alice = make_user(ours, "alice", role=Membership.Role.MANAGER)
    alice.is_staff = True
    alice.save()
    alice.user_permissions.set(Permission.objects.all())
    our_order = make_order(ours)
    _our_key, our_raw_key = ApiKey.generate(ours, "Site de commande")

    theirs = make_establishment(OTHER_NAME)
    make_user(theirs, "bob", role=Membership.Role.MANAGER)
    Connection.objects.create(establishment=theirs, location_id="zz9-1", location_name=OTHER_NAME, access_token=OTHER_TOKEN)
    their_order = make_order(theirs, customer_notes=OTHER_NAME)
    ApiKey.generate(theirs, "Site de la brasserie")
    Invitation.objects.create(establishment=theirs, name=OTHER_NAME, role=Membership.Role.MANAGER)
    Printer.objects.create(establishment=theirs, name=OTHER_NAME, host="192.0.2.10")
    replace_menu(theirs, BISTRO_MENU, source="test")

    client = Client()
    client.force_login(alice)
    api_headers = {"HTTP_AUTHORIZATION": f"Api-Key {our_raw_key}"}
    return {
        "ours": ours,
        "theirs": theirs,
        "our_order": our_order,
        "their_order": their_order,
        "client": client,
        "api_headers": api_headers,
    }


def candidate_kwargs(route: Route, world: dict) -> list[dict]:
    """Ways to point the URL at the other restaurant: their ids, and their order (or membership, key…) under
    our establishment."""
    ours, theirs, their_order = world["ours"], world["theirs"], world["their_order"]
    if route.is_admin:
        model = admin_model(route)
        lookup = path_to_establishment(model) if model else None
        if lookup is None:
            return []
        obj = model._default_manager.filter(**{lookup: theirs.pk}).first()
        if obj is None:
            return []
        return [{name: str(obj.pk) for name in route.kwargs}]
    combos = []
    for establishment in (theirs, ours) if route.kwargs & ESTABLISHMENT_KWARGS else (None,):
        values = {}
        for name in route.kwargs:
            if name in ESTABLISHMENT_KWARGS:
                values[name] = establishment.pk
            elif model := model_named_by(name):
                theirs_row = rows_of(model, [theirs]).first()
                assert theirs_row is not None, f"the other establishment needs a {model.__name__} to walk {route.name}"
                values[name] = theirs_row.pk
            else:
                values[name] = their_order.pk
        if establishment is ours and not route.kwargs - ESTABLISHMENT_KWARGS:
            continue
        combos.append(values)
    return combos


def test_the_walk_finds_the_urls_it_must_protect():
    names = {route.name for route in tenant_routes()}

    for expected in (
        "orders:detail",
        "orders:change_status",
        "hubrise:settings",
        "hubrise:disconnect",
        "v1:order-detail",
        "team:members",
        "team:change_role",
        "team:password_link",
        "team:cancel_invitation",
        "team:revoke_api_key",
        "menu:edit_sku",
    ):
        assert expected in names, sorted(names)
    assert unnamed_tenant_routes() == [], "a URL that takes an id has no name, so it cannot be checked"


def test_every_url_refuses_another_establishments_ids(world):
    client, api_headers = world["client"], world["api_headers"]
    checked, leaks = [], []
    untested_admin = []
    for route in tenant_routes():
        combos = candidate_kwargs(route, world)
        if route.is_admin and not combos:
            untested_admin.append(route.name)
            continue
        for kwargs in combos:
            url = reverse(route.name, kwargs=kwargs)
            for method in ("get", "post"):
                response = getattr(client, method)(url, **({} if route.is_admin else api_headers))
                checked.append(url)
                body = response.content.decode(errors="replace")
                refused = refusal(route, response)
                if not refused or OTHER_NAME in body or OTHER_TOKEN in body:
                    leaks.append(f"{method.upper()} {url} ({route.name}) -> {response.status_code}")

    assert leaks == []
    assert any("/orders/" in url for url in checked)
    assert any("/team/" in url and "/role/" in url for url in checked)
    assert any("/api-keys/" in url and "/revoke/" in url for url in checked)
    assert any(url.startswith("/admin/orders/order/") for url in checked)
    assert any(url.startswith("/admin/hubrise_sync/connection/") for url in checked) or not admin_registers(Connection)
    assert any(url.startswith("/admin/menu/sku/") for url in checked)


def refusal(route: Route, response) -> bool:
    if route.is_admin:
        return sent_to_the_admin_login(response)
    return response.status_code in (404, 405)


def sent_to_the_admin_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login") + "?")


def admin_registers(model: type[models.Model]) -> bool:
    from django.contrib import admin

    return model in admin.site._registry


def test_every_page_a_session_can_post_to_wants_the_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.get(username="alice"))
    ours, our_order = world["ours"], world["our_order"]
    accepted_without_token = []
    for route in all_routes():
        if route.name.endswith(UNNAMED) or route.is_admin or csrf_is_not_about_sessions(route.callback):
            continue
        kwargs = {}
        for name in route.kwargs:
            kwargs[name] = ours.pk if name in ESTABLISHMENT_KWARGS else our_order.pk
        response = browser.post(reverse(route.name, kwargs=kwargs))
        if response.status_code not in (403, 405):
            accepted_without_token.append(f"POST {route.name} -> {response.status_code}")

    assert accepted_without_token == []


def csrf_is_not_about_sessions(view) -> bool:
    """A CSRF-exempt view is fine only when a browser session cannot authenticate it (API keys, HMAC)."""
    if not getattr(view, "csrf_exempt", False):
        return False
    view_class = getattr(view, "cls", None)
    if view_class is None:
        return False
    return not any(issubclass(auth, SessionAuthentication) for auth in getattr(view_class, "authentication_classes", ()))


def test_the_admin_walk_uses_objects_of_the_other_establishment(world):
    assert path_to_establishment(Order) == "establishment"
    assert path_to_establishment(Connection) == "establishment"
    assert path_to_establishment(apps.get_model("orders", "Company")) is not None


def test_a_manager_marked_staff_cannot_open_another_restaurants_user_in_the_admin(world):
    bob = get_user_model().objects.get(username="bob")

    response = world["client"].get(reverse("admin:auth_user_change", args=[bob.pk]))

    assert sent_to_the_admin_login(response)
