"""Billing runs: failures recorded and resolved, holds placed and lifted, delays, errors, run numbers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing.claims.operations import hold_claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.people.models import ClientDiagnosis
from rules.eligibility import submission_blockers
from rules.models import BillingRun, OutcomeKind, RuleOutcome
from rules.operations import rule_document, save_rule
from rules.runs import run_rules
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

TODAY = DAY + timedelta(days=10)


def _run(**kwargs):
    result = run_rules(actor=SYSTEM, today=kwargs.pop("today", TODAY), **kwargs)
    db.session.expire_all()
    return result


def _outcomes(claim, **where):
    query = select(RuleOutcome).where(RuleOutcome.claim_id == claim.id).order_by(RuleOutcome.id)
    for key, value in where.items():
        query = query.where(getattr(RuleOutcome, key) == value)
    return list(db.session.scalars(query))


@pytest.fixture
def world():
    return build_world()


def test_a_failing_rule_records_a_failed_charge_and_blocks_submission(world):
    claim = world.claim()
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail("too few units"))
    result = _run()
    [outcome] = _outcomes(claim)
    expected = (OutcomeKind.FAILURE, "too few units", result.run_number)
    assert (outcome.kind, outcome.reason, outcome.last_run_id) == expected
    assert outcome.resolved_at is None
    assert result.claims_checked == 1
    assert result.claims_failing == 1
    assert "failed rule 'Few units'" in submission_blockers([claim.id], today=TODAY)[claim.id]


def test_runs_are_numbered_and_record_their_counts(world):
    world.claim()
    first, second = _run(), _run()
    assert second.run_number == first.run_number + 1
    run = db.session.get(BillingRun, second.run_number)
    assert run.finished_at is not None
    assert run.claims_checked == 1


def test_oldest_failure_date_survives_later_runs(world):
    claim = world.claim()
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    first = _run()
    [before] = _outcomes(claim)
    first_at = before.first_failed_at
    second = _run()
    [after] = _outcomes(claim)
    assert after.id == before.id
    assert after.first_failed_at == first_at
    assert after.first_run_id == first.run_number
    assert after.last_run_id == second.run_number
    assert after.last_failed_at >= first_at


def test_a_rule_edit_takes_effect_on_the_next_run(world):
    claim = world.claim()
    rule = make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    _run()
    save_rule({**rule_document(rule), "conditions": leaf("units", "greater_than", 100)}, actor=SYSTEM, rule=rule)
    result = _run()
    [outcome] = _outcomes(claim)
    assert outcome.resolved_at is not None
    assert outcome.resolved_run_id == result.run_number
    assert claim.id not in submission_blockers([claim.id], today=TODAY)


def test_fixing_the_cause_and_reprocessing_clears_the_failure(world):
    claim = world.claim()
    make_rule("No diagnosis", conditions=leaf("diagnosis_count", "less_than", 3), actions=fail())
    _run()
    assert claim.id in submission_blockers([claim.id], today=TODAY)
    db.session.add(ClientDiagnosis(client_id=world.client.id, position=3, code="F419"))
    claim.diagnoses.append(type(claim.diagnoses[0])(position=3, code="F419"))
    db.session.flush()
    result = _run(claim_ids=[claim.id])
    assert [c.resolved for c in result.changes]
    assert result.outcomes_resolved == 1
    assert claim.id not in submission_blockers([claim.id], today=TODAY)


def test_a_rule_hold_is_lifted_when_the_claim_passes_but_a_manual_hold_stays(world):
    by_rule, by_person = world.claim(), world.claim(day=DAY + timedelta(days=1))
    rule = make_rule("Hold all", conditions=leaf("units", "greater_than", 0),
                     actions=[{"name": "hold_claim", "params": {"reason": "check"}}])
    _run()
    assert by_rule.status is ClaimStatus.HELD
    assert by_person.status is ClaimStatus.HELD
    [hold] = _outcomes(by_rule)
    assert hold.placed_hold
    # A person releases one claim and holds it again for their own reason.
    by_person.status = ClaimStatus.READY  # test shortcut to re-hold by hand below
    hold_claim(by_person, reason="waiting for the parent's call", actor=SYSTEM)
    save_rule({**rule_document(rule), "enabled": False}, actor=SYSTEM, rule=rule)
    result = _run()
    assert by_rule.status is ClaimStatus.READY
    assert by_rule.hold_reason is None
    assert by_person.status is ClaimStatus.HELD
    assert by_person.hold_reason == "waiting for the parent's call"
    assert result.holds_lifted == 1


def test_delays_release_on_their_date(world):
    claim = world.claim()
    make_rule("Wait a week", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "delay_claim", "params": {"days": 7, "reason": "wait for the auth"}}])
    _run()
    [delay] = _outcomes(claim)
    assert delay.delay_until == TODAY + timedelta(days=7)
    assert "delayed until" in submission_blockers([claim.id], today=TODAY + timedelta(days=6))[claim.id]
    assert claim.id not in submission_blockers([claim.id], today=TODAY + timedelta(days=7))
    _run(today=TODAY + timedelta(days=3))
    [still] = _outcomes(claim)
    assert still.delay_until == delay.delay_until  # later runs do not push the date out


def test_a_rule_that_raises_is_a_rule_error_and_the_run_goes_on(world):
    claim = world.claim()
    make_rule("Auth ends soon", conditions=leaf("days_until_authorization_end", "less_than", 7), actions=fail())
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail("few"))
    result = _run()
    kinds = sorted(o.kind.value for o in _outcomes(claim))
    assert kinds == ["error", "failure"]
    assert result.rule_errors == 1
    assert "rule error in 'Auth ends soon'" in submission_blockers([claim.id], today=TODAY)[claim.id]


def test_warnings_never_block(world):
    claim = world.claim()
    make_rule("Heads up", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "warn", "params": {"message": "look"}}])
    _run()
    assert [o.kind for o in _outcomes(claim)] == [OutcomeKind.WARNING]
    assert claim.id not in submission_blockers([claim.id], today=TODAY)


def test_rule_scope_limits_the_claims_it_applies_to(world):
    claim = world.claim()
    other = build_world()
    make_rule("Other payer only", conditions=leaf("units", "greater_than", 0), actions=fail(),
              scope={"payer_id": other.payer.id})
    _run()
    assert _outcomes(claim) == []


def test_run_scope_by_claims_and_location(world):
    claim = world.claim()
    elsewhere = build_world().claim()
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    result = _run(location_id=world.location.id)
    assert result.claims_checked == 1
    assert _outcomes(elsewhere) == []
    assert _outcomes(claim)
    assert _run(claim_ids=[elsewhere.id]).claims_checked == 1


def test_submitted_claims_are_not_checked(world):
    claim = world.claim()
    from tests.worlds.claims import walk_to

    walk_to(claim, ClaimStatus.SUBMITTED)
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    assert _run().claims_checked == 0
    assert db.session.scalar(select(func.count()).select_from(RuleOutcome)) == 0


def test_blockers_keep_the_status_reason_first(world):
    claim = world.claim()
    hold_claim(claim, reason="by hand", actor=SYSTEM)
    assert submission_blockers([claim.id], today=date(2026, 3, 3)) == {claim.id: "claim is Held"}


def test_a_stored_rule_that_no_longer_validates_fails_closed(world):
    claim = world.claim()
    rule = make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    rule.conditions = leaf("units", "not_an_operator", 1)  # written behind the editor's back
    db.session.flush()
    for engine in ("compiled", "business-rules"):
        result = _run(engine=engine)
        [outcome] = _outcomes(claim, resolved_at=None)
        assert outcome.kind is OutcomeKind.ERROR
        assert "rule is invalid" in outcome.reason
        assert result.rule_errors == 1


def test_both_engines_and_any_chunk_size_give_the_same_run(world):
    claims = [world.claim(day=DAY + timedelta(days=i)) for i in range(3)]
    claims[1].diagnoses.clear()
    make_rule("No diagnosis", conditions=leaf("diagnosis_count", "less_than", 1), actions=fail("dx"))
    make_rule("Auth ends soon", conditions=leaf("days_until_authorization_end", "less_than", 7), actions=fail())
    make_rule("Heads up", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "warn", "params": {"message": "look"}}])
    seen = []
    for engine, chunk_size in (("compiled", 2000), ("business-rules", 2000), ("compiled", 1), ("business-rules", 1)):
        db.session.execute(RuleOutcome.__table__.delete())
        result = _run(engine=engine, chunk_size=chunk_size)
        rows = db.session.execute(select(RuleOutcome.claim_id, RuleOutcome.rule_id, RuleOutcome.kind,
                                         RuleOutcome.reason).order_by(RuleOutcome.claim_id, RuleOutcome.rule_id))
        # An error's text is the engine's own (business-rules raises bare AssertionErrors); the rest must match.
        seen.append(([(c, r, k, None if k is OutcomeKind.ERROR else why) for c, r, k, why in rows],
                     result.claims_failing, result.rule_errors))
    assert all(s == seen[0] for s in seen)
    assert seen[0][1] == 3  # every claim fails closed on the rule error
    assert seen[0][2] == 3


def test_a_claim_held_by_a_person_is_not_checked_and_says_so(world):
    claim = world.claim()
    hold_claim(claim, reason="call the parent", actor=SYSTEM)
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    result = _run(claim_ids=[claim.id])
    assert result.claims_checked == 0
    assert result.skipped == [f"{claim.number} not checked: it is held by a person"]


def test_a_voided_claim_drops_its_open_failures_on_the_next_run(world):
    claim = world.claim()
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    _run()
    walk_to(claim, ClaimStatus.VOIDED)
    result = _run()
    [outcome] = _outcomes(claim)
    assert outcome.resolved_at is not None
    assert result.outcomes_resolved == 1
    assert "(claim is Voided)" in result.changes[0].describe()


def test_a_rule_hold_placed_then_a_person_releases_then_rules_hold_again(world):
    claim = world.claim()
    make_rule("Hold all", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "hold_claim", "params": {"reason": "check"}}])
    first = _run()
    assert claim.status is ClaimStatus.HELD
    assert claim.hold_reason == "Rule Hold all: check"
    assert first.holds_placed == 1
    [hold] = _outcomes(claim)
    again = _run()
    [same] = _outcomes(claim)
    assert same.id == hold.id  # still held, the same open outcome
    assert again.holds_placed == 0


@pytest.mark.parametrize(
    ("operator", "day", "fires"),
    [("before", DAY, False), ("on_or_before", DAY, True), ("equal_to", DAY, True), ("after", DAY, False),
     ("on_or_after", DAY, True), ("before", DAY + timedelta(days=1), True), ("after", DAY - timedelta(days=1), True)],
)
def test_date_rules_compare_the_service_date(world, operator, day, fires):
    claim = world.claim()
    make_rule("Dated", conditions=leaf("service_date", operator, day.isoformat()), actions=fail("dated"))
    _run()
    assert bool(_outcomes(claim)) is fires


def test_a_date_rule_on_a_missing_authorization_is_a_rule_error(world):
    claim = world.claim()
    make_rule("Auth ends", conditions=leaf("authorization_ends_on", "before", "2026-06-30"), actions=fail())
    _run()
    [outcome] = _outcomes(claim)
    assert outcome.kind is OutcomeKind.ERROR
    assert "authorization_ends_on has no date" in outcome.reason


@pytest.mark.parametrize("scope", [{"company_id": 10**20}, {"practice_id": 2**63}, {"location_id": 0}])
def test_a_scope_id_beyond_any_id_is_refused_not_sent_to_the_database(scope):
    with pytest.raises(ValidationFailed) as refused:
        _run(**scope)
    assert "has the id" in refused.value.message


def test_the_cli_refuses_a_huge_scope_id_in_one_line(app):
    result = app.test_cli_runner().invoke(args=["rules", "run", "--company", "9" * 25])
    assert result.exit_code == 2  # a usage error: the option's type refuses it before anything runs
    assert isinstance(result.exception, SystemExit)
    assert f"'{'9' * 25}' is not a record id" in result.output
    assert "Traceback" not in result.output


def _values_bound(params) -> int:
    """How many values a statement sends: an array (PostgreSQL's = ANY) counts each of its elements."""
    if isinstance(params, dict):
        params = list(params.values())
    if params and isinstance(params[0], (dict, tuple, list)) and not isinstance(params, tuple):
        return sum(_values_bound(p) for p in params)
    return sum(len(v) if isinstance(v, (list, tuple)) else 1 for v in params)


def test_named_claims_are_sent_a_chunk_at_a_time_not_whole_with_every_chunk(world):
    """A submission names every Ready claim; the run read them in chunks, binding the whole list to each chunk's
    query (856,102 ids, 428 times). What the run sends now grows with the claims, not with their square."""
    from sqlalchemy import event

    claims = [world.claim(day=DAY - timedelta(days=i)) for i in range(48)]
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail())
    db.session.flush()

    def sent(named: list[int]) -> int:
        total = 0

        def count(conn, cursor, statement, params, context, executemany):
            nonlocal total
            total += _values_bound(params)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = _run(claim_ids=named, chunk_size=1)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert result.claims_checked == len(named)
        return total

    few, many = sent([c.id for c in claims[:24]]), sent([c.id for c in claims])
    # Measured: 693 and 1,221 values sent; with the whole list bound to every chunk, 1,346 and 3,674.
    assert many < 2.2 * few, (few, many)


