"""Remittances: each check or EFT a payer sent (835 BPR/TRN), the claims it paid, the adjustments on
them (CAS with descriptions), and the provider-level adjustments (PLB) that are part of no claim.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, true

from billing.claims.models import Claim, claim_number
from billing.core.codes import GROUP_CODES, claim_payment_statuses, describe_carc, plb_reasons
from billing.core.db import db
from billing.core.money import to_money
from billing.coverage.models import Payer
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, EntrySource
from billing.org.queries import by_location
from billing.payments.models import EraFile, PostedCheck, ProviderAdjustment, Remittance, UnmatchedClaim
from billing.people.models import Client
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, in_window, person

#: CLP02 and PLB03-1 in words (billing/core/data: claim_payment_status.csv, plb_reason.csv).
CLAIM_STATUS = {code: c.description for code, c in claim_payment_statuses().items()}
PLB_REASONS = {code: c.description for code, c in plb_reasons().items()}
PAYMENT_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Payer"), Column("Check / EFT"), Column("Method"),
    Column("Payment", Kind.MONEY, total=True), Column("Claims paid", Kind.MONEY, total=True),
    Column("PLB", Kind.MONEY, total=True), Column("Claims", Kind.INTEGER, total=True), Column("Balanced"),
    Column("File"),
)
CLAIM_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Check / EFT"), Column("Payer"), Column("Claim"), Column("Client"),
    Column("Service date", Kind.DATE), Column("Payer status"), Column("Payer claim number"),
    Column("Charge", Kind.MONEY, total=True), Column("Paid", Kind.MONEY, total=True),
    Column("Patient responsibility", Kind.MONEY, total=True), Column("Matched"),
)
ADJUSTMENT_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Check / EFT"), Column("Claim"), Column("Procedure"), Column("Group"),
    Column("Reason code"), Column("Description"), Column("Amount", Kind.MONEY, total=True),
)
PLB_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Check / EFT"), Column("Payer"), Column("Provider id"), Column("Reason"),
    Column("Description"), Column("Reference"), Column("Amount", Kind.MONEY, total=True),
)


def conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """Remittances paid in the window from the payer; in a scope, those paying a claim of that scope."""
    where = in_window(Remittance.paid_on, filters)
    if filters.payer_id:
        where.append(Remittance.payer_id == filters.payer_id)
    scope = filters.scope
    if not scope.is_everything:
        paying_in_scope = (
            select(Adjudication.id).join(Claim, Claim.id == Adjudication.claim_id)
            .where(Adjudication.remittance_id == Remittance.id, by_location(Claim.location_id, scope))
            .correlate(Remittance)  # only the remittance comes from outside; the claim is the inner query's
        )
        where.append(paying_in_scope.exists())
    return where

#: Payments typed from paper EOBs (Record Payment, Post a check), with the check they came by.
TYPED_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Check / EFT"), Column("Check date", Kind.DATE), Column("Method"),
    Column("Payer"), Column("Claim"), Column("Client"), Column("Charge", Kind.MONEY, total=True),
    Column("Paid", Kind.MONEY, total=True), Column("Patient responsibility", Kind.MONEY, total=True),
    Column("Posted check"),
)


def _stream(query: Any) -> Any:
    """The rows BATCH at a time from a server-side cursor: a year of remittances never sits in memory. Each
    sheet's function is a generator, so its query starts when the sheet is written, not when the report is set up."""
    return db.session.execute(query.execution_options(yield_per=BATCH))


def _claim_scope(filters: ReportFilters) -> ColumnElement[bool]:
    scope = filters.scope
    return true() if scope.is_everything else by_location(Claim.location_id, scope)


def payment_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    rows = _stream(
        select(Remittance, EraFile.filename).join(EraFile, EraFile.id == Remittance.era_file_id)
        .where(*conditions(filters)).order_by(Remittance.paid_on, Remittance.id)
    )
    yield from ((r.paid_on, r.payer_name, r.check_number, r.method, to_money(r.amount), to_money(r.claims_paid_total),
                 to_money(r.plb_total), r.claim_count, "Yes" if r.balanced else "NO", filename) for r, filename in rows)


def claim_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    matched = _stream(
        select(Remittance.paid_on, Remittance.check_number, Remittance.payer_name, Adjudication.claim_id,
               Client.last_name, Client.first_name, Claim.service_date, Adjudication.status_code,
               Adjudication.payer_claim_number, Adjudication.charge, Adjudication.paid,
               Adjudication.patient_responsibility)
        .join(Adjudication, Adjudication.remittance_id == Remittance.id)
        .join(Claim, Claim.id == Adjudication.claim_id).join(Client, Client.id == Claim.client_id)
        .where(*conditions(filters), _claim_scope(filters))
        .order_by(Remittance.paid_on, Remittance.id, Adjudication.id)
    )
    rows: Iterator[Sequence[Any]] = (
        (r.paid_on, r.check_number, r.payer_name, claim_number(r.claim_id), person(r.last_name, r.first_name),
         r.service_date, CLAIM_STATUS.get(r.status_code, r.status_code), r.payer_claim_number, to_money(r.charge),
         to_money(r.paid), to_money(r.patient_responsibility), "Yes")
        for r in matched
    )
    yield from rows
    if filters.scope.is_everything:
        yield from _unmatched_rows(filters)


