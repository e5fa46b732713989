"""matches_regex runs on RE2 in both evaluators; patterns RE2 cannot run are refused when saved, with the reason."""

from __future__ import annotations

import json
from types import SimpleNamespace

import business_rules.operators
import pytest
import re2
from sqlalchemy import func, select

import rules.regex
from billing.core.db import db
from billing.core.errors import ValidationFailed
from rules.compiler import compile_rule
from rules.engine import evaluate, evaluate_with_business_rules
from rules.models import OutcomeKind, Rule, RuleOutcome
from rules.operations import import_rules, save_rule
from rules.regex import pattern_problem, searcher
from rules.runs import run_rules
from rules.validation import normalized_conditions
from rules.variables import ClaimFacts
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.rules import fail, leaf, rule_doc

CATASTROPHIC = "(a+)+$"  # exponential for a backtracking matcher on "aaa…a!" (8.5 s at 24 characters in `re`)
NO_MATCH = "a" * 24 + "!"
MATCH = "x" + "a" * 24


def _facts(payer_name: str) -> ClaimFacts:
    return ClaimFacts(claim_id=1, company_id=1, practice_id=1, location_id=1, payer_id=1, payer_name=payer_name)


def _both_engines(conditions: dict, payer_name: str) -> tuple[list, list]:
    compiled = compile_rule(7, "Regex", conditions, fail("matched"))
    as_json = {"conditions": normalized_conditions(conditions), "actions": fail("matched")}
    facts = _facts(payer_name)
    return evaluate([compiled], facts), evaluate_with_business_rules([(compiled, as_json)], facts)


@pytest.fixture
def re2_spy(monkeypatch):
    """Every pattern compiled through RE2 while the test runs; Python's `re` in business-rules refuses to work."""
    compiled: list[str] = []
    real = re2.compile

    def spy(pattern, options=None):
        compiled.append(pattern)
        return real(pattern, options)

    rules.regex.compile_pattern.cache_clear()
    rules.regex._shared_searcher.cache_clear()  # programs compiled by earlier tests would hide from the spy
    monkeypatch.setattr(rules.regex.re2, "compile", spy)

    def backtracking(*args, **kwargs):
        raise AssertionError("business-rules matched with Python's re")

    monkeypatch.setattr(business_rules.operators, "re", SimpleNamespace(search=backtracking, compile=backtracking))
    yield compiled
    rules.regex.compile_pattern.cache_clear()


def test_the_catastrophic_pattern_is_answered_by_re2_in_both_evaluators(re2_spy):
    conditions = leaf("payer_name", "matches_regex", CATASTROPHIC)
    compiled, reference = _both_engines(conditions, NO_MATCH)
    assert compiled == reference == []
    compiled, reference = _both_engines(conditions, MATCH)
    assert [f.reason for f in compiled] == [f.reason for f in reference] == ["matched"]
    assert set(re2_spy) == {CATASTROPHIC}


def test_a_run_with_the_catastrophic_rule_records_no_error(re2_spy):
    world = build_world()
    world.payer.name = NO_MATCH
    claim = world.claim()
    save_rule(
        rule_doc(
            "Runaway", conditions=leaf("payer_name", "matches_regex", CATASTROPHIC), actions=fail("payer matched")
        ),
        actor=SYSTEM,
    )
    result = run_rules(actor=SYSTEM, claim_ids=[claim.id])
    assert result.rule_errors == 0
    outcomes = db.session.scalars(select(RuleOutcome).where(RuleOutcome.claim_id == claim.id)).all()
    assert [o.kind for o in outcomes if o.kind is OutcomeKind.ERROR] == []
    assert CATASTROPHIC in re2_spy


def test_the_compiled_search_remembers_each_text_once(re2_spy):
    search = searcher("^blue")
    assert [search("blue cross"), search("blue cross"), search("aetna")] == [True, True, False]


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"blue(?= cross)", "lookahead and lookbehind"),
        (r"(?<!not )covered", "lookahead and lookbehind"),
        (r"a{1001}", "does not compile"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_on_save_naming_the_condition_and_why(pattern, why):
    conditions = {
        "all": [
            {"name": "units", "operator": "greater_than", "value": 1},
            {"name": "payer_name", "operator": "matches_regex", "value": pattern},
        ]
    }
    with pytest.raises(ValidationFailed) as refused:
        save_rule(rule_doc("Lookaround", conditions=conditions), actor=SYSTEM)
    [problem] = refused.value.problems
    assert problem.field == "conditions.all[1].value"
    assert why in problem.message
    assert db.session.scalar(select(func.count()).select_from(Rule)) == 0


def test_an_import_names_the_rule_whose_pattern_is_refused():
    file = {
        "format": "claimdesk-rules",
        "version": 1,
        "rules": [rule_doc("Fine"), rule_doc("Echo", conditions=leaf("payer_name", "matches_regex", r"(ab)\1"))],
    }
    with pytest.raises(ValidationFailed) as refused:
        import_rules(json.loads(json.dumps(file)), actor=SYSTEM)
    assert [p.field for p in refused.value.problems] == ["rules[1] (Echo).conditions.all[0].value"]
    assert "backreferences" in refused.value.problems[0].message
    assert db.session.scalar(select(func.count()).select_from(Rule)) == 0


def test_a_refused_pattern_writes_nothing_to_stderr(capfd):
    assert pattern_problem(r"(?=x)") is not None
    assert capfd.readouterr().err == ""  # RE2 logs parse errors to stderr unless told not to


def test_patterns_that_rules_use_still_compile():
    for pattern in ["(?i)^blue cross", "^A", "[0-9]{5}", "e$", r"\bmedicaid\b", "^(aetna|cigna)$", CATASTROPHIC]:
        assert pattern_problem(pattern) is None, pattern
