import random
from dataclasses import replace
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from orders.demo import random_order
from orders.models import ApiKey, Company, Establishment, Membership, Order, ReadyTimeChange, StatusChange
from orders.services import change_status, create_order

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "bistrot-demo-2026"
STAFF_USERNAME = "cuisine"
# The platform's operator: the only kind of login the Django admin lets in.
ADMIN_USERNAME = "plateforme"
ADMIN_PASSWORD = "plateforme-demo-2026"
DEMO_ESTABLISHMENT = "Le Petit Bistrot"
SYSTEM = StatusChange.Source.SYSTEM

# A lunch service as it stands: (minutes since the order was placed, where it is now, minutes it
# took from acceptance to ready, or None). Finished orders first, then the kitchen's current work,
# then the two orders that just came in and nobody has opened yet.
SERVICE = [
    (190, "completed", 18),
    (175, "completed", 15),
    (160, "completed", 22),
    (150, "cancelled", None),
    (140, "completed", 16),
    (128, "completed", 25),
    (115, "completed", 14),
    (104, "rejected", None),
    (95, "completed", 19),
    (84, "completed", 31),
    (72, "completed", 17),
    (60, "completed", 15),
    (50, "completed", 20),
    (38, "in_delivery", 18),
    (27, "awaiting_collection", 16),
    (21, "in_preparation", None),
    (16, "in_preparation", None),
    (12, "in_preparation", None),
    (8, "accepted", None),
    (6, "received", None),
    (3, "new", None),
    (1, "new", None),
]
REASONS = {"cancelled": "Rupture de stock", "rejected": "Adresse hors zone de livraison"}
READY = {"delivery": "awaiting_shipment", "collection": "awaiting_collection", "eat_in": "awaiting_collection"}


