"""A whole menu replaced: every kind of object, idempotent, keyed on ref codes, refused as a whole when wrong."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from menu import description as desc
from menu import selectors, services
from menu.changes import KIND_LABELS
from menu.models import Menu, Option, Product, Sku
from orders.models import OrderItem
from tests.factories import croque_order, make_establishment, make_order
from tests.menu.bistro import BISTRO_MENU
from tests.menu.synthetic import synthetic_menu

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def received(announced):
    """The menu's signals as (signal, establishment id, source, changes or items, whether a transaction was open)."""

    class Received(list):
        def __getitem__(self, index):
            kind, kwargs, in_transaction = announced[index]
            payload = kwargs.get("changes", kwargs.get("items"))
            return (kind, kwargs["establishment"].pk, kwargs["source"], payload, in_transaction)

        def __len__(self):
            return len(announced)

        def __iter__(self):
            return (self[index] for index in range(len(announced)))

    return Received()


def with_product(menu: desc.Menu, ref: str, **changes) -> desc.Menu:
    products = tuple(replace(product, **changes) if product.ref == ref else product for product in menu.products)
    return replace(menu, products=products)


def with_sku(menu: desc.Menu, sku_ref: str, **changes) -> desc.Menu:
    products = tuple(
        replace(product, skus=tuple(replace(sku, **changes) if sku.ref == sku_ref else sku for sku in product.skus))
        for product in menu.products
    )
    return replace(menu, products=products)


def test_a_menu_with_every_kind_of_object_is_stored_and_read_back_the_same(establishment, received):
    changes = services.replace_menu(establishment, BISTRO_MENU, source="pos")

    assert selectors.menu_description(establishment) == BISTRO_MENU
    assert {change.kind for change in changes.added} == set(KIND_LABELS)
    assert len([c for c in changes.added if c.kind == "sku"]) == sum(len(p.skus) for p in BISTRO_MENU.products)
    assert [(kind, source, in_transaction) for kind, _, source, _, in_transaction in received] == [("menu", "pos", True)]


def test_the_same_menu_twice_changes_nothing_and_says_so(establishment, received):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    version = Menu.objects.get(establishment=establishment).version
    ids = set(Sku.objects.values_list("pk", flat=True))

    changes = services.replace_menu(establishment, BISTRO_MENU, source="pos")

    assert not changes.changed
    assert changes.summary() == "Nothing changed: the menu was already this one."
    assert Menu.objects.get(establishment=establishment).version == version
    assert set(Sku.objects.values_list("pk", flat=True)) == ids
    assert len(received) == 1


def test_a_changed_price_is_picked_up_and_reported_with_the_old_one(establishment, received):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    steak = Sku.objects.get(ref="STEAK-FR")

    changes = services.replace_menu(establishment, with_sku(BISTRO_MENU, "STEAK-FR", price=Decimal("19.50")), source="pos")

    assert [(p.ref, p.old, p.new) for p in changes.price_changes] == [("STEAK-FR", Decimal("18.50"), Decimal("19.50"))]
    assert not changes.added and not changes.removed and not changes.updated
    assert changes.summary() == "1 price change."
    assert Sku.objects.get(pk=steak.pk).price == Decimal("19.50")
    assert received[-1][2:4] == ("pos", changes)


def test_a_removed_product_is_gone_and_orders_that_used_it_keep_their_lines(establishment):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    order = make_order(establishment)  # a croque-monsieur, CROQ-M
    without_croque = replace(
        BISTRO_MENU,
        products=tuple(p for p in BISTRO_MENU.products if p.ref != "CROQ-M"),
        deals=tuple(
            replace(d, lines=tuple(replace(line, skus=tuple(s for s in line.skus if s.sku_ref != "CROQ-M")) for line in d.lines))
            for d in BISTRO_MENU.deals
        ),
    )

    changes = services.replace_menu(establishment, without_croque, source="pos")

    assert ("product", "CROQ-M") in {(c.kind, c.ref) for c in changes.removed}
    assert ("sku", "CROQ-M") in {(c.kind, c.ref) for c in changes.removed}
    assert ("deal", "FORMULE-MIDI") in {(c.kind, c.ref) for c in changes.updated}
    assert not Product.objects.filter(ref="CROQ-M").exists()
    assert list(OrderItem.objects.filter(order=order).values_list("product_name", "sku_ref")) == [("Croque-monsieur", "CROQ-M")]
    assert selectors.menu_description(establishment) == without_croque


