"""Claim Denials: each reason a payer gave for refusing a claim or one of its lines (CARC with its description),
and every held claim as the category Internal with its hold reason; summaries by reason and by payer with charts.

Denied money is not ledgered (the balance stays open to be worked), so amounts come from the payer's
adjudication, and the open balance of each claim comes from the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.codes import carcs, describe_carc
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, to_money
from billing.coverage.models import Payer
from billing.ledger.balances import claim_balances
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine
from billing.ledger.postings import DENIED_CODE
from billing.org.models import Location
from billing.people.models import Client, Provider
from exports.columns import Chart, Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import claim_scope, in_window, person

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

    def row(self, balance: Decimal) -> tuple[Any, ...]:
        return (self.on, self.category, claim_number(self.claim_id), self.service_date, self.client, self.payer,
                self.provider, self.location, self.group, self.code, self.description, self.status, self.billed,
                self.denied, balance)


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
    )
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    return and_(
        Adjudication.reverses_id.is_(None), Adjudication.id.not_in(reversed_ids),
        or_(Adjudication.status_code == DENIED_CODE, and_(Adjudication.paid == 0, has_denial_reason)),
    )


def _adjustments(adjudication_ids: list[int]) -> dict[int, list[tuple[str, str, Decimal]]]:
    found: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for start in range(0, len(adjudication_ids), 500):
        rows = db.session.execute(
            select(AdjudicationAdjustment.adjudication_id, AdjudicationAdjustment.group_code,
                   AdjudicationAdjustment.reason_code, AdjudicationAdjustment.amount)
            .where(any_of(AdjudicationAdjustment.adjudication_id, adjudication_ids[start:start + 500]),
                   AdjudicationAdjustment.group_code != "PR")
            .order_by(AdjudicationAdjustment.id)
        )
        for adjudication_id, group, code, amount in rows:
            found[adjudication_id].append((group, code, to_money(amount)))
    return found


def payer_denials(filters: ReportFilters) -> list[Denial]:
    rows = db.session.execute(
        _joined(select(Adjudication.id.label("adjudication_id"), Adjudication.paid_on, Adjudication.charge,
                       *_claim_columns()).join(Claim, Claim.id == Adjudication.claim_id))
        .where(standing_denial(), *claim_scope(filters), *in_window(Adjudication.paid_on, filters))
        .order_by(Adjudication.paid_on, Adjudication.id)
    ).all()
    reasons = _adjustments([r.adjudication_id for r in rows])
    denials = []
    for r in rows:
        # A CLP02 = 4 without a CAS still counts once, with the payer's word as its only reason.
        for group, code, amount in reasons.get(r.adjudication_id) or [("", "", to_money(r.charge))]:
            description = describe_carc(code) if code else "Denied by the payer; no reason code sent"
            denials.append(Denial(r.paid_on, PAYER_DENIAL, r.id, r.service_date, person(r.last_name, r.first_name),
                                  r.payer or "(no payer)", person(r.prov_last, r.prov_first), r.location, group,
                                  code, description, r.status.label, to_money(r.charge), amount))
    return denials


def line_denials(filters: ReportFilters) -> list[Denial]:
    """Lines denied on a claim the payer otherwise paid: one row per reason of the payment that denied the line
    (its latest standing adjudication of the line, paid nothing); the amount is that reason's CAS amount."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    rows = db.session.execute(
        _joined(select(AdjudicationLine.id.label("adjudication_line_id"), AdjudicationLine.claim_line_id,
                       AdjudicationLine.charge.label("line_charge"), Adjudication.paid_on, *_claim_columns())
                .select_from(AdjudicationLine)
                .join(Adjudication, Adjudication.id == AdjudicationLine.adjudication_id)
                .join(ClaimLine, ClaimLine.id == AdjudicationLine.claim_line_id)
                .join(Claim, Claim.id == Adjudication.claim_id))
        .where(ClaimLine.denial_state.is_not(None), AdjudicationLine.paid == 0, Adjudication.paid != 0,
               Adjudication.reverses_id.is_(None), Adjudication.id.not_in(reversed_ids), *claim_scope(filters),
               *in_window(Adjudication.paid_on, filters))
        .order_by(Adjudication.paid_on, AdjudicationLine.id)
    ).all()
    latest = {r.claim_line_id: r for r in rows}  # ordered by id: the last one is the standing denial
    reasons: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    standing = [r.adjudication_line_id for r in latest.values()]
    for line_id, group, code, amount in db.session.execute(
            select(AdjudicationAdjustment.adjudication_line_id, AdjudicationAdjustment.group_code,
                   AdjudicationAdjustment.reason_code, AdjudicationAdjustment.amount)
            .where(any_of(AdjudicationAdjustment.adjudication_line_id, standing),
                   AdjudicationAdjustment.group_code != "PR")
            .order_by(AdjudicationAdjustment.id)):
        reasons[line_id].append((group, code, to_money(amount)))
    return [Denial(r.paid_on, LINE_DENIAL, r.id, r.service_date, person(r.last_name, r.first_name),
                   r.payer or "(no payer)", person(r.prov_last, r.prov_first), r.location, group, code,
                   describe_carc(code) if code else "Paid nothing; no reason code sent", r.status.label,
                   to_money(r.line_charge), amount)
            for r in latest.values()
            for group, code, amount in reasons.get(r.adjudication_line_id) or [("", "", to_money(r.line_charge))]]


