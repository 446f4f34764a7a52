"""A French bistro menu built locally, with a ref code on everything a POS reads: what most menu tests start from.

The demo's own menu comes from the HubRise sandbox's catalog, pulled on connection;
this one shows that a menu can also be made here, without HubRise. The codes of the
service types, payment methods, charge and discount are those the demo orders carry
(orders/demo.py).
"""

from datetime import time
from decimal import Decimal as D

from menu.description import (
    FIXED_PRICE,
    PERCENTAGE_OFF,
    PRICE_OFF,
    Category,
    Channel,
    Charge,
    Deal,
    DealLine,
    DealSku,
    Discount,
    Menu,
    Option,
    OptionList,
    PaymentMethod,
    PriceRule,
    Product,
    Restrictions,
    ServiceType,
    Sku,
)

FOOD = D("10.0")
ALCOHOL = D("20.0")
# Delivery platforms take a commission: the bistro sells a little dearer there.
PLATFORMS = ("PLATEFORMES",)


def _dish(
    ref: str, category: str, name: str, price: str, *, lists: tuple[str, ...] = (), description: str = "", tags=(), rule: str = ""
) -> Product:
    rules = (PriceRule(price=D(rule), channel_refs=PLATFORMS),) if rule else ()
    return Product(
        name=name,
        category_ref=category,
        ref=ref,
        description=description,
        tags=tuple(tags),
        tax_rate=FOOD,
        skus=(Sku(price=D(price), ref=ref, option_list_refs=lists, price_rules=rules),),
    )


def _sizes(ref: str, category: str, name: str, sizes: list[tuple[str, str, str]], *, tax=FOOD, lists=(), tags=()) -> Product:
    return Product(
        name=name,
        category_ref=category,
        ref=ref,
        tags=tuple(tags),
        tax_rate=tax,
        skus=tuple(Sku(price=D(price), name=size, ref=sku_ref, option_list_refs=lists) for size, sku_ref, price in sizes),
    )


def _options(
    ref: str, name: str, low: int, high: int | None, options: list[tuple[str, str, str]], default: str = ""
) -> OptionList:
    return OptionList(
        ref=ref,
        name=name,
        min_selections=low,
        max_selections=high,
        options=tuple(Option(name=label, ref=code, price=D(price), default=code == default) for label, code, price in options),
    )


LUNCH = Restrictions(days_of_week="12345--", start_time=time(11, 30), end_time=time(14, 30))

