"""Saving rules: validate everything first, then write the rule, a version snapshot and a history row.

Each operation flushes and never commits; the caller wraps it in `unit_of_work()`. Files and the
editor go through the same `save_rule`, so a rule is checked the same way wherever it comes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import Invalid, Problem, ValidationFailed, raise_if
from billing.core.id_lists import any_of
from billing.coverage.models import Payer
from billing.org.models import Company, Practice
from rules.models import Rule, RuleVersion
from rules.rule_json import MAX_FILE_CHARS, load_json
from rules.validation import normalized_conditions, rule_problems, shown

FILE_FORMAT = "claimdesk-rules"
DEFAULTS = Path(__file__).with_name("default_rules.json")
SCOPES = {"company_id": Company, "practice_id": Practice, "payer_id": Payer}
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number is no id, and PostgreSQL would refuse to compare it
MAX_FILE_RULES = 2000


def rule_document(rule: Rule) -> dict[str, Any]:
    """A rule as plain data: what files hold, what versions keep, what the JSON view shows."""
    scope = {"company_id": rule.scope_company_id, "practice_id": rule.scope_practice_id,
             "payer_id": rule.scope_payer_id}
    return {
        "name": rule.name,
        "description": rule.description,
        "position": rule.position,
        "enabled": rule.enabled,
        "scope": {k: v for k, v in scope.items() if v is not None},
        "conditions": rule.conditions,
        "actions": rule.actions,
    }


def document_problems(doc: Any, *, rule_id: int | None = None) -> list[Problem]:
    """Everything wrong with one rule document, each problem naming its part."""
    if not isinstance(doc, dict):
        return [Problem("rule", "A rule is an object with name, conditions and actions.")]
    problems = []
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120 or "\x00" in name:
        problems.append(Problem("name", "Give the rule a name of 1 to 120 characters (no NUL)."))
    elif _name_taken(name.strip(), rule_id):
        problems.append(Problem("name", f"Another rule is already called {name.strip()!r}."))
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > 500 or "\x00" in description:
        problems.append(Problem("description", "The description is text of at most 500 characters (no NUL)."))
    position = doc.get("position", 100)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 100_000:
        problems.append(Problem("position", "The order is a whole number from 0 to 100000."))
    if not isinstance(doc.get("enabled", True), bool):
        problems.append(Problem("enabled", "enabled is true or false."))
    problems += _scope_problems(doc.get("scope") or {})
    return problems + rule_problems(doc.get("conditions"), doc.get("actions"))


def _name_taken(name: str, rule_id: int | None) -> bool:
    found = db.session.scalar(select(Rule.id).where(Rule.name == name))
    return found is not None and found != rule_id


def _scope_problems(scope: Any) -> list[Problem]:
    if not isinstance(scope, dict) or set(scope) - set(SCOPES) or len(scope) > 1:
        return [Problem("scope", "Scope is empty (all claims) or one of company_id, practice_id, payer_id.")]
    for key, value in scope.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            return [Problem(f"scope.{key}", f"{shown(value)} is not a {key.removesuffix('_id')} id.")]
        if db.session.get(SCOPES[key], value) is None:
            return [Problem(f"scope.{key}", f"No {key.removesuffix('_id')} has the id {value}.")]
    return []


def save_rule(doc: dict[str, Any], *, actor: Actor, rule: Rule | None = None) -> Rule:
    """Create or change a rule; an invalid one raises ValidationFailed and nothing is written."""
    raise_if(document_problems(doc, rule_id=rule.id if rule else None))
    if rule is None:
        rule = Rule(version=1)
        db.session.add(rule)
    else:
        rule.version += 1
    scope = doc.get("scope") or {}
    rule.name = doc["name"].strip()
    rule.description = doc.get("description", "")
    rule.position = doc.get("position", 100)
    rule.enabled = doc.get("enabled", True)
    rule.conditions = normalized_conditions(doc["conditions"])
    rule.actions = doc["actions"]
    rule.scope_company_id = scope.get("company_id")
    rule.scope_practice_id = scope.get("practice_id")
    rule.scope_payer_id = scope.get("payer_id")
    rule.updated_at, rule.updated_by = utcnow(), actor.name
    db.session.flush()
    db.session.add(RuleVersion(rule_id=rule.id, version=rule.version, snapshot=rule_document(rule),
                               changed_by=actor.name, changed_at=rule.updated_at))
    record_change("rule", rule.id, AuditAction.RULE_SAVED, actor=actor, after=f"v{rule.version}",
                  data={"version": rule.version})
    return rule


def set_enabled(rule: Rule, enabled: bool, *, actor: Actor) -> Rule:
    """Switch a rule on or off; it is a save like any other, so it gets a version."""
    return save_rule({**rule_document(rule), "enabled": enabled}, actor=actor, rule=rule)


def set_enabled_many(rule_ids: list[int], enabled: bool, *, actor: Actor) -> list[str]:
    """Switch these rules on or off; returns the names of those that changed."""
    rules = db.session.scalars(select(Rule).where(any_of(Rule.id, rule_ids)).order_by(Rule.position, Rule.id))
    return [set_enabled(rule, enabled, actor=actor).name for rule in rules if rule.enabled != enabled]


@dataclass(frozen=True)
class VersionView:
    """One saved version, what changed from the one before it, and the rule as it was."""

    version: RuleVersion
    changes: list[str]
    text: str


def version_history(rule: Rule) -> list[VersionView]:
    """Every saved version of a rule, newest first, each with the fields it changed."""
    versions = sorted(rule.versions, key=lambda v: v.version)
    views, before = [], None
    for version in versions:
        views.append(VersionView(version, version_changes(before, version.snapshot),
                                 json.dumps(version.snapshot, indent=2)))
        before = version.snapshot
    return views[::-1]


def version_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Which parts of a rule a save changed, in words (the first version "created" it)."""
    if before is None:
        return ["created"]
    labels = {"name": "name", "description": "description", "position": "order", "enabled": "enabled",
              "scope": "scope", "conditions": "conditions", "actions": "actions"}
    changed = []
    for key, label in labels.items():
        if before.get(key) != after.get(key):
            if key in ("name", "position", "enabled"):
                changed.append(f"{label}: {before.get(key)!r} → {after.get(key)!r}")
            else:
                changed.append(f"{label} changed")
    return changed or ["saved without changes"]


