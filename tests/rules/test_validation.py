"""Every class of invalid rule is refused with a message naming its part, and nothing is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.errors import ValidationFailed
from rules.models import Rule, RuleVersion
from rules.operations import import_rules, save_rule
from rules.validation import rule_problems
from tests.worlds.practice import SYSTEM
from tests.worlds.rules import fail, leaf, make_rule, rule_doc

GOOD = leaf("units", "greater_than", 4)

INVALID = [
    ({"all": []}, fail(), "conditions.all", "at least one"),
    ({"all": [], "any": []}, fail(), "conditions", "exactly one group"),
    ({"not": []}, fail(), "conditions", "exactly one group"),
    ({"all": [{}]}, fail(), "conditions.all[0]", "exactly name, operator"),
    ({"all": [{"name": "units", "operator": "greater_than", "value": 1, "extra": 1}]}, fail(), "conditions.all[0]",
     "exactly name"),
    (leaf("nope", "equal_to", "x"), fail(), "conditions.all[0].name", "Unknown variable"),
    (leaf("_assert_valid_value_and_cast", "equal_to", 1), fail(), "conditions.all[0].name", "Unknown variable"),
    (leaf("units", "not_equal_to", 3), fail(), "conditions.all[0].operator", "not an operator"),
    (leaf("units", "_assert_valid_value_and_cast", 3), fail(), "conditions.all[0].operator", "not an operator"),
    (leaf("units", "greater_than", "100"), fail(), "conditions.all[0].value", "number"),
    (leaf("units", "greater_than", True), fail(), "conditions.all[0].value", "number"),
    (leaf("payer_name", "equal_to", 90837), fail(), "conditions.all[0].value", "text"),
    (leaf("payer_name", "matches_regex", "(unclosed"), fail(), "conditions.all[0].value", "does not compile"),
    (leaf("payer_name", "matches_regex", "a" * 300), fail(), "conditions.all[0].value", "under"),
    (leaf("payer_type", "contains", "martian"), fail(), "conditions.all[0].value", "not one of"),
    (leaf("modifiers", "shares_at_least_one_element_with", "HO"), fail(), "conditions.all[0].value", "list"),
    (leaf("provider_active", "is_true", 3), fail(), "conditions.all[0].value", "no value"),
    (leaf("service_date", "before", "03/02/2026"), fail(), "conditions.all[0].value", "YYYY-MM-DD"),
    (leaf("service_date", "before", 20260302), fail(), "conditions.all[0].value", "YYYY-MM-DD"),
    (leaf("service_date", "before", "1066-10-14"), fail(), "conditions.all[0].value", "year"),
    (leaf("service_date", "greater_than", "2026-01-01"), fail(), "conditions.all[0].operator", "not an operator"),
    (GOOD, [], "actions", "at least one action"),
    (GOOD, [{"name": "internal", "params": {}}], "actions[0].name", "Unknown action"),
    (GOOD, [{"name": "fail_charge", "params": {}}], "actions[0].params", "takes exactly"),
    (GOOD, [{"name": "fail_charge", "params": {"reason": "x", "extra": 1}}], "actions[0].params", "takes exactly"),
    (GOOD, [{"name": "delay_claim", "params": {"days": "7", "reason": "x"}}], "actions[0].params.days", "whole days"),
    (GOOD, [{"name": "warn", "params": {"message": ""}}], "actions[0].params.message", "text"),
]


@pytest.mark.parametrize(("conditions", "actions", "field", "message"), INVALID)
def test_invalid_rules_are_refused_and_not_saved(conditions, actions, field, message):
    problems = rule_problems(conditions, actions)
    assert any(p.field == field and message in p.message for p in problems), problems
    with pytest.raises(ValidationFailed):
        save_rule(rule_doc("Bad", conditions=conditions, actions=actions), actor=SYSTEM)
    assert db.session.scalar(select(func.count()).select_from(Rule)) == 0
    assert db.session.scalar(select(func.count()).select_from(RuleVersion)) == 0


def test_nesting_is_capped():
    node = GOOD
    for _ in range(6):
        node = {"any": [node]}
    assert any("nest" in p.message for p in rule_problems(node, fail()))


def test_no_input_operators_store_an_explicit_null():
    rule = make_rule("Inactive provider", conditions={"all": [{"name": "provider_active", "operator": "is_false"}]})
    assert rule.conditions == leaf("provider_active", "is_false", None)


def test_names_are_unique_and_scope_must_exist():
    make_rule("Same")
    with pytest.raises(ValidationFailed, match="already called"):
        make_rule("Same")
    with pytest.raises(ValidationFailed, match=r"scope\.payer_id"):
        make_rule("Scoped", scope={"payer_id": 999999})


def test_each_save_keeps_a_version():
    rule = make_rule("Versioned")
    save_rule(rule_doc("Versioned", conditions=GOOD), actor=SYSTEM, rule=rule)
    versions = list(db.session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule.id)
                                       .order_by(RuleVersion.version)))
    assert [v.version for v in versions] == [1, 2]
    assert rule.version == 2
    assert versions[0].snapshot["conditions"] != versions[1].snapshot["conditions"]
    assert versions[1].changed_by == SYSTEM.name


def test_an_import_with_one_bad_rule_saves_nothing():
    document = {"format": "claimdesk-rules", "rules": [rule_doc("Fine"), rule_doc("Broken", conditions={"all": []})]}
    with pytest.raises(ValidationFailed, match=r"rules\[1\] \(Broken\)\.conditions\.all"):
        import_rules(document, actor=SYSTEM)
    assert db.session.scalar(select(func.count()).select_from(Rule)) == 0
