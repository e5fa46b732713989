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

from sqlalchemy import case, distinct, func, or_, select

from billing.claims.models import Claim, ClaimDayCount
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.money import ZERO, to_money
from billing.coverage.models import Payer, PayerType
from billing.dashboard.conditions import (
    ACCEPTED,
    BUCKET_LABELS,
    bucket_of_day,
    first_answers,
    money_sum,
)
from billing.ledger.models import ArDayTotal, CarcDayTotal, LedgerEntry, LedgerMonthTotal
from billing.ledger.month_totals import GROUPS
from billing.org.queries import Scope, by_location
from billing.payments.filing import due_totals
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


def _days_in_range(scope: Scope, date_from: date, date_to: date) -> list[Any]:
    """The kept per-day claim counts (billing/claims/day_counts.py) of the range, in scope."""
    return [by_location(ClaimDayCount.location_id, scope), ClaimDayCount.service_date.between(date_from, date_to)]


def _receivables(scope: Scope, today: date) -> tuple[list[Slice], list[Slice], Decimal, int]:
    """A/R by age and by payer from the receivables kept per service day (billing/ledger/ar_days.py): a few rows
    per day, whatever the number of claims that owe."""
    owed = ArDayTotal.insurance_claims
    in_scope = by_location(ArDayTotal.location_id, scope)
    # The bucket is worked out per row in a subquery, so the grouping names a plain column (PostgreSQL refuses a
    # GROUP BY whose CASE carries bound dates of its own).
    days = (
        select(ArDayTotal.insurance, owed.label("claims"),
               bucket_of_day(ArDayTotal.service_date, today).label("bucket"))
        .where(in_scope)
        .subquery()
    )
    by_age = {
        label: (int(n or 0), amount)
        for label, n, amount in db.session.execute(
            select(days.c.bucket, func.sum(days.c.claims), money_sum(days.c.insurance)).group_by(days.c.bucket)
        )
    }
    ages = [
        Slice(label, by_age.get(label, (0, ZERO))[0], to_money(by_age.get(label, (0, ZERO))[1]), label)
        for label in BUCKET_LABELS
    ]
    payer_rows = db.session.execute(
        select(ArDayTotal.payer_id, Payer.name, func.sum(owed), money_sum(ArDayTotal.insurance))
        .outerjoin(Payer, Payer.id == ArDayTotal.payer_id)
        .where(in_scope)
        .group_by(ArDayTotal.payer_id, Payer.name)
        .having(or_(func.sum(owed) != 0, func.round(func.sum(ArDayTotal.insurance), 2) != 0))
    )
    payers = sorted(
        (
            Slice(name or "(no payer)", int(n), to_money(amount), str(payer_id or ""))
            for payer_id, name, n, amount in payer_rows
        ),
        key=lambda s: (-s.amount, s.label),
    )
    return ages, payers, sum((s.amount for s in ages), ZERO), sum(s.count for s in ages)


def _months(scope: Scope, date_from: date, date_to: date) -> list[Month]:
    """Charges and collections per month of the range. A month is read from the totals the database keeps per
    month (billing/ledger/month_totals.py) when the range covers it whole, or covers every day it has entries on;
    otherwise (a range starting or ending among a month's postings) from the ledger for the range's days alone."""
    spans = _month_spans(date_from, date_to)
    kept = {first.replace(day=1): first for first, last in spans
            if _is_whole_month(first, last) or _all_posted_within(first, last)}
    found: dict[tuple[date, str], tuple[Decimal, int]] = {}
    if kept:
        rows = db.session.execute(
            select(LedgerMonthTotal.month, LedgerMonthTotal.kinds, money_sum(LedgerMonthTotal.amount),
                   func.sum(LedgerMonthTotal.claims))
            .where(LedgerMonthTotal.month.in_(kept), by_location(LedgerMonthTotal.location_id, scope))
            .group_by(LedgerMonthTotal.month, LedgerMonthTotal.kinds)
        )
        found.update({(kept[month], kinds): (to_money(amount), int(n or 0)) for month, kinds, amount, n in rows})
    for first, last in spans:
        if first.replace(day=1) not in kept:
            found.update({(first, kinds): totals for kinds, totals in _posted_between(scope, first, last).items()})
    months = []
    for first, last in spans:
        charged = found.get((first, "charges"), (ZERO, 0))
        paid = found.get((first, "collections"), (ZERO, 0))
        months.append(Month(f"{first.year:04d}-{first.month:02d}", first, last, charged[0], charged[1], paid[0],
                            paid[1]))
    return months


