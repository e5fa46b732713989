"""Money is exact: Decimal with two places, never float."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: The largest amount a Numeric(12, 2) column holds.
MAX_AMOUNT = Decimal("9999999999.99")
#: An amount as a person or a file writes it: digits, at most two decimals, an optional minus. No exponents,
#: thousands separators, other scripts' digits or a third decimal: each would be a guess at what was meant.
_STRICT_AMOUNT = re.compile(r"-?(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?", re.ASCII)


def to_money(value: Decimal | int | str) -> Decimal:
    """Exact two-place amount. Floats are refused so rounding bugs can't enter quietly."""
    if type(value) is Decimal and value.is_finite():
        # The common case, taken first: posting an 835 calls this close to a million times. The same quantize.
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, float | bool):
        raise TypeError(f"money must be Decimal, int or str, never {type(value).__name__}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str, *, negative: bool = False) -> Decimal:
    """A typed or imported amount, parsed strictly; ValueError says what is wrong in words for the person.

    "12.50", "0.5" and "-3" are amounts; "1e10", "1,234", "12.345" and full-width digits are not.
    """
    candidate = text.strip() if isinstance(text, str) else ""
    if not _STRICT_AMOUNT.fullmatch(candidate):
        raise ValueError(f"{text!r} is not an amount: write digits with at most two decimals, e.g. 125.50")
    amount = Decimal(candidate).quantize(CENT)
    if amount < 0 and not negative:
        raise ValueError(f"{text!r} is negative; amounts here are positive")
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"{text!r} is more than {MAX_AMOUNT:,} allowed")
    return amount


def sum_money(amounts: Iterable[Decimal | int | str]) -> Decimal:
    """Sum exactly, then quantize (SQLite hands SUM(Numeric) back through float)."""
    total = ZERO
    for amount in amounts:
        total += to_money(amount)
    return to_money(total)


def format_money(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    amount = to_money(amount)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"
