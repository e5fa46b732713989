"""AR Aging: what is still owed on each claim as of a date, in 0-30 ... 120+ day buckets by the age of
the service, by payer and by client, with the insurance and patient balances kept apart.

Balances are sums of the ledger entries posted on or before the as-of date (billing.ledger.models.EFFECTS
says which balance each kind moves), so an aging run for last month-end reads as it did that day.

Open provider-level items (a PLB offset the payer took from a check naming none of our claims, not yet
applied or settled) are money the payer kept against us. The claims on that check were posted as paid in
full (CLP04), so the ledger lowered A/R by more than the cash received; the open item is that difference,
still to be worked, and counts in A/R with the sign it will have on a claim once applied (an offset posted
on a claim raises what the payer owes on it). So applying an item moves it from its row here to its
claim's, and the total does not change. Each is its own row on the "Payer offsets" sheet and the items
are one "Payer offsets (PLB)" line in the summary, aged from the check's date, read as they stand today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, or_, select

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.money import ZERO, to_money
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.ledger.models import LedgerEntry
from billing.ledger.sums import INSURANCE as INSURANCE_SIDE
from billing.ledger.sums import PATIENT as PATIENT_SIDE
from billing.ledger.sums import cents_sum, effect_on
from billing.payments.models import ProviderAdjustment, Remittance
from billing.payments.plb import PLB_REASONS, open_items
from billing.payments.queries import remittance_in_scope
from billing.people.models import Client
from exports.columns import Chart, Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, claim_scope, person, streamed

SELF_PAY = "(self-pay)"

#: (label, first day, last day) of each bucket; the last one is open-ended.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91-120", 91, 120), ("120+", 121, None),
)
BUCKET_LABELS = tuple(label for label, _, _ in BUCKETS)
INSURANCE, PATIENT = "Insurance", "Patient"
OFFSETS = "Payer offsets (PLB)"
_BUCKET_COLUMNS = tuple(Column(label, Kind.MONEY, total=True) for label in BUCKET_LABELS)
_TOTAL = Column("Total", Kind.MONEY, total=True)

CLAIM_COLUMNS = (
    Column("Claim"), Column("Service date", Kind.DATE), Column("Age (days)", Kind.INTEGER), Column("Bucket"),
    Column("Client"), Column("Account"), Column("Payer"), Column("Status"),
    Column("Insurance balance", Kind.MONEY, total=True), Column("Patient balance", Kind.MONEY, total=True),
    Column("Balance", Kind.MONEY, total=True),
)
PAYER_COLUMNS = (Column("Payer"), *_BUCKET_COLUMNS, _TOTAL)
CLIENT_COLUMNS = (Column("Client"), Column("Account"), Column("Owed by"), *_BUCKET_COLUMNS, _TOTAL)
SUMMARY_COLUMNS = (Column("Owed by"), *_BUCKET_COLUMNS, _TOTAL)
OFFSET_COLUMNS = (
    Column("Paid on", Kind.DATE), Column("Check / EFT"), Column("Payer"), Column("PLB", Kind.INTEGER),
    Column("Reason"), Column("Reference"), Column("Age (days)", Kind.INTEGER), Column("Bucket"),
    Column("Offset", Kind.MONEY, total=True), Column("Open", Kind.MONEY, total=True),
)


def bucket_of(age_days: int) -> str:
    for label, first, last in BUCKETS:
        if age_days >= first and (last is None or age_days <= last):
            return label
    return BUCKETS[0][0]  # a service dated after the as-of date is current


@dataclass
class Buckets:
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKET_LABELS, ZERO))

    def add(self, bucket: str, amount: Decimal) -> None:
        self.amounts[bucket] += amount

    def cells(self) -> list[Decimal]:
        values = [self.amounts[label] for label in BUCKET_LABELS]
        return [*values, sum(values, ZERO)]


def as_of_date(filters: ReportFilters) -> date:
    return filters.as_of or practice_today()


def read_to_as_as_of(filters: ReportFilters) -> ReportFilters:
    """Aging has no window: a "To" date (a month-end aging) is the as-of date; "From" means nothing here."""
    return replace(filters, as_of=filters.as_of or filters.date_to, date_from=None, date_to=None)


# --- the balances, summed and bucketed by the database ---------------------------------------------------------
# Every figure is a GROUP BY over one per-claim subquery, so a year of ledger never passes through Python: the
# claim list streams in batches and the summaries come back as a few rows.

def _bucket(service_date: Any, as_of: date) -> ColumnElement[str]:
    """The bucket label by the service date's age on `as_of` (a service after it is current)."""
    whens = [(service_date >= as_of - timedelta(days=last), label) for label, _, last in BUCKETS if last is not None]
    return case(*whens, else_=BUCKETS[-1][0])