class Command(BaseCommand):
    help = "Create the demo restaurant, its staff logins and a lunch service of orders (once)."

    @transaction.atomic
    def handle(self, *args, **options):
        existing = Establishment.objects.filter(name=DEMO_ESTABLISHMENT).first()
        if existing is not None:
            self._ensure_platform_admin()
            self._print_logins(existing, api_key=None)
            return
        User = get_user_model()
        company = Company.objects.create(name="Get Resto Démo")
        bistrot = Establishment.objects.create(company=company, name=DEMO_ESTABLISHMENT, timezone="Europe/Paris", currency="EUR")
        brasserie = Establishment.objects.create(
            company=company, name="La Brasserie du Port", timezone="Europe/Paris", currency="EUR"
        )
        manager = User.objects.create_user(DEMO_USERNAME, "demo@getresto.example", DEMO_PASSWORD, first_name="Claire")
        cook = User.objects.create_user(STAFF_USERNAME, "cuisine@getresto.example", DEMO_PASSWORD, first_name="Marc")
        self._ensure_platform_admin()
        # Le Petit Bistrot first: the manager's first establishment is the one the back office opens.
        for establishment in (bistrot, brasserie):
            Membership.objects.create(user=manager, establishment=establishment, role=Membership.Role.MANAGER)
        Membership.objects.create(user=cook, establishment=bistrot, role=Membership.Role.STAFF)
        _, raw_key = ApiKey.generate(bistrot, "Menu QR code (démo)")

        rng = random.Random(2026)
        now = timezone.now()
        for minutes, status, preparation in SERVICE:
            self._order(bistrot, rng, now, minutes, status, preparation)
        for minutes, status, preparation in SERVICE[::4]:
            self._order(brasserie, rng, now, minutes + 3, status, preparation)
        self._pre_order(bistrot, rng, now)
        self.stdout.write(self.style.SUCCESS(f"Demo restaurant created: {DEMO_ESTABLISHMENT} and its lunch service."))
        self._print_logins(bistrot, api_key=raw_key)

    def _order(self, establishment, rng, now: datetime, minutes: int, status: str, preparation: int | None) -> None:
        placed = now - timedelta(minutes=minutes)
        service_type = "delivery" if status == "in_delivery" else "collection" if status == "awaiting_collection" else None
        order = create_order(
            establishment, random_order(rng, placed, service_type=service_type), source=SYSTEM, created_at=placed
        )
        if status in REASONS:
            _step(order, status, placed + timedelta(minutes=2), reason=REASONS[status])
        else:
            accepted = placed + timedelta(minutes=2)
            cooking = preparation or rng.randrange(15, 26)
            ready = accepted + timedelta(minutes=cooking)
            if order.expected_time and order.expected_time > ready:
                ready = order.expected_time
            times = {
                "received": placed + timedelta(minutes=1),
                "accepted": accepted,
                "in_preparation": accepted + timedelta(minutes=1),
                READY[order.service_type]: accepted + timedelta(minutes=cooking),
                "in_delivery": accepted + timedelta(minutes=cooking + 2),
                "completed": accepted + timedelta(minutes=cooking + 6),
            }
            for step in _path(order.service_type, status):
                _step(order, step, min(times[step], now), ready=ready if step == "accepted" else None)
        if status != "new":
            # Only the newest orders are still waiting for someone to open them.
            Order.objects.filter(pk=order.pk).update(first_opened_at=placed + timedelta(minutes=1))

    def _pre_order(self, establishment, rng, now: datetime) -> None:
        """An order for tomorrow's lunch, accepted: the list shows it under "Later days"."""
        tomorrow = timezone.localtime(now, establishment.tzinfo).replace(hour=12, minute=30, second=0, microsecond=0)
        tomorrow += timedelta(days=1)
        placed = now - timedelta(minutes=45)
        data = replace(random_order(rng, placed, service_type="collection"), expected_time=tomorrow)
        order = create_order(establishment, data, source=SYSTEM, created_at=placed)
        _step(order, "received", placed + timedelta(minutes=2))
        _step(order, "accepted", placed + timedelta(minutes=3), ready=tomorrow)
        Order.objects.filter(pk=order.pk).update(first_opened_at=placed + timedelta(minutes=2))

    def _ensure_platform_admin(self) -> None:
        """The platform admin exists and the demo manager is a restaurant manager only, even in a demo
        database seeded when the demo manager was also the admin's superuser."""
        User = get_user_model()
        User.objects.filter(username=DEMO_USERNAME).update(is_superuser=False, is_staff=False)
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(ADMIN_USERNAME, "plateforme@getresto.example", ADMIN_PASSWORD)

    def _print_logins(self, establishment: Establishment, api_key: str | None) -> None:
        self.stdout.write(f"  Manager login  : {DEMO_USERNAME} / {DEMO_PASSWORD}  (Équipe and API key pages)")
        self.stdout.write(f"  Kitchen login  : {STAFF_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"  Platform admin : {ADMIN_USERNAME} / {ADMIN_PASSWORD}  (Django admin, /admin/)")
        if api_key:
            self.stdout.write(f"  Intake API key of {establishment.name} (shown once): {api_key}")
        self.stdout.write(
            f"  New API key    : page Clés API, or .venv/bin/python manage.py create_api_key"
            f" --establishment {establishment.pk} --name 'Menu QR code'"
        )


def _path(service_type: str, final: str) -> list[str]:
    """The statuses an order goes through to reach ``final``, as the kitchen would set them."""
    steps = ["received", "accepted", "in_preparation", READY[service_type]]
    steps += ["in_delivery", "completed"] if service_type == "delivery" else ["completed"]
    return steps[: steps.index(final) + 1] if final in steps else []


def _step(order: Order, status: str, at: datetime, *, reason: str = "", ready: datetime | None = None) -> None:
    """One status change through the service, then dated when it happened in the demo's story."""
    change = change_status(order, status, source=SYSTEM, reason=reason, confirmed_time=ready)
    if change is None:
        return
    StatusChange.objects.filter(pk=change.pk).update(at=at)
    ReadyTimeChange.objects.filter(order=order, at__gt=at).update(at=at)
    Order.objects.filter(pk=order.pk).update(status_changed_at=at)
