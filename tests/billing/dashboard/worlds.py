"""The dashboard's world: a practice's spring in the ledger (tests/worlds/money.py), what the clearinghouse said
about its claims, a Ready claim and a failing rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billing.claims.models import Claim
from billing.core.db import db
from billing.submissions.models import AckKind, Acknowledgment, AckOutcome, ClaimAcknowledgment
from rules.runs import run_rules
from tests.worlds.money import MoneyWorld, build_money_world
from tests.worlds.practice import DAY, SYSTEM, World
from tests.worlds.rules import fail, leaf, make_rule

FROM, TO = date(2026, 1, 1), date(2026, 6, 30)
TODAY = date(2026, 7, 15)


@dataclass
class DashboardWorld(MoneyWorld):
    ready: Claim | None = None


def acknowledge(claim: Claim, outcome: AckOutcome, on: date) -> None:
    ack = Acknowledgment(
        kind=AckKind.CLAIM,
        file_name=f"ack-{claim.id}-{outcome.value}-{on}",
        sha256=f"{claim.id}-{outcome.value}-{on}".ljust(64, "0"),
        content="",
        imported_by="test",
    )
    db.session.add(ack)
    db.session.flush()
    db.session.add(
        ClaimAcknowledgment(
            acknowledgment_id=ack.id, claim_id=claim.id, claim_reference=claim.number, outcome=outcome, effective_on=on
        )
    )
    db.session.flush()


def dashboard_world(base: World) -> DashboardWorld:
    money = build_money_world(base)
    world = DashboardWorld(money.base, money.paid, money.denied, money.shared, money.held)
    sent = DAY + timedelta(days=7)
    acknowledge(world.paid, AckOutcome.ACCEPTED, sent)
    acknowledge(world.denied, AckOutcome.REJECTED, sent)  # rejected first, accepted when sent again
    acknowledge(world.denied, AckOutcome.ACCEPTED, sent + timedelta(days=3))
    acknowledge(world.shared, AckOutcome.ACCEPTED_WITH_ERRORS, sent)
    acknowledge(world.shared, AckOutcome.INFORMATION, sent + timedelta(days=1))
    world.ready = base.claim(day=DAY + timedelta(days=8))
    make_rule(f"Any units {base.company.id}", conditions=leaf("units", "greater_than", 0), actions=fail("units"))
    run_rules(actor=SYSTEM, claim_ids=[world.ready.id, world.held.id], today=DAY + timedelta(days=10))
    return world
