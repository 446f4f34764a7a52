"""The Django admin is for the platform's superusers: a restaurant manager marked staff, with every
permission, neither changes nor reads anything through it.

The walk reads the admin's own registry, forms and inlines, so a model registered later (by us or by
an app such as django-axes) is covered without touching this file. For every registered model, as the
manager of establishment A, it tries the changelist (with a search for B's name), the add form, the
change form of one of A's rows and of one of B's, the history, the delete page, every action on B's
rows and every autocomplete. The POST data are built from the ModelAdmin's forms and inlines as a
browser would send them, with establishment B's ids in every foreign key (and one more inline row
pointing at B), every box ticked, every permission chosen. A superuser posting the same data does
change the database, so the walk proves the data would have worked, not only that a form was empty.

The suite's URL walk (test_url_scoping.py) missed the takeover this file guards against: it swapped
ids in URLs and never submitted a form or an inline whose foreign keys point at another tenant.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin, ModelAdmin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from hubrise_sync.models import CatalogImport, CatalogSync, Connection, InboundEvent, InventoryRefresh, QuarantinedCallback
from menu.services import replace_menu
from orders.models import ApiKey, Establishment, Membership
from printing.models import Printer
from team.models import Invitation
from tests.factories import PASSWORD, make_establishment, make_order, make_user
from tests.menu.bistro import BISTRO_MENU
from tests.security.tenants import path_to_establishment, rows_of
from tests.snapshot import changed_tables, snapshot

pytestmark = pytest.mark.django_db

User = get_user_model()

# Everything of establishment B that a page could leak.
THEIR_NAME = "Brasserie Secrète du Port"
THEIR_ANNEX = "Annexe Secrète du Port"
THEIR_SECRETS = (
    THEIR_NAME,
    THEIR_ANNEX,
    "bob-secret",
    "cuisinier-secret",
    "Gaspard-Secret",
    "Clé de la brasserie secrète",
    "Emplacement secret",
    "203.0.113.77",
)
NEW_PASSWORD = "Un-autre-mot-de-passe-2026"
# Combinations of the other tenant's ids tried until one makes a valid form for a superuser.
MAX_COMBINATIONS = 12


@dataclass
class World:
    ours: Establishment
    theirs: list[Establishment]
    manager: Client
    superuser: Client
    superuser_user: models.Model


@pytest.fixture
def world(settings) -> World:
    ours = make_establishment("Le Petit Bistrot")
    mallory = make_user(ours, "mallory", role=Membership.Role.MANAGER)
    mallory.is_staff = True
    mallory.save()
    mallory.user_permissions.set(Permission.objects.all())
    Connection.objects.create(establishment=ours, location_id="ours-1", location_name="Bistrot", access_token="our-token")
    make_order(ours)
    ApiKey.generate(ours, "Site du bistrot")

    theirs = make_establishment(THEIR_NAME)
    # An establishment of B with nothing attached: a one-to-one (a HubRise connection) can point at it.
    annex = Establishment.objects.create(company=theirs.company, name=THEIR_ANNEX)
    make_user(theirs, "bob-secret", role=Membership.Role.MANAGER)
    make_user(theirs, "cuisinier-secret", role=Membership.Role.STAFF)
    connection = Connection.objects.create(
        establishment=theirs, location_id="zz9-1", location_name="Emplacement secret", access_token="their-token"
    )
    their_order = make_order(theirs, customer_notes="Gaspard-Secret")
    ApiKey.generate(theirs, "Clé de la brasserie secrète")
    Invitation.objects.create(establishment=theirs, name="Gaspard-Secret", role=Membership.Role.MANAGER)
    replace_menu(theirs, BISTRO_MENU, source="test")
    Printer.objects.create(establishment=theirs, name="Cuisine secrète", host="192.0.2.10")
    InboundEvent.objects.create(
        event_id="evt-secret", connection=connection, order=their_order, via="webhook", outcome="applied", location_id="zz9-1"
    )
    QuarantinedCallback.objects.create(reason="bad_signature", remote_addr="203.0.113.77", body=b"{}", body_size=2)
    CatalogImport.objects.create(
        establishment=theirs, trigger="callback", outcome="refused", details={"problems": ["Emplacement secret: no catalog"]}
    )
    CatalogSync.objects.create(connection=connection, auto_import=False)
    InventoryRefresh.objects.create(connection=connection, last_error="Emplacement secret: 503")
    access = {
        "user_agent": "curl",
        "ip_address": "203.0.113.77",
        "username": "bob-secret",
        "http_accept": "*/*",
        "path_info": "/login/",
    }
    AccessLog.objects.create(**access)
    AccessFailureLog.objects.create(**access)
    AccessAttempt.objects.create(**access, get_data="", post_data="", failures_since_start=3)

    manager = Client()
    manager.force_login(mallory)
    root = User.objects.create_superuser("root", "root@example.fr", PASSWORD)
    superuser = Client()
    superuser.force_login(root)
    return World(ours=ours, theirs=[theirs, annex], manager=manager, superuser=superuser, superuser_user=root)


# --- The database before and after --------------------------------------------------------------


def changes_made_by(post, url: str, data: dict) -> tuple[list[str], str]:
    """Tables a POST changes, the change being rolled back at once, and the form's errors if any."""
    with transaction.atomic():
        before = snapshot()
        response = post(url, data)
        after = snapshot()
        transaction.set_rollback(True)
    return changed_tables(before, after), form_errors(response)


