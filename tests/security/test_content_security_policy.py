"""The Content-Security-Policy header on every kind of page, and templates that need nothing it forbids.

That the browser then reports no violation on the live pages: tests/browser/test_content_security_policy.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from orders.models import Membership
from tests.factories import PASSWORD, make_establishment, make_order, make_user

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']} ({response.status_code})"
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


def assert_strict(response) -> None:
    policy = policy_of(response)
    for directive, value in STRICT.items():
        assert policy.get(directive) == value, (response.request["PATH_INFO"], directive, policy.get(directive))
    assert "unsafe" not in response.headers["Content-Security-Policy"]


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def order(establishment):
    return make_order(establishment)


@pytest.fixture
def staff(establishment) -> Client:
    client = Client()
    client.force_login(make_user(establishment, username="claire", role=Membership.Role.MANAGER))
    return client


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", PASSWORD))
    return client


def test_the_login_page_and_error_pages_carry_the_strict_policy(client):
    assert_strict(client.get(reverse("login")))
    assert_strict(client.get("/no-such-page/"))


def test_every_staff_page_and_fragment_carries_the_strict_policy(staff, establishment, order):
    ids = [establishment.pk, order.pk]
    pages = [
        reverse("orders:list", args=[establishment.pk]),
        reverse("orders:list_live", args=[establishment.pk]),
        reverse("orders:detail", args=ids),
        reverse("orders:detail_live", args=ids),
        reverse("orders:list", args=[establishment.pk + 1000]),
    ]
    for url in pages:
        assert_strict(staff.get(url))
    assert_strict(staff.post(reverse("orders:change_status", args=ids), {"status": "accepted", "expected_current": "new"}))


def test_the_hubrise_page_may_send_its_connect_form_on_to_hubrise_only(staff, establishment, settings):
    # Browsers apply form-action to the redirect after the POST: Connect leads to HubRise's consent page.
    settings.HUBRISE_OAUTH_URL = "https://manager.hubrise.com/oauth2/v1"

    policy = policy_of(staff.get(reverse("hubrise:settings", args=[establishment.pk])))

    assert policy["form-action"] == "'self' https://manager.hubrise.com"
    assert {name: policy[name] for name in STRICT if name != "form-action"} == {
        name: value for name, value in STRICT.items() if name != "form-action"
    }


def test_the_admin_carries_the_strict_policy(superuser, order):
    for url in ("/admin/", "/admin/orders/order/", f"/admin/orders/order/{order.pk}/change/", "/admin/auth/user/add/"):
        assert_strict(superuser.get(url))


def test_the_api_and_swagger_ui_carry_the_strict_policy(client):
    assert_strict(client.get("/api/v1/orders/"))
    assert_strict(client.get("/api/schema/"))
    docs = client.get("/api/docs/")
    assert_strict(docs)
    # Swagger UI's start-up script is a file of its own, not an inline <script>.
    assert b"?script=" in docs.content
    assert_strict(client.get("/api/docs/?script="))


def test_redoc_may_only_add_inline_styles_and_a_blob_worker(client):
    policy = policy_of(client.get("/api/redoc/"))

    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["worker-src"] == "blob:"
    assert policy["default-src"] == "'self'"


# The sandbox is HubRise's stand-in, a process of its own: not our pages.
TEMPLATE_FOLDERS = [
    REPO_ROOT / "templates",
    *(path for path in REPO_ROOT.glob("*/templates") if path.parent.name != "hubrise_sandbox"),
]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_style_or_event_handler():
    offenders = []
    for folder in TEMPLATE_FOLDERS:
        for template in folder.rglob("*.html"):
            text = template.read_text()
            for name, pattern in (("script", INLINE_SCRIPT), ("style", INLINE_STYLE), ("handler", INLINE_HANDLER)):
                offenders += [f"{template.relative_to(REPO_ROOT)}: inline {name}" for _ in pattern.finditer(text)]

    assert offenders == []
