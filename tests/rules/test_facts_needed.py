"""A run loads only the facts its rules read: each variable alone reads what the full load reads."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from billing.core.db import db
from rules.compiler import compile_rule, variables_of
from rules.facts import load_facts
from rules.models import RuleOutcome
from rules.runs import run_rules
from rules.variables import VARIABLES
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

TODAY = DAY + timedelta(days=100)


@pytest.fixture
def world():
    return build_world()


def _busy_claims(world):
    """Claims whose facts differ from the defaults: lines, an authorization, a duplicate, diagnoses."""
    world.payer.requires_authorization = True
    f.AuthorizationFactory(client=world.client, policy=world.policy, starts_on=date(2026, 1, 1),
                           ends_on=DAY + timedelta(days=130), units_approved=6, service_codes=[world.code])
    first = world.claim(start=time(9, 0), minutes=60)
    second = world.claim(start=time(13, 0), provider=f.ProviderFactory(company=world.company))
    db.session.flush()
    return [first.id, second.id]


@pytest.mark.parametrize("spec", VARIABLES, ids=lambda spec: spec.name)
def test_each_variable_alone_reads_what_the_full_load_reads(world, spec):
    ids = _busy_claims(world)
    full = load_facts(ids, TODAY)
    alone = load_facts(ids, TODAY, {spec.name})
    assert [getattr(alone[i], spec.name) for i in ids] == [getattr(full[i], spec.name) for i in ids]


def test_a_rule_knows_the_variables_it_reads():
    conditions = {"all": [{"name": "units", "operator": "greater_than", "value": 1},
                          {"any": [{"name": "duplicate_claim", "operator": "is_true", "value": None},
                                   {"name": "payer_name", "operator": "contains", "value": "Blue"}]}]}
    rule = compile_rule(1, "r", conditions, fail())
    assert rule.variables == {"units", "duplicate_claim", "payer_name"} == variables_of(conditions)


def test_a_run_of_line_rules_alone_still_sees_the_lines(world):
    long = world.claim(start=time(9, 0), minutes=60)  # 4 units
    short = world.claim(start=time(13, 0), minutes=30, provider=f.ProviderFactory(company=world.company))
    make_rule("Many units", conditions=leaf("units", "greater_than", 3), actions=fail("many units"))
    result = run_rules(actor=SYSTEM, today=TODAY)
    failing = {o.claim_id for o in db.session.query(RuleOutcome).filter(RuleOutcome.resolved_at.is_(None))}
    assert (result.claims_checked, failing) == (2, {long.id})
    assert load_facts([short.id], TODAY)[short.id].units <= 3
