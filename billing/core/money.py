"""Money is exact: Decimal with two places, never float."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Decimal | int | str) -> Decimal:
    """Exact two-place amount. Floats are refused so rounding bugs can't enter quietly."""
    if isinstance(value, float | bool):
        raise TypeError(f"money must be Decimal, int or str, never {type(value).__name__}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def sum_money(amounts: Iterable[Decimal | int | str]) -> Decimal:
    """Sum exactly, then quantize (SQLite hands SUM(Numeric) back through float)."""
    return to_money(sum((to_money(a) for a in amounts), ZERO))


def format_money(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    amount = to_money(amount)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"
