import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Coalesce

# A copy of orders.status.TAB_STATUSES as it was when this migration was written.
TAB_STATUSES = {
    "recu": ("new", "received", "accepted"),
    "en-preparation": ("in_preparation", "awaiting_shipment", "awaiting_collection", "in_delivery"),
    "termine": ("completed",),
    "annule": ("rejected", "cancelled", "delivery_failed"),
}


def backfill(apps, schema_editor):
    """Tab, due time and counts of the orders placed before they were stored.

    Existing orders count as opened: staff saw them before this release, and
    they should not all light up and ring at once.
    """
    Order = apps.get_model("orders", "Order")
    OrderStatusCount = apps.get_model("orders", "OrderStatusCount")
    for tab, statuses in TAB_STATUSES.items():
        Order.objects.filter(status__in=statuses).update(tab=tab)
    Order.objects.update(due_at=Coalesce("expected_time", "created_at"), first_opened_at=models.F("created_at"))
    rows = Order.objects.order_by().values("establishment_id", "status").annotate(n=Count("id"))
    OrderStatusCount.objects.bulk_create(
        OrderStatusCount(establishment_id=row["establishment_id"], status=row["status"], count=row["n"]) for row in rows
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderStatusCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("received", "Received"),
                            ("accepted", "Accepted"),
                            ("in_preparation", "In preparation"),
                            ("awaiting_shipment", "Awaiting shipment"),
                            ("awaiting_collection", "Awaiting collection"),
                            ("in_delivery", "In delivery"),
                            ("completed", "Completed"),
                            ("rejected", "Rejected"),
                            ("cancelled", "Cancelled"),
                            ("delivery_failed", "Delivery failed"),
                        ],
                        max_length=32,
                    ),
                ),
                ("count", models.IntegerField(default=0)),
            ],
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="order_tab_by_created",
        ),
        migrations.AddField(
            model_name="order",
            name="due_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="due at"),
        ),
        migrations.AddField(
            model_name="order",
            name="first_opened_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="first opened at"),
        ),
        migrations.AddField(
            model_name="order",
            name="tab",
            field=models.CharField(
                choices=[
                    ("recu", "Received"),
                    ("en-preparation", "In preparation"),
                    ("termine", "Completed"),
                    ("annule", "Cancelled"),
                ],
                default="recu",
                editable=False,
                max_length=16,
                verbose_name="tab",
            ),
        ),
        migrations.AddField(
            model_name="orderstatuscount",
            name="establishment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="status_counts", to="orders.establishment"
            ),
        ),
        migrations.AddConstraint(
            model_name="orderstatuscount",
            constraint=models.UniqueConstraint(fields=("establishment", "status"), name="one_count_per_status"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["establishment", "tab", "due_at", "id"], name="order_tab_by_due"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["establishment", "tab", "created_at", "id"], name="order_tab_by_created"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "new")), fields=["establishment", "created_at"], name="order_new_by_created"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("first_opened_at__isnull", True), ("tab", "recu")),
                fields=["establishment", "id"],
                name="order_unopened",
            ),
        ),
    ]
