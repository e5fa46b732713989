"""Ledger sums in SQL: an entry's effect on one of the two balances, and a sum read back exact to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, case, func

from billing.ledger.models import EFFECTS, LedgerEntry

INSURANCE, PATIENT = 0, 1


def effect_on(side: int) -> ColumnElement[Decimal]:
    """SQL for one entry's effect on the insurance (INSURANCE) or patient (PATIENT) balance: EFFECTS' signs."""
    signs = {kind: effect[side] for kind, effect in EFFECTS.items() if effect[side]}
    return case(*((LedgerEntry.kind == kind, LedgerEntry.amount * sign) for kind, sign in signs.items()), else_=0)


def cents_sum(expression: ColumnElement[Any]) -> ColumnElement[Decimal]:
    """SUM rounded to the cent and read back as Decimal (SQLite sums NUMERIC as floats); 0 when nothing is summed."""
    return func.round(func.coalesce(func.sum(expression), 0), 2, type_=Numeric(12, 2))
