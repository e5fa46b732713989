"""Proof of Timely Filing: for each claim, every batch it went out in (sent when, the file, its control numbers)
and what the 999 and 277CA said about that send (date, codes, the payer's claim number). The evidence a payer
asks for when it says a claim arrived late. One row per send and acknowledgment; a send nothing answered yet
has one row with empty acknowledgment columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select

from billing.claims.models import Claim, claim_number
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.coverage.models import Payer
from billing.people.models import Client
from billing.submissions.ack_queries import filing_evidence
from billing.submissions.models import BatchClaim
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, claim_scope, in_window, person

COLUMNS = (
    Column("Claim"), Column("Client"), Column("Payer"), Column("Service date", Kind.DATE), Column("Status"),
    Column("Batch"), Column("Sent (UTC)"), Column("File"), Column("Control number (ISA13/GS06)"),
    Column("Transaction (ST02)"), Column("Frequency"), Column("Acknowledgment"), Column("Acknowledged on", Kind.DATE),
    Column("Outcome"), Column("Codes"), Column("Payer claim number"),
)


def _where(filters: ReportFilters) -> list[Any]:
    sent = select(BatchClaim.claim_id)
    return [any_of(Claim.id, sent), *in_window(Claim.service_date, filters), *claim_scope(filters)]


def rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """Streamed: claims come BATCH at a time, and each batch's sends and acknowledgments with it."""
    claims = db.session.execute(
        select(Claim.id, Claim.service_date, Claim.status, Client.last_name, Client.first_name, Payer.name)
        .join(Client, Client.id == Claim.client_id).outerjoin(Payer, Payer.id == Claim.payer_id)
        .where(*_where(filters)).order_by(Claim.service_date, Claim.id).execution_options(yield_per=BATCH))
    for batch in claims.partitions():
        evidence = filing_evidence([c.id for c in batch])
        for c in batch:
            yield from _claim_rows(c, evidence.get(c.id, []))


def _claim_rows(c: Any, sends: list[Any]) -> Iterator[Sequence[Any]]:
    head = (claim_number(c.id), person(c.last_name, c.first_name), c.name or "(no payer)", c.service_date,
            c.status.label)
    for send in sends:
        where = (send.batch, f"{send.sent_at:%m/%d/%Y %H:%M}" if send.sent_at else "", send.file_name,
                 send.interchange_control, send.transaction_control or "", send.frequency_code)
        for a in send.acknowledgments or (None,):
            yield (*head, *where, *((a.acknowledgment.kind.label + " " + a.acknowledgment.file_name,
                                     a.effective_on, a.outcome.label, a.codes, a.payer_claim_number or "")
                                    if a is not None else ("", None, "", "", "")))


def count(filters: ReportFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(Claim).where(*_where(filters))) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [Sheet("Proof of timely filing", COLUMNS, rows(filters))]


REPORT = Report(
    name="filing-proof",
    title="Proof of Timely Filing",
    description="Per claim sent (by service date): each batch it went in, sent when, file and control numbers, and "
                "the 999/277CA acceptance (date, codes, payer claim number).",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS,
)
