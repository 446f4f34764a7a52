import random

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders import extensions
from orders.demo import random_order
from orders.models import Establishment, StatusChange
from orders.services import create_order


class Command(BaseCommand):
    help = "Create realistic orders through the same service as the intake API."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10)
        parser.add_argument("--establishment", type=int, help="Establishment id (default: every establishment).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable runs.")

    def handle(self, *args, count: int, establishment: int | None, seed: int | None, **options):
        if count < 1:
            raise CommandError("--count must be at least 1.")
        establishments = Establishment.objects.all()
        if establishment is not None:
            establishments = establishments.filter(pk=establishment)
        establishments = list(establishments)
        if not establishments:
            raise CommandError("No such establishment.")
        rng = random.Random(seed)
        # An establishment with a menu gets orders drawn from it.
        menus = {target.pk: extensions.demo_menu_of(target) for target in establishments}
        for _ in range(count):
            target = rng.choice(establishments)
            create_order(target, random_order(rng, timezone.now(), menu=menus[target.pk]), source=StatusChange.Source.SYSTEM)
        self.stdout.write(f"Created {count} orders.")