def _balances(filters: ReportFilters) -> Subquery:
    """Per claim in scope: the insurance and patient balances as of the date, only where one is not zero."""
    as_of = as_of_date(filters)
    insurance, patient = cents_sum(effect_on(INSURANCE_SIDE)), cents_sum(effect_on(PATIENT_SIDE))
    # The bucket is worked out here, where the service date is grouped on, so the outer GROUP BY names a column
    # (PostgreSQL will not match a CASE with bound dates in SELECT to the same CASE in GROUP BY).
    return (select(LedgerEntry.claim_id.label("claim_id"), insurance.label("insurance"), patient.label("patient"),
                   _bucket(Claim.service_date, as_of).label("bucket"))
            .join(Claim, Claim.id == LedgerEntry.claim_id)
            .where(LedgerEntry.posted_on <= as_of, *claim_scope(filters))
            .group_by(LedgerEntry.claim_id, Claim.service_date)
            .having(or_(insurance != 0, patient != 0))
            .subquery("balances"))


def _open_claims(filters: ReportFilters) -> Select[Any]:
    balances = _balances(filters)
    return (select(balances.c.claim_id, balances.c.insurance, balances.c.patient, Claim.service_date, Claim.status,
                   Client.last_name, Client.first_name, Client.account_number, Payer.name.label("payer"))
            .join(Claim, Claim.id == balances.c.claim_id)
            .join(Client, Client.id == Claim.client_id)
            .outerjoin(Payer, Payer.id == Claim.payer_id))


def _age(service_date: date, as_of: date) -> int:
    return max((as_of - service_date).days, 0)


@dataclass(frozen=True)
class OpenClaim:
    claim_id: int
    service_date: date
    client: str
    account: str
    payer: str
    status: str
    insurance: Decimal
    patient: Decimal

    @property
    def balance(self) -> Decimal:
        return self.insurance + self.patient


def iter_open_claims(filters: ReportFilters) -> Iterator[OpenClaim]:
    """Claims with a non-zero balance as of the date, oldest service first, streamed in batches."""
    query = _open_claims(filters).order_by(Claim.service_date, Claim.id).execution_options(yield_per=BATCH)
    for r in db.session.execute(query):
        yield OpenClaim(r.claim_id, r.service_date, person(r.last_name, r.first_name), r.account_number,
                        r.payer or SELF_PAY, r.status.label, to_money(r.insurance), to_money(r.patient))


def open_claims(filters: ReportFilters) -> list[OpenClaim]:
    return list(iter_open_claims(filters))


def claim_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """The rows of iter_open_claims, read straight from the query (this runs once per open claim)."""
    as_of = as_of_date(filters)
    buckets = [bucket_of(age) for age in range(BUCKETS[-1][1] + 1)]  # every age past the last is in the last bucket
    labels = {status: status.label for status in ClaimStatus}
    query = _open_claims(filters).order_by(Claim.service_date, Claim.id)
    for (claim_id, insurance, patient, service_date, status, last_name, first_name, account,
         payer) in streamed(query, BATCH):
        age = _age(service_date, as_of)
        insurance, patient = to_money(insurance), to_money(patient)
        yield (claim_number(claim_id), service_date, age, buckets[min(age, len(buckets) - 1)],
               person(last_name, first_name), account, payer or SELF_PAY, labels[status], insurance, patient,
               insurance + patient)


#: (keys..., bucket) -> (insurance, patient)
Bucketed = dict[tuple[Any, ...], tuple[Decimal, Decimal]]


def _bucketed(filters: ReportFilters, *keys: Any) -> Bucketed:
    """(keys..., bucket) -> (insurance, patient) over the open claims, summed by the database."""
    balances = _balances(filters)
    query = (select(*keys, balances.c.bucket, func.sum(balances.c.insurance), func.sum(balances.c.patient))
             .select_from(balances)
             .join(Claim, Claim.id == balances.c.claim_id)
             .join(Client, Client.id == Claim.client_id)
             .outerjoin(Payer, Payer.id == Claim.payer_id)
             .group_by(*keys, balances.c.bucket))
    return {tuple(row[:-2]): (to_money(row[-2] or 0), to_money(row[-1] or 0)) for row in db.session.execute(query)}


def payer_rows(filters: ReportFilters, by_payer_bucket: Bucketed | None = None) -> list[Sequence[Any]]:
    """Insurance balances per payer; what patients owe is one line of its own, never a payer's.

    `by_payer_bucket`: `_bucketed(filters, Payer.name)` when the caller has it already."""
    if by_payer_bucket is None:
        by_payer_bucket = _bucketed(filters, Payer.name)
    by_payer: dict[str, Buckets] = defaultdict(Buckets)
    for (payer, bucket), (insurance, _patient) in by_payer_bucket.items():
        if insurance != ZERO:
            by_payer[payer or SELF_PAY].add(bucket, insurance)
    return [(payer, *buckets.cells()) for payer, buckets in sorted(by_payer.items())]


