"""The printing pages: printers (managers only), the print view, the order's print state and the banner."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from printing.models import Printer, PrintJob, PrintSettings
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "printing" / "templates"


def a_printer(establishment, **fields) -> Printer:
    values = {"name": "Cuisine", "host": "192.168.1.50", "port": 9100, **fields}
    return Printer.objects.create(establishment=establishment, **values)


def test_a_manager_adds_a_printer(client, establishment, manager):
    response = client.post(
        reverse("printing:printer_add", args=[establishment.pk]),
        {
            "name": "Bar",
            "host": "192.168.1.51",
            "port": "9100",
            "paper_width": "58",
            "ticket_kind": "receipt",
            "categories": [],
        },
    )

    assert response.status_code == 302
    printer = Printer.objects.get()
    assert (printer.name, printer.paper_width, printer.ticket_kind, printer.category_refs) == (
        "Bar",
        58,
        "receipt",
        [],
    )
    page = client.get(reverse("printing:printers", args=[establishment.pk])).content.decode()
    assert "192.168.1.51:9100" in page and "Tester l’imprimante" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("host", "http://192.168.1.50", "Saisissez une adresse IP"),
        ("port", "70000", "65535"),
        ("categories", "<script>", "Sélectionnez un choix valide"),
        ("name", "Cuisine", "porte déjà ce nom"),
    ],
)
def test_bad_printer_settings_are_refused_with_a_message_and_change_nothing(
    client, establishment, manager, field, value, message
):
    a_printer(establishment)
    data = {
        "name": "Bar",
        "host": "192.168.1.51",
        "port": "9100",
        "paper_width": "80",
        "ticket_kind": "kitchen",
        "categories": [],
    }

    response = client.post(reverse("printing:printer_add", args=[establishment.pk]), {**data, field: value})

    assert response.status_code == 400 and message in response.content.decode()
    assert Printer.objects.count() == 1


def test_staff_see_the_printers_read_only_and_cannot_change_them(client, establishment, cook):
    printer = a_printer(establishment)

    page = client.get(reverse("printing:printers", args=[establishment.pk]))
    assert page.status_code == 200 and "Cuisine" in page.content.decode()
    assert "Tester l’imprimante" not in page.content.decode()
    for name, args in [
        ("printing:printer_add", []),
        ("printing:printer_edit", [printer.pk]),
        ("printing:printer_delete", [printer.pk]),
        ("printing:printer_test", [printer.pk]),
        ("printing:auto_print", []),
    ]:
        assert client.post(reverse(name, args=[establishment.pk, *args]), {"auto_print": "off"}).status_code == 403, name
    assert Printer.objects.filter(pk=printer.pk).exists() and not PrintJob.objects.exists()


def test_another_establishments_printers_are_a_404(client, establishment, manager):
    theirs = make_establishment("La Brasserie")
    their_printer = a_printer(theirs, name="Leur cuisine")

    assert client.get(reverse("printing:printers", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("printing:printer_edit", args=[establishment.pk, their_printer.pk])).status_code == 404
    assert client.post(reverse("printing:printer_delete", args=[establishment.pk, their_printer.pk])).status_code == 404
    assert client.post(reverse("printing:printer_test", args=[establishment.pk, their_printer.pk])).status_code == 404
    assert client.post(reverse("printing:printer_retry", args=[establishment.pk, their_printer.pk])).status_code == 404
    assert Printer.objects.filter(pk=their_printer.pk).exists() and not PrintJob.objects.exists()


def test_testing_the_printer_queues_a_test_page(client, establishment, manager):
    printer = a_printer(establishment)

    client.post(reverse("printing:printer_test", args=[establishment.pk, printer.pk]))

    job = PrintJob.objects.get()
    assert (job.printer, job.reason, job.order) == (printer, PrintJob.Reason.TEST, None)


def test_a_manager_chooses_when_to_print_automatically(client, establishment, manager):
    client.post(reverse("printing:auto_print", args=[establishment.pk]), {"auto_print": "on_accept"})
    assert PrintSettings.objects.get(establishment=establishment).auto_print == "on_accept"

    client.post(reverse("printing:auto_print", args=[establishment.pk]), {"auto_print": "whenever"})
    assert PrintSettings.objects.get(establishment=establishment).auto_print == "on_accept"


def test_removing_a_printer_asks_first_then_keeps_its_waiting_tickets_visible(client, establishment, manager):
    printer = a_printer(establishment)
    order = make_order(establishment)

    confirm = client.get(reverse("printing:printer_delete", args=[establishment.pk, printer.pk])).content.decode()
    assert "1 ticket attend cette imprimante" in confirm
    client.post(reverse("printing:printer_delete", args=[establishment.pk, printer.pk]))

    assert not Printer.objects.exists()
    page = client.get(reverse("orders:detail", args=[establishment.pk, order.pk])).content.decode()
    assert "non imprimé" in page and "imprimante supprimée" in page


def test_the_print_view_shows_only_the_ticket_and_its_print_button(client, establishment, cook):
    order = make_order(establishment, ref="0042")

    html = client.get(reverse("printing:ticket", args=[establishment.pk, order.pk])).content.decode()
    receipt = client.get(reverse("printing:ticket", args=[establishment.pk, order.pk]) + "?kind=receipt").content.decode()

    assert 'class="ticket-sheet" data-auto-print="true"' in html and "N° 0042" in html
    assert "js/print_ticket.js" in html and "css/printing.css" in html
    assert "TOTAL" not in html and "TOTAL" in receipt


def test_the_order_page_and_list_offer_printing_and_show_the_ticket_state(client, establishment, cook):
    a_printer(establishment)
    order = make_order(establishment, ref="0042")
    PrintJob.objects.filter(order=order).update(state="printed", printed_at=timezone.now())

    detail = client.get(reverse("orders:detail", args=[establishment.pk, order.pk])).content.decode()
    listing = client.get(reverse("orders:list", args=[establishment.pk])).content.decode()

    assert "Ticket de cuisine" in detail and "Cuisine" in detail and "imprimé à" in detail
    assert "Réimprimer (duplicata)" in detail
    assert "Ticket imprimé" in listing
    assert reverse("printing:ticket", args=[establishment.pk, order.pk]) in listing


def test_the_reprint_button_queues_a_duplicate(client, establishment, cook):
    a_printer(establishment)
    order = make_order(establishment)

    client.post(reverse("printing:print_order", args=[establishment.pk, order.pk]))

    assert list(PrintJob.objects.order_by("id").values_list("reason", flat=True)) == ["auto", "reprint"]


def test_the_banner_names_the_printer_unreachable_for_over_a_minute_and_its_waiting_tickets(client, establishment, cook):
    printer = a_printer(establishment)
    for _ in range(3):
        make_order(establishment)
    since = timezone.now() - timedelta(minutes=2)
    Printer.objects.filter(pk=printer.pk).update(failing_since=since, problem="unreachable", last_error="connexion refusée")

    page = client.get(reverse("orders:list", args=[establishment.pk])).content.decode()
    banner = client.get(reverse("printing:banner", args=[establishment.pk])).content.decode()

    # The page asks for the banner as soon as it is shown, then every 10 s.
    assert f'hx-get="{reverse("printing:banner", args=[establishment.pk])}" hx-trigger="load"' in page
    local = timezone.localtime(since, establishment.tzinfo).strftime("%H:%M")
    assert f"Imprimante Cuisine injoignable depuis {local} : 3 tickets en attente" in banner
    assert 'hx-trigger="every 10s"' in banner


def test_a_printer_failing_for_less_than_a_minute_raises_no_banner(client, establishment, cook):
    printer = a_printer(establishment)
    make_order(establishment)
    Printer.objects.filter(pk=printer.pk).update(failing_since=timezone.now() - timedelta(seconds=20), problem="unreachable")

    assert "injoignable" not in client.get(reverse("printing:banner", args=[establishment.pk])).content.decode()


def test_retry_now_puts_the_printers_waiting_tickets_back_in_line(client, establishment, cook):
    printer = a_printer(establishment)
    make_order(establishment)
    PrintJob.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    client.post(reverse("printing:printer_retry", args=[establishment.pk, printer.pk]))

    assert PrintJob.objects.get().next_attempt_at <= timezone.now()


def test_the_templates_hold_no_inline_script_style_or_event_handler():
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html), template


def test_the_demo_restaurant_gets_a_kitchen_printer_that_prints_only_new_orders(settings):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo_printer", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo_printer", stdout=open("/dev/null", "w"))  # noqa: SIM115

    (printer,) = Printer.objects.all()
    assert (printer.establishment.name, printer.host, printer.port) == ("Le Petit Bistrot", "127.0.0.1", 9100)
    assert not PrintJob.objects.exists()
    make_order(printer.establishment)
    assert PrintJob.objects.get().printer == printer