def form_errors(response) -> str:
    context = response.context or {}
    errors = [str(context["errors"])] if context.get("errors") else []
    return f"{response.status_code} {' '.join(errors)}"


# --- POST data built from the ModelAdmin's forms and inlines ------------------------------------


def superuser_request(world: World):
    request = RequestFactory().get("/admin/")
    request.user = world.superuser_user
    return request


def their_ids(model: type[models.Model], world: World, *, unique: bool, field_name: str, owner: type[models.Model]) -> list[str]:
    rows = rows_of(model, world.theirs)
    if unique:
        # A one-to-one already taken would make the form invalid for anyone, proving nothing.
        rows = rows.exclude(pk__in=owner._default_manager.values(field_name))
    return [str(pk) for pk in rows.values_list("pk", flat=True)[:3]]


def placeholder(field: forms.Field, widget: forms.Widget, counter: Iterator[int]):
    """A valid value for a field left empty (some forms want a field that is optional on its own)."""
    if isinstance(widget, forms.PasswordInput):
        return NEW_PASSWORD
    if isinstance(field, forms.EmailField):
        return f"walk{next(counter)}@example.fr"
    if isinstance(field, forms.URLField):
        return "https://example.fr/"
    if isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        return 1
    if isinstance(field, (forms.SplitDateTimeField, forms.DateTimeField)):
        return timezone.now()
    if isinstance(field, forms.DateField):
        return timezone.localdate()
    if isinstance(field, forms.JSONField):
        return "{}"
    if isinstance(field, forms.ChoiceField):
        return next(str(value) for value, _label in field.choices if value not in ("", None))
    return f"walk-{next(counter)}"


def put(data: dict, key: str, widget: forms.Widget, value) -> None:
    """``value`` as the widget's inputs would post it."""
    widget = getattr(widget, "widget", widget)  # the admin's "add another" wrapper
    if isinstance(widget, forms.MultiWidget):
        parts = value if isinstance(value, (list, tuple)) else widget.decompress(value)
        for suffix, part_widget, part in zip(widget.widgets_names, widget.widgets, parts, strict=True):
            put(data, key + suffix, part_widget, part)
    elif isinstance(widget, forms.CheckboxInput):
        if value:
            data[key] = "on"
    elif isinstance(widget, forms.widgets.ChoiceWidget):
        values = widget.format_value(value)
        data[key] = values if widget.allow_multiple_selected else (values[0] if values else "")
    else:
        formatted = widget.format_value(value)
        data[key] = "" if formatted is None else str(formatted)


