"""Check a rule against business-rules' own export before it is saved or run.

business-rules validates with `assert` (gone under `python -O`) and looks names up with `getattr`
(an unknown operator or action name can reach any method), so nothing reaches it unchecked. Every
problem is collected, each pointing at the faulty part (`conditions.all[1].operator`), and the
caller raises once.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Any

from billing.core.errors import Problem
from rules.date_type import FIELD_DATE
from rules.variables import rule_schema

MAX_DEPTH = 5
MAX_REGEX = 200  # long patterns invite catastrophic backtracking
MAX_TEXT = 300
MAX_DAYS = 3650
MIN_YEAR, MAX_YEAR = 1900, 2100


def condition_problems(conditions: Any) -> list[Problem]:
    if not isinstance(conditions, dict) or set(conditions) - {"all", "any"} or len(conditions) != 1:
        return [Problem("conditions", 'The top level must be exactly one group: {"all": [...]} or {"any": [...]}.')]
    return _node_problems(conditions, "conditions", 1)


def _node_problems(node: Any, path: str, depth: int) -> list[Problem]:
    if not isinstance(node, dict):
        return [Problem(path, "Each condition must be an object.")]
    if "all" in node or "any" in node:
        return _group_problems(node, path, depth)
    if set(node) - {"name", "operator", "value"} or not {"name", "operator"} <= set(node):
        return [Problem(path, "A condition has exactly name, operator and value (or is an all/any group).")]
    return _leaf_problems(node, path)


def _group_problems(node: dict[str, Any], path: str, depth: int) -> list[Problem]:
    if len(node) != 1:
        return [Problem(path, 'A group has exactly one key, "all" or "any", and nothing beside it.')]
    key, children = next(iter(node.items()))
    if depth > MAX_DEPTH:
        return [Problem(path, f"Groups nest at most {MAX_DEPTH} deep.")]
    if not isinstance(children, list) or not children:
        return [Problem(f"{path}.{key}", "A group needs at least one condition.")]
    problems: list[Problem] = []
    for i, child in enumerate(children):
        problems += _node_problems(child, f"{path}.{key}[{i}]", depth + 1)
    return problems


def _leaf_problems(node: dict[str, Any], path: str) -> list[Problem]:
    schema = rule_schema()
    variables = {v["name"]: v for v in schema["variables"]}
    variable = variables.get(node["name"]) if isinstance(node["name"], str) else None
    if variable is None:
        return [Problem(f"{path}.name", f"Unknown variable {node['name']!r}.")]
    operators = {o["name"]: o for o in schema["variable_type_operators"][variable["field_type"]]}
    operator = operators.get(node["operator"]) if isinstance(node["operator"], str) else None
    if operator is None:
        return [
            Problem(
                f"{path}.operator",
                f"{node['operator']!r} is not an operator for {variable['label']} ({variable['field_type']}); "
                f"use one of: {', '.join(sorted(operators))}.",
            )
        ]
    message = value_problem(operator["input_type"], node["operator"], node.get("value"), variable.get("options") or [])
    return [Problem(f"{path}.value", message)] if message else []


def value_problem(input_type: str, operator: str, value: Any, options: list[Any]) -> str | None:
    """Why this value does not fit the operator's input, or None when it does."""
    if input_type == "none":
        return None if value is None else "This operator takes no value; leave it empty (null)."
    if input_type == "numeric":
        return None if _is_number(value) else "Enter a number."
    if input_type == "text":
        return _text_problem(operator, value)
    if input_type == "select":
        return _choice_problem(value, options)
    if input_type == FIELD_DATE:
        return _date_problem(value)
    if input_type == "select_multiple":
        if not isinstance(value, list) or not value:
            return "Choose one or more values (a list)."
        return next((p for p in (_choice_problem(v, options) for v in value) if p), None)
    return f"Unsupported input type {input_type!r}."


def _date_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Enter a date as YYYY-MM-DD."
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date; enter it as YYYY-MM-DD."
    return None if MIN_YEAR <= day.year <= MAX_YEAR else f"Enter a year from {MIN_YEAR} to {MAX_YEAR}."


def _is_number(value: Any) -> bool:
    # bool is an int to Python and business-rules would take True as 1; a rule never means that.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value)


def _text_problem(operator: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "Enter some text."
    if operator == "matches_regex":
        if len(value) > MAX_REGEX:
            return f"Keep the pattern under {MAX_REGEX} characters."
        try:
            re.compile(value)
        except re.error as exc:
            return f"This pattern does not compile: {exc}."
    elif len(value) > MAX_TEXT:
        return f"Keep the text under {MAX_TEXT} characters."
    return None


def _choice_problem(value: Any, options: list[Any]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "Choose a value."
    # Open lists (service and diagnosis codes) belong to each practice; any short code is accepted.
    if options and value not in options:
        return f"{value!r} is not one of: {', '.join(map(str, options))}."
    return "Codes are at most 20 characters." if len(value) > 20 else None


def action_problems(actions: Any) -> list[Problem]:
    if not isinstance(actions, list) or not actions:
        return [Problem("actions", "A rule needs at least one action.")]
    declared = {a["name"]: a for a in rule_schema()["actions"]}
    problems: list[Problem] = []
    for i, action in enumerate(actions):
        path = f"actions[{i}]"
        if not isinstance(action, dict) or set(action) - {"name", "params"} or "name" not in action:
            problems.append(Problem(path, "An action has exactly a name and params."))
            continue
        spec = declared.get(action["name"]) if isinstance(action["name"], str) else None
        if spec is None:
            problems.append(Problem(f"{path}.name", f"Unknown action {action['name']!r}; use one of: "
                                                    f"{', '.join(sorted(declared))}."))
            continue
        problems += _param_problems(spec, action.get("params"), f"{path}.params")
    return problems


def _param_problems(spec: dict[str, Any], params: Any, path: str) -> list[Problem]:
    expected = {p["name"]: p["fieldType"] for p in spec["params"]}
    if not isinstance(params, dict) or set(params) != set(expected):
        return [Problem(path, f"{spec['label']} takes exactly: {', '.join(sorted(expected))}.")]
    problems = []
    for name, field_type in expected.items():
        value = params[name]
        if field_type == "numeric":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
                problems.append(Problem(f"{path}.{name}", f"Enter whole days from 1 to {MAX_DAYS}."))
        elif not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            problems.append(Problem(f"{path}.{name}", f"Enter a text of 1 to {MAX_TEXT} characters."))
    return problems


def rule_problems(conditions: Any, actions: Any) -> list[Problem]:
    """Everything wrong with a rule's conditions and actions; empty when business-rules may run it."""
    return condition_problems(conditions) + action_problems(actions)


def normalized_conditions(node: Any) -> Any:
    """Give no-input operators an explicit `"value": null` (business-rules raises KeyError without it)."""
    if isinstance(node, dict) and ("all" in node or "any" in node):
        return {key: [normalized_conditions(c) for c in children] for key, children in node.items()}
    if isinstance(node, dict) and "name" in node and "value" not in node:
        return {**node, "value": None}
    return node
