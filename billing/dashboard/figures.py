"""The dashboard's figures for a scope and a date range, each one grouped SQL query (no loop over claims).

What the range applies to:
- claim figures (claims by status, first-pass acceptance, denial rate, top CARCs) take the claims whose service date
  is in the range;
- money by month (charges, collections) takes the ledger entries posted in the range;
- A/R (by age, by payer, days in A/R), filing deadlines and open failed charges are as they stand on `today`.
A/R here is what payers owe on claims (the ledger's insurance side); open payer offsets (PLB) name no claim and are
left to AR Aging.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, extract, func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.money import ZERO, to_money
from billing.coverage.models import Payer, PayerType
from billing.dashboard.conditions import (
    ACCEPTED,
    BUCKET_LABELS,
    CHARGE_KINDS,
    COLLECTION_KINDS,
    bucket_of_service,
    deadline_by,
    first_answers,
    insurance_balances,
    money_sum,
)
from billing.ledger.models import LedgerEntry
from billing.org.queries import Scope, by_location
from billing.submissions.models import ClaimAcknowledgment
from rules.models import BLOCKING, Rule, RuleOutcome

#: "Filing deadlines this week": not yet with the payer, at most this many days left (late ones included).
WEEK = 7
TOP_CARCS = 10
#: The longest range the dashboard reads (a longer one is refused, naming the field).
MAX_RANGE_DAYS = 366 * 5


@dataclass(frozen=True)
class Slice:
    """One bar or row: a label, how many claims (or failed charges), and their dollars."""

    label: str
    count: int
    amount: Decimal = ZERO
    key: str = ""  # what the drill-down filters on (a bucket, a payer id, a status, a rule id, "CO-45")


@dataclass(frozen=True)
class Month:
    month: str  # "2026-03"
    first: date  # the month's days within the range
    last: date
    charges: Decimal
    charged_claims: int
    collections: Decimal
    paid_claims: int


@dataclass(frozen=True)
class PayerDenials:
    payer_id: int
    payer: str
    adjudicated: int  # Paid or Denied
    denied: int

    @property
    def rate(self) -> Decimal | None:
        if not self.adjudicated:
            return None
        return (Decimal(100) * self.denied / self.adjudicated).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Figures:
    date_from: date
    date_to: date
    today: date
    ar_by_age: list[Slice]
    ar_by_payer: list[Slice]
    ar_total: Decimal
    ar_claims: int
    days_in_ar: Decimal | None  # A/R ÷ average daily charges over the range; None with no charges
    months: list[Month]
    first_pass_sent: int  # claims with a deciding 999/277CA answer
    first_pass_accepted: int
    denials_by_payer: list[PayerDenials]
    top_carcs: list[Slice]
    by_status: list[Slice]
    filing_this_week: Slice
    failed_by_rule: list[Slice] = field(default_factory=list)

    @property
    def first_pass_rate(self) -> Decimal | None:
        if not self.first_pass_sent:
            return None
        return (Decimal(100) * self.first_pass_accepted / self.first_pass_sent).quantize(Decimal("0.1"))

    @property
    def first_pass_rejected(self) -> int:
        return self.first_pass_sent - self.first_pass_accepted

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: dates as ISO days, money as strings, rates as strings or null."""

        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return str(value)
            return value

        data = plain(asdict(self))
        data["first_pass_rate"] = plain(self.first_pass_rate)
        for row, denials in zip(data["denials_by_payer"], self.denials_by_payer, strict=True):
            row["rate"] = plain(denials.rate)
        return data


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise Invalid("From: the first day must be on or before the last (To).")
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise Invalid(f"To: the range is at most {MAX_RANGE_DAYS} days.")


