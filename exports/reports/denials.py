"""Claim Denials: each reason a payer gave for refusing a claim or one of its lines (CARC with its description),
and every held claim as the category Internal with its hold reason; summaries by reason and by payer with charts.

Denied money is not ledgered (the balance stays open to be worked), so amounts come from the payer's
adjudication, and the open balance of each claim comes from the ledger (its `claim_balance` row).

Streamed: each of the three kinds is one query sorted by (date, claim), read BATCH rows at a time, and the three
are merged; a row never waits for the others in memory. Each row carries, from SQL, its claim's first denial date
of each kind, so the open balance goes on the claim's first row without remembering the claims already written.
The summaries are GROUP BYs, with the holds (whose date is the hold's, read in Python) counted as they stream.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.codes import carcs, describe_carc
from billing.core.db import db
from billing.core.money import ZERO, to_money
from billing.coverage.models import Payer
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, ClaimBalance
from billing.ledger.postings import DENIED_CODE
from billing.ledger.sums import cents_sum
from billing.org.models import Location
from billing.people.models import Client, Provider
from exports.columns import Chart, Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, claim_scope, in_window, person

PAYER_DENIAL = "Payer denial"
LINE_DENIAL = "Line denial"  # a line denied on a claim the payer otherwise paid (posting rule 3)
INTERNAL = "Internal"
HOLD_CODE = "HOLD"

COLUMNS = (
    Column("Date", Kind.DATE), Column("Category"), Column("Claim"), Column("Service date", Kind.DATE),
    Column("Client"), Column("Payer"), Column("Provider"), Column("Location"), Column("Group"), Column("Reason code"),
    Column("Description"), Column("Claim status"), Column("Billed", Kind.MONEY, total=True),
    Column("Denied", Kind.MONEY, total=True), Column("Open balance", Kind.MONEY, total=True),
)
BY_REASON = (
    Column("Reason"), Column("Category"), Column("Description"), Column("Denials", Kind.INTEGER, total=True),
    Column("Denied", Kind.MONEY, total=True),
)
BY_PAYER = (
    Column("Payer"), Column("Denials", Kind.INTEGER, total=True), Column("Denied", Kind.MONEY, total=True),
)


@dataclass(frozen=True)
class Denial:
    on: date
    category: str
    claim_id: int
    service_date: date
    client: str
    payer: str
    provider: str
    location: str
    group: str
    code: str
    description: str
    status: str
    billed: Decimal
    denied: Decimal
    #: The claim's open balance now, and the date of its first row in this report (None: unknown, see _first_on).
    balance: Decimal = ZERO
    first_on: date | None = None

    @property
    def rank(self) -> int:
        """Payer denials, then line denials, then holds, when one claim has several on one day."""
        return _RANKS[self.category]

    def row(self, balance: Decimal) -> tuple[Any, ...]:
        return (self.on, self.category, claim_number(self.claim_id), self.service_date, self.client, self.payer,
                self.provider, self.location, self.group, self.code, self.description, self.status, self.billed,
                self.denied, balance)


_RANKS = {PAYER_DENIAL: 0, LINE_DENIAL: 1, INTERNAL: 2}


def _claim_columns() -> tuple[Any, ...]:
    return (Claim.id, Claim.service_date, Claim.status, Client.last_name, Client.first_name,
            Payer.name.label("payer"), Provider.last_name.label("prov_last"), Provider.first_name.label("prov_first"),
            Location.name.label("location"))


def _joined(query: Any) -> Any:
    return (query.join(Client, Client.id == Claim.client_id).outerjoin(Payer, Payer.id == Claim.payer_id)
            .join(Provider, Provider.id == Claim.rendering_provider_id)
            .join(Location, Location.id == Claim.location_id))


def standing_denial() -> ColumnElement[bool]:
    """A payer's refusal still in force: CLP02 = 4, or nothing paid with a denial reason; never reversed."""
    denial_codes = [code for code, known in carcs().items() if known.denial]
    has_denial_reason = exists().where(
        AdjudicationAdjustment.adjudication_id == Adjudication.id, AdjudicationAdjustment.group_code != "PR",
        AdjudicationAdjustment.reason_code.in_(denial_codes),
    ).correlate(Adjudication)
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    return and_(
        Adjudication.reverses_id.is_(None), Adjudication.id.not_in(reversed_ids),
        or_(Adjudication.status_code == DENIED_CODE, and_(Adjudication.paid == 0, has_denial_reason)),
    )


