"""Reads of the menu: the whole of it as a description, and what the staff pages show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Value

from menu import description as desc
from menu import stored
from menu.models import (
    Category,
    Channel,
    Charge,
    Deal,
    DealLine,
    DealLineSku,
    Discount,
    Menu,
    Option,
    OptionList,
    PaymentMethod,
    Product,
    ServiceType,
    Sku,
    SkuOptionList,
)
from orders.models import Establishment


def menu_of(establishment: Establishment) -> Menu | None:
    return Menu.objects.filter(establishment=establishment).first()


def menu_description(establishment: Establishment) -> desc.Menu | None:
    """The whole menu as replace_menu takes it (availability included), or None when there is none.

    One query per table whatever the menu's size, so a sync can read it all cheaply.
    """
    menu = menu_of(establishment)
    if menu is None:
        return None
    categories = list(Category.objects.filter(menu=menu))
    category_refs = {row.pk: row.ref for row in categories}
    option_lists = list(OptionList.objects.filter(menu=menu))
    list_refs = {row.pk: row.ref for row in option_lists}
    options_by_list: dict[int, list[desc.Option]] = {}
    for row in Option.objects.filter(menu=menu):
        options_by_list.setdefault(row.option_list_id, []).append(
            desc.Option(
                name=row.name,
                price=row.price,
                ref=row.ref,
                default=row.is_default,
                tags=tuple(row.tags),
                price_rules=stored.price_rules_from_json(row.price_rules),
                restrictions=stored.restrictions_from_json(row.restrictions),
                available=row.available,
            )
        )
    lists_by_sku: dict[int, list[str]] = {}
    for sku_id, list_id in (
        SkuOptionList.objects.filter(sku__menu=menu).order_by("sku_id", "position", "id").values_list("sku_id", "option_list_id")
    ):
        lists_by_sku.setdefault(sku_id, []).append(list_refs[list_id])
    skus_by_product: dict[int, list[desc.Sku]] = {}
    sku_refs: dict[int, str] = {}
    for row in Sku.objects.filter(menu=menu):
        sku_refs[row.pk] = row.ref
        skus_by_product.setdefault(row.product_id, []).append(
            desc.Sku(
                price=row.price,
                name=row.name,
                ref=row.ref,
                option_list_refs=tuple(lists_by_sku.get(row.pk, ())),
                tags=tuple(row.tags),
                price_rules=stored.price_rules_from_json(row.price_rules),
                restrictions=stored.restrictions_from_json(row.restrictions),
                available=row.available,
            )
        )
    choices_by_line: dict[int, list[desc.DealSku]] = {}
    for row in DealLineSku.objects.filter(line__deal__menu=menu).order_by("line_id", "position", "id"):
        choices_by_line.setdefault(row.line_id, []).append(
            desc.DealSku(sku_ref=sku_refs[row.sku_id], extra_charge=row.extra_charge)
        )
    lines_by_deal: dict[int, list[desc.DealLine]] = {}
    for row in DealLine.objects.filter(deal__menu=menu).order_by("deal_id", "position", "id"):
        lines_by_deal.setdefault(row.deal_id, []).append(
            desc.DealLine(
                skus=tuple(choices_by_line.get(row.pk, ())),
                pricing_effect=row.pricing_effect,
                pricing_value=row.pricing_value,
                label=row.label,
            )
        )
    return desc.Menu(
        channels=tuple(desc.Channel(ref=row.ref, name=row.name) for row in Channel.objects.filter(menu=menu)),
        categories=tuple(
            desc.Category(
                ref=row.ref,
                name=row.name,
                parent_ref=category_refs.get(row.parent_id, ""),
                description=row.description,
                tags=tuple(row.tags),
                image_url=row.image_url,
                image_ids=tuple(row.image_ids),
            )
            for row in categories
        ),
        products=tuple(
            desc.Product(
                name=row.name,
                category_ref=category_refs[row.category_id],
                skus=tuple(skus_by_product.get(row.pk, ())),
                ref=row.ref,
                description=row.description,
                tags=tuple(row.tags),
                image_url=row.image_url,
                image_ids=tuple(row.image_ids),
                tax_rate=row.tax_rate,
            )
            for row in Product.objects.filter(menu=menu)
        ),
        option_lists=tuple(
            desc.OptionList(
                ref=row.ref,
                name=row.name,
                options=tuple(options_by_list.get(row.pk, ())),
                min_selections=row.min_selections,
                max_selections=row.max_selections,
                tags=tuple(row.tags),
            )
            for row in option_lists
        ),
        deals=tuple(
            desc.Deal(
                name=row.name,
                lines=tuple(lines_by_deal.get(row.pk, ())),
                ref=row.ref,
                category_ref=category_refs.get(row.category_id, ""),
                description=row.description,
                tags=tuple(row.tags),
                image_url=row.image_url,
                image_ids=tuple(row.image_ids),
                coupon_codes=tuple(row.coupon_codes),
                restrictions=stored.restrictions_from_json(row.restrictions),
            )
            for row in Deal.objects.filter(menu=menu)
        ),
        discounts=tuple(
            desc.Discount(
                name=row.name,
                pricing_effect=row.pricing_effect,
                pricing_value=row.pricing_value,
                ref=row.ref,
                description=row.description,
                image_url=row.image_url,
                image_ids=tuple(row.image_ids),
                coupon_codes=tuple(row.coupon_codes),
                restrictions=stored.restrictions_from_json(row.restrictions),
            )
            for row in Discount.objects.filter(menu=menu)
        ),
        charges=tuple(
            desc.Charge(
                name=row.name,
                kind=row.kind,
                price=row.price,
                ref=row.ref,
                restrictions=stored.restrictions_from_json(row.restrictions),
            )
            for row in Charge.objects.filter(menu=menu)
        ),
        service_types=tuple(
            desc.ServiceType(kind=row.kind, name=row.name, ref=row.ref) for row in ServiceType.objects.filter(menu=menu)
        ),
        payment_methods=tuple(desc.PaymentMethod(name=row.name, ref=row.ref) for row in PaymentMethod.objects.filter(menu=menu)),
    )


# --- The staff pages ----------------------------------------------------------------

# The kinds whose ref codes a POS needs on every order line or order, in the order a manager fixes them.
REF_KINDS = ("sku", "option", "deal", "discount", "charge", "service_type", "payment_method")
_REF_MODELS = {
    "sku": Sku,
    "option": Option,
    "deal": Deal,
    "discount": Discount,
    "charge": Charge,
    "service_type": ServiceType,
    "payment_method": PaymentMethod,
}


def own_codes(establishment: Establishment) -> tuple[tuple[desc.ServiceType, ...], tuple[desc.PaymentMethod, ...]]:
    """The menu's service types and payment methods: the restaurant's own codes, which a POS catalog does not carry.

    An import from a catalog passes them back to replace_menu, so that it keeps them.
    """
    service_types = ServiceType.objects.filter(menu__establishment=establishment)
    payment_methods = PaymentMethod.objects.filter(menu__establishment=establishment)
    return (
        tuple(desc.ServiceType(kind=row.kind, name=row.name, ref=row.ref) for row in service_types),
        tuple(desc.PaymentMethod(name=row.name, ref=row.ref) for row in payment_methods),
    )


def missing_ref_counts(menu: Menu) -> dict[str, int]:
    """How many objects of each kind have no ref code, in one query (a UNION ALL, each part tagged by its kind)."""
    tagged = [
        model.objects.filter(menu=menu, ref="")
        .order_by()
        .values("menu")
        .annotate(kind=Value(index, output_field=IntegerField()), n=Count("id"))
        .values_list("kind", "n")
        for index, model in enumerate(_REF_MODELS.values())
    ]
    counts = dict.fromkeys(REF_KINDS, 0)
    for index, n in tagged[0].union(*tagged[1:], all=True):
        counts[REF_KINDS[index]] = n
    return counts


def unavailable_items(menu: Menu) -> tuple[list[Sku], list[Option]]:
    skus = list(Sku.objects.filter(menu=menu, available=False).select_related("product").order_by("product__name", "name"))
    options = list(
        Option.objects.filter(menu=menu, available=False).select_related("option_list").order_by("option_list__name", "name")
    )
    return skus, options


@dataclass(frozen=True)
class CategoryEntry:
    category: Category
    depth: int


def category_tree(menu: Menu) -> list[CategoryEntry]:
    """Every category, each followed by its children (depth first), in the menu's order."""
    categories = list(Category.objects.filter(menu=menu))
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    tree: list[CategoryEntry] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for category in children.get(parent_id, []):
            tree.append(CategoryEntry(category, depth))
            walk(category.pk, depth + 1)

    walk(None, 0)
    return tree


