"""Attach an establishment to HubRise with a token obtained elsewhere (before or instead of OAuth).

The token is read from the HUBRISE_ACCESS_TOKEN environment variable or typed
at a hidden prompt, never from the command line (it would stay in the shell
history and the process list), and is never printed.
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from hubrise_sync import oauth
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.connection_services import ConnectionRefused, ReplacementNeeded, connect_establishment, connection_of
from orders.models import Establishment


class Command(BaseCommand):
    help = "Attach an establishment to a HubRise location with an existing access token (validated with GET /location)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("establishment_id", type=int)
        parser.add_argument("--location-id", help="HubRise location id; default: the token's own location")
        parser.add_argument("--replace", action="store_true", help="switch an establishment connected to another location")

    def handle(self, *args, establishment_id: int, location_id: str | None = None, replace: bool = False, **options) -> None:
        try:
            establishment = Establishment.objects.get(pk=establishment_id)
        except Establishment.DoesNotExist:
            raise CommandError(f"No establishment {establishment_id}.") from None
        token = os.environ.get("HUBRISE_ACCESS_TOKEN", "").strip() or getpass.getpass("HubRise access token: ").strip()
        if not token:
            raise CommandError("No token given (HUBRISE_ACCESS_TOKEN or the prompt).")

        client = HubRiseClient(token)
        try:
            path = f"/locations/{location_id}" if location_id else "/location"
            location = client.request("GET", path).data or {}
        except HubRiseError as error:
            raise CommandError(f"HubRise refused the token: {error}") from None
        account = location.get("account") or {}
        grant = oauth.Grant(
            access_token=token,
            location_id=str(location.get("id") or location_id),
            location_name=str(location.get("name") or ""),
            account_id=str(account.get("id") or location.get("account_id") or ""),
            account_name=str(account.get("name") or ""),
        )
        created = connection_of(establishment) is None
        # The same checks and callback registration as the settings page.
        try:
            connection = connect_establishment(establishment, grant, user=None, replace=replace)
        except ReplacementNeeded as other:
            raise CommandError(f"{establishment} is connected to HubRise location {other}; pass --replace to switch.") from None
        except (ConnectionRefused, HubRiseError) as error:
            raise CommandError(str(error)) from None
        verb = "Attached" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {establishment} → {connection.account_name or connection.account_id} / "
                f"{connection.location_name} ({connection.location_id}), token {connection.masked_token}, "
                f"{connection.callback_mode} callback; "
                "held messages released."
            )
        )