# --- the three kinds, each a query sorted by (date, claim) -------------------------------------------------------

def _payer_denied(filters: ReportFilters) -> Any:
    """Standing payer denials in scope and window (one row per adjudication)."""
    return (select(Adjudication.id, Adjudication.claim_id, Adjudication.paid_on, Adjudication.charge)
            .join(Claim, Claim.id == Adjudication.claim_id)
            .where(standing_denial(), *claim_scope(filters), *in_window(Adjudication.paid_on, filters)))


def _line_denied(filters: ReportFilters) -> Subquery:
    """Lines denied on a claim the payer otherwise paid, in scope and window: per claim line, its latest standing
    adjudication line that paid nothing (the last by date, then id, is the denial in force)."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    latest_first = func.row_number().over(partition_by=AdjudicationLine.claim_line_id,
                                          order_by=(Adjudication.paid_on.desc(), AdjudicationLine.id.desc()))
    ranked = (
        select(AdjudicationLine.id.label("adjudication_line_id"), AdjudicationLine.charge.label("line_charge"),
               Adjudication.paid_on, Adjudication.claim_id, latest_first.label("latest"))
        .join(Adjudication, Adjudication.id == AdjudicationLine.adjudication_id)
        .join(ClaimLine, ClaimLine.id == AdjudicationLine.claim_line_id)
        .join(Claim, Claim.id == Adjudication.claim_id)
        .where(ClaimLine.denial_state.is_not(None), AdjudicationLine.paid == 0, Adjudication.paid != 0,
               Adjudication.reverses_id.is_(None), Adjudication.id.not_in(reversed_ids), *claim_scope(filters),
               *in_window(Adjudication.paid_on, filters))
        .subquery("ranked_line_denials")
    )
    return select(ranked).where(ranked.c.latest == 1).subquery("line_denials")


def _held_at() -> Subquery:
    """When each claim last moved to Held (its history)."""
    return (select(StatusChange.subject_id.label("claim_id"), func.max(StatusChange.at).label("at"))
            .where(StatusChange.subject_type == "claim", StatusChange.to_status == ClaimStatus.HELD.value)
            .group_by(StatusChange.subject_id).subquery("held_at"))


def _context(filters: ReportFilters, query: Any) -> Any:
    """The claim's first payer and line denial dates in the window, when it was held and its balance now: what
    decides, row by row, whether a row is the claim's first (_first_on)."""
    payer = _payer_denied(filters).subquery("payer_denials")
    payer_first = (select(payer.c.claim_id, func.min(payer.c.paid_on).label("on"))
                   .group_by(payer.c.claim_id).subquery("payer_first"))
    lines = _line_denied(filters)
    line_first = (select(lines.c.claim_id, func.min(lines.c.paid_on).label("on"))
                  .group_by(lines.c.claim_id).subquery("line_first"))
    held = _held_at()
    return (query.add_columns(payer_first.c.on.label("payer_first"), line_first.c.on.label("line_first"),
                              held.c.at.label("held_at"), ClaimBalance.insurance, ClaimBalance.patient)
            .outerjoin(payer_first, payer_first.c.claim_id == Claim.id)
            .outerjoin(line_first, line_first.c.claim_id == Claim.id)
            .outerjoin(held, held.c.claim_id == Claim.id)
            .outerjoin(ClaimBalance, ClaimBalance.claim_id == Claim.id))


def _held_on(held_at: datetime | None, service_date: date) -> date:
    return held_at.date() if held_at else service_date


def _in_window(on: date, filters: ReportFilters) -> bool:
    return not ((filters.date_from and on < filters.date_from) or (filters.date_to and on > filters.date_to))


def _first_on(r: Any, filters: ReportFilters) -> date | None:
    """The date of the claim's first row in the report: its earliest payer denial, line denial or hold."""
    days = [r.payer_first, r.line_first]
    if r.status is ClaimStatus.HELD:
        held_on = _held_on(r.held_at, r.service_date)
        days.append(held_on if _in_window(held_on, filters) else None)
    found = [day for day in days if day is not None]
    return min(found) if found else None


def _balance(r: Any) -> Decimal:
    return to_money((r.insurance or 0) + (r.patient or 0))