def _unmatched_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """835 claims that matched none of ours: part of the check, so part of the report, marked as such."""
    unmatched = _stream(
        select(Remittance.paid_on, Remittance.check_number, Remittance.payer_name, UnmatchedClaim)
        .join(UnmatchedClaim, UnmatchedClaim.remittance_id == Remittance.id)
        .where(*conditions(filters)).order_by(Remittance.paid_on, Remittance.id, UnmatchedClaim.id)
    )
    yield from ((r.paid_on, r.check_number, r.payer_name, r.UnmatchedClaim.claim_number,
                 r.UnmatchedClaim.patient_name or "(as sent)", None,
                 CLAIM_STATUS.get(r.UnmatchedClaim.status_code, r.UnmatchedClaim.status_code), None,
                 to_money(r.UnmatchedClaim.charge), to_money(r.UnmatchedClaim.paid), None,
                 "Matched by hand" if r.UnmatchedClaim.matched_claim_id else "No: in the unmatched queue")
                for r in unmatched)


def adjustment_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    rows = _stream(
        select(Remittance.paid_on, Remittance.check_number, Adjudication.claim_id, AdjudicationLine.procedure_code,
               AdjudicationLine.modifiers, AdjudicationAdjustment.group_code, AdjudicationAdjustment.reason_code,
               AdjudicationAdjustment.amount)
        .join(Adjudication, Adjudication.remittance_id == Remittance.id)
        .join(AdjudicationAdjustment, AdjudicationAdjustment.adjudication_id == Adjudication.id)
        .outerjoin(AdjudicationLine, AdjudicationLine.id == AdjudicationAdjustment.adjudication_line_id)
        .join(Claim, Claim.id == Adjudication.claim_id)
        .where(*conditions(filters), _claim_scope(filters))
        .order_by(Remittance.paid_on, Remittance.id, Adjudication.id, AdjudicationAdjustment.id)
    )
    yield from ((r.paid_on, r.check_number, claim_number(r.claim_id),
                 ":".join(p for p in (r.procedure_code, r.modifiers) if p) or "(claim level)",
                 f"{r.group_code} {GROUP_CODES.get(r.group_code, '')}".strip(), r.reason_code,
                 describe_carc(r.reason_code), to_money(r.amount)) for r in rows)


def plb_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    rows = _stream(
        select(Remittance.paid_on, Remittance.check_number, Remittance.payer_name, ProviderAdjustment)
        .join(ProviderAdjustment, ProviderAdjustment.remittance_id == Remittance.id)
        .where(*conditions(filters)).order_by(Remittance.paid_on, Remittance.id, ProviderAdjustment.id)
    )
    yield from ((r.paid_on, r.check_number, r.payer_name, r.ProviderAdjustment.provider_id,
                 r.ProviderAdjustment.reason_code, PLB_REASONS.get(r.ProviderAdjustment.reason_code, "See the payer's "
                                                                     "remittance advice"),
                 r.ProviderAdjustment.reference, to_money(r.ProviderAdjustment.amount)) for r in rows)


def typed_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """Typed EOB payments in the window (reversals and payments later reversed included, as the ledger has them)."""
    where = [Adjudication.remittance_id.is_(None), Adjudication.source == EntrySource.MANUAL,
             *in_window(Adjudication.paid_on, filters), _claim_scope(filters)]
    if filters.payer_id:
        where.append(Adjudication.payer_id == filters.payer_id)
    rows = _stream(
        select(Adjudication, Payer.name, Client.last_name, Client.first_name, PostedCheck.check_number)
        .join(Claim, Claim.id == Adjudication.claim_id).join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Adjudication.payer_id)
        .outerjoin(PostedCheck, PostedCheck.id == Adjudication.posted_check_id)
        .where(*where).order_by(Adjudication.paid_on, Adjudication.id)
    )
    yield from ((a.paid_on, a.check_number or "", a.check_date, a.payment_method.label if a.payment_method else "",
                 payer or "", claim_number(a.claim_id), person(last, first), to_money(a.charge), to_money(a.paid),
                 to_money(a.patient_responsibility), "Yes" if posted else "")
                for a, payer, last, first, posted in rows)


def count(filters: ReportFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(Remittance).where(*conditions(filters))) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [
        Sheet("Payments", PAYMENT_COLUMNS, payment_rows(filters)),
        Sheet("Claims", CLAIM_COLUMNS, claim_rows(filters)),
        Sheet("Adjustments", ADJUSTMENT_COLUMNS, adjustment_rows(filters)),
        Sheet("PLB", PLB_COLUMNS, plb_rows(filters)),
        Sheet("Typed EOBs", TYPED_COLUMNS, typed_rows(filters)),
    ]


REPORT = Report(
    name="remittances",
    title="Remittances",
    description="Payments by check or EFT with the claims they paid, the adjustments on them and provider-level "
                "adjustments (PLB); payments typed from paper EOBs with their check number, date and method.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id"},
)