def test_what_stays_keeps_its_id_and_its_availability_across_a_reimport(establishment):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    services.set_availability(establishment, available=False, sku_refs=["STEAK-FR"], option_refs=["SAUCE-BEARN"], source="staff")
    steak = Sku.objects.get(ref="STEAK-FR")

    changes = services.replace_menu(establishment, with_sku(BISTRO_MENU, "STEAK-FR", name="200 g"), source="pos")

    again = Sku.objects.get(ref="STEAK-FR")
    assert (again.pk, again.available, again.name) == (steak.pk, False, "200 g")
    assert not Option.objects.get(ref="SAUCE-BEARN").available
    assert [(c.kind, c.ref) for c in changes.updated] == [("sku", "STEAK-FR")]


def test_availability_can_come_with_the_menu_when_asked(establishment, received):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")

    changes = services.replace_menu(
        establishment, with_sku(BISTRO_MENU, "MOUSSE", available=False), source="pos", keep_availability=False
    )

    assert [(a.ref, a.available) for a in changes.availability] == [("MOUSSE", False)]
    assert not changes.content_changed
    assert [entry[0] for entry in received] == ["menu", "availability"]
    assert not Sku.objects.get(ref="MOUSSE").available


def test_skus_move_between_products_and_may_swap_names(establishment):
    menu = desc.Menu(
        categories=(desc.Category(ref="C", name="Boissons"),),
        products=(
            desc.Product(name="Café", category_ref="C", ref="CAFE", skus=(desc.Sku(Decimal("2"), name="Petit", ref="A"),)),
            desc.Product(
                name="Thé",
                category_ref="C",
                ref="THE",
                skus=(desc.Sku(Decimal("3"), name="Grand", ref="B"), desc.Sku(Decimal("3.5"), name="Petit", ref="C")),
            ),
        ),
    )
    services.replace_menu(establishment, menu, source="pos")
    moved = desc.Menu(
        categories=menu.categories,
        products=(
            desc.Product(
                name="Café",
                category_ref="C",
                ref="CAFE",
                skus=(desc.Sku(Decimal("2"), name="Grand", ref="A"), desc.Sku(Decimal("3.5"), name="Petit", ref="C")),
            ),
            desc.Product(name="Thé", category_ref="C", ref="THE", skus=(desc.Sku(Decimal("3"), name="Petit", ref="B"),)),
        ),
    )

    with transaction.atomic():
        services.replace_menu(establishment, moved, source="pos")

    assert selectors.menu_description(establishment) == moved


def test_categories_nest_and_move_under_new_parents(establishment):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    categories = (
        desc.Category(ref="CARTE", name="La carte"),
        *(replace(c, parent_ref=c.parent_ref or "CARTE") for c in BISTRO_MENU.categories),
    )
    nested = replace(BISTRO_MENU, categories=categories)

    changes = services.replace_menu(establishment, nested, source="pos")

    assert selectors.menu_description(establishment) == nested
    assert {(c.kind, c.ref) for c in changes.added} == {("category", "CARTE")}
    assert {c.ref for c in changes.updated} == {"FORMULES", "ENTREES", "PLATS", "DESSERTS", "BOISSONS"}


def test_objects_without_ref_are_matched_by_name(establishment):
    menu = desc.Menu(
        categories=(desc.Category(ref="C", name="Plats"),),
        products=(desc.Product(name="Plat du jour", category_ref="C", skus=(desc.Sku(Decimal("12")),)),),
        payment_methods=(desc.PaymentMethod(name="Espèces"),),
    )
    services.replace_menu(establishment, menu, source="pos")
    sku = Sku.objects.get()

    changes = services.replace_menu(establishment, with_product(menu, "", skus=(desc.Sku(Decimal("13")),)), source="pos")

    assert Sku.objects.get().pk == sku.pk
    assert [(p.label, p.new) for p in changes.price_changes] == [("Plat du jour", Decimal("13"))]