def test_a_run_over_many_named_claims_keeps_their_count_and_the_first_few(world):
    from admin_views.rules import _run_scope
    from rules.runs import SCOPE_CLAIMS_KEPT

    claims = [world.claim(day=DAY - timedelta(days=i)) for i in range(SCOPE_CLAIMS_KEPT + 5)]
    result = _run(claim_ids=[c.id for c in claims])
    run = db.session.get(BillingRun, result.run_number)
    assert run.scope["claim_count"] == len(claims)
    assert run.scope["claims"] == [c.number for c in claims[:SCOPE_CLAIMS_KEPT]]
    assert _run_scope(run).startswith(f"{len(claims)} claim(s): {claims[0].number}, ")


def test_a_run_that_reports_no_claim_one_by_one_keeps_the_counts_and_the_outcomes(world):
    """A submission's run (report_each=False) names every Ready claim only to check them: nothing per claim in the
    result, the same outcomes and counts as a reported run."""
    claim = world.claim()
    make_rule("Few units", conditions=leaf("units", "less_than", 100), actions=fail("too few units"))
    reported = _run(claim_ids=[claim.id])
    quiet = _run(claim_ids=[claim.id], report_each=False)
    assert [c.claim_id for c in reported.changes] == [claim.id]
    assert (quiet.changes, quiet.skipped) == ([], [])
    assert (quiet.claims_checked, quiet.claims_failing) == (reported.claims_checked, reported.claims_failing) == (1, 1)
    [outcome] = _outcomes(claim)
    assert (outcome.first_run_id, outcome.last_run_id) == (reported.run_number, quiet.run_number)
