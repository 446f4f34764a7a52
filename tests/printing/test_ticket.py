"""The ticket's content and layout, and its ESC/POS bytes read back by the sandbox's decoder."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from hubrise_sandbox.printer import Decoder
from orders.inputs import NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewPayment
from orders.models import Order
from printing.render import ticket_bytes
from printing.ticket import LARGE, TALL, columns_for, order_ticket, printable, printer_test_ticket
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 24, 17, 42, tzinfo=UTC)  # 19:42 in Paris


@pytest.fixture(autouse=True)
def french():
    with translation.override("fr"):
        yield


def loaded(order: Order) -> Order:
    return (
        Order.objects.select_related("establishment")
        .prefetch_related("items__options", "deals", "discounts", "charges", "payments")
        .get(pk=order.pk)
    )


def kitchen(order: Order, **options):
    return order_ticket(loaded(order), receipt=False, columns=48, now=NOW, **options)


def decoded(data: bytes) -> list[list[dict]]:
    """The tickets a printer would cut from these bytes."""
    tickets = []
    decoder = Decoder(on_cut=tickets.append, on_status=lambda kind: None)
    decoder.feed(data)
    return tickets


@pytest.fixture
def establishment():
    return make_establishment("Le Petit Bistrot", timezone="Europe/Paris")


def test_the_kitchen_ticket_says_what_a_cook_needs_in_reading_order_without_prices(establishment):
    order = make_order(
        establishment,
        ref="0042",
        table_name="12",
        customer=NewCustomer(first_name="Élodie", last_name="Martin"),
        items=(
            NewItem(
                "Steak frites",
                Decimal("18.50"),
                Decimal("2"),
                options=(NewOption("Cuisson", "Saignant"), NewOption("Garniture", "Oignons", removed=True)),
                customer_notes="Bien chaud",
            ),
        ),
    )

    text = kitchen(order).text

    expected_order = [
        "Le Petit Bistrot",
        "N° 0042",
        "SUR PLACE · TABLE 12",
        "Élodie Martin",
        "DÈS QUE POSSIBLE",
        "2 x Steak frites",
    ]
    positions = [text.index(part) for part in expected_order]
    assert positions == sorted(positions)
    assert "+ Saignant" in text and "SANS Oignons" in text and "Note\u00a0: Bien chaud" in text
    assert "€" not in text and "TOTAL" not in text


def test_the_receipt_adds_prices_discounts_total_and_whether_it_is_paid(establishment):
    order = make_order(
        establishment,
        items=(NewItem("Croque-monsieur", Decimal("9.50"), Decimal("2")),),
        discounts=(NewDiscount("Fidélité", Decimal("2.00")),),
        payments=(NewPayment(amount=Decimal("17.00"), name="Carte bancaire"),),
    )

    text = order_ticket(loaded(order), receipt=True, columns=48, now=NOW).text

    assert "19,00\u00a0€" in text
    assert "Remise Fidélité" in text and "-2,00\u00a0€" in text
    assert "TOTAL" in text and "17,00\u00a0€" in text
    assert "PAYÉE" in text


def test_an_unpaid_receipt_says_what_is_left_to_pay(establishment):
    order = make_order(establishment, items=(NewItem("Café", Decimal("2.20"), Decimal("1")),), payments=())

    lines = order_ticket(loaded(order), receipt=True, columns=48, now=NOW).lines

    to_pay = next(line for line in lines if line.text.startswith("À PAYER"))
    assert "2,20" in to_pay.text and to_pay.reverse


def test_times_are_those_of_the_establishment(establishment):
    order = make_order(establishment, expected_time=datetime(2026, 6, 24, 18, 30, tzinfo=UTC))

    assert "POUR 20:30" in kitchen(order).text


def test_an_order_due_another_day_gives_the_date(establishment):
    order = make_order(establishment, expected_time=datetime(2026, 6, 25, 10, 0, tzinfo=UTC))

    assert "POUR 25/06/2026 12:00" in kitchen(order).text


def test_an_allergy_stands_out_in_reverse_video_and_other_notes_do_not(establishment):
    order = make_order(
        establishment,
        customer_notes="Allergie aux fruits à coque",
        items=(NewItem("Salade niçoise", Decimal("13.90"), Decimal("1"), customer_notes="Sans oignons"),),
    )

    lines = kitchen(order).lines

    allergy = [line for line in lines if "fruits à coque" in line.text]
    other = [line for line in lines if "Sans oignons" in line.text]
    assert allergy and all(line.reverse for line in allergy)
    assert other and not any(line.reverse for line in other)


def test_a_reprint_says_duplicate_and_a_resent_ticket_says_so(establishment):
    order = make_order(establishment)

    duplicate = kitchen(order, duplicate=True)
    resent = kitchen(order, resumed=True)

    assert duplicate.text.count("DUPLICATA") == 2
    assert any(line.reverse and line.size == LARGE for line in duplicate.lines if line.text == "DUPLICATA")
    assert "RENVOI" in resent.text and "DUPLICATA" not in resent.text


@pytest.mark.parametrize("columns", [48, 32])
def test_no_line_is_wider_than_the_paper_even_with_very_long_notes(establishment, columns):
    long_note = "Sans gluten, " * 400 + "x" * 300
    order = make_order(
        establishment,
        customer_notes=long_note,
        items=(NewItem("Un plat au nom interminable " * 7, Decimal("12"), Decimal("1"), customer_notes=long_note),),
    )

    for receipt in (False, True):
        ticket = order_ticket(loaded(order), receipt=receipt, columns=columns, now=NOW)
        assert all(len(line.text) <= columns_for(line.size, columns) for line in ticket.lines)
        assert ticket.text.count("x") >= 600


def test_a_ticket_of_200_items_lists_them_all(establishment):
    items = tuple(NewItem(f"Plat {number}", Decimal("1"), Decimal("1")) for number in range(200))
    order = make_order(establishment, items=items)

    ticket = kitchen(order)
    (printed,) = decoded(ticket_bytes(ticket))

    printed_text = "\n".join(line["text"] for line in printed)
    assert all(f"1 x Plat {number}\n" in printed_text + "\n" for number in range(200))


def test_emoji_and_characters_outside_the_code_page_come_out_transliterated(establishment):
    order = make_order(
        establishment,
        customer=NewCustomer(first_name="Zoë", last_name="Œuvray"),
        customer_notes="Merci 🙏 ! Pas de 🥜 漢字",
        items=(NewItem("Pizza 🍕", Decimal("12"), Decimal("1"), options=(NewOption("Extra", "Bœuf ½"),)),),
    )

    ticket = kitchen(order)
    (printed,) = decoded(ticket_bytes(ticket))
    printed_text = "\n".join(line["text"] for line in printed)

    assert "1 x Pizza :pizza:" in printed_text
    assert "Zoë Oeuvray" in printed_text
    assert "Merci :pray: ! Pas de :peanuts:" in printed_text and "HanZi" in printed_text
    assert "+ Boeuf ½" in printed_text
    assert "?" not in printed_text and "\ufffd" not in printed_text


def test_printer_commands_in_a_note_are_dropped(establishment):
    order = make_order(establishment, customer_notes="Bonjour\x1bVx\x1d!\x11\x10\x04\x04 fin")

    data = ticket_bytes(kitchen(order))

    assert b"Bonjour" in data and b"\x1bVx" not in data and b"\x1d!\x11" not in data and b"\x10\x04" not in data
    (printed,) = decoded(data)
    assert "NOTE DU CLIENT : BonjourVx" in [line["text"] for line in printed]


def test_the_paper_shows_what_the_ticket_says_with_its_styles(establishment):
    order = make_order(
        establishment,
        deals=(NewDeal("0", "Formule midi"),),
        items=(NewItem("Quiche lorraine", Decimal("11"), Decimal("1"), deal_key="0", deal_label="Plat"),),
        customer_notes="Allergie : sésame",
    )
    ticket = kitchen(order, duplicate=True)

    (printed,) = decoded(ticket_bytes(ticket))

    expected = [line for line in ticket.lines if not line.cut]
    assert [line["text"] for line in printed] == [line.text for line in expected]
    assert [(line["size"], line["bold"], line["reverse"], line["align"]) for line in printed] == [
        (line.size, line.bold, line.reverse, line.align) for line in expected
    ]
    assert any(line["size"] == "tall" for line in printed) and TALL == "tall"


def test_the_test_page_names_the_printer_and_shows_every_style():
    ticket = printer_test_ticket(
        printer_name="Cuisine", address="192.168.1.50:9100", establishment_name="Le Petit Bistrot", columns=32, now=NOW, zone=UTC
    )

    assert "PAGE DE TEST" in ticket.text and "Cuisine" in ticket.text and "192.168.1.50:9100" in ticket.text
    assert {line.size for line in ticket.lines if not line.cut} == {"normal", "tall", "large"}
    assert any(line.reverse for line in ticket.lines)
    assert ticket.lines[-1].cut
    assert decoded(ticket_bytes(ticket))


def test_printable_keeps_french_and_the_euro_and_transliterates_the_rest():
    assert printable("Crème brûlée à 7,50 € « maison »") == "Crème brûlée à 7,50 € « maison »"
    assert printable("Œuf 🍕\tfin") == "Oeuf :pizza: fin"
