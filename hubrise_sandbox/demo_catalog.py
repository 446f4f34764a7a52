"""The demo locations' catalogs, their location details and their POS codes, as a restaurant's POS
would have uploaded them to HubRise.

Prices are tax-inclusive (a French account). The "Livraison" variant carries the delivery
platforms' prices; what HubRise has no resource for (service types, payment methods) is the
POS's own list of codes, which a connected app maps by hand (``POS_CODES``).
"""

from __future__ import annotations


def _sku(ref: str, price: str, name: str | None = None, **extra) -> dict:
    return {"ref": ref, "name": name, "price": f"{price} EUR", **extra}


def _product(ref: str, category_ref: str, name: str, skus: list[dict], description: str | None = None, **extra) -> dict:
    product = {"ref": ref, "category_ref": category_ref, "name": name, "skus": skus, **extra}
    if description:
        product["description"] = description
    return product


def _option(ref: str, name: str, price: str = "0.00", **extra) -> dict:
    return {"ref": ref, "name": name, "price": f"{price} EUR", **extra}


def _delivery_price(price: str) -> list[dict]:
    return [{"variant_refs": ["LIVRAISON"], "price": f"{price} EUR"}]


MAIN_COURSE = ["CUISSON", "SAUCE", "ACCOMP", "SUPPLEMENTS"]

