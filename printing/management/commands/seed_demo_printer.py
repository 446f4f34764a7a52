import os

from django.core.management.base import BaseCommand

from orders.models import Establishment
from printing.models import Printer, PrintSettings

DEMO_ESTABLISHMENT = "Le Petit Bistrot"


class Command(BaseCommand):
    help = "Give the demo restaurant a kitchen printer: the HubRise sandbox's virtual printer (once)."

    def handle(self, *args, **options):
        establishment = Establishment.objects.filter(name=DEMO_ESTABLISHMENT).order_by("id").first()
        if establishment is None:
            self.stderr.write("No demo restaurant: run seed_demo first.")
            return
        port = int(os.environ.get("HUBRISE_SANDBOX_PRINTER_PORT") or 9100)
        # Created after the demo's orders, so that only the orders arriving from now on print.
        printer, created = Printer.objects.get_or_create(
            establishment=establishment, name="Cuisine", defaults={"host": "127.0.0.1", "port": port}
        )
        PrintSettings.objects.get_or_create(establishment=establishment)
        if created:
            self.stdout.write(self.style.SUCCESS(f"Kitchen printer of {establishment.name}: {printer.host}:{printer.port}"))