def client_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    """Per client, what insurance and the patient owe apart: summed by the database per client and bucket, read in
    name order BATCH rows at a time and folded one client at a time, so a big client list never sits in memory."""
    balances = _balances(filters)
    query = (select(Client.last_name, Client.first_name, Client.account_number, balances.c.bucket,
                    func.sum(balances.c.insurance).label("insurance"), func.sum(balances.c.patient).label("patient"))
             .select_from(balances)
             .join(Claim, Claim.id == balances.c.claim_id)
             .join(Client, Client.id == Claim.client_id)
             .group_by(Client.id, Client.last_name, Client.first_name, Client.account_number, balances.c.bucket)
             .order_by(Client.last_name, Client.first_name, Client.account_number, Client.id)
             .execution_options(yield_per=BATCH))
    rows = db.session.execute(query)
    for (name, account), group in groupby(rows, key=lambda r: (person(r.last_name, r.first_name), r.account_number)):
        sides: dict[str, Buckets] = {}
        for r in group:
            for owed_by, amount in ((INSURANCE, to_money(r.insurance or 0)), (PATIENT, to_money(r.patient or 0))):
                if amount != ZERO:
                    sides.setdefault(owed_by, Buckets()).add(r.bucket, amount)
        for owed_by in (INSURANCE, PATIENT):
            if owed_by in sides:
                yield (name, account, owed_by, *sides[owed_by].cells())


def summary_rows(filters: ReportFilters, by_payer_bucket: Bucketed | None = None) -> list[Sequence[Any]]:
    """Insurance and patient balances per bucket; from the sums per payer and bucket when the caller has them (added
    up over the payers: the same cents, and one pass over the ledger fewer)."""
    insurance, patient = Buckets(), Buckets()
    sums = _bucketed(filters) if by_payer_bucket is None else by_payer_bucket
    for (*_payer, bucket), (owed_insurance, owed_patient) in sums.items():
        insurance.add(bucket, owed_insurance)
        patient.add(bucket, owed_patient)
    return [(INSURANCE, *insurance.cells()), (PATIENT, *patient.cells())]


def open_claim_count(filters: ReportFilters) -> int:
    balances = _balances(filters)
    return db.session.scalar(select(func.count()).select_from(balances)) or 0


def open_offsets(filters: ReportFilters) -> list[ProviderAdjustment]:
    """Open provider-level items of the scope's remittances paid on or before the as-of date."""
    where = [remittance_in_scope(filters.scope)] if not filters.scope.is_everything else []
    if filters.payer_id:
        where.append(Remittance.payer_id == filters.payer_id)
    return open_items(*where, as_of=as_of_date(filters))


def _offset_age(item: ProviderAdjustment, as_of: date) -> int:
    return max((as_of - item.remittance.paid_on).days, 0)


def offset_rows(items: list[ProviderAdjustment], as_of: date) -> list[Sequence[Any]]:
    return [(i.remittance.paid_on, i.remittance.check_number, i.remittance.payer_name, i.id,
             f"{i.reason_code} {PLB_REASONS.get(i.reason_code, '')}".strip(), i.reference, _offset_age(i, as_of),
             bucket_of(_offset_age(i, as_of)), to_money(i.amount), to_money(i.open_amount)) for i in items]


def offsets_summary(items: list[ProviderAdjustment], as_of: date) -> list[Sequence[Any]]:
    """The summary's line for open provider-level items, when there are any."""
    if not items:
        return []
    offsets = Buckets()
    for item in items:
        offsets.add(bucket_of(_offset_age(item, as_of)), to_money(item.open_amount))
    return [(OFFSETS, *offsets.cells())]


def count(filters: ReportFilters) -> int:
    return open_claim_count(filters) + len(open_offsets(filters))


def sheets(filters: ReportFilters) -> list[Sheet]:
    as_of = as_of_date(filters)
    offsets = open_offsets(filters)
    bucket_series = tuple(range(1, 1 + len(BUCKETS)))
    by_payer_bucket = _bucketed(filters, Payer.name)  # the Summary's figures and the By payer sheet's, in one pass
    return [
        Sheet("Summary", SUMMARY_COLUMNS, [*summary_rows(filters, by_payer_bucket), *offsets_summary(offsets, as_of)],
              charts=(Chart("Open balances by age", 0, bucket_series, "$"),)),
        Sheet("By payer", PAYER_COLUMNS, payer_rows(filters, by_payer_bucket),
              charts=(Chart("Insurance balances by payer and age", 0, bucket_series, "$", stacked=True),)),
        Sheet("By client", CLIENT_COLUMNS, client_rows(filters)),
        Sheet("Claims", CLAIM_COLUMNS, claim_rows(filters)),
        Sheet("Payer offsets", OFFSET_COLUMNS, offset_rows(offsets, as_of)),
    ]


REPORT = Report(
    name="ar-aging",
    title="AR Aging",
    description="Open balances as of a date in 0-30, 31-60, 61-90, 91-120 and 120+ day buckets, by payer and by "
                "client, insurance and patient balances apart, with a bar chart, and open payer offsets (PLB).",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "provider_id", "as_of"},
    prepare=read_to_as_as_of,
)
