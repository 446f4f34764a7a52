"""A ticket's lines as ESC/POS bytes, built by python-escpos.

The library writes the commands (styles, code page, cut) into its ``Dummy``
printer, which only collects bytes: sending them is printing.transport's job,
with its own timeouts. Text goes out in code page 858 (Western European with
the euro sign), which Epson TM and compatibles print: the ticket's lines hold
nothing else (printing.ticket.printable).
"""

from __future__ import annotations

from escpos.printer import Dummy

from printing.ticket import CODE_PAGE, LARGE, TALL, Ticket

# A generic ESC/POS profile: the library's default lists the code pages of Epson's TM series.
PROFILE = "default"


def ticket_bytes(ticket: Ticket) -> bytes:
    printer = Dummy(profile=PROFILE)
    printer.hw("INIT")
    printer.charcode(CODE_PAGE)
    for line in ticket.lines:
        if line.cut:
            printer.set(normal_textsize=True, bold=False, invert=False, align="left")
            printer.cut()
            continue
        printer.set(
            align=line.align,
            bold=line.bold,
            invert=line.reverse,
            normal_textsize=line.size not in (TALL, LARGE),
            double_height=line.size in (TALL, LARGE),
            double_width=line.size == LARGE,
        )
        printer.textln(line.text)
    return printer.output