def dashboard_figures(scope: Scope, date_from: date, date_to: date, today: date) -> Figures:
    check_range(date_from, date_to)
    ar_by_age, ar_by_payer, ar_total, ar_claims = _receivables(scope, today)
    months = _months(scope, date_from, date_to)
    charges = sum((m.charges for m in months), ZERO)
    days = (date_to - date_from).days + 1
    days_in_ar = (ar_total / (charges / days)).quantize(Decimal("0.1")) if charges > 0 else None
    sent, accepted = _first_pass(scope, date_from, date_to)
    return Figures(
        date_from=date_from,
        date_to=date_to,
        today=today,
        ar_by_age=ar_by_age,
        ar_by_payer=ar_by_payer,
        ar_total=ar_total,
        ar_claims=ar_claims,
        days_in_ar=days_in_ar,
        months=months,
        first_pass_sent=sent,
        first_pass_accepted=accepted,
        denials_by_payer=_denials(scope, date_from, date_to),
        top_carcs=_top_carcs(scope, date_from, date_to),
        by_status=_by_status(scope, date_from, date_to),
        filing_this_week=_filing(scope, today),
        failed_by_rule=_failed_by_rule(scope),
    )


def _in_range(scope: Scope, date_from: date, date_to: date) -> list[Any]:
    return [by_location(Claim.location_id, scope), Claim.service_date.between(date_from, date_to)]


def _receivables(scope: Scope, today: date) -> tuple[list[Slice], list[Slice], Decimal, int]:
    owed = insurance_balances().subquery()
    # The bucket is worked out once per claim in a subquery, so both groupings name a plain column (PostgreSQL
    # refuses a GROUP BY whose CASE carries bound dates of its own).
    claims = (
        select(owed.c.balance, Claim.payer_id, bucket_of_service(today).label("bucket"))
        .join(Claim, Claim.id == owed.c.claim_id)
        .where(by_location(Claim.location_id, scope))
        .subquery()
    )
    by_age = {
        label: (n, amount)
        for label, n, amount in db.session.execute(
            select(claims.c.bucket, func.count(), money_sum(claims.c.balance)).group_by(claims.c.bucket)
        )
    }
    ages = [
        Slice(label, by_age.get(label, (0, ZERO))[0], to_money(by_age.get(label, (0, ZERO))[1]), label)
        for label in BUCKET_LABELS
    ]
    payer_rows = db.session.execute(
        select(claims.c.payer_id, Payer.name, func.count(), money_sum(claims.c.balance))
        .outerjoin(Payer, Payer.id == claims.c.payer_id)
        .group_by(claims.c.payer_id, Payer.name)
    )
    payers = sorted(
        (
            Slice(name or "(no payer)", n, to_money(amount), str(payer_id or ""))
            for payer_id, name, n, amount in payer_rows
        ),
        key=lambda s: (-s.amount, s.label),
    )
    return ages, payers, sum((s.amount for s in ages), ZERO), sum(s.count for s in ages)


def _month_key(year: int, month: int) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def _months(scope: Scope, date_from: date, date_to: date) -> list[Month]:
    year, month = extract("year", LedgerEntry.posted_on), extract("month", LedgerEntry.posted_on)

    def per_month(kinds: tuple[Any, ...]) -> dict[str, tuple[Decimal, int]]:
        rows = db.session.execute(
            select(year, month, money_sum(LedgerEntry.amount), func.count(distinct(LedgerEntry.claim_id)))
            .join(Claim, Claim.id == LedgerEntry.claim_id)
            .where(
                LedgerEntry.kind.in_(kinds),
                LedgerEntry.posted_on.between(date_from, date_to),
                by_location(Claim.location_id, scope),
            )
            .group_by(year, month)
        )
        return {_month_key(y, m): (to_money(amount), n) for y, m, amount, n in rows}

    charges, collections = per_month(CHARGE_KINDS), per_month(COLLECTION_KINDS)
    months = []
    first = date_from
    while first <= date_to:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(date.fromordinal(following.toordinal() - 1), date_to)
        key = _month_key(first.year, first.month)
        charged, paid = charges.get(key, (ZERO, 0)), collections.get(key, (ZERO, 0))
        months.append(Month(key, first, last, charged[0], charged[1], paid[0], paid[1]))
        first = following
    return months


