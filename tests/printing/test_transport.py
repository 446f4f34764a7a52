"""Sending bytes to a printer over TCP, against the sandbox's virtual printers and their faults."""

import socket
import threading
import time

import pytest

from printing.render import ticket_bytes
from printing.ticket import Line, Ticket
from printing.transport import PAPER_OUT, UNREACHABLE, PrinterError, send

TICKET = ticket_bytes(Ticket(48, (*(Line(f"Ligne {n} · crème brûlée", bold=n == 0) for n in range(30)), Line(cut=True))))


def send_to(printer, data: bytes = TICKET, **timeouts):
    return send("127.0.0.1", printer.port, data, connect_timeout=timeouts.get("connect", 1.0), io_timeout=timeouts.get("io", 1.0))


def test_a_ticket_reaches_the_printer_whole_and_cut(virtual_printer):
    printer = virtual_printer()

    delivery = send_to(printer)

    (ticket,) = printer.tickets()
    assert ticket["complete"] and ticket["lines"][0] == {
        "text": "Ligne 0 · crème brûlée",
        "bold": True,
        "size": "normal",
        "reverse": False,
        "align": "left",
    }
    assert len(ticket["lines"]) == 30
    assert delivery.bytes_sent == len(TICKET) and delivery.answered_status


def test_a_refusing_printer_is_unreachable_and_nothing_was_sent(virtual_printer):
    printer = virtual_printer()
    printer.fault("refuse")

    with pytest.raises(PrinterError) as refused:
        send_to(printer)

    assert refused.value.problem == UNREACHABLE and refused.value.bytes_sent == 0
    assert "refusée" in str(refused.value)
    printer.clear_fault()
    send_to(printer)
    assert len(printer.tickets()) == 1


def test_an_address_nobody_answers_fails_within_the_connect_timeout():
    # TEST-NET-1 (RFC 5737) is never routed: the connection attempt goes nowhere.
    started = time.monotonic()

    with pytest.raises(PrinterError) as unreachable:
        send("192.0.2.1", 9100, TICKET, connect_timeout=0.5, io_timeout=0.5)

    assert unreachable.value.problem == UNREACHABLE and unreachable.value.bytes_sent == 0
    assert time.monotonic() - started < 3


def test_a_hanging_printer_fails_after_the_timeout_and_prints_nothing(virtual_printer):
    printer = virtual_printer()
    printer.fault("hang")
    started = time.monotonic()

    with pytest.raises(PrinterError) as hung:
        send_to(printer, io=0.5)

    assert hung.value.problem == UNREACHABLE and "ne répond plus" in str(hung.value)
    assert time.monotonic() - started < 3
    printer.clear_fault()
    assert printer.tickets() == []


def test_a_printer_closing_mid_ticket_is_a_failure_that_may_have_printed_part(virtual_printer):
    printer = virtual_printer()
    printer.fault("close_mid_ticket", count=1, after_bytes=200)

    with pytest.raises(PrinterError) as closed:
        send_to(printer)

    assert closed.value.problem == UNREACHABLE and closed.value.bytes_sent > 0
    (torn,) = printer.tickets()
    assert not torn["complete"] and 0 < len(torn["lines"]) < 30


def test_a_printer_out_of_paper_gets_nothing_and_says_so(virtual_printer):
    printer = virtual_printer()
    printer.fault("out_of_paper")

    with pytest.raises(PrinterError) as no_paper:
        send_to(printer)

    assert no_paper.value.problem == PAPER_OUT and no_paper.value.bytes_sent == 0
    assert printer.tickets() == []


def test_a_printer_without_real_time_status_still_gets_the_ticket():
    """A raw port that answers nothing and closes after reading everything, like the simplest printers."""
    received = bytearray()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)

    def serve():
        client, _ = server.accept()
        while chunk := client.recv(4096):
            received.extend(chunk)
        client.close()

    thread = threading.Thread(target=serve)
    thread.start()
    delivery = send("127.0.0.1", server.getsockname()[1], TICKET, connect_timeout=1, io_timeout=2)
    thread.join(5)
    server.close()

    assert not delivery.answered_status and bytes(received).endswith(TICKET)


def test_the_virtual_printers_page_shows_what_came_out(virtual_printer, hubrise_sandbox_process):
    import requests

    printer = virtual_printer("Bar")
    send_to(printer)

    page = requests.get(f"{hubrise_sandbox_process.base_url}/printers", timeout=10)

    assert page.ok and "Ligne 29 · crème brûlée" in page.text and "Bar" in page.text
    assert "style=" not in page.text and "<script" not in page.text
