"""Dates a biller types on money: checked against the claim before anything is written."""

from __future__ import annotations

from datetime import date, timedelta

from billing.claims.models import Claim
from billing.core.errors import Problem
from billing.core.time import practice_today

#: How far ahead of today a typed money date may be: a check dated for tomorrow's deposit, no further.
FUTURE_DAYS = 1


def money_date_problems(claim: Claim, day: date, field: str, label: str) -> list[Problem]:
    """A typed date of money on a claim: not before the service, not in the future (a typo's usual shapes)."""
    if day < claim.service_date:
        return [Problem(field, f"{label} {day:%m/%d/%Y} is before the date of service {claim.service_date:%m/%d/%Y}.")]
    if day > practice_today() + timedelta(days=FUTURE_DAYS):
        return [Problem(field, f"{label} {day:%m/%d/%Y} is in the future; give the date on the EOB or check.")]
    return []