def _first_pass(scope: Scope, date_from: date, date_to: date) -> tuple[int, int]:
    rows = db.session.execute(
        select(ClaimAcknowledgment.outcome, func.count())
        .join(Claim, Claim.id == ClaimAcknowledgment.claim_id)
        .where(ClaimAcknowledgment.id.in_(first_answers()), *_in_range(scope, date_from, date_to))
        .group_by(ClaimAcknowledgment.outcome)
    )
    counts = dict(rows.all())
    return sum(counts.values()), sum(n for outcome, n in counts.items() if outcome in ACCEPTED)


def _denials(scope: Scope, date_from: date, date_to: date) -> list[PayerDenials]:
    denied = func.sum(case((Claim.status == ClaimStatus.DENIED, 1), else_=0))
    rows = db.session.execute(
        select(Claim.payer_id, Payer.name, func.count(), denied)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            Claim.status.in_([ClaimStatus.PAID, ClaimStatus.DENIED]),
            Payer.payer_type != PayerType.SELF_PAY,  # the patient neither pays nor denies like a payer
            *_in_range(scope, date_from, date_to),
        )
        .group_by(Claim.payer_id, Payer.name)
    )
    found = [PayerDenials(payer_id, name, n, int(d or 0)) for payer_id, name, n, d in rows]
    return sorted(found, key=lambda p: (-p.denied, p.payer))


def _top_carcs(scope: Scope, date_from: date, date_to: date) -> list[Slice]:
    claims = func.count(distinct(LedgerEntry.claim_id))
    rows = db.session.execute(
        select(LedgerEntry.group_code, LedgerEntry.reason_code, claims, money_sum(LedgerEntry.amount))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .where(
            LedgerEntry.group_code.is_not(None),
            LedgerEntry.reason_code.is_not(None),
            *_in_range(scope, date_from, date_to),
        )
        .group_by(LedgerEntry.group_code, LedgerEntry.reason_code)
        .order_by(claims.desc(), LedgerEntry.group_code, LedgerEntry.reason_code)
        .limit(TOP_CARCS)
    )
    return [Slice(f"{group}-{code}", n, to_money(amount), f"{group}-{code}") for group, code, n, amount in rows]


def _by_status(scope: Scope, date_from: date, date_to: date) -> list[Slice]:
    rows = dict(
        (status, (n, amount))
        for status, n, amount in db.session.execute(
            select(Claim.status, func.count(), money_sum(Claim.total_charge))
            .where(*_in_range(scope, date_from, date_to))
            .group_by(Claim.status)
        )
    )
    return [
        Slice(status.label, rows.get(status, (0, ZERO))[0], to_money(rows.get(status, (0, ZERO))[1]), status.value)
        for status in ClaimStatus
    ]


def _filing(scope: Scope, today: date) -> Slice:
    """The Filing deadlines page at WEEK days (billing.payments.filing.near_deadline), counted from the same claims
    (filing.due_by: the deadlines the database keeps, read as index ranges)."""
    count, billed = db.session.execute(
        deadline_by(today + timedelta(days=WEEK), by_location(Claim.location_id, scope))
    ).one()
    return Slice("Filing deadlines this week", count, to_money(billed), str(WEEK))


def _failed_by_rule(scope: Scope) -> list[Slice]:
    charges = money_sum(Claim.total_charge)
    rows = db.session.execute(
        select(Rule.id, Rule.name, func.count(), charges)
        .join(RuleOutcome, RuleOutcome.rule_id == Rule.id)
        .join(Claim, Claim.id == RuleOutcome.claim_id)
        .where(RuleOutcome.resolved_at.is_(None), RuleOutcome.kind.in_(BLOCKING), by_location(Claim.location_id, scope))
        .group_by(Rule.id, Rule.name)
    )
    found = [Slice(name, n, to_money(amount), str(rule_id)) for rule_id, name, n, amount in rows]
    return sorted(found, key=lambda s: (-s.count, s.label))


def default_range(today: date) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months back, to today."""
    months_back = today.year * 12 + today.month - 1 - 11
    return date(months_back // 12, months_back % 12 + 1, 1), today
