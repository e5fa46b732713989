"""Dry run: which current claims would a draft rule flag? Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select, true

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Problem
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.people.models import Client
from rules.compiler import compile_rule
from rules.engine import evaluate
from rules.facts import CHUNK, load_facts
from rules.validation import rule_problems

SHOWN = 200


@dataclass(frozen=True)
class Flagged:
    claim_id: int
    number: str
    client: str
    service_date: date
    outcomes: list[str]


@dataclass
class DryRun:
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    flagged_count: int = 0
    flagged: list[Flagged] = field(default_factory=list)  # the first SHOWN


def dry_run(doc: dict[str, Any], *, where: ColumnElement[bool] | None = None, today: date | None = None) -> DryRun:
    """Evaluate a draft rule on Ready and Held claims (within `where`), without saving anything."""
    result = DryRun(problems=rule_problems(doc.get("conditions"), doc.get("actions")))
    if result.problems:
        return result
    scope = {k: v for k, v in (doc.get("scope") or {}).items() if k in ("company_id", "practice_id", "payer_id")}
    rule = compile_rule(0, doc.get("name") or "draft", doc["conditions"], doc["actions"], **scope)
    ids = list(db.session.scalars(
        select(Claim.id).where(Claim.status.in_([ClaimStatus.READY, ClaimStatus.HELD]), where if where is not None
                               else true()).order_by(Claim.id)
    ))
    result.checked = len(ids)
    hits: dict[int, list[str]] = {}
    for start in range(0, len(ids), CHUNK):
        for claim_id, facts in load_facts(ids[start:start + CHUNK], today or practice_today()).items():
            fired = evaluate([rule], facts)
            if fired:
                hits[claim_id] = [f"{f.kind.label}: {f.reason}" for f in fired]
    result.flagged_count = len(hits)
    shown = sorted(hits)[:SHOWN]
    rows = db.session.execute(
        select(Claim.id, Claim.service_date, Client.last_name, Client.first_name)
        .join(Client, Client.id == Claim.client_id).where(any_of(Claim.id, shown)).order_by(Claim.id)
    )
    result.flagged = [Flagged(r.id, claim_number(r.id), f"{r.last_name}, {r.first_name}", r.service_date, hits[r.id])
                      for r in rows]
    return result