BAD_MENUS = {
    "a SKU code used twice": (
        lambda m: with_sku(m, "CROQ-MME", ref="CROQ-M"),
        "the SKU code “CROQ-M” is used twice",
    ),
    "an unknown option list": (
        lambda m: with_sku(m, "STEAK-FR", option_list_refs=("CUISSON", "SAUCES")),
        "no option list has the code “SAUCES”",
    ),
    "an unknown category": (lambda m: with_product(m, "MOUSSE", category_ref="GLACES"), "no category has the code “GLACES”"),
    "a price with 3 decimals": (lambda m: with_sku(m, "MOUSSE", price=Decimal("6.505")), "has more than 2 decimals"),
    "a price that is a float": (lambda m: with_sku(m, "MOUSSE", price=6.5), "is not an amount of money"),
    "a negative price": (lambda m: with_sku(m, "MOUSSE", price=Decimal("-1")), "is negative"),
    "a product without SKU": (lambda m: with_product(m, "MOUSSE", skus=()), "the product has no SKU"),
    "a deal on an unknown SKU": (
        lambda m: replace(m, deals=(replace(m.deals[0], lines=(desc.DealLine(skus=(desc.DealSku("NOPE"),)),)),)),
        "no SKU has the code “NOPE”",
    ),
    "an unknown pricing effect": (
        lambda m: replace(m, discounts=(desc.Discount("Promo", "half_price", Decimal("50")),)),
        "unknown pricing “half_price”",
    ),
    "a category inside itself": (
        lambda m: replace(m, categories=(*m.categories[:-1], replace(m.categories[-1], parent_ref="SANS-ALCOOL"))),
        "is inside itself",
    ),
    "at most fewer choices than at least": (
        lambda m: replace(m, option_lists=(replace(m.option_lists[0], min_selections=2, max_selections=1), *m.option_lists[1:])),
        "at most 1 choices but at least 2",
    ),
    "two option lists with one code": (
        lambda m: replace(m, option_lists=(*m.option_lists, replace(m.option_lists[0], name="Cuisson bis"))),
        "the option list code “CUISSON” is used twice",
    ),
    "days that are not days": (
        lambda m: replace(m, deals=(replace(m.deals[0], restrictions=desc.Restrictions(days_of_week="lun-ven")),)),
        "are not 7 characters from Monday",
    ),
    "an unknown sales channel": (
        lambda m: with_sku(m, "MOUSSE", price_rules=(desc.PriceRule(price=Decimal("7"), channel_refs=("UBER",)),)),
        "no sales channel has the code “UBER”",
    ),
    "no product at all": (lambda m: replace(m, products=(), deals=()), "a menu is never replaced by an empty one"),
}


@pytest.mark.parametrize("case", BAD_MENUS, ids=list(BAD_MENUS))
def test_a_bad_menu_is_refused_as_a_whole_and_the_old_one_stays(establishment, received, case):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")
    services.set_availability(establishment, available=False, sku_refs=["MOUSSE"], source="staff")
    before = selectors.menu_description(establishment)
    version = Menu.objects.get(establishment=establishment).version
    spoil, expected = BAD_MENUS[case]

    with pytest.raises(services.InvalidMenu) as refused:
        services.replace_menu(establishment, spoil(BISTRO_MENU), source="pos")

    assert any(expected in message for message in refused.value.messages), refused.value.messages
    assert selectors.menu_description(establishment) == before
    assert Menu.objects.get(establishment=establishment).version == version
    assert len(received) == 2


def test_every_problem_is_listed_with_where_it_is(establishment):
    spoiled = with_sku(with_sku(BISTRO_MENU, "MOUSSE", price=Decimal("-1")), "CROQ-MME", ref="CROQ-M")

    with pytest.raises(services.InvalidMenu) as refused:
        services.replace_menu(establishment, spoiled, source="pos")

    assert refused.value.messages == [
        "products[14] “Mousse au chocolat”.skus[0]: the price is negative.",
        "products[9] “Croque-madame”.skus[0]: the SKU code “CROQ-M” is used twice (also products[8] “Croque-monsieur”.skus[0]).",
    ]
    assert not Menu.objects.exists()


@pytest.mark.postgres  # SQLite caps the values of one statement, so its bulk writes come in batches
def test_the_number_of_queries_does_not_grow_with_the_menu(establishment):
    other = make_establishment("La Brasserie du Port")
    small, large = synthetic_menu(20, option_lists=10), synthetic_menu(200, option_lists=60)

    counts = []
    for target, menu in ((establishment, small), (other, large)):
        for data in (menu, menu, synthetic_menu(len(menu.products), option_lists=len(menu.option_lists), price_shift="1")):
            with CaptureQueriesContext(connection) as queries:
                services.replace_menu(target, data, source="pos")
            counts.append(len(queries))

    assert counts[:3] == counts[3:], counts
    assert selectors.menu_description(other) == synthetic_menu(200, option_lists=60, price_shift="1")


def test_reading_the_whole_menu_takes_the_same_queries_whatever_its_size(establishment, django_assert_num_queries):
    other = make_establishment("La Brasserie du Port")
    services.replace_menu(establishment, synthetic_menu(10, option_lists=5), source="pos")
    services.replace_menu(other, synthetic_menu(100, option_lists=40), source="pos")

    with CaptureQueriesContext(connection) as small:
        selectors.menu_description(establishment)
    with CaptureQueriesContext(connection) as large:
        selectors.menu_description(other)

    assert len(small) == len(large) == 15


def test_deleting_the_menu_brings_back_orders_without_menu(establishment, received):
    services.replace_menu(establishment, BISTRO_MENU, source="pos")

    assert services.delete_menu(establishment, source="admin")

    assert selectors.menu_description(establishment) is None
    assert not Sku.objects.exists()
    assert received[-1][0:3] == ("menu", establishment.pk, "admin")
    make_order(establishment, **{"items": croque_order().items})
