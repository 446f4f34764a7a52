"""The ticket as lines of text with their style, sized for the paper.

Built once per print from the order; the browser's print view
(templates/printing/_ticket.html) and the ESC/POS bytes (printing.render) are
both drawn from these lines, so the paper and the screen say the same thing.
Lines are already wrapped to the printer's width: a renderer only styles them.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from anyascii import anyascii
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders.models import Order, StatusChange
from orders.status import ServiceType
from orders.templatetags.backoffice import money, quantity

# What the paper can print: code page 858 (Western European with the euro sign), which Epson TM
# printers and their compatibles hold. Lines hold nothing else, so the screen shows what the paper will.
CODE_PAGE = "CP858"
_CODEC = "cp858"

NORMAL = "normal"
# Twice as high, same width: item lines stay readable from a step away without losing columns.
TALL = "tall"
# Twice as high and twice as wide: half the characters per line.
LARGE = "large"

# Words that make a note an allergy warning, printed in reverse video (white on black).
ALLERGY_WORDS = (
    "allerg",
    "gluten",
    "arachide",
    "cacahu",
    "fruits à coque",
    "fruit à coque",
    "noix",
    "noisette",
    "amande",
    "lactose",
    "laitier",
    "oeuf",
    "œuf",
    "sésame",
    "sesame",
    "soja",
    "poisson",
    "crustac",
    "fruits de mer",
    "moutarde",
    "céleri",
    "sulfite",
    "lupin",
    "mollusque",
    "peanut",
    "nuts",
    "dairy",
    "shellfish",
    "coeliac",
    "celiac",
)


@dataclass(frozen=True)
class Line:
    text: str = ""
    size: str = NORMAL
    bold: bool = False
    reverse: bool = False
    align: str = "left"
    # The paper is cut here; a cut line carries no text.
    cut: bool = False


@dataclass(frozen=True)
class Ticket:
    columns: int
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        """The ticket as plain text, one line per line: what a reader of the paper sees, styles aside."""
        return "\n".join(line.text for line in self.lines if not line.cut)


@lru_cache(maxsize=4096)
def _printable_char(char: str) -> str:
    if char == "\t":
        return " "
    if unicodedata.category(char) in ("Cc", "Cf"):
        return ""
    try:
        char.encode(_CODEC)
    except UnicodeEncodeError:
        return anyascii(char)
    return char


def printable(text: str) -> str:
    """``text`` with what the code page holds: the rest transliterated (Œ → OE, 🍕 → :pizza:), never lost,
    and control characters dropped, so that a note cannot carry printer commands."""
    return "".join(_printable_char(char) for char in text)


def printable_lines(text: str) -> list[str]:
    return [printable(line) for line in text.splitlines()] or [""]


def columns_for(size: str, columns: int) -> int:
    return columns // 2 if size == LARGE else columns


def mentions_allergy(note: str) -> bool:
    lowered = note.lower()
    return any(word in lowered for word in ALLERGY_WORDS)


class _Builder:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[Line] = []

    def add(self, text: str, *, size: str = NORMAL, indent: int = 0, **style: object) -> None:
        """Wrapped to the width of that size, continuation lines indented by ``indent`` more."""
        width = columns_for(size, self.columns)
        for paragraph in printable_lines(text):
            wrapped = textwrap.wrap(
                paragraph,
                width=width,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + 2),
                break_long_words=True,
                break_on_hyphens=False,
            ) or [""]
            self.lines.extend(Line(text=chunk, size=size, **style) for chunk in wrapped)

    def pair(self, left: str, right: str, *, size: str = NORMAL, bold: bool = False) -> None:
        """``left`` and ``right`` on one line, ``right`` against the right edge (on the last line if ``left`` wraps)."""
        width = columns_for(size, self.columns)
        left, right = " ".join(printable_lines(left)), printable(right)
        room = width - len(right) - 1
        wrapped = textwrap.wrap(left, width=max(room, 8), subsequent_indent="  ", break_on_hyphens=False) or [""]
        for chunk in wrapped[:-1]:
            self.lines.append(Line(text=chunk, size=size, bold=bold))
        last = wrapped[-1]
        if len(last) + 1 + len(right) <= width:
            self.lines.append(Line(text=last + " " * (width - len(last) - len(right)) + right, size=size, bold=bold))
        else:
            self.lines.append(Line(text=last, size=size, bold=bold))
            self.lines.append(Line(text=right, size=size, bold=bold, align="right"))

    def rule(self) -> None:
        self.lines.append(Line(text="-" * self.columns))

    def blank(self) -> None:
        self.lines.append(Line())

    def cut(self) -> None:
        self.lines.append(Line(cut=True))

    def ticket(self) -> Ticket:
        return Ticket(columns=self.columns, lines=tuple(self.lines))


def _local(moment: datetime, order: Order) -> datetime:
    return timezone.localtime(moment, order.establishment.tzinfo)


def _when(moment: datetime, order: Order, now: datetime) -> str:
    local = _local(moment, order)
    hour = formats.time_format(local, "H:i")
    if local.date() == _local(now, order).date():
        return hour
    return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {hour}"


def _channel(order: Order) -> str:
    source = str(StatusChange.Source(order.source).label) if order.source in StatusChange.Source.values else order.source
    return " · ".join(part for part in (source, order.service_type_ref) if part)


def _service_line(order: Order) -> str:
    if order.service_type == ServiceType.EAT_IN:
        service = _("EAT IN")
        if order.table_name:
            return _("%(service)s · TABLE %(table)s") % {"service": service, "table": order.table_name}
        return service
    if order.service_type == ServiceType.COLLECTION:
        return _("COLLECTION")
    if order.service_type == ServiceType.DELIVERY:
        return _("DELIVERY")
    return ""


def _header(b: _Builder, order: Order, *, duplicate: bool, resumed: bool, now: datetime) -> None:
    b.add(order.establishment.name, bold=True, align="center")
    if duplicate:
        b.add(_("DUPLICATE"), size=LARGE, bold=True, reverse=True, align="center")
    if resumed:
        b.add(_("RESENT: an earlier try may have come out incomplete"), bold=True, reverse=True, align="center")
    b.add(_("No. %(ref)s") % {"ref": order.ref}, size=LARGE, bold=True, align="center")
    service = _service_line(order)
    if service:
        b.add(service, size=TALL, bold=True, align="center")
    customer = order.customer_name or order.customer_company_name
    if customer:
        b.add(customer, bold=True, align="center")
    if order.expected_time:
        due = _("FOR %(time)s") % {"time": _when(order.expected_time, order, now)}
    else:
        due = _("AS SOON AS POSSIBLE")
    b.add(due, size=TALL, bold=True, align="center")
    placed = _("Placed at %(time)s") % {"time": _when(order.created_at, order, now)}
    channel = _channel(order)
    b.add(f"{placed} · {channel}" if channel else placed, align="center")
    if order.collection_code:
        b.add(_("Collection code: %(code)s") % {"code": order.collection_code}, bold=True, align="center")
    if order.service_type == ServiceType.DELIVERY:
        address = ", ".join(
            part
            for part in (
                order.customer_address_1,
                order.customer_address_2,
                f"{order.customer_postal_code} {order.customer_city}".strip(),
            )
            if part
        )
        if address:
            b.add(address, align="center")
        if order.customer_phone:
            b.add(order.customer_phone, align="center")
        if order.customer_delivery_notes:
            b.add(_("Delivery: %(notes)s") % {"notes": order.customer_delivery_notes}, bold=True, align="center")


def _note(b: _Builder, label: str, note: str, *, indent: int) -> None:
    text = f"{label} {note}".strip()
    if mentions_allergy(note):
        b.add(text, bold=True, reverse=True, indent=indent)
    else:
        b.add(text, bold=True, indent=indent)


def _items(b: _Builder, order: Order, items: list, *, with_prices: bool) -> None:
    deals = {deal.key: deal for deal in order.deals.all()}
    for item in items:
        label = f"{quantity(item.quantity)} x {item.product_name}"
        if with_prices:
            b.pair(label, money(item.subtotal, order.currency), size=TALL, bold=True)
        else:
            b.add(label, size=TALL, bold=True, indent=0)
        if item.sku_name:
            b.add(item.sku_name, indent=4)
        for option in item.options.all():
            if option.removed:
                b.add(_("NO %(option)s") % {"option": option.name}, bold=True, indent=4)
                continue
            count = f"{option.quantity} x " if option.quantity > 1 else ""
            b.add(f"+ {count}{option.name}", indent=4)
        if item.customer_notes:
            _note(b, _("Note:"), item.customer_notes, indent=4)
        deal = deals.get(item.deal_key)
        if deal is not None:
            b.add(f"[{deal.name}{' · ' + item.deal_label if item.deal_label else ''}]", indent=4)


def _totals(b: _Builder, order: Order) -> None:
    b.rule()
    for discount in order.discounts.all():
        b.pair(_("Discount %(name)s") % {"name": discount.name}, "-" + money(discount.price_off, order.currency))
    for charge in order.charges.all():
        b.pair(charge.name, money(charge.price, order.currency))
    b.pair(_("TOTAL"), money(order.total, order.currency), size=LARGE, bold=True)
    payments = list(order.payments.all())
    paid = sum((payment.amount for payment in payments), Decimal("0"))
    for payment in payments:
        b.pair(payment.name or payment.ref or _("Payment"), money(payment.amount, order.currency))
    if payments and paid >= order.total:
        b.add(_("PAID"), size=TALL, bold=True, align="center")
    else:
        due = money(order.total - paid, order.currency)
        b.add(_("TO PAY: %(amount)s") % {"amount": due}, size=TALL, bold=True, reverse=True, align="center")


def order_ticket(
    order: Order,
    *,
    receipt: bool,
    columns: int,
    duplicate: bool = False,
    resumed: bool = False,
    now: datetime | None = None,
    items: list | None = None,
) -> Ticket:
    """The order's ticket: the kitchen variant, or with ``receipt`` the one with prices and payment.

    ``order`` comes with its lines prefetched (items__options, deals, discounts,
    charges, payments) and its establishment. ``items`` are those this ticket
    shows (a printer of some categories only: printing.routing), the whole order
    by default. Texts are in the active language, times in the establishment's
    time zone.
    """
    all_items = list(order.items.all())
    items = all_items if items is None else items
    now = now or timezone.now()
    b = _Builder(columns)
    _header(b, order, duplicate=duplicate, resumed=resumed, now=now)
    b.rule()
    _items(b, order, items, with_prices=receipt)
    if order.customer_notes:
        b.rule()
        _note(b, _("CUSTOMER NOTE:"), order.customer_notes, indent=0)
    shown_deals = {item.deal_key for item in items if item.deal_key}
    deals = [deal for deal in order.deals.all() if deal.key in shown_deals]
    if deals:
        b.rule()
        b.add(_("Deals: %(names)s") % {"names": ", ".join(deal.name for deal in deals)})
    if receipt:
        _totals(b, order)
    b.rule()
    count = order.item_count if len(items) == len(all_items) else int(sum(item.quantity for item in items))
    printed = _("Printed at %(time)s") % {"time": _when(now, order, now)}
    b.add(f"{printed} · {count} " + (_("item") if count == 1 else _("items")), align="center")
    if duplicate:
        b.add(_("DUPLICATE"), bold=True, align="center")
    b.cut()
    return b.ticket()


# A line of each character group a French kitchen's tickets need, and a few a printer cannot print.
SAMPLE_TEXT = "àâäçéèêëîïôöùûüÿ ÀÇÉÈ € ½ Œœ « » 🍕 ✓"


def printer_test_ticket(*, printer_name: str, address: str, establishment_name: str, columns: int, now: datetime, zone) -> Ticket:
    """What "Test the printer" prints: the printer's settings and a sample of every style."""
    local = timezone.localtime(now, zone)
    b = _Builder(columns)
    b.add(establishment_name, bold=True, align="center")
    b.add(_("TEST PAGE"), size=LARGE, bold=True, align="center")
    b.add(printer_name, size=TALL, bold=True, align="center")
    b.add(address, align="center")
    b.add(
        _("%(columns)d characters per line · %(date)s %(time)s")
        % {
            "columns": columns,
            "date": formats.date_format(local, "SHORT_DATE_FORMAT"),
            "time": formats.time_format(local, "H:i"),
        },
        align="center",
    )
    b.rule()
    b.add(_("Normal text"))
    b.add(_("Bold text"), bold=True)
    b.add(_("Tall text"), size=TALL, bold=True)
    b.add(_("Large text"), size=LARGE, bold=True)
    b.add(_("Reverse video: allergies"), bold=True, reverse=True)
    b.add(SAMPLE_TEXT)
    b.add(("0123456789" * 10)[:columns])
    b.rule()
    b.add(_("If you can read this, the printer works."), align="center")
    b.cut()
    return b.ticket()
