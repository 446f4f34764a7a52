import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from orders.demo import random_order
from orders.models import ApiKey, Company, Establishment, Membership, StatusChange
from orders.services import change_status, create_order

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "bistrot-demo-2026"
STAFF_USERNAME = "cuisine"
# The platform's operator: the only kind of login the Django admin lets in.
ADMIN_USERNAME = "plateforme"
ADMIN_PASSWORD = "plateforme-demo-2026"

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
            self._ensure_platform_admin()
            self._print_logins(api_key=None)
            return
        company = Company.objects.create(name="Get Resto Démo")
        bistrot = Establishment.objects.create(company=company, name="Le Petit Bistrot", timezone="Europe/Paris", currency="EUR")
        brasserie = Establishment.objects.create(
            company=company, name="La Brasserie du Port", timezone="Europe/Paris", currency="EUR"
        )
        manager = User.objects.create_user(DEMO_USERNAME, "demo@getresto.example", DEMO_PASSWORD, first_name="Claire")
        cook = User.objects.create_user(STAFF_USERNAME, "cuisine@getresto.example", DEMO_PASSWORD, first_name="Marc")
        self._ensure_platform_admin()
        for establishment in (bistrot, brasserie):
            Membership.objects.create(user=manager, establishment=establishment, role=Membership.Role.MANAGER)
        Membership.objects.create(user=cook, establishment=bistrot, role=Membership.Role.STAFF)
        _, raw_key = ApiKey.generate(bistrot, "Menu QR code (démo)")

        rng = random.Random(2026)
        now = timezone.now()
        for index in range(orders):
            establishment = bistrot if index % 6 else brasserie
            placed = now - timedelta(minutes=(orders - index) * 7)
            order = create_order(establishment, random_order(rng, placed), source=StatusChange.Source.SYSTEM, created_at=placed)
            for status in PATHS[index % len(PATHS)]:
                change_status(order, status, source=StatusChange.Source.SYSTEM, reason="Démo")
        self.stdout.write(self.style.SUCCESS(f"Demo restaurant created with {orders} orders."))
        self._print_logins(api_key=raw_key)

    def _ensure_platform_admin(self) -> None:
        """The platform admin exists and the demo manager is a restaurant manager only, even in a demo
        database seeded when the demo manager was also the admin's superuser."""
        User = get_user_model()
        User.objects.filter(username=DEMO_USERNAME).update(is_superuser=False, is_staff=False)
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(ADMIN_USERNAME, "plateforme@getresto.example", ADMIN_PASSWORD)

    def _print_logins(self, api_key: str | None) -> None:
        self.stdout.write(f"  Manager login  : {DEMO_USERNAME} / {DEMO_PASSWORD}  (Équipe and API key pages)")
        self.stdout.write(f"  Kitchen login  : {STAFF_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"  Platform admin : {ADMIN_USERNAME} / {ADMIN_PASSWORD}  (Django admin, /admin/)")
        if api_key:
            self.stdout.write(f"  Intake API key of Le Petit Bistrot (shown once): {api_key}")