def payer_denials(filters: ReportFilters) -> Iterator[Denial]:
    denied = _payer_denied(filters).subquery("denied")
    reason = aliased(AdjudicationAdjustment)  # not the one standing_denial() correlates
    query = _context(filters, _joined(
        select(denied.c.id.label("adjudication_id"), denied.c.paid_on, denied.c.charge, *_claim_columns(),
               reason.group_code, reason.reason_code, reason.amount)
        .select_from(denied).join(Claim, Claim.id == denied.c.claim_id)
        .outerjoin(reason, and_(reason.adjudication_id == denied.c.id, reason.group_code != "PR"))))
    query = query.order_by(denied.c.paid_on, Claim.id, denied.c.id, reason.id).execution_options(yield_per=BATCH)
    for r in db.session.execute(query):
        # A CLP02 = 4 without a CAS still counts once, with the payer's word as its only reason.
        code = r.reason_code or ""
        description = describe_carc(code) if code else "Denied by the payer; no reason code sent"
        amount = to_money(r.amount if r.reason_code is not None else r.charge)
        yield Denial(r.paid_on, PAYER_DENIAL, r.id, r.service_date, person(r.last_name, r.first_name),
                     r.payer or "(no payer)", person(r.prov_last, r.prov_first), r.location, r.group_code or "",
                     code, description, r.status.label, to_money(r.charge), amount, _balance(r), _first_on(r, filters))


def line_denials(filters: ReportFilters) -> Iterator[Denial]:
    """Lines denied on a claim the payer otherwise paid: one row per reason of the payment that denied the line
    (its latest standing adjudication of the line, paid nothing); the amount is that reason's CAS amount."""
    lines = _line_denied(filters)
    reason = aliased(AdjudicationAdjustment)
    query = _context(filters, _joined(
        select(lines.c.adjudication_line_id, lines.c.line_charge, lines.c.paid_on, *_claim_columns(),
               reason.group_code, reason.reason_code, reason.amount)
        .select_from(lines).join(Claim, Claim.id == lines.c.claim_id)
        .outerjoin(reason, and_(reason.adjudication_line_id == lines.c.adjudication_line_id,
                                reason.group_code != "PR"))))
    query = query.order_by(lines.c.paid_on, Claim.id, lines.c.adjudication_line_id, reason.id)
    for r in db.session.execute(query.execution_options(yield_per=BATCH)):
        code = r.reason_code or ""
        yield Denial(r.paid_on, LINE_DENIAL, r.id, r.service_date, person(r.last_name, r.first_name),
                     r.payer or "(no payer)", person(r.prov_last, r.prov_first), r.location, r.group_code or "",
                     code, describe_carc(code) if code else "Paid nothing; no reason code sent", r.status.label,
                     to_money(r.line_charge), to_money(r.amount if r.reason_code is not None else r.line_charge),
                     _balance(r), _first_on(r, filters))


def internal_holds(filters: ReportFilters) -> Iterator[Denial]:
    """Claims Held now; the date is when the hold was placed (the latest move to Held in the history), or the
    service date for a claim held before there was history."""
    base = _context(filters, _joined(select(Claim.total_charge, Claim.hold_reason, *_claim_columns()))
                    .where(Claim.status == ClaimStatus.HELD, *claim_scope(filters)))
    at = base.selected_columns.held_at
    by_hold = base.where(at.is_not(None)).order_by(at, Claim.id)
    undated = base.where(at.is_(None)).order_by(Claim.service_date, Claim.id)
    return heapq.merge(_same_day_by_claim(_holds(by_hold, filters)), _holds(undated, filters),
                       key=lambda d: (d.on, d.claim_id))


def _holds(query: Any, filters: ReportFilters) -> Iterator[Denial]:
    for r in db.session.execute(query.execution_options(yield_per=BATCH)):
        on = _held_on(r.held_at, r.service_date)
        if not _in_window(on, filters):
            continue
        yield Denial(on, INTERNAL, r.id, r.service_date, person(r.last_name, r.first_name), r.payer or "(no payer)",
                     person(r.prov_last, r.prov_first), r.location, "", HOLD_CODE, r.hold_reason or "Held",
                     r.status.label, to_money(r.total_charge), to_money(r.total_charge), _balance(r),
                     _first_on(r, filters))


def _same_day_by_claim(denials: Iterator[Denial]) -> Iterator[Denial]:
    """Holds come ordered by the moment they were placed; the report orders one day's by claim. The day is taken
    in Python (the moment's date, as the row shows it), so only one day's holds are held here at a time."""
    for _day, group in groupby(denials, key=lambda d: d.on):
        yield from sorted(group, key=lambda d: d.claim_id)


