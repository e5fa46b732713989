"""Revenue: the ledger's charges, payments, adjustments, write-offs and refunds posted in a window, every
reversal its own line item (never netted into the entry it reverses), by month, location and payer.

Transfers between the insurance and patient balances (patient responsibility, transfer to the
secondary payer) move money owed, not money earned, so they are left out.

Interest a payer adds at the provider level (PLB L6, and any other PLB money added that names no claim) is
income on no claim: it is its own line, on the Interest sheet, by the remittance's payment date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from billing.claims.models import Claim, claim_number
from billing.core.db import db
from billing.core.money import ZERO, to_money
from billing.coverage.models import Payer
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.org.models import Location
from billing.payments.models import PlbDisposition, ProviderAdjustment, Remittance
from billing.payments.plb import PLB_REASONS
from billing.payments.queries import remittance_in_scope
from billing.people.models import Client
from exports.columns import Chart, Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, claim_scope, in_window, month_of, person, streamed

#: The money columns, in order, and the ledger kinds each one sums. Reversals get a column of their own.
CATEGORIES: dict[str, tuple[EntryKind, ...]] = {
    "Charges": (EntryKind.CHARGE,),
    "Insurance payments": (EntryKind.INSURANCE_PAYMENT,),
    "Patient payments": (EntryKind.PATIENT_PAYMENT,),
    "Adjustments": (EntryKind.CONTRACTUAL, EntryKind.OTHER_ADJUSTMENT),
    "Write-offs": (EntryKind.WRITE_OFF, EntryKind.PATIENT_WRITE_OFF),
    # Money sent back (a positive refund lowers what was collected); a patient credit moved to another claim is a
    # transfer, left out like the others.
    "Refunds": (EntryKind.INSURANCE_REFUND, EntryKind.PATIENT_REFUND),
}
REVERSALS = "Reversals"
MONEY_TITLES = (*CATEGORIES, REVERSALS)
REVENUE_KINDS = tuple(kind for kinds in CATEGORIES.values() for kind in kinds)
_CATEGORY_OF = {kind: title for title, kinds in CATEGORIES.items() for kind in kinds}
_MONEY = tuple(Column(title, Kind.MONEY, total=True) for title in MONEY_TITLES)

COLUMNS = (
    Column("Posted", Kind.DATE), Column("Month"), Column("Entry", Kind.INTEGER), Column("Claim"),
    Column("Service date", Kind.DATE), Column("Client"), Column("Payer"), Column("Location"), Column("Type"),
    Column("Reverses entry", Kind.INTEGER), Column("Reason"), Column("Source"), Column("Memo"), *_MONEY,
)


INTEREST_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Month"), Column("Check / EFT"), Column("Payer"), Column("Reason"),
    Column("Reference"), Column("Interest", Kind.MONEY, total=True),
)


def conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [LedgerEntry.kind.in_(REVENUE_KINDS), *in_window(LedgerEntry.posted_on, filters), *claim_scope(filters)]


def _query(filters: ReportFilters) -> Select[Any]:
    return (
        select(LedgerEntry.id, LedgerEntry.posted_on, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.reverses_id,
               LedgerEntry.group_code, LedgerEntry.reason_code, LedgerEntry.source, LedgerEntry.memo,
               Claim.id.label("claim_id"), Claim.service_date, Client.last_name, Client.first_name,
               Payer.name.label("payer"), Location.name.label("location"))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .join(Location, Location.id == Claim.location_id)
        .where(*conditions(filters))
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    )


def amounts(kind: EntryKind, amount: Decimal, is_reversal: bool) -> list[Decimal | None]:
    """The money cells of one entry: its amount under its category, or under Reversals when it reverses one."""
    column = REVERSALS if is_reversal else _CATEGORY_OF[kind]
    return [to_money(amount) if title == column else None for title in MONEY_TITLES]


def _type(kind: EntryKind, is_reversal: bool) -> str:
    return f"Reversal of {kind.label.lower()}" if is_reversal else kind.label


#: PostgreSQL otherwise walks the ledger in posting order and looks each entry's claim up by its key, one index probe
#: per entry: 5.5 s of the database's time for 322,000 entries (200,000 claims), where hash joins and a sort take 2.0 s.
_HASH_JOINS = {"enable_nestloop": "off"}


def line_items(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    # Worked out once rather than per entry (this runs once per ledger entry of the window): the Type cell and
    # the money cells before and after the amount, by (kind, is reversal); the month of each posting day.
    shapes = {(kind, reversal): (_type(kind, reversal), *_around(kind, reversal))
              for kind in REVENUE_KINDS for reversal in (False, True)}
    months: dict[Any, str] = {}
    sources = {source: source.value for source in EntrySource}
    for (entry_id, posted_on, kind, amount, reverses_id, group_code, reason_code, source, memo, claim_id,
         service_date, last_name, first_name, payer, location) in streamed(_query(filters), BATCH, planner=_HASH_JOINS):
        kind_label, before, after = shapes[kind, reverses_id is not None]
        month = months.get(posted_on)
        if month is None:
            month = months[posted_on] = month_of(posted_on)
        yield (posted_on, month, entry_id, claim_number(claim_id), service_date, person(last_name, first_name),
               payer or "(self-pay)", location, kind_label, reverses_id, _reason(group_code, reason_code),
               sources[source], memo, *before, amount, *after)  # exports.workbook makes it exact to the cent


def _around(kind: EntryKind, is_reversal: bool) -> tuple[tuple[None, ...], tuple[None, ...]]:
    """The empty money cells before and after the one `amounts` fills for this kind of entry."""
    cells = amounts(kind, ZERO, is_reversal)
    filled = next(index for index, cell in enumerate(cells) if cell is not None)
    return (None,) * filled, (None,) * (len(cells) - filled - 1)


def _reason(group_code: str | None, reason_code: str | None) -> str:
    """"CO-45": the adjustment's group and reason codes, whichever are there."""
    if group_code and reason_code:
        return f"{group_code}-{reason_code}"
    return group_code or reason_code or ""


