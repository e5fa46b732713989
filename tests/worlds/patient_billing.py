"""A client who pays for themselves, with self-pay visits on several days: what the ledger, invoice, receipt and
patient-payment tests start from. Each one-hour visit bills 4 units x 25.00 = 100.00 to the patient."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from billing.claims.models import Claim
from billing.claims.sessions import finalize_session
from billing.core.db import db
from billing.coverage.models import PayerType
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM, World

SELF_PAY_RATE = Decimal("25.00")
VISIT_CHARGE = Decimal("100.00")


def make_self_pay(world: World) -> None:
    """The world's client pays for themselves: a self-pay payer as primary, with its own fee schedule."""
    payer = f.PayerFactory(company=world.company, name="Self-pay", payer_type=PayerType.SELF_PAY,
                           claim_filing_indicator="09", edi_enabled=False, edi_payer_id=None)
    world.policy.payer = payer
    schedule = f.FeeScheduleFactory(company=world.company, payer=payer, name="Self-pay 2026")
    f.RateFactory(fee_schedule=schedule, service_code=world.code, rate=SELF_PAY_RATE)
    db.session.flush()


def self_pay_visit(world: World, *, day: date = DAY, minutes: int = 60, start: time = time(9, 0)) -> Claim:
    """A finalized self-pay visit: its claim is billed to the patient at once (Submitted, charge posted)."""
    claim = finalize_session(world.visit(day=day, minutes=minutes, start=start), actor=SYSTEM).created[0]
    db.session.flush()
    return claim


def self_pay_visits(world: World, count: int) -> list[Claim]:
    """`count` one-hour visits a week apart, oldest first."""
    make_self_pay(world)
    return [self_pay_visit(world, day=DAY + timedelta(days=7 * n)) for n in range(count)]