def export_rules() -> dict[str, Any]:
    rules = db.session.scalars(select(Rule).order_by(Rule.position, Rule.id))
    return {"format": FILE_FORMAT, "version": 1, "rules": [rule_document(r) for r in rules]}


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    #: Retired defaults switched off by load_defaults (a newer default replaces them).
    retired: list[str] = field(default_factory=list)


def import_rules(document: Any, *, actor: Actor, only_new: bool = False) -> ImportResult:
    """Save every rule in a file, matched by name; one invalid rule refuses the whole file."""
    docs = _file_rules(document)
    existing = {r.name: r for r in db.session.scalars(select(Rule))}
    problems = []
    names = [name for name in map(_name, docs) if name is not None]
    for i, doc in enumerate(docs):
        target = existing.get(_name(doc))
        where = f"rules[{i}]" + (f" ({_name(doc)})" if _name(doc) else "")
        problems += [Problem(f"{where}.{p.field}", p.message)
                     for p in document_problems(doc, rule_id=target.id if target else None)]
    if len(set(names)) != len(names):
        problems.append(Problem("rules", "Two rules in the file have the same name."))
    raise_if(problems)
    created, updated, unchanged = [], [], []
    for doc in docs:
        target = existing.get(doc["name"].strip())
        if target is not None and (only_new or _same(target, doc)):
            unchanged.append(target.name)
            continue
        save_rule(doc, actor=actor, rule=target)
        (updated if target else created).append(doc["name"].strip())
    return ImportResult(created, updated, unchanged)


def _name(doc: Any) -> str | None:
    """A file rule's name as given, when it is one (a list or a number is a problem the validator names)."""
    name = doc.get("name") if isinstance(doc, dict) else None
    return name if isinstance(name, str) else None


def _same(rule: Rule, doc: dict[str, Any]) -> bool:
    mine = rule_document(rule)
    theirs = {**mine, **doc, "conditions": normalized_conditions(doc["conditions"]), "scope": doc.get("scope") or {}}
    return mine == theirs


def _file_rules(document: Any) -> list[Any]:
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT or not isinstance(
        document.get("rules"), list
    ):
        raise ValidationFailed([Problem("file", f'Not a rules file: expected {{"format": "{FILE_FORMAT}", '
                                                '"rules": [...]}.')])
    if len(document["rules"]) > MAX_FILE_RULES:
        raise ValidationFailed([Problem("rules", f"A file holds at most {MAX_FILE_RULES} rules.")])
    return document["rules"]


def read_rules_file(path: Path) -> Any:
    """A rules file's JSON; a file too large or nested too deep is refused before it is parsed."""
    try:
        if path.stat().st_size > MAX_FILE_CHARS * 4:  # UTF-8 takes at most 4 bytes a character
            raise Invalid(f"{path.name} is too large for a rules file (at most {MAX_FILE_CHARS:,} characters).")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"{path.name} is not readable JSON: {exc}") from None
    try:
        return load_json(text, field="file", max_chars=MAX_FILE_CHARS)
    except ValidationFailed as exc:
        raise Invalid(f"{path.name} is not readable JSON. {exc.problems[0].message}", exc.problems) from None


def load_defaults(*, actor: Actor) -> ImportResult:
    """The shipped default rule set; rules that already exist by name are left as the billers made them.

    A default that a newer one replaced (the file's "retired" list, e.g. the global 90-day timely filing rule)
    is switched off, with a version, when it is still on and exactly as shipped; one a biller changed is theirs.
    """
    document = read_rules_file(DEFAULTS)
    result = import_rules(document, actor=actor, only_new=True)
    return ImportResult(result.created, result.updated, result.unchanged, _retire(document.get("retired", []), actor))


def _retire(docs: list[dict[str, Any]], actor: Actor) -> list[str]:
    retired = []
    for doc in docs:
        rule = db.session.scalar(select(Rule).where(Rule.name == doc["name"]))
        if rule is not None and rule.enabled and _same(rule, doc):
            set_enabled(rule, False, actor=actor)
            retired.append(rule.name)
    return retired
