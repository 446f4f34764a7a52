"""Menus of any size, for the tests that count queries and for bench/menu.py."""

from decimal import Decimal

from menu import description as desc


def synthetic_menu(
    products: int, *, skus_per_product: int = 3, option_lists: int = 300, options_per_list: int = 10, price_shift: str = "0"
) -> desc.Menu:
    """A menu of ``products`` products in nested categories, each SKU with two option lists, and a deal.

    ``price_shift`` is added to every SKU price, for a re-import where all prices changed.
    """
    option_lists = max(1, min(option_lists, products))
    shift = Decimal(price_shift)
    roots = max(1, products // 100)
    categories = [desc.Category(ref=f"CAT-{i}", name=f"Catégorie {i}") for i in range(roots)]
    categories += [desc.Category(ref=f"CAT-{i}-SUB", name=f"Sous-catégorie {i}", parent_ref=f"CAT-{i}") for i in range(roots)]
    lists = tuple(
        desc.OptionList(
            ref=f"OL-{i}",
            name=f"Liste {i}",
            min_selections=i % 2,
            max_selections=None if i % 3 == 0 else 2,
            options=tuple(
                desc.Option(name=f"Option {i}-{j}", ref=f"OPT-{i}-{j}", price=Decimal(j % 3) / 2) for j in range(options_per_list)
            ),
        )
        for i in range(option_lists)
    )
    product_list = []
    for p in range(products):
        category = categories[p % len(categories)]
        skus = tuple(
            desc.Sku(
                price=Decimal(5 + (p + s) % 20) + Decimal("0.50") + shift,
                name=f"Taille {s}" if skus_per_product > 1 else "",
                ref=f"SKU-{p}-{s}",
                option_list_refs=(f"OL-{p % option_lists}", f"OL-{(p + 1) % option_lists}") if option_lists > 1 else ("OL-0",),
                tags=("vegetarian",) if p % 7 == 0 else (),
            )
            for s in range(skus_per_product)
        )
        product_list.append(
            desc.Product(name=f"Produit {p}", category_ref=category.ref, ref=f"P-{p}", description=f"Description {p}", skus=skus)
        )
    deal = desc.Deal(
        ref="FORMULE",
        name="Formule",
        lines=(
            desc.DealLine(
                label="Plat",
                pricing_effect=desc.FIXED_PRICE,
                pricing_value=Decimal("12.00"),
                skus=tuple(desc.DealSku(f"SKU-{p}-0") for p in range(min(products, 20))),
            ),
        ),
    )
    return desc.Menu(
        categories=tuple(categories),
        products=tuple(product_list),
        option_lists=lists,
        deals=(deal,),
        service_types=(desc.ServiceType(kind="eat_in", name="Sur place", ref="SUR-PLACE"),),
        payment_methods=(desc.PaymentMethod(name="Carte bancaire", ref="CB"),),
    )
