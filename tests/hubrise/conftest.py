"""Shared fixtures of the HubRise tests: our app pointed at the sandbox, and a manager logged in."""

import pytest

from hubrise_sync.models import Connection
from orders.models import Membership
from tests.factories import make_establishment, make_user
from tests.hubrise.oauth_steps import connect


@pytest.fixture(autouse=True)
def no_refused_callbacks_counted_yet():
    """The per-address throttle of refused callbacks counts in Redis, across tests: each test starts at zero."""
    from django.core.cache import cache

    from hubrise_sync import broker, quarantine

    cache.clear()
    quarantine.forget_throttle(broker.redis_client())


@pytest.fixture
def hubrise(hubrise_sandbox, settings):
    settings.HUBRISE_OAUTH_URL = hubrise_sandbox.oauth_url
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_ID = hubrise_sandbox.client_id
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    settings.HUBRISE_CALLBACK_MODE = "auto"
    return hubrise_sandbox


@pytest.fixture
def sandbox(hubrise_sandbox, settings):
    """Our app calling the sandbox's API (connections made by tests.hubrise.callbacks, not through OAuth)."""
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_ID = hubrise_sandbox.client_id
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    return hubrise_sandbox


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def manager(client, establishment):
    user = make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    client.force_login(user)
    return user


@pytest.fixture
def connected(client, manager, establishment, hubrise, worker_applies_at_once, django_capture_on_commit_callbacks):
    """The establishment connected to the sandbox's Le Petit Bistrot by OAuth, its catalog imported."""
    hubrise.reset()
    with django_capture_on_commit_callbacks(execute=True):
        connect(client, hubrise, establishment.pk)
    return Connection.objects.get(establishment=establishment)