BISTRO_MENU = Menu(
    channels=(Channel(ref="PLATEFORMES", name="Plateformes de livraison"),),
    categories=(
        Category(ref="FORMULES", name="Formules", description="Du lundi au vendredi, de 11 h 30 à 14 h 30"),
        Category(ref="ENTREES", name="Entrées"),
        Category(ref="PLATS", name="Plats", description="Cuisine maison, produits frais"),
        Category(ref="DESSERTS", name="Desserts", description="Faits maison"),
        Category(ref="BOISSONS", name="Boissons"),
        Category(ref="BOISSONS-CHAUDES", name="Boissons chaudes", parent_ref="BOISSONS"),
        Category(ref="VINS", name="Vins", parent_ref="BOISSONS", tags=("alcohol",)),
        Category(ref="BIERES", name="Bières", parent_ref="BOISSONS", tags=("alcohol",)),
        Category(ref="SANS-ALCOOL", name="Sans alcool", parent_ref="BOISSONS"),
    ),
    products=(
        _dish("SOUPE-OIG", "ENTREES", "Soupe à l'oignon", "8.00", description="Gratinée au comté", tags=("vegetarian",)),
        _dish("OEUF-MAYO", "ENTREES", "Œufs mayonnaise", "6.50", tags=("vegetarian",)),
        _dish("TERRINE", "ENTREES", "Terrine de campagne", "8.50", description="Cornichons, pain grillé", tags=("pork",)),
        _sizes(
            "SAL-CHEVRE",
            "ENTREES",
            "Salade de chèvre chaud",
            [("Entrée", "SAL-CHEVRE-E", "9.50"), ("Plat", "SAL-CHEVRE-P", "15.50")],
            tags=("vegetarian",),
        ),
        _dish(
            "STEAK-FR",
            "PLATS",
            "Steak frites",
            "18.50",
            lists=("CUISSON", "ACCOMP", "SAUCE"),
            description="Bavette de 200 g",
            rule="20.50",
        ),
        _dish(
            "BOEUF-BOU", "PLATS", "Bœuf bourguignon", "19.90", lists=("ACCOMP",), description="Mijoté sept heures", rule="21.90"
        ),
        _dish("CONFIT", "PLATS", "Confit de canard", "21.00", lists=("ACCOMP",), description="Pommes sarladaises ou salade"),
        _dish("BURGER", "PLATS", "Burger du bistrot", "16.50", lists=("CUISSON", "ACCOMP", "SUPPL"), rule="18.50"),
        _dish(
            "CROQ-M",
            "PLATS",
            "Croque-monsieur",
            "9.50",
            lists=("SUPPL",),
            description="Jambon blanc, comté, béchamel",
            tags=("pork",),
        ),
        _dish(
            "CROQ-MME",
            "PLATS",
            "Croque-madame",
            "10.50",
            lists=("SUPPL",),
            description="Le croque, avec un œuf au plat",
            tags=("pork",),
        ),
        _dish("QUICHE-L", "PLATS", "Quiche lorraine", "11.00", lists=("ACCOMP",), tags=("pork",)),
        _dish("SAL-NIC", "PLATS", "Salade niçoise", "13.90", description="Thon, œuf, olives, anchois"),
        _dish("CREME-BR", "DESSERTS", "Crème brûlée", "7.50", tags=("vegetarian",)),
        _dish("TARTE-TAT", "DESSERTS", "Tarte Tatin", "8.00", lists=("DESS-ACC",), tags=("vegetarian",)),
        _dish("MOUSSE", "DESSERTS", "Mousse au chocolat", "6.50", tags=("vegetarian",)),
        _dish("ILE-FLOT", "DESSERTS", "Île flottante", "7.00", tags=("vegetarian",)),
        _dish("CAFE-GOUR", "DESSERTS", "Café gourmand", "9.00"),
        _sizes(
            "CAFE",
            "BOISSONS-CHAUDES",
            "Café",
            [("Expresso", "CAFE-EXP", "2.20"), ("Double", "CAFE-DBL", "3.80"), ("Crème", "CAFE-CRM", "4.20")],
        ),
        _sizes("THE", "BOISSONS-CHAUDES", "Thé", [("", "THE", "3.50")], lists=("THE-PARFUM",)),
        _dish("CHOCO", "BOISSONS-CHAUDES", "Chocolat chaud", "4.50"),
        _sizes(
            "VIN-R",
            "VINS",
            "Vin rouge · Côtes du Rhône",
            [
                ("Verre 15 cl", "VIN-R-15", "6.00"),
                ("Pichet 50 cl", "VIN-R-50", "16.00"),
                ("Bouteille 75 cl", "VIN-R-75", "26.00"),
            ],
            tax=ALCOHOL,
            tags=("alcohol",),
        ),
        _sizes(
            "VIN-B",
            "VINS",
            "Vin blanc · Mâcon",
            [("Verre 15 cl", "VIN-B-15", "6.50"), ("Bouteille 75 cl", "VIN-B-75", "28.00")],
            tax=ALCOHOL,
            tags=("alcohol",),
        ),
        _sizes("VIN-RO", "VINS", "Rosé de Provence", [("Verre 15 cl", "VIN-RO-15", "6.00")], tax=ALCOHOL, tags=("alcohol",)),
        _sizes(
            "BIERE",
            "BIERES",
            "Bière pression",
            [("Demi 25 cl", "BIERE-25", "4.00"), ("Pinte 50 cl", "BIERE-50", "7.50")],
            tax=ALCOHOL,
            tags=("alcohol",),
        ),
        _sizes("LIMO", "SANS-ALCOOL", "Limonade artisanale", [("33 cl", "LIMO-33", "4.50")], lists=("SIROP",)),
        _sizes("EAU", "SANS-ALCOOL", "Eau minérale", [("50 cl", "EAU-50", "3.50"), ("1 l", "EAU-100", "5.50")]),
        _dish("JUS-ORANGE", "SANS-ALCOOL", "Jus d'orange pressé", "5.00"),
        _sizes("COCA", "SANS-ALCOOL", "Coca-Cola", [("33 cl", "COCA-33", "4.50")]),
    ),
    option_lists=(
        _options(
            "CUISSON",
            "Cuisson",
            1,
            1,
            [
                ("Bleu", "CUIS-BLEU", "0"),
                ("Saignant", "CUIS-SAIG", "0"),
                ("À point", "CUIS-POINT", "0"),
                ("Bien cuit", "CUIS-BIEN", "0"),
            ],
            default="CUIS-POINT",
        ),
        _options(
            "ACCOMP",
            "Accompagnement",
            1,
            1,
            [
                ("Frites maison", "ACC-FRI", "0"),
                ("Salade verte", "ACC-SAL", "0"),
                ("Purée maison", "ACC-PUR", "0"),
                ("Haricots verts", "ACC-HAR", "1.50"),
            ],
            default="ACC-FRI",
        ),
        _options(
            "SAUCE",
            "Sauce",
            0,
            2,
            [("Poivre", "SAUCE-POIVRE", "1.50"), ("Béarnaise", "SAUCE-BEARN", "1.50"), ("Roquefort", "SAUCE-ROQ", "2.00")],
        ),
        _options(
            "SUPPL",
            "Suppléments",
            0,
            3,
            [("Œuf", "SUPP-OEUF", "1.00"), ("Bacon", "SUPP-BACON", "1.50"), ("Cheddar", "SUPP-CHED", "1.00")],
        ),
        _options(
            "DESS-ACC",
            "Avec le dessert",
            0,
            1,
            [("Crème fraîche", "DESS-CREME", "1.00"), ("Boule vanille", "DESS-VANILLE", "1.50")],
        ),
        _options(
            "THE-PARFUM",
            "Parfum du thé",
            1,
            1,
            [("Earl grey", "THE-EARL", "0"), ("Vert jasmin", "THE-VERT", "0"), ("Menthe", "THE-MENTHE", "0")],
        ),
        _options(
            "SIROP",
            "Sirop",
            0,
            1,
            [("Menthe", "SIROP-MENTHE", "0.50"), ("Grenadine", "SIROP-GREN", "0.50"), ("Citron", "SIROP-CITRON", "0.50")],
        ),
    ),
    deals=(
        Deal(
            ref="FORMULE-MIDI",
            name="Formule midi : plat + dessert ou café",
            category_ref="FORMULES",
            description="Du lundi au vendredi midi",
            restrictions=LUNCH,
            lines=(
                DealLine(
                    label="Plat",
                    pricing_effect=FIXED_PRICE,
                    pricing_value=D("14.50"),
                    skus=(
                        DealSku("STEAK-FR", extra_charge=D("3.00")),
                        DealSku("BOEUF-BOU", extra_charge=D("2.00")),
                        DealSku("QUICHE-L"),
                        DealSku("CROQ-M"),
                        DealSku("SAL-NIC"),
                    ),
                ),
                DealLine(
                    label="Dessert ou café",
                    pricing_effect=FIXED_PRICE,
                    pricing_value=D("3.50"),
                    skus=(
                        DealSku("CREME-BR"),
                        DealSku("MOUSSE"),
                        DealSku("TARTE-TAT", extra_charge=D("1.00")),
                        DealSku("CAFE-EXP"),
                    ),
                ),
            ),
        ),
    ),
    discounts=(
        Discount(
            ref="BIENVENUE",
            name="Code BIENVENUE : 5 € offerts",
            pricing_effect=PRICE_OFF,
            pricing_value=D("5.00"),
            coupon_codes=("BIENVENUE",),
            restrictions=Restrictions(min_order_amount=D("20.00"), max_per_customer=1),
        ),
        Discount(ref="FIDELITE", name="Carte de fidélité : 10 %", pricing_effect=PERCENTAGE_OFF, pricing_value=D("10")),
    ),
    charges=(
        Charge(ref="LIVRAISON", name="Frais de livraison", kind="delivery", price=D("3.50")),
        Charge(ref="EMBALLAGE", name="Emballage à emporter", kind="other", price=D("0.50")),
    ),
    service_types=(
        ServiceType(kind="eat_in", name="Sur place (QR code)", ref="QR-TABLE"),
        ServiceType(kind="collection", name="Click & collect", ref="CLICK-COLLECT"),
        ServiceType(kind="delivery", name="Livraison", ref="WEBSITE-DEL"),
    ),
    payment_methods=(
        PaymentMethod(name="Carte bancaire", ref="CB"),
        PaymentMethod(name="Paiement en ligne", ref="ONLINE"),
        PaymentMethod(name="Espèces", ref="CASH"),
        PaymentMethod(name="Titre-restaurant", ref="TR"),
    ),
)
