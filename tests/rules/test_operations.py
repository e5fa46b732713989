"""Rule saves: versions with what changed, enable/disable, defaults as data."""

from __future__ import annotations

import json

import pytest

from billing.core.errors import ValidationFailed
from rules.operations import (
    DEFAULTS,
    document_problems,
    load_defaults,
    rule_document,
    save_rule,
    set_enabled_many,
    version_changes,
    version_history,
)
from tests.worlds.practice import SYSTEM
from tests.worlds.rules import leaf, make_rule, rule_doc


def test_version_history_says_what_each_save_changed():
    rule = make_rule("Few units", conditions=leaf("units", "less_than", 3))
    save_rule({**rule_document(rule), "conditions": leaf("units", "less_than", 4), "position": 5}, actor=SYSTEM,
              rule=rule)
    newest, oldest = version_history(rule)
    assert oldest.changes == ["created"]
    assert newest.changes == ["order: 10 → 5", "conditions changed"]
    assert json.loads(oldest.text)["conditions"] == leaf("units", "less_than", 3)
    assert newest.version.changed_by == SYSTEM.name


def test_version_changes_names_every_part():
    before = rule_doc("A")
    assert version_changes(before, dict(before)) == ["saved without changes"]
    after = {**before, "name": "B", "enabled": False, "scope": {"payer_id": 1}, "actions": [], "description": "x"}
    assert version_changes(before, after) == ["name: 'A' → 'B'", "description changed", "enabled: True → False",
                                              "scope changed", "actions changed"]


def test_set_enabled_many_only_touches_rules_that_change():
    on, off = make_rule("On"), make_rule("Off", enabled=False)
    assert set_enabled_many([on.id, off.id], True, actor=SYSTEM) == ["Off"]
    assert (on.version, off.version) == (1, 2)
    assert off.enabled is True


def test_the_shipped_defaults_are_valid_and_eight():
    document = json.loads(DEFAULTS.read_text())
    assert len(document["rules"]) == 8
    for doc in document["rules"]:
        assert document_problems(doc) == [], doc["name"]
    result = load_defaults(actor=SYSTEM)
    assert sorted(result.created) == sorted(d["name"] for d in document["rules"])


def test_load_defaults_switches_off_the_retired_90_day_rule_only_as_shipped():
    retired = json.loads(DEFAULTS.read_text())["retired"][0]
    as_shipped = save_rule(retired, actor=SYSTEM)
    result = load_defaults(actor=SYSTEM)
    assert result.retired == [retired["name"]]
    assert (as_shipped.enabled, as_shipped.version) == (False, 2)
    assert load_defaults(actor=SYSTEM).retired == []  # already off: nothing to do


def test_load_defaults_keeps_a_retired_rule_a_biller_changed():
    retired = json.loads(DEFAULTS.read_text())["retired"][0]
    edited = save_rule({**retired, "conditions": {"all": [
        {"name": "days_since_service", "operator": "greater_than", "value": 120}]}}, actor=SYSTEM)
    assert load_defaults(actor=SYSTEM).retired == []
    assert edited.enabled is True


def test_scope_accepts_one_existing_record_only():
    problems = document_problems(rule_doc("Two scopes", scope={"payer_id": 1, "company_id": 1}))
    assert [p.field for p in problems] == ["scope"]
    with pytest.raises(ValidationFailed) as refused:
        save_rule(rule_doc("Bad order", position=-1), actor=SYSTEM)
    assert [p.field for p in refused.value.problems] == ["position"]
