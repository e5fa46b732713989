"""`days_to_filing_deadline` through a rules run: each payer's own limit decides, and the shipped default rule
fails only claims past their deadline (never a self-pay claim, which has none)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from billing.core.db import db
from billing.coverage.models import PayerType
from rules.models import OutcomeKind, RuleOutcome
from rules.operations import load_defaults
from rules.runs import run_rules
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

TODAY = DAY + timedelta(days=100)


def _rules_on(claim) -> list[tuple[str, OutcomeKind]]:
    rows = db.session.execute(select(RuleOutcome).where(RuleOutcome.claim_id == claim.id)).scalars()
    return [(row.rule.name, row.kind) for row in rows]


def test_the_default_rule_fails_only_claims_past_their_own_payers_deadline():
    load_defaults(actor=SYSTEM)
    short = build_world()  # 90 days: 10 days late on TODAY
    late = short.claim()
    generous = build_world()
    generous.payer.filing_limit_days = 365
    in_time = generous.claim()
    self_pay = build_world()
    self_pay.payer.payer_type = PayerType.SELF_PAY
    no_deadline = self_pay.claim()
    result = run_rules(actor=SYSTEM, today=TODAY)
    db.session.expire_all()
    assert result.rule_errors == 0
    assert ("Past the payer's filing deadline", OutcomeKind.FAILURE) in _rules_on(late)
    assert all(name != "Past the payer's filing deadline" for name, _ in _rules_on(in_time))
    assert all(name != "Past the payer's filing deadline" for name, _ in _rules_on(no_deadline))


def test_a_rule_can_warn_ahead_of_the_deadline():
    world = build_world()
    world.payer.filing_limit_days = 110  # 10 days left on TODAY
    soon = world.claim()
    later = world.claim(day=DAY + timedelta(days=30))  # 40 days left
    make_rule("Deadline within 14 days", conditions=leaf("days_to_filing_deadline", "less_than_or_equal_to", 14),
              actions=fail("file it now"))
    f.PayerFactory(company=world.company)  # another payer's defaults change nothing here
    run_rules(actor=SYSTEM, today=TODAY)
    db.session.expire_all()
    assert _rules_on(soon) == [("Deadline within 14 days", OutcomeKind.FAILURE)]
    assert _rules_on(later) == []
