import hashlib
import secrets
import uuid
import zoneinfo
from datetime import datetime
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.status import OrderStatus, ServiceType, Tab

MONEY = {"max_digits": 12, "decimal_places": 2}


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_country(value: str) -> None:
    # The countries whose phone numbers we can read: every ISO 3166 code phonenumbers knows.
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(_("%(value)s is not a known country code (ISO 3166, e.g. FR)."), params={"value": value})


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Acceptance(models.TextChoices):
    """Whether an establishment takes new orders: HubRise's location order_acceptance modes."""

    ONLINE = "online", _("Taking orders")
    # Still taking orders, but each needs extra preparation time.
    BUSY = "busy", _("Very busy")
    # No new orders from the ordering front until it resumes.
    PAUSED = "paused", _("Paused")


class Establishment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="establishments", verbose_name=_("company"))
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone])
    currency = models.CharField(_("currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR."))
    country = models.CharField(
        _("country"),
        max_length=2,
        default="FR",
        validators=[validate_country],
        help_text=_("ISO 3166 code, e.g. FR: phone numbers written without a country code are read as this country's."),
    )
    last_order_number = models.PositiveIntegerField(default=0, editable=False)
    # Bumped in the transaction of anything an open screen of the establishment shows (orders.screen_versions):
    # a poll that finds it unchanged answers without rendering.
    screen_version = models.BigIntegerField(default=0, db_default=0, editable=False)
    preparation_time = models.PositiveSmallIntegerField(
        _("preparation time"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Minutes from acceptance to ready, usually: the ready time offered first when accepting an order."),
    )
    staff_may_pause = models.BooleanField(
        _("staff may pause orders"), default=False, help_text=_("Otherwise only managers pause orders or set the busy mode.")
    )

    # Whether new orders are taken, as HubRise's location.order_acceptance says it: written by
    # orders.acceptance only. A pause or busy mode with an end needs no job to end it: once
    # acceptance_until has passed, readers see "online" (Establishment.acceptance_now).
    acceptance = models.CharField(_("order acceptance"), max_length=8, choices=Acceptance.choices, default=Acceptance.ONLINE)
    acceptance_until = models.DateTimeField(_("until"), null=True, blank=True)
    busy_extra_time = models.PositiveSmallIntegerField(_("extra preparation time"), default=0)
    pause_reason = models.CharField(_("reason for the pause"), max_length=200, blank=True)
    acceptance_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    acceptance_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    acceptance_changed_source = models.CharField(max_length=16, blank=True, editable=False)
    # The order channels seen so far (Order.channel), offered by the list's filter without a query of their own.
    channels = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("establishment")
        verbose_name_plural = _("establishments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def acceptance_now(self, now: datetime | None = None) -> str:
        """The acceptance mode in force: a pause or busy mode whose end has passed is over."""
        now = now or timezone.now()
        if self.acceptance != Acceptance.ONLINE and self.acceptance_until is not None and self.acceptance_until <= now:
            return Acceptance.ONLINE
        return self.acceptance

    def preparation_time_now(self, now: datetime | None = None) -> int:
        """Minutes from acceptance to ready, the busy mode's extra time included while it lasts."""
        extra = self.busy_extra_time if self.acceptance_now(now) == Acceptance.BUSY else 0
        return self.preparation_time + extra


class Membership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        # Its own context: in French the role ("Employé") is not the source of a change ("Équipe").
        STAFF = "staff", pgettext_lazy("role", "Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "establishment"], name="one_membership_per_establishment")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.establishment} ({self.get_role_display()})"


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def revoke(self) -> int:
        """Revoke the keys still active, at once for every request that uses them; returns how many."""
        return self.active().update(revoked_at=timezone.now())


class ApiKey(models.Model):
    """A key the ordering front uses to send one establishment's orders.

    Only a SHA-256 of the key is stored: keys are long random strings, so a
    slow password hash would add latency without adding safety.
    """

    PREFIX_LENGTH = 8

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate(cls, establishment: Establishment, name: str) -> tuple["ApiKey", str]:
        """Create a key and return it with its clear value, shown only once."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        raw_key = f"gr_{prefix}_{secrets.token_urlsafe(32)}"
        api_key = cls.objects.create(establishment=establishment, name=name, prefix=prefix, key_hash=cls.hash(raw_key))
        return api_key, raw_key


class Order(models.Model):
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="orders", verbose_name=_("establishment")
    )
    # Our unique id, sent to HubRise as private_ref so that a retried create can be found again.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ref = models.CharField(_("reference"), max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=32, choices=OrderStatus.choices, default=OrderStatus.NEW)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    created_at = models.DateTimeField(_("placed at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=16, default="api")
    # Where the guest ordered, as HubRise's order "channel" names it: our ordering fronts (by their
    # API key's name unless they say), the delivery platforms of orders that come through HubRise.
    channel = models.CharField(_("channel"), max_length=100, blank=True, db_default="")

    service_type = models.CharField(_("service type"), max_length=16, choices=ServiceType.choices, blank=True)
    service_type_ref = models.CharField(_("service type code"), max_length=100, blank=True)
    table_name = models.CharField(_("table"), max_length=64, blank=True)
    expected_time = models.DateTimeField(
        _("expected time"), null=True, blank=True, help_text=_("Empty means as soon as possible.")
    )
    confirmed_time = models.DateTimeField(_("confirmed time"), null=True, blank=True)

    customer_first_name = models.CharField(_("first name"), max_length=100, blank=True)
    customer_last_name = models.CharField(_("last name"), max_length=100, blank=True)
    customer_company_name = models.CharField(_("company name"), max_length=200, blank=True)
    customer_email = models.EmailField(_("email"), blank=True)
    customer_phone = models.CharField(_("phone"), max_length=32, blank=True)
    customer_address_1 = models.CharField(_("address"), max_length=255, blank=True)
    customer_address_2 = models.CharField(_("address (continued)"), max_length=255, blank=True)
    customer_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    customer_city = models.CharField(_("city"), max_length=100, blank=True)
    customer_country = models.CharField(_("country"), max_length=100, blank=True)
    customer_delivery_notes = models.TextField(_("delivery notes"), blank=True)

    customer_notes = models.TextField(_("customer notes"), blank=True)
    seller_notes = models.TextField(_("seller notes"), blank=True)
    collection_code = models.CharField(_("collection code"), max_length=32, blank=True)
    coupon_codes = models.JSONField(_("coupon codes"), default=list, blank=True)

    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0.00"))
    item_count = models.PositiveIntegerField(_("items"), default=0)

    # Derived from status and the confirmed (or else expected) time, and written
    # with them by orders.services only: stored so that each tab of the list, in
    # its order, is one range of one index, whatever the number of orders.
    tab = models.CharField(_("tab"), max_length=16, choices=Tab.choices, default=Tab.RECEIVED, editable=False)
    due_at = models.DateTimeField(_("due at"), default=timezone.now, editable=False)
    # When someone first opened the order's page: until then a new order stays highlighted in the list.
    first_opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True, editable=False)
    # The same for what the order's page refreshes (orders.screen_versions).
    screen_version = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [
            # The active tabs, soonest due first, and the finished ones, newest first (scanned backwards).
            models.Index(fields=["establishment", "tab", "due_at", "id"], name="order_tab_by_due"),
            models.Index(fields=["establishment", "tab", "created_at", "id"], name="order_tab_by_created"),
            # Small partial indexes for the list's alerts: orders still new, and orders nobody opened yet.
            models.Index(
                fields=["establishment", "created_at"], condition=models.Q(status=OrderStatus.NEW), name="order_new_by_created"
            ),
            models.Index(
                fields=["establishment", "id"],
                condition=models.Q(tab=Tab.RECEIVED, first_opened_at__isnull=True),
                name="order_unopened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} ({self.get_status_display()})"

    @property
    def customer_name(self) -> str:
        return " ".join(part for part in (self.customer_first_name, self.customer_last_name) if part)


class OrderStatusCount(models.Model):
    """How many orders of an establishment have each status, kept by orders.services in the
    transaction that creates or moves an order, so that the tab counts never scan the orders."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="status_counts")
    status = models.CharField(max_length=32, choices=OrderStatus.choices)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["establishment", "status"], name="one_count_per_status")]

    def __str__(self) -> str:
        return f"{self.establishment_id} {self.status}: {self.count}"


class StatusChange(models.Model):
    """One line of an order's history: its creation or a change of status."""

    class Source(models.TextChoices):
        STAFF = "staff", _("Staff")
        API = "api", _("Ordering front")
        ADMIN = "admin", _("Administration")
        HUBRISE = "hubrise", _("HubRise")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=32, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=32, choices=OrderStatus.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # Which app made the change when HubRise tells us (e.g. the POS's name).
    source_detail = models.CharField(_("by"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class ReadyTimeChange(models.Model):
    """When the restaurant said the order will be ready: set on acceptance, pushed back by a delay."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="ready_time_changes")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=StatusChange.Source.choices)
    # Which app moved it when HubRise tells us (the POS's name), so that the history can say who.
    source_detail = models.CharField(_("by"), max_length=200, blank=True, db_default="")
    previous_time = models.DateTimeField(_("previous ready time"), null=True, blank=True)
    confirmed_time = models.DateTimeField(_("ready time"))

    class Meta:
        verbose_name = _("ready time change")
        verbose_name_plural = _("ready time changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.previous_time} → {self.confirmed_time}"


class OrderEdit(models.Model):
    """A change of the order's content made elsewhere (the POS, a delivery platform): a line of its history.

    Status and ready-time changes have their own records; this one covers what else
    another app may change on an order (its items, the seller's notes).
    """

    class Field(models.TextChoices):
        ITEMS = "items", _("items")
        SELLER_NOTES = "seller_notes", _("seller notes")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="edits")
    at = models.DateTimeField(_("at"), default=timezone.now)
    field = models.CharField(_("changed"), max_length=32, choices=Field.choices)
    source = models.CharField(_("source"), max_length=16, choices=StatusChange.Source.choices)
    source_detail = models.CharField(_("by"), max_length=200, blank=True)
    # What it says now, in short, for the history ("2 × Croque-monsieur, 1 × Café").
    summary = models.TextField(_("now"), blank=True)

    class Meta:
        verbose_name = _("order change")
        verbose_name_plural = _("order changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.field}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    product_name = models.CharField(_("product"), max_length=200)
    sku_name = models.CharField(_("size or variant"), max_length=200, blank=True)
    sku_ref = models.CharField(_("SKU code"), max_length=100, blank=True)
    price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=3, null=True, blank=True)
    customer_notes = models.TextField(_("notes"), blank=True)
    subtotal = models.DecimalField(_("line total"), **MONEY)
    deal_key = models.CharField(_("deal"), max_length=16, blank=True)
    deal_label = models.CharField(_("deal line"), max_length=200, blank=True)
    deal_pricing_effect = models.CharField(max_length=32, blank=True)
    deal_pricing_value = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity.normalize()} × {self.product_name}"


class OrderItemOption(models.Model):
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveIntegerField(default=0)
    option_list_name = models.CharField(_("option list"), max_length=200)
    name = models.CharField(_("option"), max_length=200)
    ref = models.CharField(_("code"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), **MONEY, default=Decimal("0.00"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    removed = models.BooleanField(_("removed"), default=False)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.option_list_name}: {self.name}"


class Deal(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deals")
    key = models.CharField(_("key"), max_length=16)
    name = models.CharField(_("name"), max_length=200)
    ref = models.CharField(_("code"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="deal_key_unique_per_order")]

    def __str__(self) -> str:
        return self.name


class Discount(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200)
    ref = models.CharField(_("code"), max_length=100, blank=True)
    price_off = models.DecimalField(_("amount off"), **MONEY)

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Charge(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="charges")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200)
    ref = models.CharField(_("code"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=3, null=True, blank=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200, blank=True)
    ref = models.CharField(_("code"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    info = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name or self.ref or str(self.amount)


class IdempotentRequest(models.Model):
    """An order the intake API created for an ``Idempotency-Key``, and the answer it gave.

    A client that retries (its first answer lost to a timeout or a 5xx) sends the
    same key and gets this answer again instead of a second order. The unique
    constraint is what serialises two requests with one key: the second waits on
    the first's uncommitted row and then reads its answer. Kept for
    IDEMPOTENCY_KEY_HOURS (24 h), then purged by the retention task.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+", verbose_name=_("API key"))
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 of the request body as canonical JSON: the same order sent again, whatever its spacing or key order.
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status_code = models.PositiveSmallIntegerField()
    # The body exactly as first sent, so that a retry gets the same bytes.
    response_body = models.TextField()
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="one_answer_per_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} → {self.order_id}"
