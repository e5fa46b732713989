"""A rule over its time budget on a claim fails that claim closed, as a rule that raises does; the run goes on.

No test measures time: a fake clock stands in for the engine's, and the "slow" condition advances it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import rules.compiler
import rules.engine
from billing.core.db import db
from rules.dry_run import dry_run
from rules.eligibility import submission_blockers
from rules.engine import BUSINESS_RULES, COMPILED, RULE_BUDGET
from rules.models import OutcomeKind, RuleOutcome
from rules.runs import run_rules
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule, rule_doc

TODAY = DAY + timedelta(days=10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(rules.engine, "clock", fake)
    return fake


@pytest.fixture
def slow_units(monkeypatch, clock):
    """Conditions on `units` take `seconds` each (the fake clock moves on while they run), in both evaluators.

    With `times` set, only that many evaluations are slow: a one-off stall.
    """
    cost = {"seconds": RULE_BUDGET * 4, "times": None}

    def spend():
        if cost["times"] is None or cost["times"] > 0:
            clock.now += cost["seconds"]
            cost["times"] = None if cost["times"] is None else cost["times"] - 1

    builder = rules.compiler._BUILDERS["numeric"]

    def slow_builder(name, read, operator, value):
        test = builder(name, read, operator, value)
        if name != "units":
            return test

        def slow(facts):
            spend()
            return test(facts)

        return slow

    monkeypatch.setitem(rules.compiler._BUILDERS, "numeric", slow_builder)
    run_all = rules.engine.run_all

    def slow_run_all(rule_list, variables, actions, **kwargs):
        if '"units"' in repr(rule_list).replace("'", '"'):
            spend()
        return run_all(rule_list, variables, actions, **kwargs)

    monkeypatch.setattr(rules.engine, "run_all", slow_run_all)
    return cost


def _outcomes(claim):
    query = select(RuleOutcome).where(RuleOutcome.claim_id == claim.id, RuleOutcome.resolved_at.is_(None))
    return {o.rule.name: o for o in db.session.scalars(query)}


@pytest.mark.parametrize("engine", [COMPILED, BUSINESS_RULES])
def test_a_rule_over_its_budget_is_a_rule_error_that_blocks_the_claim(slow_units, engine):
    claim = build_world().claim()
    make_rule("Slow units", conditions=leaf("units", "greater_than", 0), actions=fail("many units"))
    make_rule("Few diagnoses", conditions=leaf("diagnosis_count", "less_than", 5), actions=fail("few diagnoses"))
    result = run_rules(actor=SYSTEM, today=TODAY, claim_ids=[claim.id], engine=engine)
    db.session.expire_all()
    outcomes = _outcomes(claim)
    slow = outcomes["Slow units"]
    assert slow.kind is OutcomeKind.ERROR  # not the rule's own "many units" failure: its answer is not trusted
    assert f"over the {RULE_BUDGET:g} s a rule may take" in slow.reason
    assert (outcomes["Few diagnoses"].kind, outcomes["Few diagnoses"].reason) == (OutcomeKind.FAILURE, "few diagnoses")
    assert result.rule_errors == 1
    assert "rule error in 'Slow units'" in submission_blockers([claim.id], today=TODAY)[claim.id]


def test_a_rule_within_its_budget_fires_as_usual(slow_units):
    slow_units["seconds"] = RULE_BUDGET / 2
    claim = build_world().claim()
    make_rule("Slow units", conditions=leaf("units", "greater_than", 0), actions=fail("many units"))
    result = run_rules(actor=SYSTEM, today=TODAY, claim_ids=[claim.id])
    db.session.expire_all()
    assert result.rule_errors == 0
    assert _outcomes(claim)["Slow units"].kind is OutcomeKind.FAILURE


def test_a_one_off_stall_that_no_rule_repeats_is_forgiven(slow_units):
    """The claim took too long once; timed rule by rule, no rule is over its budget, so the answers stand."""
    slow_units["times"] = 1
    claim = build_world().claim()
    make_rule("Slow units", conditions=leaf("units", "greater_than", 0), actions=fail("many units"))
    result = run_rules(actor=SYSTEM, today=TODAY, claim_ids=[claim.id])
    db.session.expire_all()
    assert result.rule_errors == 0
    assert _outcomes(claim)["Slow units"].kind is OutcomeKind.FAILURE


def test_the_rule_after_a_slow_one_gets_its_own_budget(slow_units):
    """Each rule is timed from the end of the one before: a slow rule does not spill onto the next."""
    claim = build_world().claim()
    make_rule("Slow units", conditions=leaf("units", "greater_than", 0), actions=fail("many units"), position=1)
    make_rule("Few diagnoses", conditions=leaf("diagnosis_count", "less_than", 5), actions=fail("few"), position=2)
    make_rule("Slow again", conditions=leaf("units", "less_than", 1000), actions=fail("units"), position=3)
    run_rules(actor=SYSTEM, today=TODAY, claim_ids=[claim.id])
    db.session.expire_all()
    kinds = {name: o.kind for name, o in _outcomes(claim).items()}
    assert kinds == {
        "Slow units": OutcomeKind.ERROR,
        "Few diagnoses": OutcomeKind.FAILURE,
        "Slow again": OutcomeKind.ERROR,
    }


def test_a_dry_run_shows_the_budget_error(slow_units):
    claim = build_world().claim()
    result = dry_run(rule_doc("Draft", conditions=leaf("units", "greater_than", 0), actions=fail("many")), today=TODAY)
    [flagged] = result.flagged
    assert flagged.claim_id == claim.id
    assert "over the" in flagged.outcomes[0]
