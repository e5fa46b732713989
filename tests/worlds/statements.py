"""Families that owe on the patient side, with the days their balances were billed: what statement tests age.

Each claim is one insured one-hour session (73.48) that a biller billed to the patient on a chosen day, so the
whole charge is the patient's from that day on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from billing.claims.models import Claim
from billing.payments.operations import bill_patient, record_patient_payment
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import DAY, SYSTEM, World

CLAIM_CHARGE = Decimal("73.48")
#: The statement day the tests run cycles on: well after DAY, so every claim can be billed before it.
STATEMENT_DAY = date(2026, 9, 1)


def family_member(world: World, *, parent: str | None, first: str = "Ana", street: str = "12 Elm St") -> World:
    """A new client of the world's practice, insured like the world's client, with `parent` as the
    responsible party (None: an adult who pays for themselves), living at `street`."""
    client = f.ClientFactory(location=world.location, first_name=first, last_name="Rivera",
                             date_of_birth=date(2018, 4, 1) if parent else date(1980, 4, 1),
                             responsible_party_name=parent, responsible_party_relationship="parent" if parent else None,
                             address_line1=street, city="Springfield", state="IL", zip_code="627011234")
    f.DiagnosisFactory(client=client, position=1, code="F840")
    policy = f.PolicyFactory(client=client, payer=world.payer)
    return replace(world, client=client, policy=policy)


def owed_claim(world: World, *, billed_on: date, day: date = DAY) -> Claim:
    """A claim of the world's client whose whole charge was billed to the patient on `billed_on`."""
    claim = submitted_claim(world, day=day)
    bill_patient(claim, actor=SYSTEM, posted_on=billed_on, reason="deductible")
    return claim


def patient_pays(claim: Claim, amount: Decimal | str, *, on: date) -> None:
    record_patient_payment(claim, Decimal(amount), actor=SYSTEM, posted_on=on, memo="check")


def days_before(day: date, days: int) -> date:
    return day - timedelta(days=days)
