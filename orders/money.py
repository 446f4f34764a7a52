"""Money as HubRise writes it, "9.50 EUR": the one formatter of the intake API and the HubRise push.

docs/hubrise/orders.md, "Values": two decimals, a space, the ISO 4217 code, a
leading "-" when negative. Amounts are rounded half up to the cent, and a zero
is never written "-0.00".
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_money(amount: Decimal, currency: str) -> str:
    """ "8.90 EUR", "-0.05 GBP"."""
    rounded = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded} {currency}"
