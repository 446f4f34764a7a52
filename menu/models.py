"""An establishment's menu, in the restaurant's vocabulary (see description.py for each kind's meaning).

Written by menu.services only. Every row carries its menu, so that the whole
menu is read with one query per table, and its position, so that it comes back
in the order it was given. Conditions, restrictions and price rules are kept as
JSON: they are read and written whole, never searched.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from menu import description as desc
from orders.models import MONEY, Establishment
from orders.status import ServiceType as ServiceKind

NAME = 200
REF = 100
HAS_REF = ~Q(ref="")
NO_REF = Q(ref="")


class PricingEffect(models.TextChoices):
    UNCHANGED = desc.UNCHANGED, _("price unchanged")
    FIXED_PRICE = desc.FIXED_PRICE, _("fixed price")
    PRICE_OFF = desc.PRICE_OFF, pgettext_lazy("menu", "amount off")
    PERCENTAGE_OFF = desc.PERCENTAGE_OFF, _("percentage off")
    FREE = desc.FREE, _("free")


class ChargeKind(models.TextChoices):
    DELIVERY = "delivery", _("delivery")
    PAYMENT_FEE = "payment_fee", _("payment fee")
    TIP = "tip", _("tip")
    TAX = "tax", _("tax")
    OTHER = "other", _("other")


class Menu(models.Model):
    """The establishment's menu and its settings; an establishment without one takes orders unchecked."""

    establishment = models.OneToOneField(Establishment, on_delete=models.CASCADE, related_name="menu")
    accepts_other_prices = models.BooleanField(
        _("accept prices that differ from the menu"),
        default=False,
        help_text=_("When off, an order whose prices differ from the menu's is refused."),
    )
    # Goes up with every change of content or availability: a cheap "did anything change?".
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    changed_at = models.DateTimeField(_("last changed"), default=timezone.now, editable=False)
    changed_by_source = models.CharField(_("last changed by"), max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("menu")
        verbose_name_plural = _("menus")

    def __str__(self) -> str:
        return str(self.establishment)


class MenuRow(models.Model):
    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="+", verbose_name=_("menu"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    @property
    def label(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        _check_lists(self)


def _same_menu(row: models.Model, field: str, menu_id: int | None) -> None:
    """Objects of one menu only point at objects of the same menu (checked for the admin's forms)."""
    related_id = getattr(row, f"{field}_id")
    if related_id is None or menu_id is None:
        return
    related = row._meta.get_field(field).related_model.objects.filter(pk=related_id).values_list("menu_id", flat=True).first()
    if related != menu_id:
        raise ValidationError({field: _("This belongs to another menu.")})


def _check_lists(row: models.Model) -> None:
    """Tags, coupon codes and image ids are lists of short texts."""
    for name in ("tags", "coupon_codes", "image_ids"):
        value = getattr(row, name, [])
        if not isinstance(value, list) or not all(isinstance(text, str) and 0 < len(text) <= 100 for text in value):
            raise ValidationError({name: _('A list of short texts, e.g. ["vegetarian"].')})


def _unique_ref(model: str, required: bool = False) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["menu", "ref"],
        name=f"menu_{model}_ref_unique",
        condition=None if required else HAS_REF,
        violation_error_message=_("Another one of this menu already has this ref code."),
    )


def _unique_name_without_ref(model: str, *fields: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=[*fields, "name"],
        name=f"menu_{model}_name_unique_without_ref",
        condition=NO_REF,
        violation_error_message=_("Another one without ref code has this name: give one of them a code or another name."),
    )


NOT_NEGATIVE = _("The price cannot be negative.")


class Channel(MenuRow):
    ref = models.CharField(_("code"), max_length=REF)
    name = models.CharField(_("name"), max_length=NAME)

    class Meta(MenuRow.Meta):
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        constraints = [_unique_ref("channel", required=True)]

    def __str__(self) -> str:
        return self.name


class Category(MenuRow):
    ref = models.CharField(_("code"), max_length=REF)
    name = models.CharField(_("name"), max_length=NAME)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name=_("parent category")
    )
    description = models.TextField(_("description"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    image_ids = models.JSONField(_("image ids"), default=list, blank=True, editable=False)

    class Meta(MenuRow.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [_unique_ref("category", required=True)]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        _same_menu(self, "parent", self.menu_id)
        parent_id, seen = self.parent_id, set()
        while parent_id is not None and parent_id not in seen:
            if parent_id == self.pk:
                raise ValidationError({"parent": _("A category cannot be inside itself.")})
            seen.add(parent_id)
            parent_id = Category.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()


class Product(MenuRow):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="products", verbose_name=_("category"))
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    description = models.TextField(_("description"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    image_ids = models.JSONField(_("image ids"), default=list, blank=True, editable=False)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=3, null=True, blank=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [_unique_ref("product"), _unique_name_without_ref("product", "category")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        _same_menu(self, "category", self.menu_id)


class OptionList(MenuRow):
    ref = models.CharField(_("code"), max_length=REF)
    name = models.CharField(_("name"), max_length=NAME)
    min_selections = models.PositiveIntegerField(_("at least"), default=0)
    max_selections = models.PositiveIntegerField(_("at most"), null=True, blank=True, help_text=_("Empty: no limit."))
    tags = models.JSONField(_("tags"), default=list, blank=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("option list")
        verbose_name_plural = _("option lists")
        constraints = [
            _unique_ref("option_list", required=True),
            models.CheckConstraint(
                condition=Q(max_selections__isnull=True) | Q(max_selections__gte=models.F("min_selections")),
                name="menu_option_list_max_not_below_min",
                violation_error_message=_("“At most” cannot be below “at least”."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Sku(MenuRow):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("product"))
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME, blank=True, help_text=_("Size or version; empty for the only one."))
    price = models.DecimalField(_("price"), **MONEY)
    option_lists = models.ManyToManyField(
        OptionList, through="SkuOptionList", related_name="skus", blank=True, verbose_name=_("option lists")
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    price_rules = models.JSONField(_("other prices"), default=list, blank=True)
    restrictions = models.JSONField(_("restrictions"), null=True, blank=True)
    available = models.BooleanField(_("available"), default=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [
            _unique_ref("sku"),
            # Deferred to the commit: a menu replaced in one go may swap two SKUs' names or products.
            models.UniqueConstraint(
                fields=["product", "name"],
                name="menu_sku_name_unique_in_product",
                deferrable=models.Deferrable.DEFERRED,
                violation_error_message=_("This product already has a SKU with this name."),
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="menu_sku_price_not_negative", violation_error_message=NOT_NEGATIVE
            ),
        ]
        indexes = [models.Index(fields=["menu", "available"], name="menu_sku_by_availability")]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        super().clean()
        if self.product_id is not None and self.menu_id is not None:
            _same_menu(self, "product", self.menu_id)

    @property
    def label(self) -> str:
        """The product, and the SKU's name when it has one: "Café · Crème"."""
        product = self.product.name
        return f"{product} · {self.name}" if self.name else product


class SkuOptionList(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="option_list_links")
    option_list = models.ForeignKey(OptionList, on_delete=models.CASCADE, related_name="sku_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("option list of a SKU")
        verbose_name_plural = _("option lists of SKUs")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["sku", "option_list"], name="menu_sku_option_list_once")]

    def __str__(self) -> str:
        return f"{self.sku_id} → {self.option_list_id}"

    def clean(self) -> None:
        super().clean()
        if self.sku_id is not None:
            _same_menu(self, "option_list", Sku.objects.filter(pk=self.sku_id).values_list("menu_id", flat=True).first())


class Option(MenuRow):
    """A choice of an option list; its label names the list too ("Cuisson · Saignant")."""

    option_list = models.ForeignKey(OptionList, on_delete=models.CASCADE, related_name="options", verbose_name=_("option list"))
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    price = models.DecimalField(_("price"), **MONEY, default=0)
    is_default = models.BooleanField(_("chosen by default"), default=False)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    price_rules = models.JSONField(_("other prices"), default=list, blank=True)
    restrictions = models.JSONField(_("restrictions"), null=True, blank=True)
    available = models.BooleanField(_("available"), default=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.UniqueConstraint(
                fields=["option_list", "ref"],
                name="menu_option_ref_unique_in_list",
                condition=HAS_REF,
                violation_error_message=_("This option list already has an option with this ref code."),
            ),
            models.UniqueConstraint(
                fields=["option_list", "name"],
                name="menu_option_name_unique_without_ref",
                condition=NO_REF,
                violation_error_message=_("This option list already has an option without ref code with this name."),
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="menu_option_price_not_negative", violation_error_message=NOT_NEGATIVE
            ),
        ]
        indexes = [
            models.Index(fields=["menu", "ref"], name="menu_option_by_ref"),
            models.Index(fields=["menu", "available"], name="menu_option_by_availability"),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        super().clean()
        if self.menu_id is not None:
            _same_menu(self, "option_list", self.menu_id)

    @property
    def label(self) -> str:
        return f"{self.option_list.name} · {self.name}"


class Deal(MenuRow):
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals", verbose_name=_("category")
    )
    description = models.TextField(_("description"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    image_ids = models.JSONField(_("image ids"), default=list, blank=True, editable=False)
    coupon_codes = models.JSONField(_("coupon codes"), default=list, blank=True)
    restrictions = models.JSONField(_("restrictions"), null=True, blank=True)

    class Meta(MenuRow.Meta):
        verbose_name = pgettext_lazy("menu", "deal")
        verbose_name_plural = pgettext_lazy("menu", "deals")
        constraints = [_unique_ref("deal"), _unique_name_without_ref("deal", "menu")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        _same_menu(self, "category", self.menu_id)


class DealLine(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines", verbose_name=pgettext_lazy("menu", "deal"))
    position = models.PositiveIntegerField(_("position"), default=0)
    label = models.CharField(_("label"), max_length=NAME, blank=True)
    pricing_effect = models.CharField(_("pricing"), max_length=32, choices=PricingEffect.choices, default=PricingEffect.UNCHANGED)
    pricing_value = models.DecimalField(_("pricing value"), max_digits=12, decimal_places=3, null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("menu", "deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label or f"#{self.position + 1}"


class DealLineSku(models.Model):
    line = models.ForeignKey(
        DealLine, on_delete=models.CASCADE, related_name="sku_links", verbose_name=pgettext_lazy("menu", "deal line")
    )
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="deal_links", verbose_name=_("SKU"))
    extra_charge = models.DecimalField(_("extra charge"), **MONEY, null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("SKU of a deal line")
        verbose_name_plural = _("SKUs of deal lines")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["line", "sku"], name="menu_deal_line_sku_once")]

    def __str__(self) -> str:
        return f"{self.line} · {self.sku_id}"

    def clean(self) -> None:
        super().clean()
        if self.line_id is None or self.sku_id is None:
            return
        deal_menu = DealLine.objects.filter(pk=self.line_id).values_list("deal__menu_id", flat=True).first()
        _same_menu(self, "sku", deal_menu)
        if not Sku.objects.filter(pk=self.sku_id).exclude(ref="").exists():
            raise ValidationError({"sku": _("A SKU needs a ref code to be part of a deal.")})


class Discount(MenuRow):
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    description = models.TextField(_("description"), blank=True)
    pricing_effect = models.CharField(
        _("pricing"),
        max_length=32,
        choices=[(effect.value, effect.label) for effect in (PricingEffect.PRICE_OFF, PricingEffect.PERCENTAGE_OFF)],
    )
    pricing_value = models.DecimalField(_("pricing value"), max_digits=12, decimal_places=3)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    image_ids = models.JSONField(_("image ids"), default=list, blank=True, editable=False)
    coupon_codes = models.JSONField(_("coupon codes"), default=list, blank=True)
    restrictions = models.JSONField(_("restrictions"), null=True, blank=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        constraints = [_unique_ref("discount"), _unique_name_without_ref("discount", "menu")]

    def __str__(self) -> str:
        return self.name


class Charge(MenuRow):
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    kind = models.CharField(_("kind"), max_length=16, choices=ChargeKind.choices, default=ChargeKind.OTHER)
    price = models.DecimalField(_("price"), **MONEY, null=True, blank=True, help_text=_("Empty: varies per order."))
    restrictions = models.JSONField(_("restrictions"), null=True, blank=True)

    class Meta(MenuRow.Meta):
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [_unique_ref("charge"), _unique_name_without_ref("charge", "menu")]

    def __str__(self) -> str:
        return self.name


class ServiceType(MenuRow):
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)
    kind = models.CharField(_("kind"), max_length=16, choices=ServiceKind.choices)

    class Meta(MenuRow.Meta):
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        constraints = [_unique_ref("service_type"), _unique_name_without_ref("service_type", "menu")]

    def __str__(self) -> str:
        return self.name


class PaymentMethod(MenuRow):
    ref = models.CharField(_("code"), max_length=REF, blank=True)
    name = models.CharField(_("name"), max_length=NAME)

    class Meta(MenuRow.Meta):
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        constraints = [_unique_ref("payment_method"), _unique_name_without_ref("payment_method", "menu")]

    def __str__(self) -> str:
        return self.name