PETIT_BISTROT = {
    "name": "Carte Le Petit Bistrot",
    "data": {
        "variants": [
            {"ref": "SUR-PLACE", "name": "Sur place"},
            {"ref": "EMPORTER", "name": "À emporter"},
            {"ref": "LIVRAISON", "name": "Livraison (plateformes)"},
        ],
        "categories": [
            {"ref": "ENTREES", "name": "Entrées", "description": "Pour commencer"},
            {"ref": "PLATS", "name": "Plats", "description": "Cuisine maison, frites coupées au couteau"},
            {"ref": "DESSERTS", "name": "Desserts"},
            {"ref": "BOISSONS", "name": "Boissons"},
            {"ref": "BOISSONS-FRAICHES", "parent_ref": "BOISSONS", "name": "Boissons fraîches"},
            {"ref": "VINS-BIERES", "parent_ref": "BOISSONS", "name": "Vins et bières", "tags": ["alcohol"]},
            {"ref": "BOISSONS-CHAUDES", "parent_ref": "BOISSONS", "name": "Boissons chaudes"},
            {"ref": "FORMULES", "name": "Formules"},
        ],
        "products": [
            _product(
                "SOUPE-OIGNON",
                "ENTREES",
                "Soupe à l'oignon gratinée",
                [_sku("SOUPE-OIGNON", "8.50", price_overrides=_delivery_price("9.50"))],
                "Bouillon de bœuf, croûtons, comté fondu",
            ),
            _product("OEUFS-MAYO", "ENTREES", "Œufs mayonnaise", [_sku("OEUFS-MAYO", "6.50")], tags=["vegetarian"]),
            _product(
                "TERRINE", "ENTREES", "Terrine de campagne", [_sku("TERRINE", "7.90")], "Cornichons et pain grillé", tags=["pork"]
            ),
            _product(
                "ESCARGOTS",
                "ENTREES",
                "Escargots de Bourgogne",
                [_sku("ESCARGOTS-6", "9.90", "6 pièces"), _sku("ESCARGOTS-12", "17.50", "12 pièces")],
                "Beurre persillé à l'ail",
            ),
            _product(
                "SALADE-CHEVRE",
                "ENTREES",
                "Salade de chèvre chaud",
                [_sku("SALADE-CHEVRE", "11.50", option_list_refs=["SUPPLEMENTS"])],
                "Toasts de chèvre, miel, noix",
                tags=["vegetarian"],
            ),
            _product(
                "STEAK-FRITES",
                "PLATS",
                "Steak frites",
                [_sku("STEAK-FRITES", "19.50", option_list_refs=MAIN_COURSE, price_overrides=_delivery_price("21.50"))],
                "Bavette de 200 g",
            ),
            _product(
                "BURGER",
                "PLATS",
                "Burger du bistrot",
                [_sku("BURGER", "16.90", option_list_refs=MAIN_COURSE, price_overrides=_delivery_price("18.50"))],
                "Bœuf haché, cheddar affiné, oignons confits",
            ),
            _product(
                "CONFIT",
                "PLATS",
                "Confit de canard",
                [_sku("CONFIT", "18.90", option_list_refs=["ACCOMP"])],
                "Cuisse confite, pommes sarladaises",
            ),
            _product(
                "CROQUE",
                "PLATS",
                "Croque-monsieur",
                [
                    _sku("CROQUE-M", "11.50", "Monsieur", option_list_refs=["ACCOMP", "SUPPLEMENTS"]),
                    _sku("CROQUE-MME", "12.50", "Madame (œuf)", option_list_refs=["ACCOMP", "SUPPLEMENTS"]),
                ],
                "Jambon blanc, comté, béchamel",
            ),
            _product("BOURGUIGNON", "PLATS", "Bœuf bourguignon", [_sku("BOURGUIGNON", "17.90")], "Mijoté 6 heures, purée maison"),
            _product(
                "POISSON-JOUR",
                "PLATS",
                "Poisson du jour",
                [_sku("POISSON-JOUR", "19.90", option_list_refs=["ACCOMP"], restrictions={"dow": "-2345--"})],
                "Selon arrivage, beurre blanc",
            ),
            _product(
                "CREME-BRULEE",
                "DESSERTS",
                "Crème brûlée",
                [_sku("CREME-BRULEE", "7.50")],
                "À la vanille de Madagascar",
                tags=["vegetarian"],
            ),
            _product("MOUSSE-CHOCO", "DESSERTS", "Mousse au chocolat", [_sku("MOUSSE-CHOCO", "6.90")], tags=["vegetarian"]),
            _product(
                "TATIN",
                "DESSERTS",
                "Tarte Tatin",
                [_sku("TATIN", "8.50", option_list_refs=["ACCOMP-DESSERT"])],
                "Pommes caramélisées, pâte feuilletée",
            ),
            _product("PROFITEROLES", "DESSERTS", "Profiteroles", [_sku("PROFITEROLES", "8.90")], "Glace vanille, chocolat chaud"),
            _product(
                "CAFE-GOURMAND",
                "DESSERTS",
                "Café gourmand",
                [_sku("CAFE-GOURMAND", "8.90", restrictions={"variant_refs": ["SUR-PLACE"]})],
                "Espresso et trois mignardises",
            ),
            _product(
                "EAU", "BOISSONS-FRAICHES", "Eau minérale", [_sku("EAU-50", "3.50", "50 cl"), _sku("EAU-100", "5.50", "1 l")]
            ),
            _product("COCA", "BOISSONS-FRAICHES", "Coca-Cola", [_sku("COCA-33", "4.00", "33 cl")]),
            _product("LIMONADE", "BOISSONS-FRAICHES", "Limonade artisanale", [_sku("LIMONADE", "4.50")]),
            _product(
                "VIN-VERRE",
                "VINS-BIERES",
                "Verre de vin",
                [
                    _sku("VIN-ROUGE-VERRE", "5.50", "Rouge (Côtes du Rhône)"),
                    _sku("VIN-BLANC-VERRE", "6.00", "Blanc (Mâcon)"),
                    _sku("VIN-ROSE-VERRE", "5.50", "Rosé (Côtes de Provence)"),
                ],
                tags=["alcohol"],
            ),
            _product(
                "CDR-BOUTEILLE",
                "VINS-BIERES",
                "Côtes du Rhône, bouteille 75 cl",
                [_sku("CDR-BOUTEILLE", "26.00", restrictions={"variant_refs": ["SUR-PLACE", "EMPORTER"]})],
                tags=["alcohol"],
            ),
            _product(
                "BIERE-PRESSION",
                "VINS-BIERES",
                "Bière pression",
                [_sku("BIERE-DEMI", "4.50", "Demi 25 cl", restrictions={"variant_refs": ["SUR-PLACE"]})],
                tags=["alcohol"],
            ),
            _product("ESPRESSO", "BOISSONS-CHAUDES", "Espresso", [_sku("ESPRESSO", "2.20")]),
            _product("CAFE-CREME", "BOISSONS-CHAUDES", "Café crème", [_sku("CAFE-CREME", "3.80")]),
            _product("THE", "BOISSONS-CHAUDES", "Thé", [_sku("THE", "3.50")], "Earl grey, menthe ou verveine"),
        ],
        "option_lists": [
            {
                "ref": "CUISSON",
                "name": "Cuisson",
                "min_selections": 1,
                "max_selections": 1,
                "options": [
                    _option("BLEU", "Bleu"),
                    _option("SAIGNANT", "Saignant"),
                    _option("A-POINT", "À point", default=True),
                    _option("BIEN-CUIT", "Bien cuit"),
                ],
            },
            {
                "ref": "SAUCE",
                "name": "Sauce",
                "min_selections": 0,
                "max_selections": 1,
                "options": [
                    _option("POIVRE", "Sauce au poivre", "1.50"),
                    _option("BEARNAISE", "Béarnaise", "1.50"),
                    _option("ROQUEFORT", "Roquefort", "2.00"),
                ],
            },
            {
                "ref": "ACCOMP",
                "name": "Accompagnement",
                "min_selections": 1,
                "max_selections": 1,
                "options": [
                    _option("FRITES", "Frites maison", default=True),
                    _option("SALADE-VERTE", "Salade verte"),
                    _option("PUREE", "Purée maison"),
                    _option("LEGUMES", "Légumes de saison", "1.00"),
                ],
            },
            {
                "ref": "SUPPLEMENTS",
                "name": "Suppléments",
                "min_selections": 0,
                "max_selections": None,
                "options": [
                    _option("SUPP-OEUF", "Œuf au plat", "1.00"),
                    _option("SUPP-BACON", "Bacon", "2.00"),
                    _option("SUPP-FROMAGE", "Fromage", "1.50"),
                    _option("SUPP-FRITES", "Portion de frites", "3.00"),
                ],
            },
            {
                "ref": "ACCOMP-DESSERT",
                "name": "Accompagnement dessert",
                "min_selections": 0,
                "max_selections": 1,
                "options": [
                    _option("CREME-FRAICHE", "Crème fraîche"),
                    _option("GLACE-VANILLE", "Boule de glace vanille", "1.50"),
                ],
            },
        ],
        "deals": [
            {
                "ref": "FORMULE-MIDI",
                "category_ref": "FORMULES",
                "name": "Formule midi : plat + dessert",
                "description": "Du mardi au vendredi, de 11 h 30 à 14 h 30",
                "restrictions": {
                    "dow": "-2345--",
                    "start_time": "11:30",
                    "end_time": "14:30",
                    "variant_refs": ["SUR-PLACE", "EMPORTER"],
                },
                "lines": [
                    {
                        "label": "Plat",
                        "pricing_effect": "fixed_price",
                        "pricing_value": "13.90 EUR",
                        "skus": [
                            {"ref": "STEAK-FRITES", "extra_charge": "3.00 EUR"},
                            {"ref": "CONFIT"},
                            {"ref": "CROQUE-M"},
                            {"ref": "CROQUE-MME"},
                            {"ref": "BOURGUIGNON"},
                            {"ref": "POISSON-JOUR", "extra_charge": "2.00 EUR"},
                        ],
                    },
                    {
                        "label": "Dessert",
                        "pricing_effect": "fixed_price",
                        "pricing_value": "4.00 EUR",
                        "skus": [
                            {"ref": "CREME-BRULEE"},
                            {"ref": "MOUSSE-CHOCO"},
                            {"ref": "TATIN"},
                            {"ref": "CAFE-GOURMAND", "extra_charge": "1.00 EUR"},
                        ],
                    },
                ],
            },
            {
                "ref": "HAPPY-HOUR",
                "category_ref": "FORMULES",
                "name": "Happy hour : demi à moitié prix",
                "restrictions": {"start_time": "17:00", "end_time": "19:00", "variant_refs": ["SUR-PLACE"]},
                "lines": [
                    {"label": "Bière", "pricing_effect": "percentage_off", "pricing_value": "50", "skus": [{"ref": "BIERE-DEMI"}]}
                ],
            },
        ],
        "discounts": [
            {
                "ref": "BIENVENUE10",
                "name": "10 % sur la première commande",
                "coupon_codes": ["BIENVENUE"],
                "restrictions": {"min_order_amount": "20.00 EUR", "max_per_customer": 1},
                "pricing_effect": "percentage_off",
                "pricing_value": "10",
            },
            {
                "ref": "FIDELITE5",
                "name": "Carte fidélité : 5 € offerts",
                "pricing_effect": "price_off",
                "pricing_value": "5.00 EUR",
            },
        ],
        "charges": [
            {"ref": "LIVRAISON", "name": "Frais de livraison", "type": "delivery", "price": "2.50 EUR"},
            {"ref": "EMBALLAGE", "name": "Emballage à emporter", "type": "other", "price": "0.50 EUR"},
            {"ref": "POURBOIRE", "name": "Pourboire", "type": "tip"},
        ],
    },
}

