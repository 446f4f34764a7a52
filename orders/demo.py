"""Realistic orders of a French bistro, for the demo and the benchmarks."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from orders.inputs import NewCharge, NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewOrder, NewPayment
from orders.services import order_total

D = Decimal

# (product, sku name, sku ref, price, tax rate)
MENU = [
    ("Croque-monsieur", "", "CROQ-M", D("9.50"), D("10.0")),
    ("Croque-madame", "", "CROQ-MME", D("10.50"), D("10.0")),
    ("Salade niçoise", "", "SAL-NIC", D("13.90"), D("10.0")),
    ("Soupe à l'oignon", "", "SOUPE-OIG", D("8.00"), D("10.0")),
    ("Steak frites", "", "STEAK-FR", D("18.50"), D("10.0")),
    ("Bœuf bourguignon", "", "BOEUF-BOU", D("19.90"), D("10.0")),
    ("Quiche lorraine", "", "QUICHE-L", D("11.00"), D("10.0")),
    ("Croissant", "", "CROISS", D("1.60"), D("5.5")),
    ("Pain au chocolat", "", "PAC", D("1.80"), D("5.5")),
    ("Crème brûlée", "", "CREME-BR", D("7.50"), D("10.0")),
    ("Tarte Tatin", "", "TARTE-TAT", D("8.00"), D("10.0")),
    ("Café", "Expresso", "CAFE-EXP", D("2.20"), D("10.0")),
    ("Café", "Crème", "CAFE-CRM", D("4.20"), D("10.0")),
    ("Vin rouge", "Verre 15 cl", "VIN-R-15", D("6.00"), D("20.0")),
    ("Vin rouge", "Bouteille 75 cl", "VIN-R-75", D("26.00"), D("20.0")),
    ("Limonade", "33 cl", "LIMO-33", D("4.50"), D("5.5")),
]
COOKING = ["Bleu", "Saignant", "À point", "Bien cuit"]
# Notes guests actually write, each on the dish it makes sense for (never "Vin rouge – Sans sel").
ITEM_NOTES = {
    "Steak frites": ["Sauce béarnaise à part", "Sans sel sur les frites"],
    "Salade niçoise": ["Sans anchois", "Vinaigrette à part"],
    "Soupe à l'oignon": ["Bien chaude"],
    "Croque-monsieur": ["Sans gluten si possible"],
    "Quiche lorraine": ["Bien chaude"],
    "Crème brûlée": ["Une bougie, c'est un anniversaire"],
}
SIDES = [("Frites", "", D("0")), ("Salade verte", "", D("0")), ("Haricots verts", "", D("1.50"))]
FIRST_NAMES = ["Camille", "Léa", "Manon", "Chloé", "Louis", "Hugo", "Lucas", "Jules", "Inès", "Nathan", "Zoé", "Arthur"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Voltaire", "rue du Port"]
NOTES = ["", "", "", "", "", "Allergie aux fruits à coque", "Pas d'oignons", "Couverts en plus, merci"]
# The ordering fronts of the demo restaurant, by service type (Order.channel).
CHANNELS = {"eat_in": "Menu QR code", "collection": "Site web", "delivery": "Site web"}


def _item(rng: random.Random) -> NewItem:
    product, sku_name, sku_ref, price, tax = rng.choice(MENU)
    options: list[NewOption] = []
    if product == "Steak frites":
        options.append(NewOption("Cuisson", rng.choice(COOKING), ref="CUISSON"))
        side, _, side_price = rng.choice(SIDES)
        options.append(NewOption("Accompagnement", side, ref="ACC-" + side[:3].upper(), price=side_price))
    if product.startswith("Croque") and rng.random() < 0.3:
        options.append(NewOption("Suppléments", "Œuf", ref="SUPP-OEUF", price=D("1.00")))
    quantity = D(rng.choice([1, 1, 1, 2, 2, 3]))
    return NewItem(
        product_name=product,
        sku_name=sku_name,
        sku_ref=sku_ref,
        price=price,
        quantity=quantity,
        tax_rate=tax,
        options=tuple(options),
        customer_notes=rng.choice(ITEM_NOTES[product]) if product in ITEM_NOTES and rng.random() < 0.2 else "",
    )


def random_order(rng: random.Random, now: datetime, status: str = "new", service_type: str | None = None) -> NewOrder:
    service_type = service_type or rng.choice(["eat_in", "eat_in", "collection", "delivery"])
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    customer = NewCustomer(
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{last.lower()}@example.fr".replace("é", "e").replace("è", "e").replace("ï", "i"),
        phone=f"+336{rng.randrange(10_000_000, 99_999_999)}",
    )
    if service_type == "delivery":
        customer = NewCustomer(
            **{
                **customer.__dict__,
                "address_1": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                "postal_code": "750" + str(rng.randrange(10, 21)),
                "city": "Paris",
                "country": "France",
                "delivery_notes": rng.choice(["", "Code porte 4521B", "3e étage gauche"]),
            }
        )
    items = tuple(_item(rng) for _ in range(rng.randrange(1, 5)))
    deals: tuple[NewDeal, ...] = ()
    if rng.random() < 0.15:
        deals = (NewDeal(key="0", name="Formule midi", ref="FORMULE-MIDI"),)
        items = (
            *items,
            NewItem("Quiche lorraine", D("11.00"), D("1"), sku_ref="QUICHE-L", deal_key="0", deal_label="Plat"),
            NewItem("Café", D("2.20"), D("1"), sku_name="Expresso", sku_ref="CAFE-EXP", deal_key="0", deal_label="Café"),
        )
    charges = (
        (NewCharge("Frais de livraison", D("3.50"), ref="LIVRAISON", tax_rate=D("20.0")),) if service_type == "delivery" else ()
    )
    discounts = (NewDiscount("Code BIENVENUE", D("5.00"), ref="BIENVENUE"),) if rng.random() < 0.1 else ()
    draft = NewOrder(items=items, charges=charges, discounts=discounts, deals=deals)
    payment = NewPayment(
        amount=order_total(draft),
        name=rng.choice(["Carte bancaire", "Paiement en ligne"]),
        ref=rng.choice(["CB", "ONLINE"]),
        info={"transaction_id": f"tx_{rng.randrange(10**9, 10**10)}"},
    )
    expected = None if rng.random() < 0.4 else now + timedelta(minutes=rng.choice([15, 20, 30, 45, 60]))
    return NewOrder(
        items=items,
        status=status,
        channel=CHANNELS[service_type],
        service_type=service_type,
        service_type_ref={"eat_in": "QR-TABLE", "collection": "CLICK-COLLECT", "delivery": "WEBSITE-DEL"}[service_type],
        table_name=str(rng.randrange(1, 25)) if service_type == "eat_in" else "",
        expected_time=expected,
        customer=customer,
        customer_notes=rng.choice(NOTES),
        collection_code=str(rng.randrange(100, 999)) if service_type == "collection" else "",
        coupon_codes=("BIENVENUE",) if discounts else (),
        deals=deals,
        discounts=discounts,
        charges=charges,
        payments=(payment,),
    )