def _month_spans(date_from: date, date_to: date) -> list[tuple[date, date]]:
    """Each month of the range as (its first day in the range, its last day in the range)."""
    spans = []
    first = date_from
    while first <= date_to:
        following = following_month(first)
        spans.append((first, min(following - timedelta(days=1), date_to)))
        first = following
    return spans


def following_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _is_whole_month(first: date, last: date) -> bool:
    return first.day == 1 and (last + timedelta(days=1)).day == 1


def _all_posted_within(first: date, last: date) -> bool:
    """True when the month of a partly covered span has no charge or collection posted outside the span, so the
    month's kept total is the span's. The usual case: the default range ends today, and nothing is posted ahead
    of today, so this month is read from its total (an index probe) instead of from the ledger (tens of thousands
    of entries at a billing company's size). Any entry outside, in any location, sends the month to the ledger."""
    month_start = first.replace(day=1)
    month_end = following_month(month_start) - timedelta(days=1)
    kinds = [kind for members in GROUPS.values() for kind in members]
    outside = or_(LedgerEntry.posted_on.between(month_start, first - timedelta(days=1)),
                  LedgerEntry.posted_on.between(last + timedelta(days=1), month_end))
    return db.session.scalar(select(LedgerEntry.id).where(outside, LedgerEntry.kind.in_(kinds)).limit(1)) is None


def _posted_between(scope: Scope, first: date, last: date) -> dict[str, tuple[Decimal, int]]:
    """Charges and collections posted between two days of one month, from the ledger: {kinds: (amount, claims)}."""
    kinds = case(*((LedgerEntry.kind.in_(members), name) for name, members in GROUPS.items()))
    rows = db.session.execute(
        select(kinds, money_sum(LedgerEntry.amount), func.count(distinct(LedgerEntry.claim_id)))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .where(
            LedgerEntry.kind.in_([kind for members in GROUPS.values() for kind in members]),
            LedgerEntry.posted_on.between(first, last),
            by_location(Claim.location_id, scope),
        )
        .group_by(kinds)
    )
    return {name: (to_money(amount), n) for name, amount, n in rows}


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
    counts = ClaimDayCount.claims
    denied = func.sum(case((ClaimDayCount.status == ClaimStatus.DENIED, counts), else_=0))
    rows = db.session.execute(
        select(ClaimDayCount.payer_id, Payer.name, func.sum(counts), denied)
        .join(Payer, Payer.id == ClaimDayCount.payer_id)
        .where(
            ClaimDayCount.status.in_([ClaimStatus.PAID, ClaimStatus.DENIED]),
            Payer.payer_type != PayerType.SELF_PAY,  # the patient neither pays nor denies like a payer
            *_days_in_range(scope, date_from, date_to),
        )
        .group_by(ClaimDayCount.payer_id, Payer.name)
        .having(func.sum(counts) > 0)
    )
    found = [PayerDenials(payer_id, name, int(n), int(d or 0)) for payer_id, name, n, d in rows]
    return sorted(found, key=lambda p: (-p.denied, p.payer))


def _top_carcs(scope: Scope, date_from: date, date_to: date) -> list[Slice]:
    claims = func.sum(CarcDayTotal.claims)
    rows = db.session.execute(
        select(CarcDayTotal.group_code, CarcDayTotal.reason_code, claims, money_sum(CarcDayTotal.amount))
        .where(by_location(CarcDayTotal.location_id, scope), CarcDayTotal.service_date.between(date_from, date_to))
        .group_by(CarcDayTotal.group_code, CarcDayTotal.reason_code)
        .having(claims > 0)
        .order_by(claims.desc(), CarcDayTotal.group_code, CarcDayTotal.reason_code)
        .limit(TOP_CARCS)
    )
    return [Slice(f"{group}-{code}", int(n), to_money(amount), f"{group}-{code}") for group, code, n, amount in rows]


def _by_status(scope: Scope, date_from: date, date_to: date) -> list[Slice]:
    rows = {
        status: (int(n), amount)
        for status, n, amount in db.session.execute(
            select(ClaimDayCount.status, func.sum(ClaimDayCount.claims), money_sum(ClaimDayCount.billed))
            .where(*_days_in_range(scope, date_from, date_to))
            .group_by(ClaimDayCount.status)
        )
    }
    return [
        Slice(status.label, rows.get(status, (0, ZERO))[0], to_money(rows.get(status, (0, ZERO))[1]), status.value)
        for status in ClaimStatus
    ]


def _filing(scope: Scope, today: date) -> Slice:
    """The Filing deadlines page at WEEK days (billing.payments.filing.near_deadline), counted from the counts the
    database keeps per deadline day (filing.due_totals)."""
    count, billed = due_totals(today + timedelta(days=WEEK), scope)
    return Slice("Filing deadlines this week", count, billed, str(WEEK))


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