BRASSERIE_DU_PORT = {
    "name": "Carte La Brasserie du Port",
    "data": {
        "categories": [
            {"ref": "MER", "name": "Produits de la mer"},
            {"ref": "PLATS", "name": "Plats"},
            {"ref": "DESSERTS", "name": "Desserts"},
            {"ref": "BOISSONS", "name": "Boissons"},
        ],
        "products": [
            _product(
                "HUITRES",
                "MER",
                "Huîtres de Bretagne n° 3",
                [_sku("HUITRES-6", "14.00", "6 pièces"), _sku("HUITRES-12", "26.00", "12 pièces")],
            ),
            _product(
                "MOULES", "MER", "Moules marinières", [_sku("MOULES", "17.50", option_list_refs=["ACCOMP"])], "Frites maison"
            ),
            _product("SOLE", "MER", "Sole meunière", [_sku("SOLE", "32.00", option_list_refs=["ACCOMP"])]),
            _product("CHOUCROUTE", "PLATS", "Choucroute de la mer", [_sku("CHOUCROUTE", "24.50")]),
            _product("FAR-BRETON", "DESSERTS", "Far breton", [_sku("FAR-BRETON", "6.50")]),
            _product("CREPE", "DESSERTS", "Crêpe beurre sucre", [_sku("CREPE", "5.00")]),
            _product("MUSCADET", "BOISSONS", "Muscadet, verre", [_sku("MUSCADET-VERRE", "5.50")], tags=["alcohol"]),
            _product("CIDRE", "BOISSONS", "Cidre brut, bolée", [_sku("CIDRE", "4.50")], tags=["alcohol"]),
        ],
        "option_lists": [
            {
                "ref": "ACCOMP",
                "name": "Accompagnement",
                "min_selections": 1,
                "max_selections": 1,
                "options": [
                    _option("FRITES", "Frites maison", default=True),
                    _option("RIZ", "Riz pilaf"),
                    _option("SALADE", "Salade"),
                ],
            }
        ],
        "charges": [{"ref": "LIVRAISON", "name": "Frais de livraison", "type": "delivery", "price": "3.00 EUR"}],
    },
}