def form_entries(form: forms.BaseForm, world: World, counter: Iterator[int]) -> tuple[dict, dict[str, list[str]]]:
    """A form's POST data, and for each of its foreign keys the other tenant's ids to try."""
    data: dict = {}
    slots: dict[str, list[str]] = {}
    model = form._meta.model
    for name, field in form.fields.items():
        if field.disabled:
            continue
        key = form.add_prefix(name)
        if isinstance(field, forms.ModelMultipleChoiceField):
            data[key] = [str(pk) for pk in rows_of(field.queryset.model, world.theirs).values_list("pk", flat=True)]
            continue
        if isinstance(field, forms.ModelChoiceField) and name != model._meta.pk.name:
            model_field = model._meta.get_field(name)
            ids = their_ids(field.queryset.model, world, unique=model_field.unique, field_name=name, owner=model)
            if ids:
                slots[key] = ids
                continue
        value = True if isinstance(field, forms.BooleanField) else form[name].value()
        # Hidden fields (a row's id, an inline's parent) and foreign keys keep what the form gives them.
        if value in (None, "", [], ()) and not field.widget.is_hidden and not isinstance(field, forms.ModelChoiceField):
            value = placeholder(field, field.widget, counter)
        put(data, key, field.widget, value)
    return data, slots


def inline_prefixes(model_admin: ModelAdmin, request, obj) -> Iterator[tuple[type, InlineModelAdmin, str]]:
    """The inline formsets and their prefixes, numbered as ModelAdmin._create_formsets numbers them."""
    seen: dict[str, int] = {}
    for formset_class, inline in model_admin.get_formsets_with_inlines(request, obj):
        prefix = formset_class.get_default_prefix()
        seen[prefix] = seen.get(prefix, 0) + 1
        if seen[prefix] != 1 or not prefix:
            prefix = f"{prefix}-{seen[prefix]}"
        yield formset_class, inline, prefix


def post_data(model_admin: ModelAdmin, world: World, obj: models.Model | None) -> list[dict]:
    """Ways to fill the add (``obj`` None) or change form with the other tenant's ids, one dict per combination."""
    request = superuser_request(world)
    counter = itertools.count(1)
    with translation.override("fr"):
        form_class = model_admin.get_form(request, obj, change=obj is not None)
        data, slots = form_entries(form_class(instance=obj), world, counter)
        parent = obj if obj is not None else model_admin.model()
        for formset_class, inline, prefix in inline_prefixes(model_admin, request, obj):
            formset = formset_class(instance=parent, prefix=prefix, queryset=inline.get_queryset(request))
            forms_of_formset = list(formset.initial_forms)
            extra = formset._construct_form(len(forms_of_formset))
            for form in [*forms_of_formset, extra]:
                entries, form_slots = form_entries(form, world, counter)
                data.update(entries)
                slots.update(form_slots)
            management = formset.management_form
            data.update(
                {
                    management.add_prefix("TOTAL_FORMS"): str(len(forms_of_formset) + 1),
                    management.add_prefix("INITIAL_FORMS"): str(len(forms_of_formset)),
                    management.add_prefix("MIN_NUM_FORMS"): str(management.initial.get("MIN_NUM_FORMS", 0)),
                    management.add_prefix("MAX_NUM_FORMS"): str(management.initial.get("MAX_NUM_FORMS", 1000)),
                }
            )
    keys = list(slots)
    combinations = itertools.islice(itertools.product(*(slots[key] for key in keys)), MAX_COMBINATIONS)
    return [{**data, **dict(zip(keys, ids, strict=True)), "_save": "Enregistrer"} for ids in combinations]


# --- The walk -------------------------------------------------------------------------------------


