"""The compiled path and business-rules' own run_all agree on every generated claim and rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import engine
from rules.compiler import compile_rule
from rules.engine import evaluate, evaluate_with_business_rules
from rules.validation import normalized_conditions, rule_problems
from rules.variables import VARIABLES, ClaimFacts, rule_schema

SCHEMA = rule_schema()
OPERATORS = {t: [(o["name"], o["input_type"]) for o in ops] for t, ops in SCHEMA["variable_type_operators"].items()}
WORDS = ["Aetna", "aetna", "Blue", "97153", "97155", "F840", "HN", "95", "GT", "Main", ""]
DATES = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 2), date(2026, 6, 30)]
CODES = ["97153", "97155", "97110", "F840", "f840", "F900", "HN", "hn", "95", "GT"]


def _value(spec, input_type: str) -> st.SearchStrategy[Any]:
    options = list(spec.options) or CODES
    return {
        "none": st.none(),
        "numeric": st.one_of(st.integers(-5, 200), st.sampled_from([0.1, 0.3, 25.5, 18.37, 90.0000001])),
        "text": st.sampled_from([w for w in WORDS if w] + ["^A", "[0-9]{5}", "e$"]),
        "select": st.sampled_from(options),
        "select_multiple": st.lists(st.sampled_from(options), min_size=1, max_size=3),
        "date": st.sampled_from(DATES).map(date.isoformat),
    }[input_type]


@st.composite
def leaves(draw):
    spec = draw(st.sampled_from(VARIABLES))
    operator, input_type = draw(st.sampled_from(OPERATORS[spec.kind]))
    return {"name": spec.name, "operator": operator, "value": draw(_value(spec, input_type))}


conditions = st.recursive(
    leaves(), lambda inner: st.dictionaries(st.sampled_from(["all", "any"]), st.lists(inner, min_size=1, max_size=3),
                                            min_size=1, max_size=1),
    max_leaves=6,
)
actions = st.lists(
    st.sampled_from([
        {"name": "fail_charge", "params": {"reason": "f"}},
        {"name": "hold_claim", "params": {"reason": "h"}},
        {"name": "delay_claim", "params": {"days": 3, "reason": "d"}},
        {"name": "warn", "params": {"message": "w"}},
    ]), min_size=1, max_size=2,
)
money = st.decimals(min_value=0, max_value=5000, places=2)


@st.composite
def facts(draw):
    codes = st.lists(st.sampled_from(CODES), max_size=3)
    return ClaimFacts(
        claim_id=1, company_id=1, practice_id=1, location_id=1, payer_id=draw(st.sampled_from([1, 2, None])),
        payer_name=draw(st.sampled_from(WORDS)), payer_type=[draw(st.sampled_from(["commercial", "medicaid"]))],
        claim_filing_indicator=[draw(st.sampled_from(["CI", "MC", "BL"]))],
        payer_requires_authorization=draw(st.booleans()), service_codes=draw(codes), modifiers=draw(codes),
        units=draw(st.integers(0, 40)), billed_amount=draw(money), lowest_rate=draw(money),
        place_of_service=[draw(st.sampled_from(["11", "12", "02"]))], rendering_npi_present=draw(st.booleans()),
        provider_active=draw(st.booleans()), client_age=draw(st.integers(0, 90)),
        diagnosis_count=draw(st.integers(0, 4)), diagnosis_codes=draw(codes),
        authorization_present=draw(st.booleans()), authorization_expired=draw(st.booleans()),
        authorization_units_short=draw(st.booleans()),
        days_until_authorization_end=draw(st.one_of(st.none(), st.integers(-30, 200))),
        days_since_service=draw(st.integers(0, 400)),
        days_to_filing_deadline=draw(st.one_of(st.none(), st.integers(-60, 400))),
        policy_active_on_service_date=draw(st.booleans()),
        subscriber_data_complete=draw(st.booleans()), duplicate_claim=draw(st.booleans()),
        note_finalized=draw(st.booleans()), location_name=draw(st.sampled_from(WORDS)),
        practice_name=draw(st.sampled_from(WORDS)), service_date=draw(st.sampled_from(DATES)),
        authorization_ends_on=draw(st.one_of(st.none(), st.sampled_from(DATES))),
    )


def _comparable(fired) -> list[tuple]:
    # Error texts differ (AssertionError vs our own message); which rule failed, and how, must not.
    return [(f.rule_id, f.kind, None if f.kind.value == "error" else (f.reason, f.days)) for f in fired]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(rules=st.lists(st.tuples(conditions, actions), min_size=1, max_size=5), claims=st.lists(facts(), min_size=1,
                                                                                                  max_size=5))
def test_compiled_rules_match_business_rules_run_all(rules, claims):
    valid = [(c, a) for c, a in rules if not rule_problems(c, a)]
    compiled = [compile_rule(i, f"r{i}", c, a, payer_id=1 if i % 3 == 2 else None) for i, (c, a) in enumerate(valid)]
    reference = [(rule, {"conditions": normalized_conditions(c), "actions": a}) for rule, (c, a) in zip(compiled, valid,
                                                                                                         strict=True)]
    # The two paths must agree on what fires; each one's time budget is tests/rules/test_time_budget.py's. A stopped
    # clock keeps a busy machine (a CI run beside other work) from putting one path over budget and not the other.
    with patch.object(engine, "clock", lambda: 0.0):
        for claim in claims:
            assert _comparable(evaluate(compiled, claim)) == _comparable(evaluate_with_business_rules(reference, claim))


def test_the_generators_reach_errors_and_matches():
    """Guard against a differential test that compares nothing: both outcomes occur for known inputs."""
    claim = ClaimFacts(claim_id=1, company_id=1, practice_id=1, location_id=1, payer_id=1, units=4,
                       billed_amount=Decimal("73.48"))
    rule = compile_rule(1, "r", {"all": [{"name": "units", "operator": "equal_to", "value": 4.0000001}]},
                        [{"name": "warn", "params": {"message": "w"}}])
    broken = compile_rule(2, "b", {"all": [{"name": "days_until_authorization_end", "operator": "less_than",
                                            "value": 3}]}, [{"name": "warn", "params": {"message": "w"}}])
    assert [f.kind.value for f in evaluate([rule, broken], claim)] == ["warning", "error"]