WEEKDAY_SERVICE = [{"from": "12:00", "to": "14:30"}, {"from": "19:00", "to": "23:00"}]

PETIT_BISTROT_LOCATION = {
    "address": "12 rue des Martyrs",
    "postal_code": "75009",
    "city": "Paris",
    "cutoff_time": "06:00",
    "opening_hours": {
        "tuesday": WEEKDAY_SERVICE,
        "wednesday": WEEKDAY_SERVICE,
        "thursday": WEEKDAY_SERVICE,
        "friday": [{"from": "12:00", "to": "14:30"}, {"from": "19:00", "to": "00:30"}],
        "saturday": [{"from": "12:00", "to": "15:00"}, {"from": "19:00", "to": "00:30"}],
        "sunday": [{"from": "12:00", "to": "15:30"}],
    },
    "preparation_time": 20,
}

BRASSERIE_DU_PORT_LOCATION = {
    "address": "3 quai de la Fosse",
    "postal_code": "44000",
    "city": "Nantes",
    "cutoff_time": "06:00",
    "opening_hours": {
        day: [{"from": "11:45", "to": "23:00"}] for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    },
    "preparation_time": 25,
}

# The POS's codes for what HubRise has no catalog resource for: a connected app sets these refs
# by hand (Get Resto: Paramètres → Caisse), and the POS expects them on every order.
POS_CODES = {
    "service_types": [
        {"service_type": "eat_in", "name": "Sur place", "ref": "SUR-PLACE"},
        {"service_type": "collection", "name": "À emporter", "ref": "EMPORTER"},
        {"service_type": "delivery", "name": "Livraison par le restaurant", "ref": "LIVRAISON"},
        {"service_type": "delivery", "name": "Uber Eats, livré par Uber", "ref": "UBER-LIV"},
        {"service_type": "delivery", "name": "Uber Eats, livré par le restaurant", "ref": "UBER-LIV-RESTO"},
        {"service_type": "collection", "name": "Uber Eats, à emporter", "ref": "UBER-EMP"},
        {"service_type": "delivery", "name": "Deliveroo, livré par Deliveroo", "ref": "DELIVEROO-LIV"},
        {"service_type": "delivery", "name": "Deliveroo, livré par le restaurant", "ref": "DELIVEROO-LIV-RESTO"},
        {"service_type": "collection", "name": "Deliveroo, à emporter", "ref": "DELIVEROO-EMP"},
    ],
    "payment_methods": [
        {"name": "Carte bancaire", "ref": "CB"},
        {"name": "Espèces", "ref": "ESPECES"},
        {"name": "Titre-restaurant", "ref": "TITRE-RESTO"},
        {"name": "Paiement en ligne", "ref": "EN-LIGNE"},
        {"name": "Uber Eats", "ref": "UBER"},
        {"name": "Deliveroo", "ref": "DELIVEROO"},
    ],
    "discounts": [{"name": "Remise plateforme", "ref": "REMISE-PLATEFORME"}],
    "charges": [
        {"name": "Frais de livraison plateforme", "ref": "LIVRAISON-PLATEFORME"},
        {"name": "Sac", "ref": "SAC"},
        {"name": "Pourboire", "ref": "POURBOIRE"},
    ],
}

DEMO_LOCATIONS = (
    {
        "name": "Le Petit Bistrot",
        "catalog": PETIT_BISTROT,
        "details": PETIT_BISTROT_LOCATION,
        "customers": (
            {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.com"},
            {"first_name": "Lucas", "last_name": "Bernard", "phone": "+33612345678"},
        ),
    },
    {
        "name": "La Brasserie du Port",
        "catalog": BRASSERIE_DU_PORT,
        "details": BRASSERIE_DU_PORT_LOCATION,
        "customers": ({"first_name": "Léa", "last_name": "Dubois", "email": "lea.dubois@example.com"},),
    },
)