def sku_refs_in_categories(establishment_id: int, category_refs: list[str]) -> set[str]:
    """The ref codes of the SKUs in these categories or any category inside them: two queries.

    For whatever sorts an order by category (a bar printer gets the drinks, with every
    kind of drink under them).
    """
    categories = list(Category.objects.filter(menu__establishment_id=establishment_id).values_list("pk", "ref", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for pk, _ref, parent_id in categories:
        children.setdefault(parent_id, []).append(pk)
    wanted = [pk for pk, ref, _parent in categories if ref in set(category_refs)]
    chosen: set[int] = set()
    while wanted:
        pk = wanted.pop()
        if pk not in chosen:
            chosen.add(pk)
            wanted.extend(children.get(pk, []))
    if not chosen:
        return set()
    refs = Sku.objects.filter(menu__establishment_id=establishment_id, product__category_id__in=chosen).exclude(ref="")
    return set(refs.values_list("ref", flat=True))


def category_choices(establishment_id: int) -> list[tuple[str, str]]:
    """(ref, label) of every category of the establishment's menu, each followed by its children, indented."""
    menu = Menu.objects.filter(establishment_id=establishment_id).first()
    if menu is None:
        return []
    return [(entry.category.ref, "\u2003" * entry.depth + entry.category.name) for entry in category_tree(menu)]


def products_in(menu: Menu, category_ids: list[int]) -> list[Product]:
    """The products of these categories with their SKUs and each SKU's option lists: three queries."""
    return list(
        Product.objects.filter(menu=menu, category_id__in=category_ids)
        .select_related("category")
        .prefetch_related("skus__option_lists")
        .order_by("category__position", "position", "id")
    )


def option_lists_with_options(menu: Menu, option_list_id: int | None = None) -> list[OptionList]:
    lists = OptionList.objects.filter(menu=menu).prefetch_related("options")
    if option_list_id is not None:
        lists = lists.filter(pk=option_list_id)
    return list(lists)


def items_without_ref(menu: Menu) -> dict[str, QuerySet]:
    """Per kind, its objects without ref code (SKUs with their product, options with their list)."""
    related = {"sku": ("product",), "option": ("option_list",)}
    return {
        kind: model.objects.filter(menu=menu, ref="").select_related(*related.get(kind, ())).order_by("position", "id")
        for kind, model in _REF_MODELS.items()
    }


def search_skus(menu: Menu, query: str) -> QuerySet[Sku]:
    """SKUs whose product, name or code contain every word of ``query``."""
    skus = Sku.objects.filter(menu=menu).select_related("product")
    for word in query.split():
        skus = skus.filter(Q(product__name__icontains=word) | Q(name__icontains=word) | Q(ref__icontains=word))
    return skus.order_by("product__name", "position")


def _deals_with_lines(menu: Menu) -> QuerySet[Deal]:
    lines = DealLine.objects.prefetch_related(Prefetch("sku_links", queryset=DealLineSku.objects.select_related("sku__product")))
    return Deal.objects.filter(menu=menu).prefetch_related(Prefetch("lines", queryset=lines))


def deals_in(menu: Menu, category_ids: list[int]) -> list[Deal]:
    return list(_deals_with_lines(menu).filter(category_id__in=category_ids))


def offers(menu: Menu) -> dict[str, list]:
    """Deals with their lines and SKUs, discounts and charges: what the "deals" section shows."""
    return {
        "deals": list(_deals_with_lines(menu)),
        "discounts": list(Discount.objects.filter(menu=menu)),
        "charges": list(Charge.objects.filter(menu=menu)),
    }


def service_and_payment(menu: Menu) -> dict[str, list]:
    return {
        "service_types": list(ServiceType.objects.filter(menu=menu)),
        "payment_methods": list(PaymentMethod.objects.filter(menu=menu)),
        "channels": list(Channel.objects.filter(menu=menu)),
    }
