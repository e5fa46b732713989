"""Rule variables read the latest eligibility answer of the claim's policy; the default rule holds inactive ones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing.core.db import db
from billing.core.time import practice_date
from billing.coverage.eligibility import eligibility_facts
from demo.eligibility import PayerSays
from rules.facts import load_facts
from rules.models import OutcomeKind, RuleOutcome
from rules.operations import load_defaults
from rules.runs import run_rules
from tests.worlds.eligibility import answer, ask
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.rules import fail, leaf, make_rule
from tests.worlds.submissions import build_submission_world

TODAY = DAY + timedelta(days=10)
HOLD = "Eligibility check says inactive"


@pytest.fixture
def world():
    return build_submission_world()


def _facts(claim):
    db.session.flush()
    return load_facts([claim.id], TODAY)[claim.id]


def _rules_on(claim) -> list[tuple[str, OutcomeKind]]:
    rows = db.session.execute(select(RuleOutcome).where(RuleOutcome.claim_id == claim.id)).scalars()
    return [(row.rule.name, row.kind) for row in rows]


def test_without_an_answer_the_variables_say_none(world):
    claim = world.claim()
    ask(world.policy, DAY)  # a pending question is not an answer
    facts = _facts(claim)
    assert facts.eligibility_status == ["none"]
    assert facts.eligibility_active_on_service_date is False
    assert facts.days_since_eligibility_check is None
    assert facts.visits_remaining is None


def test_an_active_answer_within_the_plan_dates(world):
    claim = world.claim()
    answer(world.policy, DAY, PayerSays(plan_begin=date(2026, 1, 1), visits_remaining=7))
    facts = _facts(claim)
    assert facts.eligibility_status == ["active"]
    assert facts.eligibility_active_on_service_date is True
    assert facts.visits_remaining == 7
    assert facts.days_since_eligibility_check is not None


def test_days_since_the_check_count_from_the_practice_day_it_was_answered(world):
    check = answer(world.policy, DAY)
    asked_on = practice_date(check.requested_at)
    assert eligibility_facts({world.policy.id}, asked_on + timedelta(days=5))[world.policy.id].days_since == 5
    assert eligibility_facts({world.policy.id}, asked_on)[world.policy.id].days_since == 0


def test_an_active_answer_whose_plan_ended_before_the_service_date(world):
    claim = world.claim()
    answer(world.policy, DAY, PayerSays(plan_begin=date(2025, 1, 1), plan_end=DAY - timedelta(days=1)))
    assert _facts(claim).eligibility_active_on_service_date is False


def test_the_latest_answer_wins(world):
    claim = world.claim()
    answer(world.policy, DAY, PayerSays(status="inactive"))
    answer(world.policy, DAY, PayerSays())
    assert _facts(claim).eligibility_status == ["active"]


def test_the_default_rule_holds_only_claims_whose_latest_answer_says_inactive(world):
    load_defaults(actor=SYSTEM)
    lapsed = world.claim()
    other = build_submission_world()
    fine = other.claim()
    answer(world.policy, DAY, PayerSays(status="inactive"))
    answer(other.policy, DAY, PayerSays())
    never_asked = build_submission_world().claim()
    run_rules(actor=SYSTEM, today=TODAY, claim_ids=[lapsed.id, fine.id, never_asked.id])
    db.session.expire_all()
    assert (HOLD, OutcomeKind.HOLD) in _rules_on(lapsed)
    assert all(name != HOLD for name, _ in _rules_on(fine))
    assert all(name != HOLD for name, _ in _rules_on(never_asked))


@pytest.mark.parametrize("engine", ["compiled", "business-rules"])
def test_a_rule_on_visits_remaining_fires_in_both_engines(world, engine):
    few = world.claim()
    answer(world.policy, DAY, PayerSays(visits_remaining=2))
    make_rule("Few visits left", conditions=leaf("visits_remaining", "less_than", 3), actions=fail("few visits"))
    run_rules(actor=SYSTEM, today=TODAY, claim_ids=[few.id], engine=engine)
    db.session.expire_all()
    assert _rules_on(few) == [("Few visits left", OutcomeKind.FAILURE)]
