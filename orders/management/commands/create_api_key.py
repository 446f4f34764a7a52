from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import ApiKey, Establishment


class Command(BaseCommand):
    help = "Create an API key for an establishment's ordering front and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--establishment", type=int, required=True, help="Establishment id.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. “QR menu”.")

    def handle(self, *args, establishment: int, name: str, **options) -> None:
        try:
            target = Establishment.objects.get(pk=establishment)
        except Establishment.DoesNotExist:
            raise CommandError(f"No establishment with id {establishment}.") from None
        api_key, raw_key = ApiKey.generate(target, name)
        self.stderr.write(f"API key “{api_key.name}” for {target.name} (prefix {api_key.prefix}). It is shown only this once:")
        self.stdout.write(raw_key)