def _sums_by(filters: ReportFilters, key: Any) -> Select[Any]:
    """Sums per (group, kind, is reversal), by the database."""
    is_reversal = LedgerEntry.reverses_id.is_not(None)
    return (
        select(key.label("key"), LedgerEntry.kind, is_reversal.label("reversal"), func.sum(LedgerEntry.amount))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .join(Location, Location.id == Claim.location_id)
        .where(*conditions(filters))
        .group_by(key, LedgerEntry.kind, is_reversal)
    )


def _spread(rows: Iterable[Any]) -> list[Decimal]:
    """(key, kind, reversal, sum) rows of one group into the money columns."""
    sums = dict.fromkeys(MONEY_TITLES, ZERO)
    for _key, kind, reversal, total in rows:
        sums[REVERSALS if reversal else _CATEGORY_OF[kind]] += to_money(total)
    return [sums[t] for t in MONEY_TITLES]


def _grouped(filters: ReportFilters, key: Any, label: Callable[[Any], str]) -> list[Sequence[Any]]:
    """Sums per location or payer (a few rows each), spread into the money columns in Python."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in db.session.execute(_sums_by(filters, key)):
        groups[row[0]].append(row)
    return [(label(group), *_spread(rows)) for group, rows in sorted(groups.items(), key=lambda item: label(item[0]))]


def month_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """Per month: the database sums per day (SQLite and PostgreSQL spell "year-month of a date" differently), read
    in date order and folded one month at a time, so a long window never holds its days."""
    query = _sums_by(filters, LedgerEntry.posted_on).order_by(LedgerEntry.posted_on)
    for month, rows in groupby(db.session.execute(query.execution_options(yield_per=BATCH)),
                               key=lambda row: month_of(row[0])):
        yield (month, *_spread(rows))


def summary_sheet(title: str, first: str, rows: Iterable[Sequence[Any]], chart: str) -> Sheet:
    columns = (Column(first), *_MONEY)
    return Sheet(title, columns, rows, charts=(Chart(chart, 0, (1, 2, 3), "$"),))


def count(filters: ReportFilters) -> int:
    query = select(func.count()).select_from(LedgerEntry).join(Claim, Claim.id == LedgerEntry.claim_id)
    return db.session.scalar(query.where(*conditions(filters))) or 0


def interest_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """Provider-level income (PLBs with the income disposition) paid in the window: a negative PLB adds to the
    check, so the interest is the amount negated."""
    where = [ProviderAdjustment.disposition == PlbDisposition.INCOME, *in_window(Remittance.paid_on, filters)]
    if filters.payer_id:
        where.append(Remittance.payer_id == filters.payer_id)
    if not filters.scope.is_everything:
        where.append(remittance_in_scope(filters.scope))
    rows = db.session.execute(
        select(Remittance.paid_on, Remittance.check_number, Remittance.payer_name, ProviderAdjustment.reason_code,
               ProviderAdjustment.reference, ProviderAdjustment.amount)
        .join(Remittance, Remittance.id == ProviderAdjustment.remittance_id)
        .where(*where).order_by(Remittance.paid_on, ProviderAdjustment.id).execution_options(yield_per=BATCH)
    )
    yield from ((r.paid_on, month_of(r.paid_on), r.check_number, r.payer_name,
                 f"{r.reason_code} {PLB_REASONS.get(r.reason_code, '')}".strip(), r.reference, -to_money(r.amount))
                    for r in rows)


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [
        Sheet("Line items", COLUMNS, line_items(filters)),
        summary_sheet("By month", "Month", month_rows(filters), "Charges and payments by month"),
        summary_sheet("By location", "Location", _grouped(filters, Location.name, str),
                      "Charges and payments by location"),
        summary_sheet("By payer", "Payer", _grouped(filters, Payer.name, lambda name: name or "(self-pay)"),
                      "Charges and payments by payer"),
        Sheet("Interest", INTEREST_COLUMNS, interest_rows(filters)),
    ]


REPORT = Report(
    name="revenue",
    title="Revenue",
    description="Charges, payments, adjustments and write-offs posted in the window, each reversal its own line "
                "item, with totals by month, location and payer, and the payers' interest (PLB) as its own line.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "provider_id"},
)
