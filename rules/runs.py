"""Billing runs: evaluate every enabled rule on Ready claims (and claims the rules stopped), then apply.

`run_rules()` is the one entry point for the CLI, the admin's "Run rules" and Reprocess, and the
scheduled job. It never commits: the caller wraps it in `unit_of_work()`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, true, update

from billing.claims.models import Claim, claim_number
from billing.claims.operations import hold_claim, release_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction, Change, StatusChange, record_changes
from billing.core.db import db, utcnow
from billing.core.errors import NotAllowed, Problem, raise_if
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.ledger.rows import write_rows
from billing.org.models import Company, Location, Practice
from billing.org.queries import by_location, resolve_scope
from rules.compiler import CompiledRule
from rules.engine import COMPILED, enabled_rules, evaluator_for
from rules.facts import CHUNK, load_facts
from rules.models import BLOCKING, BillingRun, OutcomeKind, RuleOutcome, RulesCheck
from rules.operations import MAX_ID
from rules.variables import Fired

Key = tuple[int, OutcomeKind]  # (rule id, kind): one open outcome each per claim
#: On the history row of a hold a run placed: that run's number. A person's hold has none, and stays.
RUN_KEY = "run"


@dataclass
class ClaimChange:
    """What one run changed on one claim, for Reprocess to show."""

    claim_id: int
    added: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    still: list[str] = field(default_factory=list)  # open before and after: unchanged
    held: bool = False
    released: bool = False

    @property
    def number(self) -> str:
        return claim_number(self.claim_id)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.resolved or self.held or self.released)

    def describe(self) -> str:
        parts = [f"now failing: {'; '.join(self.added)}"] if self.added else []
        parts += [f"cleared: {'; '.join(self.resolved)}"] if self.resolved else []
        parts += ["held"] if self.held else []
        parts += ["hold lifted"] if self.released else []
        if not self.changed:
            parts.append("no change")
        parts += [f"still failing: {'; '.join(self.still)}"] if self.still else []
        if not self.added and not self.still:
            parts.append("passes every rule")
        return f"{self.number} " + ", ".join(parts)


@dataclass
class RunResult:
    run_number: int
    claims_checked: int = 0
    claims_failing: int = 0
    rule_errors: int = 0
    holds_placed: int = 0
    holds_lifted: int = 0
    outcomes_resolved: int = 0
    changes: list[ClaimChange] = field(default_factory=list)
    #: Claims asked for by number that a run does not check (Submitted, Paid, Voided, held by a person).
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Run {self.run_number}: {self.claims_checked} claims checked, {self.claims_failing} failing, "
            f"{self.rule_errors} rule errors, {self.holds_placed} held, {self.holds_lifted} holds lifted, "
            f"{self.outcomes_resolved} failures resolved."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_number, "claims_checked": self.claims_checked, "claims_failing": self.claims_failing,
            "rule_errors": self.rule_errors, "holds_placed": self.holds_placed, "holds_lifted": self.holds_lifted,
            "outcomes_resolved": self.outcomes_resolved,
            "changes": [{"claim": c.number, "added": c.added, "resolved": c.resolved, "still": c.still,
                         "held": c.held, "released": c.released} for c in self.changes],
            "skipped": self.skipped,
        }


@dataclass
class _Run:
    run: BillingRun
    rules: dict[int, CompiledRule]
    actor: Actor
    now: datetime
    today: date
    result: RunResult
    #: Claims were named (Reprocess, --claims): report every one, changed or not.
    explicit: bool = False
    #: Claim by claim in `changes` at all (False: only the counts; what stops a claim is in rule_outcome).
    report: bool = True


#: How many of the claims a run was asked about its scope names (the Billing runs list shows five).
SCOPE_CLAIMS_KEPT = 20


def run_rules(
    *,
    actor: Actor,
    claim_ids: Sequence[int] | None = None,
    company_id: int | None = None,
    practice_id: int | None = None,
    location_id: int | None = None,
    today: date | None = None,
    engine: str = COMPILED,
    chunk_size: int = CHUNK,
    report_each: bool | None = None,
) -> RunResult:
    """Run the rules now over the claims in scope; returns the run number and what changed.

    `engine` and `chunk_size` exist for cross-checking and benchmarks: `chunk_size=1` with
    `engine="business-rules"` is the naive run (facts read and run_all called claim by claim).
    `report_each` (by default, when claims are named) puts every claim checked in `changes`, changed or not, and
    the named ones not checked in `skipped`, as Reprocess shows them. False reports no claim one by one, only the
    counts: a submission names every Ready claim only to check them, and reads what stops them from the outcomes
    (`run_stops`), so its run keeps nothing per claim (a `ClaimChange` for each of 856k claims, or of the
    thousands failing, is memory the plan would carry).
    """
    raise_if(_scope_problems(company_id, practice_id, location_id))
    rules, evaluate_claim = evaluator_for(enabled_rules(), engine=engine)
    variables = frozenset().union(*(rule.variables for rule in rules))
    # A submission names every Ready claim (856,102 at a billing company): the run keeps how many and the first
    # few; which run checked each claim is in claim_rules_check.
    named = None if claim_ids is None else claim_ids  # as given: a copy of 856k ids costs 31 MB
    scope = {"company_id": company_id, "practice_id": practice_id, "location_id": location_id,
             "claims": None if named is None else [claim_number(i) for i in named[:SCOPE_CLAIMS_KEPT]],
             "claim_count": None if named is None else len(named)}
    run = BillingRun(actor=actor.name, scope={k: v for k, v in scope.items() if v is not None}, started_at=utcnow())
    db.session.add(run)
    db.session.flush()
    explicit = claim_ids is not None if report_each is None else report_each
    state = _Run(run, {r.rule_id: r for r in rules}, actor, run.started_at, today or practice_today(),
                 RunResult(run.id), explicit=explicit, report=report_each is not False)
    checked: set[int] = set()  # only when named claims are reported: to say which of them were not checked
    count = 0
    with _collector_paused():
        for chunk in _candidate_chunks(_scope_filter(None, company_id, practice_id, location_id), chunk_size,
                                       claim_ids):
            facts = load_facts(list(chunk), state.today, variables)
            fired = {claim_id: evaluate_claim(claim_facts) for claim_id, claim_facts in facts.items()}
            moved = _apply(state, {claim_id: status for claim_id, (status, _) in chunk.items()}, fired)
            _record_checks(state, chunk, moved)
            count += len(chunk)
            if claim_ids is not None and explicit:
                checked.update(chunk)
            # The chunk's reference cycles (the database driver leaves some, about 1,000 objects a chunk and a few
            # MB of buffers on PostgreSQL) would pile up for the whole run. With the collector paused, all they are
            # is the youngest generation: collecting it walks this chunk's leftovers, not the app's objects.
            gc.collect(0)
    for in_scope in _scope_slices(claim_ids, company_id, practice_id, location_id):
        _resolve_out_of_billing(state, in_scope)
    if claim_ids is not None and explicit:
        _note_skipped(state, claim_ids, checked)
    _finish(state, count)
    return state.result


def _scope_problems(company_id: int | None, practice_id: int | None, location_id: int | None) -> list[Problem]:
    """An unknown or inconsistent scope is refused: silently widening it would run over every claim."""
    company = _get(Company, company_id)
    practice = _get(Practice, practice_id)
    location = _get(Location, location_id)
    problems = [Problem(name, f"No {name} has the id {given}.") for name, given, found in (
        ("company", company_id, company), ("practice", practice_id, practice), ("location", location_id, location))
        if given is not None and found is None]
    if practice and company and practice.company_id != company.id:
        problems.append(Problem("practice", f"Practice {practice} belongs to another company."))
    if location and practice and location.practice_id != practice.id:
        problems.append(Problem("location", f"Location {location} belongs to another practice."))
    if location and company and not practice and location.practice.company_id != company.id:
        problems.append(Problem("location", f"Location {location} belongs to another company."))
    return problems


def _get(model: type[Company | Practice | Location], key: int | None) -> Any:
    # A number beyond the id column's range is no id; the database would raise rather than find nothing.
    return db.session.get(model, key) if key is not None and 0 < key <= MAX_ID else None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while chunks are evaluated.

    Each chunk allocates hundreds of thousands of short-lived objects, and every collection they
    trigger walks all of the app's long-lived objects too: about a quarter of a 100,000-claim run.
    The loop collects the youngest generation itself after each chunk (see run_rules), so cycles a
    chunk leaves do not accumulate over a million claims; full collection resumes when the loop ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def candidate_claims(
    claim_ids: Sequence[int] | None = None, company_id: int | None = None, practice_id: int | None = None,
    location_id: int | None = None,
) -> list[tuple[int, ClaimStatus]]:
    """Ready claims, and Held claims that still carry an open rule outcome (a hold, or a failure to clear)."""
    query = select(Claim.id, Claim.status).where(_is_candidate())
    query = query.where(_scope_filter(claim_ids, company_id, practice_id, location_id))
    return [(row[0], row[1]) for row in db.session.execute(query.order_by(Claim.id))]


def _is_candidate() -> ColumnElement[bool]:
    has_open = exists().where(RuleOutcome.claim_id == Claim.id, RuleOutcome.resolved_at.is_(None))
    return or_(Claim.status == ClaimStatus.READY, (Claim.status == ClaimStatus.HELD) & has_open)


def _candidate_chunks(in_scope: ColumnElement[bool], size: int, claim_ids: Sequence[int] | None = None,
                      ) -> Iterator[dict[int, tuple[ClaimStatus, int]]]:
    """The candidates in id order, one chunk at a time: status and version per claim id.

    Each chunk is read after the one before was applied (keyset: ids above the last one seen), so a run holds
    one chunk's ids in memory, not a million. A run only changes claims of the chunk at hand, and only to Held
    with an open outcome (still a candidate) or back to Ready, so no claim is skipped or read twice. Named claims
    are read a slice of the sorted names at a time: binding all of them to every chunk's query made a run over a
    submission's 856,102 Ready claims quadratic (each of 428 chunks sent the whole list).
    """
    query = select(Claim.id, Claim.status, Claim.version).where(_is_candidate(), in_scope).order_by(Claim.id)
    if claim_ids is not None:
        named = _ascending(claim_ids)
        for start in range(0, len(named), size):
            rows = db.session.connection().execute(query.where(any_of(Claim.id, named[start:start + size]))).all()
            if rows:
                yield {claim_id: (status, version) for claim_id, status, version in rows}
        return
    last = 0
    while True:
        rows = db.session.connection().execute(query.where(Claim.id > last).limit(size)).all()
        if not rows:
            return
        yield {claim_id: (status, version) for claim_id, status, version in rows}
        if len(rows) < size:
            return
        last = rows[-1][0]


def _ascending(claim_ids: Sequence[int]) -> Sequence[int]:
    """The ids ascending, once each: as given when they already are (a submission's Ready claims, read in id order,
    8 bytes each in an array), so a million of them are not copied into a set and a list of int objects."""
    if all(a < b for a, b in pairwise(claim_ids)):
        return claim_ids
    return sorted(set(claim_ids))


#: Named claims bound per statement when the run closes the outcomes of claims out of billing.
SCOPE_SLICE = 10_000


def _scope_slices(claim_ids: Sequence[int] | None, company_id: int | None, practice_id: int | None,
                  location_id: int | None) -> Iterator[ColumnElement[bool]]:
    """The run's scope as filters: one, or one per slice of the named claims, in id order (binding all of a
    submission's 856k at once built a dict and a list of them, and one statement's array of them)."""
    if claim_ids is None:
        yield _scope_filter(None, company_id, practice_id, location_id)
        return
    named = _ascending(claim_ids)
    for start in range(0, len(named), SCOPE_SLICE):
        yield _scope_filter(named[start:start + SCOPE_SLICE], company_id, practice_id, location_id)


def _scope_filter(
    claim_ids: Sequence[int] | None, company_id: int | None, practice_id: int | None, location_id: int | None
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if company_id or practice_id or location_id:
        conditions.append(by_location(Claim.location_id, resolve_scope(company_id, practice_id, location_id)))
    if claim_ids is not None:
        conditions.append(any_of(Claim.id, claim_ids))
    return and_(true(), *conditions)


def _resolve_out_of_billing(state: _Run, in_scope: ColumnElement[bool]) -> None:
    """A claim voided, retracted or otherwise out of billing no longer fails anything: close its outcomes."""
    rows = db.session.execute(
        select(RuleOutcome.id, RuleOutcome.claim_id, RuleOutcome.rule_id, RuleOutcome.kind, RuleOutcome.reason,
               Claim.status)
        .join(Claim, Claim.id == RuleOutcome.claim_id)
        .where(RuleOutcome.resolved_at.is_(None), Claim.status.not_in([ClaimStatus.READY, ClaimStatus.HELD]), in_scope)
        .order_by(RuleOutcome.claim_id, RuleOutcome.id)
    ).all()
    if not rows:
        return
    db.session.execute(update(RuleOutcome), [
        {"id": row.id, "resolved_at": state.now, "resolved_run_id": state.run.id} for row in rows])
    changes: dict[int, ClaimChange] = {}
    for row in rows:
        change = changes.setdefault(row.claim_id, ClaimChange(row.claim_id))
        change.resolved.append(f"{_label(state, Fired(row.rule_id, row.kind, row.reason))} (claim is "
                               f"{row.status.label})")
    state.result.outcomes_resolved += len(rows)
    if state.report:
        state.result.changes.extend(changes.values())


def _note_skipped(state: _Run, claim_ids: Sequence[int], checked: set[int]) -> None:
    reported = {change.claim_id for change in state.result.changes}
    rows = db.session.execute(select(Claim.id, Claim.status).where(any_of(Claim.id, claim_ids)).order_by(Claim.id))
    for claim_id, status in rows:
        if claim_id in checked or claim_id in reported:
            continue
        why = "held by a person" if status is ClaimStatus.HELD else status.label
        state.result.skipped.append(f"{claim_number(claim_id)} not checked: it is {why}")


def _apply(state: _Run, statuses: dict[int, ClaimStatus], fired: dict[int, list[Fired]]) -> list[int]:
    """Create, refresh and resolve the chunk's outcomes, then place and lift rule holds (the claims returned)."""
    open_rows = _open_outcomes(list(statuses))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    to_hold: dict[int, str] = {}
    to_lift: list[int] = []
    for claim_id, status in statuses.items():
        wanted = _by_key(fired.get(claim_id, []))
        current = open_rows.get(claim_id, {})
        change = ClaimChange(claim_id)
        for key, item in wanted.items():
            row = current.get(key)
            if row is None:
                inserts.append(_new_row(state, claim_id, item))
                change.added.append(_label(state, item))
            else:
                updates.append({"id": row["id"], "reason": item.reason[:500], "last_failed_at": state.now,
                                "last_run_id": state.run.id})
        for key, row in current.items():
            if key not in wanted:
                updates.append({"id": row["id"], "resolved_at": state.now, "resolved_run_id": state.run.id})
                change.resolved.append(_label(state, Fired(key[0], key[1], row["reason"])))
            elif key[1] is not OutcomeKind.WARNING:
                change.still.append(_label(state, wanted[key]))
        _plan_hold(state, claim_id, status, wanted, current, to_hold, to_lift, change)
        state.result.rule_errors += sum(1 for key in wanted if key[1] is OutcomeKind.ERROR)
        state.result.outcomes_resolved += len(change.resolved)
        if state.report and (change.changed or state.explicit):
            state.result.changes.append(change)
    _write(state, inserts, updates)
    _move_claims(state, to_hold, to_lift)
    return [*to_hold, *to_lift]