def internal_holds(filters: ReportFilters) -> list[Denial]:
    """Claims Held now; the date is when the hold was placed (the latest move to Held in the history)."""
    held_at = (
        select(StatusChange.subject_id.label("claim_id"), func.max(StatusChange.at).label("at"))
        .where(StatusChange.subject_type == "claim", StatusChange.to_status == ClaimStatus.HELD.value)
        .group_by(StatusChange.subject_id).subquery()
    )
    rows = db.session.execute(
        _joined(select(held_at.c.at, Claim.total_charge, Claim.hold_reason, *_claim_columns())
                .outerjoin(held_at, held_at.c.claim_id == Claim.id))
        .where(Claim.status == ClaimStatus.HELD, *claim_scope(filters))
        .order_by(Claim.service_date, Claim.id)
    ).all()
    denials = []
    for r in rows:
        on = r.at.date() if r.at else r.service_date
        if (filters.date_from and on < filters.date_from) or (filters.date_to and on > filters.date_to):
            continue
        denials.append(Denial(on, INTERNAL, r.id, r.service_date, person(r.last_name, r.first_name),
                              r.payer or "(no payer)", person(r.prov_last, r.prov_first), r.location, "", HOLD_CODE,
                              r.hold_reason or "Held", r.status.label, to_money(r.total_charge),
                              to_money(r.total_charge)))
    return denials


def all_denials(filters: ReportFilters) -> list[Denial]:
    return sorted(payer_denials(filters) + line_denials(filters) + internal_holds(filters),
                  key=lambda d: (d.on, d.claim_id))


def detail_rows(denials: list[Denial]) -> list[Sequence[Any]]:
    """One row per reason; a claim denied for two reasons shows its open balance on its first row only,
    so the column adds up to the ledger's balance of the denied claims."""
    balances = claim_balances({d.claim_id for d in denials})
    seen: set[int] = set()
    rows = []
    for denial in denials:
        first = denial.claim_id not in seen
        balance = balances[denial.claim_id].balance if first and denial.claim_id in balances else ZERO
        seen.add(denial.claim_id)
        rows.append(denial.row(balance))
    return rows


def reason_rows(denials: list[Denial]) -> list[Sequence[Any]]:
    grouped: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    for d in denials:
        description = "Held before submission" if d.category == INTERNAL else d.description
        label = HOLD_CODE if d.category == INTERNAL else f"{d.group}-{d.code}" if d.code else "(none)"
        grouped[(label, d.category, description)].append(d.denied)
    rows = [(label, category, description, len(amounts), sum(amounts, ZERO))
            for (label, category, description), amounts in grouped.items()]
    return sorted(rows, key=lambda r: (-r[4], r[0]))


def payer_rows(denials: list[Denial]) -> list[Sequence[Any]]:
    grouped: dict[str, list[Decimal]] = defaultdict(list)
    for d in denials:
        grouped[d.payer].append(d.denied)
    return sorted(((payer, len(a), sum(a, ZERO)) for payer, a in grouped.items()), key=lambda r: (-r[2], r[0]))


def count(filters: ReportFilters) -> int:
    return len(all_denials(filters))


def sheets(filters: ReportFilters) -> list[Sheet]:
    denials = all_denials(filters)
    return [
        Sheet("Denials", COLUMNS, detail_rows(denials)),
        Sheet("Summary by reason", BY_REASON, reason_rows(denials),
              charts=(Chart("Denied amount by reason", 0, (4,), "Denied ($)"),)),
        Sheet("Summary by payer", BY_PAYER, payer_rows(denials),
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