def all_denials(filters: ReportFilters) -> Iterator[Denial]:
    """Every row of the report, by date then claim, merged from the three streams."""
    return heapq.merge(payer_denials(filters), line_denials(filters), internal_holds(filters),
                       key=lambda d: (d.on, d.claim_id, d.rank))


def detail_rows(denials: Iterable[Denial]) -> Iterator[Sequence[Any]]:
    """One row per reason; a claim denied for two reasons shows its open balance on its first row only,
    so the column adds up to the ledger's balance of the denied claims. Rows come by (date, claim), so a
    claim's first row is the first of its earliest day."""
    previous: tuple[date, int] | None = None
    for denial in denials:
        key = (denial.on, denial.claim_id)
        first = key != previous and denial.on == denial.first_on
        previous = key
        yield denial.row(denial.balance if first else ZERO)


# --- the summaries: GROUP BYs, and the holds counted as they stream ---------------------------------------------

def _reason_sums(filters: ReportFilters) -> Iterator[tuple[str, str, str, str, str | None, int, Decimal]]:
    """(category, group, code, no-code text, payer, count, amount) for the payer and line denials, by the database."""
    denied = _payer_denied(filters).subquery("denied")
    lines = _line_denied(filters)
    for category, rows, key, charge, link, blank in (
            (PAYER_DENIAL, denied, denied.c.id, denied.c.charge, "adjudication_id",
             "Denied by the payer; no reason code sent"),
            (LINE_DENIAL, lines, lines.c.adjudication_line_id, lines.c.line_charge, "adjudication_line_id",
             "Paid nothing; no reason code sent")):
        reason = aliased(AdjudicationAdjustment)
        amount = case((reason.id.is_(None), charge), else_=reason.amount)
        query = (select(reason.group_code, reason.reason_code, Payer.name, func.count(), cents_sum(amount))
                 .select_from(rows).join(Claim, Claim.id == rows.c.claim_id)
                 .outerjoin(Payer, Payer.id == Claim.payer_id)
                 .outerjoin(reason, and_(getattr(reason, link) == key, reason.group_code != "PR"))
                 .group_by(reason.group_code, reason.reason_code, Payer.name))
        for group, code, payer, found, total in db.session.execute(query):
            yield category, group or "", code or "", blank, payer, found, to_money(total)


@dataclass
class _Summaries:
    by_reason: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    by_payer: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, reason: tuple[str, str, str], payer: str, found: int, amount: Decimal) -> None:
        for table, key in ((self.by_reason, reason), (self.by_payer, payer)):
            sums = table.setdefault(key, [0, ZERO])
            sums[0] += found
            sums[1] += amount


def summaries(filters: ReportFilters) -> _Summaries:
    """Denials and denied amounts by reason and by payer: bounded by the reasons and payers, not the rows."""
    found = _Summaries()
    for category, group, code, blank, payer, count_, amount in _reason_sums(filters):
        label = f"{group}-{code}" if code else "(none)"
        found.add((label, category, describe_carc(code) if code else blank), payer or "(no payer)", count_, amount)
    for hold in internal_holds(filters):
        found.add((HOLD_CODE, INTERNAL, "Held before submission"), hold.payer, 1, hold.denied)
    return found


def reason_rows(found: _Summaries) -> list[Sequence[Any]]:
    rows = [(label, category, description, n, total) for (label, category, description), (n, total)
            in found.by_reason.items()]
    return sorted(rows, key=lambda r: (-r[4], r[0]))


def payer_rows(found: _Summaries) -> list[Sequence[Any]]:
    return sorted(((payer, n, total) for payer, (n, total) in found.by_payer.items()), key=lambda r: (-r[2], r[0]))


def count(filters: ReportFilters) -> int:
    return sum(n for n, _total in summaries(filters).by_payer.values())


def sheets(filters: ReportFilters) -> list[Sheet]:
    found = summaries(filters)
    return [
        Sheet("Denials", COLUMNS, detail_rows(all_denials(filters))),
        Sheet("Summary by reason", BY_REASON, reason_rows(found),
              charts=(Chart("Denied amount by reason", 0, (4,), "Denied ($)"),)),
        Sheet("Summary by payer", BY_PAYER, payer_rows(found),
              charts=(Chart("Denied amount by payer", 0, (2,), "Denied ($)"),)),
    ]


REPORT = Report(
    name="claim-denials",
    title="Claim Denials",
    description="Every denial reason (CARC with its description) by payer, provider and date, held claims as "
                "Internal with their reason, and summaries by reason and by payer with charts.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "provider_id"},
)
