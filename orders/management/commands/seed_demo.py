import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from orders import extensions
from orders.demo import random_order
from orders.models import ApiKey, Company, Establishment, Membership, StatusChange
from orders.services import change_status, create_order

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "bistrot-demo-2026"
STAFF_USERNAME = "cuisine"

# Where each demo order ends up, so that every tab has something to show.
PATHS = [
    [],
    ["received"],
    ["accepted"],
    ["accepted", "in_preparation"],
    ["accepted", "in_preparation", "awaiting_collection"],
    ["accepted", "in_preparation", "completed"],
    ["cancelled"],
    ["rejected"],
]


class Command(BaseCommand):
    help = "Create the demo restaurant, its staff logins and a few dozen orders (once)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=36)

    @transaction.atomic
    def handle(self, *args, orders: int, **options):
        User = get_user_model()
        if Establishment.objects.filter(name="Le Petit Bistrot").exists():
            self._print_logins(api_key=None)
            return
        company = Company.objects.create(name="Get Resto Démo")
        bistrot = Establishment.objects.create(company=company, name="Le Petit Bistrot", timezone="Europe/Paris", currency="EUR")
        brasserie = Establishment.objects.create(
            company=company, name="La Brasserie du Port", timezone="Europe/Paris", currency="EUR"
        )
        manager = User.objects.create_user(
            DEMO_USERNAME, "demo@getresto.example", DEMO_PASSWORD, first_name="Claire", is_staff=True
        )
        cook = User.objects.create_user(STAFF_USERNAME, "cuisine@getresto.example", DEMO_PASSWORD, first_name="Marc")
        User.objects.filter(pk=manager.pk).update(is_superuser=True)
        for establishment in (bistrot, brasserie):
            Membership.objects.create(user=manager, establishment=establishment, role=Membership.Role.MANAGER)
        Membership.objects.create(user=cook, establishment=bistrot, role=Membership.Role.STAFF)
        _, raw_key = ApiKey.generate(bistrot, "Menu QR code (démo)")

        for setup in extensions.demo_setup:
            setup(bistrot)
        menus = {establishment.pk: extensions.demo_menu_of(establishment) for establishment in (bistrot, brasserie)}

        rng = random.Random(2026)
        now = timezone.now()
        for index in range(orders):
            establishment = bistrot if index % 6 else brasserie
            placed = now - timedelta(minutes=(orders - index) * 7)
            new_order = random_order(rng, placed, menu=menus[establishment.pk])
            order = create_order(establishment, new_order, source=StatusChange.Source.SYSTEM, created_at=placed)
            for status in PATHS[index % len(PATHS)]:
                change_status(order, status, source=StatusChange.Source.SYSTEM, reason="Démo")
        self.stdout.write(self.style.SUCCESS(f"Demo restaurant created with {orders} orders."))
        self._print_logins(api_key=raw_key)

    def _print_logins(self, api_key: str | None) -> None:
        self.stdout.write(f"  Manager login : {DEMO_USERNAME} / {DEMO_PASSWORD}  (also Django admin)")
        self.stdout.write(f"  Kitchen login : {STAFF_USERNAME} / {DEMO_PASSWORD}")
        if api_key:
            self.stdout.write(f"  Intake API key of Le Petit Bistrot (shown once): {api_key}")
