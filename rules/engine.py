"""Evaluate rules for one claim's facts: compiled (for runs) or through business-rules' run_all (the reference).

Both paths isolate rules from each other: a rule that raises becomes a rule error on that claim
(fail closed) and the other rules still run, which run_all alone would not do.

A rule that takes longer than RULE_BUDGET on one claim fails the same way. Python cannot stop a
running function from outside except by a signal, and signals reach only the main thread (runs
also happen in web requests and scheduler threads), so the budget is checked when control comes
back: after the claim's rules, and for a claim over it, after each rule. That is enough because no
condition can run long: facts are loaded before evaluation (a condition does no I/O), text is
bounded by its column, rules are bounded in size by validation, and regular expressions match on
RE2 in time linear in the text (rules/regex.py). The budget is the backstop for what those bounds
do not foresee.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from business_rules import run_all
from sqlalchemy import select

from billing.core.db import db
from billing.core.errors import ValidationFailed
from rules.compiler import CompiledRule, RuleEvaluationError, compile_rule
from rules.models import OutcomeKind, Rule
from rules.validation import normalized_conditions
from rules.variables import ClaimActions, ClaimFacts, ClaimVariables, Fired

COMPILED = "compiled"
BUSINESS_RULES = "business-rules"
ENGINES = (COMPILED, BUSINESS_RULES)

#: Seconds one rule may take on one claim. A rule normally takes microseconds; a run is shared with
#: web requests and other processes on two cores, so the budget leaves wide room for a stalled thread.
RULE_BUDGET = 0.5
#: The clock the budget is measured with (monotonic; tests replace it).
clock: Callable[[], float] = time.perf_counter


def error_fired(rule_id: int, exc: BaseException) -> Fired:
    detail = str(exc) or type(exc).__name__
    return Fired(rule_id, OutcomeKind.ERROR, f"Rule could not be evaluated: {detail}"[:500])


def over_budget(rule_id: int, seconds: float) -> Fired:
    return Fired(rule_id, OutcomeKind.ERROR, f"Rule could not be evaluated: it took {seconds:.2f} s on this claim, "
                                             f"over the {RULE_BUDGET:g} s a rule may take")


def evaluate(rules: Sequence[CompiledRule], facts: ClaimFacts) -> list[Fired]:
    """What the rules that apply to this claim ask for, in rule order.

    The claim as a whole is timed (a clock read per rule would add a fifth to evaluation). Only a claim
    that took longer than one rule may is evaluated again rule by rule, timed, to find the rule over
    its budget; a one-off stall that no rule caused (a descheduled thread) then finds none.
    """
    started = clock()
    fired = _evaluate(rules, facts)
    if clock() - started <= RULE_BUDGET:
        return fired
    return _evaluate_timed(rules, facts)


def _evaluate(rules: Sequence[CompiledRule], facts: ClaimFacts) -> list[Fired]:
    fired: list[Fired] = []
    for rule in rules:
        if rule.scoped and not rule.applies_to(facts):
            continue
        try:
            if rule.test(facts):
                fired += rule.fired
        except Exception as exc:  # any failure of one rule on one claim fails that claim closed
            fired.append(error_fired(rule.rule_id, exc))
    return fired


def _evaluate_timed(rules: Sequence[CompiledRule], facts: ClaimFacts) -> list[Fired]:
    """The same, each rule timed: one over its budget is a rule error, whatever it answered."""
    fired: list[Fired] = []
    for rule in rules:
        if rule.scoped and not rule.applies_to(facts):
            continue
        started = clock()
        try:
            hit = rule.test(facts)
        except Exception as exc:  # as above
            fired.append(error_fired(rule.rule_id, exc))
            continue
        seconds = clock() - started
        if seconds > RULE_BUDGET:
            fired.append(over_budget(rule.rule_id, seconds))
        elif hit:
            fired += rule.fired
    return fired


def evaluate_with_business_rules(
    rules: Iterable[tuple[CompiledRule, dict[str, Any]]], facts: ClaimFacts
) -> list[Fired]:
    """The same evaluation through business-rules' own run_all, one rule at a time (the differential reference)."""
    fired: list[Fired] = []
    variables = ClaimVariables(facts)
    for compiled, rule_json in rules:
        if not compiled.applies_to(facts):
            continue
        if not compiled.valid:  # never hand unvalidated JSON to business-rules' getattr lookups
            fired.extend(evaluate([compiled], facts))
            continue
        actions = ClaimActions(compiled.rule_id)
        started = clock()
        try:
            run_all([rule_json], variables, actions)
        except Exception as exc:  # run_all raises on the first bad rule; keep the others going
            fired.append(error_fired(compiled.rule_id, exc))
            continue
        seconds = clock() - started
        fired.extend([over_budget(compiled.rule_id, seconds)] if seconds > RULE_BUDGET else actions.fired)
    return fired


def enabled_rules() -> list[Rule]:
    return list(db.session.scalars(select(Rule).where(Rule.enabled).order_by(Rule.position, Rule.id)))


def compile_stored(rule: Rule) -> CompiledRule:
    """A stored rule, compiled; one that no longer validates fails every claim it applies to, closed."""
    scope = {"company_id": rule.scope_company_id, "practice_id": rule.scope_practice_id,
             "payer_id": rule.scope_payer_id}
    try:
        return compile_rule(rule.id, rule.name, rule.conditions, rule.actions, **scope)
    except ValidationFailed as exc:
        message = f"rule is invalid ({exc.message})"

        def broken(facts: ClaimFacts) -> bool:
            raise RuleEvaluationError(message)

        return CompiledRule(rule.id, rule.name, broken, (), **scope, valid=False)


def business_rules_json(rule: Rule) -> dict[str, Any]:
    return {"conditions": normalized_conditions(rule.conditions), "actions": rule.actions}


Evaluator = Callable[[ClaimFacts], list[Fired]]


def evaluator_for(rules: Sequence[Rule], *, engine: str = COMPILED) -> tuple[list[CompiledRule], Evaluator]:
    """The rules compiled once for a run, and the function that evaluates them for one claim.

    `engine="business-rules"` evaluates through business-rules' own run_all instead (same results,
    several times slower): the reference for cross-checking the compiled path on real data.
    """
    compiled = [compile_stored(rule) for rule in rules]
    if engine == COMPILED:
        return compiled, lambda facts: evaluate(compiled, facts)
    if engine != BUSINESS_RULES:
        raise ValueError(f"unknown rules engine {engine!r}")
    # An invalid stored rule only ever raises; its JSON (perhaps nested past any limit) is never walked.
    pairs = [(c, business_rules_json(rule) if c.valid else {}) for c, rule in zip(compiled, rules, strict=True)]
    return compiled, lambda facts: evaluate_with_business_rules(pairs, facts)
