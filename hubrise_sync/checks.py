"""System checks of the HubRise settings, run by ``manage.py check --deploy``."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def client_secret_is_set(app_configs, **kwargs) -> list[checks.CheckMessage]:
    # Without it nothing fails at start-up, but every callback is refused with a 401,
    # which HubRise counts as delivered: its events would be lost without a sound.
    if settings.HUBRISE_CLIENT_SECRET:
        return []
    return [
        checks.Warning(
            "HUBRISE_CLIENT_SECRET is not set: every HubRise callback will be refused (401) and its event lost, "
            "and HubRise cannot be connected.",
            hint="Set HUBRISE_CLIENT_SECRET to the client secret of our HubRise app (HubRise's developer settings).",
            id="hubrise_sync.W001",
        )
    ]
