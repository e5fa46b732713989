"""Credit Balances: the claims in credit today (what the office owes back to payers and patients, with since when
and why), and the refunds and patient credits applied in the window, each its own line.

Credits are positive amounts: what is owed back. A refund's amount is what was sent back; a refund later
reversed (its check returned) shows as a negative line that points at it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select

from billing.claims.models import Claim, claim_number
from billing.core.db import db
from billing.core.money import to_money
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.credits import credit_balances, iter_credit_balances
from billing.people.models import Client
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, claim_scope, in_window, person

#: What left a credit: sent back to the payer or the patient, or moved to another claim of the same client.
SETTLING_KINDS = (EntryKind.INSURANCE_REFUND, EntryKind.PATIENT_REFUND, EntryKind.PATIENT_CREDIT_OUT)
TYPES = {EntryKind.INSURANCE_REFUND: "Refund to payer", EntryKind.PATIENT_REFUND: "Refund to patient",
         EntryKind.PATIENT_CREDIT_OUT: "Patient credit applied to another claim"}

OPEN_COLUMNS = (
    Column("Claim"), Column("Service date", Kind.DATE), Column("Client"), Column("Payer"), Column("Status"),
    Column("Needs review"), Column("Side"), Column("Credit", Kind.MONEY, total=True), Column("Since", Kind.DATE),
    Column("Age (days)", Kind.INTEGER), Column("Why"),
)
SETTLED_COLUMNS = (
    Column("Date", Kind.DATE), Column("Claim"), Column("Service date", Kind.DATE), Column("Client"), Column("Payer"),
    Column("Type"), Column("Reference and reason"), Column("Entry", Kind.INTEGER),
    Column("Reverses entry", Kind.INTEGER), Column("By"), Column("Amount", Kind.MONEY, total=True),
)


def open_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    today = filters.as_of or practice_today()
    yield from ((row.number, row.service_date, row.client, row.payer, row.status.label,
                 "yes" if row.needs_review else "no", side.label, row.credit(side),
                 row.origins[side].since if side in row.origins else None, row.age(side, today),
                 row.origins[side].describe() if side in row.origins else "")
                for row in iter_credit_balances(claim_scope(filters), batch=BATCH) for side in row.sides)


def _settled_where(filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [LedgerEntry.kind.in_(SETTLING_KINDS), *in_window(LedgerEntry.posted_on, filters), *claim_scope(filters)]


def settled_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    rows = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.posted_on, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.memo,
               LedgerEntry.reverses_id, LedgerEntry.actor, Claim.id.label("claim_id"), Claim.service_date,
               Client.last_name, Client.first_name, Payer.name.label("payer"))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .where(*_settled_where(filters))
        .order_by(LedgerEntry.posted_on, LedgerEntry.id).execution_options(yield_per=BATCH)
    )
    yield from ((r.posted_on, claim_number(r.claim_id), r.service_date, person(r.last_name, r.first_name),
                 r.payer or "(self-pay)", ("Reversal: " if r.reverses_id else "") + TYPES[r.kind], r.memo or "", r.id,
                 r.reverses_id, r.actor, to_money(r.amount)) for r in rows)


def count(filters: ReportFilters) -> int:
    settled = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                .join(Claim, Claim.id == LedgerEntry.claim_id).where(*_settled_where(filters))) or 0
    return credit_balances(claim_scope(filters), limit=0).count + settled


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [Sheet("Open credits", OPEN_COLUMNS, open_rows(filters)),
            Sheet("Refunds", SETTLED_COLUMNS, settled_rows(filters))]


REPORT = Report(
    name="credit-balances",
    title="Credit Balances",
    description="Claims in credit today (insurance and patient overpayments: amount, since when, why) and the refunds "
                "and patient credits applied in the window, each its own line.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "as_of"},
)
