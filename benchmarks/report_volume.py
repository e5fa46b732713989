"""A year of billing written by bulk SQL on PostgreSQL, for bench_reports.py's every-report run.

Everything is INSERT ... SELECT over generate_series or over the rows just written, so a million claims take
a few minutes, not the hours seed_demo would: one client per 20 claims, one line and one charge per claim,
statuses in turn (Ready, Submitted, Paid, Paid, Denied, Held), the paid claims on remittances of 1,000 claims each
(insurance payment and contractual adjustment ledgered), the denied ones adjudicated CLP02 = 4 with CO-50, and
every held claim's move to Held in the history (three days after the service). The claim_balance
trigger keeps the balances as it does live.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Numeric, String, case, cast, func, insert, literal, select

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.ledger.models import (
    Adjudication,
    AdjudicationAdjustment,
    EntryKind,
    EntrySource,
    LedgerEntry,
)
from billing.payments.models import EraFile, Remittance
from billing.people.models import Client

FIRST_DAY = date(2025, 1, 1)
CLAIMS_PER_CLIENT = 20
CLAIMS_PER_CHECK = 1000
STATUSES = (ClaimStatus.READY, ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.PAID, ClaimStatus.DENIED,
            ClaimStatus.HELD)
CHARGE, PAID, CONTRACTUAL = Decimal("73.48"), Decimal("55.00"), Decimal("18.48")


def _series(count: int) -> Any:
    return func.generate_series(1, count).table_valued("g").render_derived()


def _money(value: Decimal) -> Any:
    return literal(value, Numeric(12, 2))


def seed_year(world: Any, claims: int) -> None:
    """`claims` claims over one year (2025) for the world's location, payer and provider; commits as it goes."""
    clients = max(1, claims // CLAIMS_PER_CLIENT)
    g = _series(clients)
    db.session.execute(insert(Client).from_select(
        ["location_id", "account_number", "first_name", "last_name", "date_of_birth", "sex"],
        select(literal(world.location.id), func.concat("B", cast(g.c.g, String)), literal("Pat"),
               func.concat("Client ", func.lpad(cast(g.c.g, String), 7, "0")), literal(date(2015, 5, 1), Date),
               literal("F"))))
    first_client = db.session.scalar(select(func.min(Client.id)).where(Client.account_number.like("B%")))
    g = _series(claims)
    day = literal(FIRST_DAY, Date) + cast(g.c.g % 365, Integer)
    db.session.execute(insert(Claim).from_select(
        ["client_id", "policy_id", "payer_id", "rendering_provider_id", "location_id", "place_of_service",
         "frequency_code", "total_charge", "needs_review", "void_to_send", "version", "status", "service_date",
         "hold_reason"],
        select(literal(first_client) + g.c.g % clients, literal(world.policy.id), literal(world.payer.id),
               literal(world.provider.id), literal(world.location.id), literal("11"), literal("1"), _money(CHARGE),
               literal(False), literal(False), literal(1), _status(g), day,
               case((g.c.g % len(STATUSES) == STATUSES.index(ClaimStatus.HELD), literal("Missing signature")))
               ).order_by(g.c.g)))
    db.session.commit()
    ours = select(Claim.id, Claim.service_date, Claim.status).where(Claim.location_id == world.location.id)
    c = ours.subquery()
    db.session.execute(insert(ClaimLine).from_select(
        ["claim_id", "line_number", "service_code_id", "modifiers", "service_date", "minutes", "units", "rate",
         "charge", "place_of_service", "diagnosis_pointers"],
        select(c.c.id, literal(1), literal(world.code.id), literal(""), c.c.service_date, literal(60), literal(4),
               _money(Decimal("18.37")), _money(CHARGE), literal("11"), literal("1"))))
    _ledger(c, EntryKind.CHARGE, CHARGE, EntrySource.SYSTEM, c.c.service_date)
    db.session.commit()
    _remittances(world, c)
    _denials(world, c)
    _holds(c)
    db.session.commit()


def _status(g: Any) -> Any:
    return case(*((g.c.g % len(STATUSES) == n, literal(s.value)) for n, s in enumerate(STATUSES)))


def _ledger(c: Any, kind: EntryKind, amount: Decimal, source: EntrySource, posted_on: Any,
            *where: Any) -> None:
    db.session.execute(insert(LedgerEntry).from_select(
        ["claim_id", "claim_line_id", "kind", "amount", "posted_on", "actor", "source"],
        select(c.c.id, select(ClaimLine.id).where(ClaimLine.claim_id == c.c.id).scalar_subquery(),
               literal(kind.value), _money(amount), posted_on, literal("bench"), literal(source.value))
        .where(*where)))


def _remittances(world: Any, c: Any) -> None:
    paid = db.session.scalar(select(func.count()).select_from(c).where(c.c.status == ClaimStatus.PAID.value)) or 0
    checks = max(1, -(-paid // CLAIMS_PER_CHECK))
    era = db.session.execute(insert(EraFile).values(filename="bench.835", sha256="0" * 64, content=b"",
                                                   actor="bench").returning(EraFile.id)).scalar_one()
    g = _series(checks)
    db.session.execute(insert(Remittance).from_select(
        ["era_file_id", "payer_id", "payer_name", "payer_key", "check_number", "method", "handling", "amount",
         "paid_on", "claim_count", "claims_paid_total", "plb_total", "balanced"],
        select(literal(era), literal(world.payer.id), literal(world.payer.name[:60]), literal("bench"),
               func.concat("CHK", cast(g.c.g, String)), literal("ACH"), literal("I"),
               _money(PAID * CLAIMS_PER_CHECK), literal(FIRST_DAY, Date) + cast(g.c.g % 365 + 30, Integer),
               literal(CLAIMS_PER_CHECK), _money(PAID * CLAIMS_PER_CHECK), _money(Decimal("0")), literal(True))))
    first = db.session.scalar(select(func.min(Remittance.id)).where(Remittance.era_file_id == era))
    posted_on = c.c.service_date + 30
    db.session.execute(insert(Adjudication).from_select(
        ["claim_id", "remittance_id", "payer_id", "source", "status_code", "charge", "paid",
         "patient_responsibility", "paid_on"],
        select(c.c.id, literal(first) + c.c.id % checks, literal(world.payer.id), literal(EntrySource.ERA.value),
               literal("1"), _money(CHARGE), _money(PAID), _money(Decimal("0")), posted_on)
        .where(c.c.status == ClaimStatus.PAID.value)))
    is_paid = c.c.status == ClaimStatus.PAID.value
    _ledger(c, EntryKind.INSURANCE_PAYMENT, PAID, EntrySource.ERA, posted_on, is_paid)
    _ledger(c, EntryKind.CONTRACTUAL, CONTRACTUAL, EntrySource.ERA, posted_on, is_paid)


def _denials(world: Any, c: Any) -> None:
    denied = c.c.status == ClaimStatus.DENIED.value
    db.session.execute(insert(Adjudication).from_select(
        ["claim_id", "payer_id", "source", "status_code", "charge", "paid", "patient_responsibility", "paid_on"],
        select(c.c.id, literal(world.payer.id), literal(EntrySource.ERA.value), literal("4"), _money(CHARGE),
               _money(Decimal("0")), _money(Decimal("0")), c.c.service_date + 25).where(denied)))
    a = select(Adjudication.id, Adjudication.charge).join(Claim, Claim.id == Adjudication.claim_id).where(
        Claim.status == ClaimStatus.DENIED, Claim.location_id == world.location.id).subquery()
    db.session.execute(insert(AdjudicationAdjustment).from_select(
        ["adjudication_id", "group_code", "reason_code", "amount"],
        select(a.c.id, literal("CO"), literal("50"), a.c.charge)))


def _holds(c: Any) -> None:
    db.session.execute(insert(StatusChange).from_select(
        ["at", "actor", "subject_type", "subject_id", "action", "from_status", "to_status"],
        select(cast(c.c.service_date + 3, DateTime(timezone=True)), literal("bench"), literal("claim"), c.c.id,
               literal(AuditAction.CLAIM_HELD.value),
               literal(ClaimStatus.READY.value), literal(ClaimStatus.HELD.value))
        .where(c.c.status == ClaimStatus.HELD.value)))
