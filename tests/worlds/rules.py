"""Rules for tests: a valid rule document, saved through the same operation the editor uses."""

from __future__ import annotations

from typing import Any

from rules.models import Rule
from rules.operations import save_rule
from tests.worlds.practice import SYSTEM

DEFAULT_CONDITIONS = {"all": [{"name": "diagnosis_count", "operator": "less_than", "value": 1}]}
DEFAULT_ACTIONS = [{"name": "fail_charge", "params": {"reason": "Add a diagnosis."}}]


def rule_doc(name: str = "No diagnosis", *, conditions: Any = None, actions: Any = None, **fields: Any) -> dict:
    return {
        "name": name,
        "description": "",
        "position": 10,
        "enabled": True,
        "scope": {},
        "conditions": conditions if conditions is not None else DEFAULT_CONDITIONS,
        "actions": actions if actions is not None else DEFAULT_ACTIONS,
        **fields,
    }


def make_rule(name: str = "No diagnosis", **kwargs: Any) -> Rule:
    return save_rule(rule_doc(name, **kwargs), actor=SYSTEM)


def leaf(name: str, operator: str, value: Any = None) -> dict:
    return {"all": [{"name": name, "operator": operator, "value": value}]}


def fail(reason: str = "failed") -> list[dict]:
    return [{"name": "fail_charge", "params": {"reason": reason}}]