def admin_url(model: type[models.Model], view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def effective(world: World, url: str, attempts: list[dict]) -> dict:
    """The first POST data that changes the database when a superuser sends it."""
    refusals = []
    for data in attempts:
        changed, errors = changes_made_by(world.superuser.post, url, data)
        if changed:
            return data
        refusals.append(errors)
    raise AssertionError(f"no POST built for {url} changes anything, even as a superuser: {refusals}")


def requests_for(model: type[models.Model], model_admin: ModelAdmin, world: World) -> Iterator[tuple[str, str, dict]]:
    """(method, url, data) of everything the manager tries on one registered model."""
    request = superuser_request(world)
    yield "get", admin_url(model, "changelist"), {}
    yield "get", admin_url(model, "changelist"), {"q": THEIR_NAME}

    yield "get", admin_url(model, "add"), {}
    attempts = post_data(model_admin, world, None)
    if model_admin.has_add_permission(request):
        attempts = [effective(world, admin_url(model, "add"), attempts)]
    for data in attempts[:1]:
        yield "post", admin_url(model, "add"), data

    their_rows = list(rows_of(model, world.theirs)[:1])
    our_rows = list(rows_of(model, [world.ours])[:1]) if path_to_establishment(model) else []
    for obj in their_rows + [row for row in our_rows if row not in their_rows]:
        url = admin_url(model, "change", obj.pk)
        yield "get", url, {}
        attempts = post_data(model_admin, world, obj)
        if model_admin.has_change_permission(request, obj):
            attempts = [effective(world, url, attempts)]
        for data in attempts[:1]:
            yield "post", url, data
        yield "get", admin_url(model, "history", obj.pk), {}
        yield "get", admin_url(model, "delete", obj.pk), {}
        yield "post", admin_url(model, "delete", obj.pk), {"post": "yes"}

    selected = [str(pk) for pk in rows_of(model, world.theirs).values_list("pk", flat=True)]
    for action in model_admin.get_actions(request):
        data = {"action": action, "_selected_action": selected, "index": "0", "post": "yes"}
        yield "post", admin_url(model, "changelist"), data

    sources = [(model, model_admin)] + [(inline.model, inline) for inline in model_admin.get_inline_instances(request)]
    for source, source_admin in sources:
        for field_name in source_admin.get_autocomplete_fields(request):
            params = {"app_label": source._meta.app_label, "model_name": source._meta.model_name, "field_name": field_name}
            yield "get", reverse("admin:autocomplete"), {**params, "term": ""}


def test_a_manager_marked_staff_changes_and_reads_nothing_through_any_admin_page_form_inline_or_autocomplete(world):
    registered = dict(admin.site._registry)
    assert {Membership, User, Establishment, Connection, AccessLog, Invitation} <= set(registered)
    login_url = reverse("admin:login")
    refused, not_refused, changed = 0, [], []

    for model, model_admin in registered.items():
        before = snapshot()
        for method, url, data in requests_for(model, model_admin, world):
            response = getattr(world.manager, method)(url, data)
            body = response.content.decode(errors="replace")
            if (
                response.status_code != 302
                or not response["Location"].startswith(login_url + "?")
                or any(secret in body for secret in THEIR_SECRETS)
            ):
                not_refused.append(f"{method.upper()} {url} -> {response.status_code}")
            else:
                refused += 1
        changed += [f"{model._meta.label}: {table}" for table in changed_tables(before, snapshot())]

    assert changed == []
    assert not_refused == []
    assert refused > 10 * len(registered)


def test_the_admin_login_page_shows_a_manager_nothing_of_any_establishment(world):
    page = world.manager.get(reverse("admin:login"))

    assert page.status_code == 200
    assert not any(secret in page.text for secret in THEIR_SECRETS)
    assert "Le Petit Bistrot" not in page.text
    assert page.context["has_permission"] is False


def test_the_attack_from_the_audit_changes_nothing(world):
    """A manager of A grants herself B, attaches B's kitchen user to A and sets that user's password."""
    mallory = User.objects.get(username="mallory")
    cook = User.objects.get(username="cuisinier-secret")
    theirs = world.theirs[0]
    own_page = admin_url(User, "change", mallory.pk)
    grant_herself = {
        "username": "mallory",
        "is_active": "on",
        "is_staff": "on",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": str(mallory.memberships.get().pk),
        "memberships-0-user": str(mallory.pk),
        "memberships-0-establishment": str(world.ours.pk),
        "memberships-0-role": "manager",
        "memberships-1-user": str(mallory.pk),
        "memberships-1-establishment": str(theirs.pk),
        "memberships-1-role": "manager",
    }
    attach_cook = {"user": str(cook.pk), "establishment": str(world.ours.pk), "role": "staff"}
    new_password = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    before = snapshot()

    world.manager.post(own_page, grant_herself)
    world.manager.post(admin_url(Membership, "add"), attach_cook)
    world.manager.post(reverse("admin:auth_user_password_change", args=[cook.pk]), new_password)

    assert changed_tables(before, snapshot()) == []
    assert not Membership.objects.filter(user=mallory, establishment=theirs).exists()
    cook.refresh_from_db()
    assert not cook.check_password(NEW_PASSWORD)
    assert world.manager.get(reverse("orders:list", args=[theirs.pk])).status_code == 404