def _open_outcomes(claim_ids: list[int]) -> dict[int, dict[Key, dict[str, Any]]]:
    rows = db.session.execute(
        select(RuleOutcome.id, RuleOutcome.claim_id, RuleOutcome.rule_id, RuleOutcome.kind, RuleOutcome.reason,
               RuleOutcome.placed_hold)
        .where(any_of(RuleOutcome.claim_id, claim_ids), RuleOutcome.resolved_at.is_(None))
    ).mappings()
    found: dict[int, dict[Key, dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["claim_id"], {})[(row["rule_id"], row["kind"])] = dict(row)
    return found


def _by_key(fired: list[Fired]) -> dict[Key, Fired]:
    """One outcome per rule and kind; a rule firing the same action twice keeps both reasons."""
    merged: dict[Key, Fired] = {}
    for item in fired:
        key = (item.rule_id, item.kind)
        earlier = merged.get(key)
        if earlier is not None:
            if item.reason == earlier.reason:
                continue
            item = Fired(item.rule_id, item.kind, f"{earlier.reason}; {item.reason}", earlier.days)
        merged[key] = item
    return merged


def _new_row(state: _Run, claim_id: int, item: Fired) -> dict[str, Any]:
    return {
        "claim_id": claim_id, "rule_id": item.rule_id, "kind": item.kind, "reason": item.reason[:500],
        "delay_until": item.delay_until(state.today) if item.kind is OutcomeKind.DELAY else None,
        "placed_hold": False, "first_failed_at": state.now, "last_failed_at": state.now,
        "first_run_id": state.run.id, "last_run_id": state.run.id,
    }


def _label(state: _Run, item: Fired) -> str:
    rule = state.rules.get(item.rule_id)
    return f"{rule.name if rule else f'rule {item.rule_id}'} ({item.kind.label}): {item.reason}"


def _plan_hold(
    state: _Run, claim_id: int, status: ClaimStatus, wanted: dict[Key, Fired], current: dict[Key, dict[str, Any]],
    to_hold: dict[int, str], to_lift: list[int], change: ClaimChange,
) -> None:
    holds = [item for key, item in wanted.items() if key[1] is OutcomeKind.HOLD]
    if holds and status is ClaimStatus.READY:
        to_hold[claim_id] = _hold_reason(state, holds[0])
        change.held = True
    placed_by_rules = any(row["placed_hold"] for key, row in current.items() if key[1] is OutcomeKind.HOLD)
    if not holds and status is ClaimStatus.HELD and placed_by_rules:
        to_lift.append(claim_id)


def _hold_reason(state: _Run, item: Fired) -> str:
    rule = state.rules.get(item.rule_id)
    return f"Rule {rule.name if rule else item.rule_id}: {item.reason}"[:1000]


def _write(state: _Run, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    if inserts:
        # Table-level INSERT: the ORM's bulk path would add its per-row bookkeeping for rows it never loads again.
        db.session.execute(insert(RuleOutcome.__table__), inserts)
    if updates:
        # Bulk UPDATE by primary key groups rows by the columns they set; keep the two shapes apart.
        for shape in {tuple(sorted(u)) for u in updates}:
            db.session.execute(update(RuleOutcome), [u for u in updates if tuple(sorted(u)) == shape])
    record_changes("claim", [
        Change(row["claim_id"], AuditAction.CLAIM_DELAYED, reason=row["reason"],
               data={"until": row["delay_until"].isoformat(), "run": state.run.id})
        for row in inserts if row["kind"] is OutcomeKind.DELAY], actor=state.actor)


def _move_claims(state: _Run, to_hold: dict[int, str], to_lift: list[int]) -> None:
    """Holds go through the claims' own operations, so each writes its status history."""
    if not to_hold and not to_lift:
        return
    claims = {c.id: c for c in db.session.scalars(select(Claim).where(any_of(Claim.id, [*to_hold, *to_lift])))}
    for claim_id, reason in to_hold.items():
        hold_claim(claims[claim_id], reason=reason, actor=state.actor, data={RUN_KEY: state.run.id})
        db.session.execute(
            update(RuleOutcome)
            .where(RuleOutcome.claim_id == claim_id, RuleOutcome.kind == OutcomeKind.HOLD,
                   RuleOutcome.resolved_at.is_(None))
            .values(placed_hold=True)
        )
        state.result.holds_placed += 1
    placed_by_a_run = _held_by_a_run(to_lift)
    for claim_id in to_lift:
        claim = claims[claim_id]
        if claim_id not in placed_by_a_run:
            continue  # someone re-held it by hand since; a person's hold stays
        try:
            release_claim(claim, actor=state.actor)
        except NotAllowed:
            continue  # still missing pieces (policy, rate): the claim stays Held for a person to look at
        state.result.holds_lifted += 1
        for change in state.result.changes:
            change.released = change.released or change.claim_id == claim_id


def _held_by_a_run(claim_ids: list[int]) -> set[int]:
    """The claims whose latest hold a billing run placed (its history row names the run), not a person."""
    if not claim_ids:
        return set()
    latest = (
        select(func.max(StatusChange.id))
        .where(StatusChange.subject_type == "claim", any_of(StatusChange.subject_id, claim_ids),
               StatusChange.action == AuditAction.CLAIM_HELD)
        .group_by(StatusChange.subject_id)
    )
    rows = db.session.execute(select(StatusChange.subject_id, StatusChange.data).where(any_of(StatusChange.id, latest)))
    return {claim_id for claim_id, data in rows if isinstance(data, dict) and data.get(RUN_KEY) is not None}


def _record_checks(state: _Run, chunk: dict[int, tuple[ClaimStatus, int]], moved: list[int]) -> None:
    """Note the version of each claim this run saw, after its own holds and releases: a later change shows.

    The chunk was read with its versions; only the claims this run held or released have a newer one.
    """
    versions = {claim_id: version for claim_id, (_, version) in chunk.items()}
    if moved:
        db.session.flush()
        newer = db.session.execute(select(Claim.id, Claim.version).where(any_of(Claim.id, moved)))
        versions.update((row[0], row[1]) for row in newer)
    db.session.execute(delete(RulesCheck.__table__).where(any_of(RulesCheck.claim_id, list(versions))))
    rows = [{"claim_id": claim_id, "claim_version": version, "run_id": state.run.id, "checked_at": state.now}
            for claim_id, version in versions.items()]
    # One COPY on PostgreSQL: psycopg's executemany is an INSERT per row (856,102 for a billing company's Ready
    # claims).
    write_rows(db.session.connection(), RulesCheck.__table__, rows)


def _finish(state: _Run, checked: int) -> None:
    result = state.result
    result.claims_checked = checked
    result.claims_failing = db.session.scalar(
        select(func.count(func.distinct(RuleOutcome.claim_id))).where(
            RuleOutcome.last_run_id == state.run.id, RuleOutcome.resolved_at.is_(None),
            RuleOutcome.kind.in_([k.value for k in BLOCKING]),
        )
    ) or 0
    run = state.run
    run.finished_at = utcnow()
    run.claims_checked, run.claims_failing, run.rule_errors = checked, result.claims_failing, result.rule_errors
    run.holds_placed, run.holds_lifted, run.outcomes_resolved = (
        result.holds_placed, result.holds_lifted, result.outcomes_resolved)
    db.session.flush()
