"""How old a patient balance is: the aging buckets a statement prints, and the dunning level its age reaches.

Aging: each claim's patient balance is aged from the day the claim was first billed to the patient (its first
patient-responsibility entry: a self-pay charge, a payer's PR share, a balance a biller billed to the patient).
Payments are applied by the ledger to the claims they were posted on, so the buckets add up to the patient balance
to the cent; a claim whose patient side is a credit sits, as a negative amount, in its own bucket.

Dunning age (the rule): days from the later of (a) the oldest day an open patient charge was billed and (b) the
last patient payment on any of the responsible party's clients. So the level rises while nothing is paid, and any
payment starts the count again from the payment's day, even a partial one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from billing.core.db import db
from billing.core.errors import Problem
from billing.core.money import ZERO, to_money
from billing.ledger.statement_models import DunningLevel

#: Upper bounds (days, inclusive) of the first three buckets; anything older is "90+".
BUCKET_LIMITS = (30, 60, 90)
BUCKET_LABELS = ("Current", "31-60 days", "61-90 days", "Over 90 days")


@dataclass(frozen=True)
class Aging:
    current: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO

    @property
    def buckets(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (self.current, self.days_31_60, self.days_61_90, self.over_90)

    @property
    def total(self) -> Decimal:
        return to_money(sum(self.buckets, ZERO))

    def plus(self, other: Aging) -> Aging:
        return Aging(*(to_money(a + b) for a, b in zip(self.buckets, other.buckets, strict=True)))

    def as_dict(self) -> dict[str, str]:
        return {"current": str(self.current), "31_60": str(self.days_31_60), "61_90": str(self.days_61_90),
                "over_90": str(self.over_90)}


def bucket_of(age_days: int) -> int:
    """0 current (up to 30 days), 1 for 31-60, 2 for 61-90, 3 over 90."""
    return next((i for i, limit in enumerate(BUCKET_LIMITS) if age_days <= limit), len(BUCKET_LIMITS))


def age_amounts(amounts: Iterable[tuple[date, Decimal]], *, today: date) -> Aging:
    """Each (billed on, balance) in the bucket its age falls in."""
    sums = [ZERO, ZERO, ZERO, ZERO]
    for billed_on, amount in amounts:
        index = bucket_of(max((today - billed_on).days, 0))
        sums[index] = to_money(sums[index] + amount)
    return Aging(*sums)


def dunning_age(open_since: Sequence[date], last_payment: date | None, *, today: date) -> int:
    """Days the balance has gone unpaid: see the module's rule. `open_since`: billed days of the open charges."""
    if not open_since:
        return 0
    start = min(open_since)
    if last_payment is not None and last_payment > start:
        start = last_payment
    return max((today - start).days, 0)


@dataclass(frozen=True)
class Dunning:
    min_days: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"min_days": self.min_days, "message": self.message}


def dunning_levels() -> list[Dunning]:
    """The admin's levels, lowest first."""
    return [Dunning(level.min_days, level.message)
            for level in db.session.scalars(select(DunningLevel).order_by(DunningLevel.min_days))]


def dunning_for(age_days: int, levels: Sequence[Dunning]) -> Dunning | None:
    """The highest level the age has reached (none when no level starts that early)."""
    reached = [level for level in levels if level.min_days <= age_days]
    return reached[-1] if reached else None


def dunning_level_problems(data: Mapping[str, Any], record: DunningLevel | None) -> list[Problem]:
    """An admin's edit of a level: days 0 or more, not another level's days, and a message."""
    days, message = data.get("min_days"), (data.get("message") or "").strip()
    problems = []
    if days is None or days < 0:
        problems.append(Problem("min_days", "Give 0 or more days."))
    else:
        other = db.session.scalar(select(DunningLevel.id).where(DunningLevel.min_days == days))
        if other is not None and (record is None or other != record.id):
            problems.append(Problem("min_days", f"Another level already starts at day {days}."))
    if not message:
        problems.append(Problem("message", "Write the message the statement prints."))
    return problems
