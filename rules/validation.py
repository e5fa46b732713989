"""Check a rule against business-rules' own export before it is saved or run.

business-rules validates with `assert` (gone under `python -O`) and looks names up with `getattr`
(an unknown operator or action name can reach any method), so nothing reaches it unchecked. Every
problem is collected, each pointing at the faulty part (`conditions.all[1].operator`), and the
caller raises once.

The checks never fail on hostile input: nesting and sizes are capped before anything walks deeper,
and a value is only quoted back when it is short text (a 2,000-deep list has no printable repr).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from billing.core.errors import Problem
from rules.date_type import FIELD_DATE
from rules.regex import pattern_problem
from rules.variables import rule_schema

MAX_DEPTH = 5
#: Conditions and groups in one rule: a rule's time grows with them, and nobody reads a longer one.
MAX_CONDITIONS = 100
MAX_CHOICES = 50  # values in one list condition
MAX_ACTIONS = 10
MAX_REGEX = 200  # RE2 compiles in time and memory that grow with the pattern
MAX_TEXT = 300
MAX_DAYS = 3650
MIN_YEAR, MAX_YEAR = 1900, 2100


def shown(value: Any) -> str:
    """A value quoted in a message: short text as written, anything else by its kind."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def condition_problems(conditions: Any) -> list[Problem]:
    if not isinstance(conditions, dict) or set(conditions) - {"all", "any"} or len(conditions) != 1:
        return [Problem("conditions", 'The top level must be exactly one group: {"all": [...]} or {"any": [...]}.')]
    count, too_deep = _shape(conditions, MAX_CONDITIONS + 1)
    if too_deep is not None:
        return [Problem(too_deep, f"Groups nest at most {MAX_DEPTH} deep; this one is deeper.")]
    if count > MAX_CONDITIONS:
        return [Problem("conditions", f"A rule has at most {MAX_CONDITIONS} conditions and groups "
                                       "(this one has more); split it into several rules.")]
    return _node_problems(conditions, "conditions", 1)


def _shape(root: Any, stop: int) -> tuple[int, str | None]:
    """Groups and conditions, counted up to `stop`, and the first group nested too deep, without recursion.

    The validator below recurses and names every problem; this pass first makes sure it has little to walk.
    """
    count, pending = 0, [(root, "conditions", 1)]
    while pending and count < stop:
        node, path, depth = pending.pop()
        count += 1
        children = node.get("all", node.get("any")) if isinstance(node, dict) and len(node) == 1 else None
        if not isinstance(children, list):
            continue
        if depth > MAX_DEPTH:
            return count, path
        key = next(iter(node))
        pending += [(child, f"{path}.{key}[{i}]", depth + 1) for i, child in reversed(list(enumerate(children[:stop])))]
    return count, None


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
        return [Problem(path, f"Groups nest at most {MAX_DEPTH} deep; this one is deeper.")]
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
        return [Problem(f"{path}.name", f"Unknown variable {shown(node['name'])}.")]
    operators = {o["name"]: o for o in schema["variable_type_operators"][variable["field_type"]]}
    operator = operators.get(node["operator"]) if isinstance(node["operator"], str) else None
    if operator is None:
        return [
            Problem(
                f"{path}.operator",
                f"{shown(node['operator'])} is not an operator for {variable['label']} ({variable['field_type']}); "
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
        if len(value) > MAX_CHOICES:
            return f"Choose at most {MAX_CHOICES} values."
        return next((p for p in (_choice_problem(v, options) for v in value) if p), None)
    return f"Unsupported input type {input_type!r}."


def _date_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Enter a date as YYYY-MM-DD."
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return f"{shown(value)} is not a date; enter it as YYYY-MM-DD."
    return None if MIN_YEAR <= day.year <= MAX_YEAR else f"Enter a year from {MIN_YEAR} to {MAX_YEAR}."


def _is_number(value: Any) -> bool:
    # bool is an int to Python and business-rules would take True as 1; a rule never means that.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value)


def _text_problem(operator: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "Enter some text."
    if "\x00" in value:
        return "The text contains a NUL character; remove it."
    if operator == "matches_regex":
        if len(value) > MAX_REGEX:
            return f"Keep the pattern under {MAX_REGEX} characters."
        return pattern_problem(value)
    if len(value) > MAX_TEXT:
        return f"Keep the text under {MAX_TEXT} characters."
    return None


def _choice_problem(value: Any, options: list[Any]) -> str | None:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return "Choose a value."
    # Open lists (service and diagnosis codes) belong to each practice; any short code is accepted.
    if options and value not in options:
        return f"{shown(value)} is not one of: {', '.join(map(str, options))}."
    return "Codes are at most 20 characters." if len(value) > 20 else None


def action_problems(actions: Any) -> list[Problem]:
    if not isinstance(actions, list) or not actions:
        return [Problem("actions", "A rule needs at least one action.")]
    if len(actions) > MAX_ACTIONS:
        return [Problem("actions", f"A rule has at most {MAX_ACTIONS} actions.")]
    declared = {a["name"]: a for a in rule_schema()["actions"]}
    problems: list[Problem] = []
    for i, action in enumerate(actions):
        path = f"actions[{i}]"
        if not isinstance(action, dict) or set(action) - {"name", "params"} or "name" not in action:
            problems.append(Problem(path, "An action has exactly a name and params."))
            continue
        spec = declared.get(action["name"]) if isinstance(action["name"], str) else None
        if spec is None:
            problems.append(Problem(f"{path}.name", f"Unknown action {shown(action['name'])}; use one of: "
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
        elif not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or "\x00" in value:
            problems.append(Problem(f"{path}.{name}", f"Enter a text of 1 to {MAX_TEXT} characters (no NUL)."))
    return problems


def rule_problems(conditions: Any, actions: Any) -> list[Problem]:
    """Everything wrong with a rule's conditions and actions; empty when business-rules may run it."""
    return condition_problems(conditions) + action_problems(actions)


def normalized_conditions(node: Any) -> Any:
    """Give no-input operators an explicit `"value": null` (business-rules raises KeyError without it).

    It recurses: call it on validated conditions only (5 levels at most).
    """
    if isinstance(node, dict) and ("all" in node or "any" in node):
        return {key: [normalized_conditions(c) for c in children] for key, children in node.items()}
    if isinstance(node, dict) and "name" in node and "value" not in node:
        return {**node, "value": None}
    return node
