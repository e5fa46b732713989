"""Refusals are types: each is a BillingError of one category; views and commands run operations one way."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select

from admin_views.operations import form_problems, run_operation
from billing.claims.models import Claim
from billing.claims.operations import hold_claim, release_claim
from billing.claims.queries import ClaimNotFound
from billing.claims.statuses import ClaimStatus, TransitionNotAllowed
from billing.core.audit import AuditAction, HistoryIsAppendOnly, StatusChange, record_change
from billing.core.db import db
from billing.core.errors import (
    BillingError,
    Conflict,
    Failed,
    Invalid,
    NotAllowed,
    NotFound,
    NothingToDo,
    Problem,
    ValidationFailed,
    raise_if,
)
from billing.edi.era import EraUnreadable
from billing.edi.segments import NotX12
from billing.jobs.definitions import UnknownJob, job_definition
from billing.ledger.guards import LedgerIsAppendOnly
from billing.payments.remittances import EraRefused
from billing.people.models import Role
from billing.submissions.operations import BatchRefused
from billing.submissions.sftp import SendFailed
from exports.reports import UnknownReport
from rules.runs import run_rules
from tests.conftest import csrf_token
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.rules import leaf, make_rule

ROOT = Path(__file__).resolve().parents[3]
CATEGORIES = {NotFound: "not_found", NotAllowed: "not_allowed", Conflict: "conflict", Invalid: "invalid",
              NothingToDo: "nothing_to_do", Failed: "failed"}


# --- the hierarchy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "kind"), CATEGORIES.items())
def test_each_category_is_a_billing_error_with_its_kind_and_a_docstring(category, kind):
    error = category("Shown as it is.")
    assert isinstance(error, BillingError)
    assert (error.message, str(error), category.kind) == ("Shown as it is.", "Shown as it is.", kind)
    assert (category.__doc__ or "").strip()


def test_the_categories_do_not_overlap():
    for category in CATEGORIES:
        assert [c for c in CATEGORIES if issubclass(category, c)] == [category]


def test_validation_failed_is_invalid_and_carries_its_problems_per_field():
    problems = [Problem("reason", "A hold needs a reason."), Problem("", "Check the dates.")]
    with pytest.raises(Invalid) as refused:
        raise_if(problems)
    assert isinstance(refused.value, ValidationFailed)
    assert refused.value.problems == problems
    assert refused.value.message == "reason: A hold needs a reason.; Check the dates."
    assert refused.value.kind == "invalid"
    raise_if([])  # no problems, no refusal


def test_invalid_without_field_problems_has_an_empty_list():
    assert Invalid("That is not a batch number.").problems == []


@pytest.mark.parametrize(("specific", "category"), [
    (ClaimNotFound, NotFound), (UnknownJob, NotFound), (UnknownReport, NotFound),
    (TransitionNotAllowed, NotAllowed), (LedgerIsAppendOnly, NotAllowed), (HistoryIsAppendOnly, NotAllowed),
    (BatchRefused, Invalid), (EraRefused, Invalid), (EraUnreadable, Invalid), (NotX12, Invalid),
    (SendFailed, Failed),
])
def test_the_specific_refusals_sit_under_their_category(specific, category):
    assert issubclass(specific, category)


def test_specific_refusals_keep_their_messages(world):
    with pytest.raises(NotFound, match=r"^There is no job 'nope'\. Jobs: "):
        job_definition("nope")
    refused = EraRefused("x.835", ["no BPR", "no TRN"])
    assert (refused.message, refused.problems) == ("x.835 was refused, nothing was posted: no BPR; no TRN",
                                                    ["no BPR", "no TRN"])
    claim = world.claim()
    with pytest.raises(NotAllowed, match=rf"^Claim {claim.number} is Ready, not Held; there is nothing to release\.$"):
        release_claim(claim, actor=SYSTEM)


def test_no_code_raises_a_bare_billing_error():
    bare = re.compile(r"raise BillingError\b")
    found = [f"{path.relative_to(ROOT)}:{number}"
             for package in ("billing", "rules", "exports", "admin_views", "demo")
             for path in sorted((ROOT / package).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if bare.search(line)]
    assert found == []


def test_form_problems_keeps_fields_and_makes_one_problem_of_any_other_refusal():
    problems = [Problem("reason", "Say why.")]
    assert form_problems(ValidationFailed(problems)) == problems
    assert form_problems(Conflict("Entry 4 was already reversed.")) == [Problem("", "Entry 4 was already reversed.")]


# --- run_operation: one helper for views ------------------------------------------------------------------


def _history_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(StatusChange))


def _claim_state(claim_id: int) -> tuple[ClaimStatus, str | None, int]:
    db.session.expire_all()
    claim = db.session.get(Claim, claim_id)
    return claim.status, claim.hold_reason, _history_rows()


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_a_refused_view_operation_flashes_the_message_and_changes_nothing(client, login, world):
    login(Role.BILLER)
    claim = world.claim()
    before = _claim_state(claim.id)
    token = csrf_token(client, "/admin/claim/")
    response = client.post(f"/admin/claim/do/hold/?id={claim.id}", data={"reason": "  ", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/claim/details/?id={claim.id}")
    assert ("error", "Reason: A hold needs a reason.") in _flashes(client)  # the field in words, not its name
    assert _claim_state(claim.id) == before


def test_a_successful_view_operation_flashes_its_text_and_goes_on(client, login, world):
    login(Role.BILLER)
    claim = world.claim()
    history = _history_rows()
    token = csrf_token(client, "/admin/claim/")
    response = client.post(f"/admin/claim/do/hold/?id={claim.id}",
                           data={"reason": "waiting for the parent's call", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/claim/details/?id={claim.id}")
    assert ("success", f"Claim {claim.number}: hold done; now Held.") in _flashes(client)
    assert _claim_state(claim.id) == (ClaimStatus.HELD, "waiting for the parent's call", history + 1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Claim {claim.number}: hold done; now Held." in page


def test_a_refusal_after_a_write_rolls_the_write_back(app, world):
    claim = world.claim()
    db.session.commit()  # the unit of work's rollback must undo the operation's write only
    history = _history_rows()

    def writes_then_refuses() -> None:
        record_change("claim", claim.id, AuditAction.CLAIM_HELD, actor=SYSTEM, reason="half done")
        db.session.flush()
        raise Conflict("Someone else changed this claim; reload the page.")

    with app.test_request_context("/"):
        response = run_operation(writes_then_refuses, success="never shown", back="/back", then="/onwards",
                                 refusal=lambda exc: f"Nothing was changed: {exc.message} ({exc.kind})")
        assert (response.status_code, response.headers["Location"]) == (302, "/back")
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Nothing was changed: Someone else changed this claim; reload the page. (conflict)")]
    assert _history_rows() == history


def test_success_text_and_target_can_come_from_the_result(app, world):
    claim = world.claim()
    db.session.commit()
    with app.test_request_context("/"):
        response = run_operation(lambda: claim, success=lambda found: f"Found {found.number}.", back="/back",
                                 then=lambda found: f"/claims/{found.id}")
        assert response.headers["Location"] == f"/claims/{claim.id}"
        assert get_flashed_messages(with_categories=True) == [("success", f"Found {claim.number}.")]


def test_an_error_that_is_not_a_refusal_is_not_swallowed(app):
    def broken() -> None:
        raise RuntimeError("a bug, not a refusal")

    with app.test_request_context("/"), pytest.raises(RuntimeError):
        run_operation(broken, success="never", back="/back")


# --- run_command: one helper for the CLI ------------------------------------------------------------------


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def ready(world) -> Claim:
    claim = world.claim()
    db.session.commit()  # the command commits or rolls back its own unit of work
    return claim


def test_a_refused_command_prints_one_line_and_exits_1(flask, ready):
    before = _claim_state(ready.id)
    result = flask("claims", "release", ready.number)
    assert result.exit_code == 1
    assert result.output == f"Error: Claim {ready.number} is Ready, not Held; there is nothing to release.\n"
    assert _claim_state(ready.id) == before


@pytest.mark.parametrize(("args", "kind", "error"), [
    (["claims", "release", "{n}"], "not_allowed", "Claim {n} is Ready, not Held; there is nothing to release."),
    (["claims", "show", "C-999999"], "not_found", "No claim has the number 'C-999999'."),
    (["submissions", "create", "--all"], "nothing_to_do", "There are no eligible claims to submit."),
])
def test_a_refusal_in_json_names_its_kind(flask, ready, args, kind, error):
    before = _claim_state(ready.id)
    result = flask(*(a.format(n=ready.number) for a in args), "--json")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert json.loads(result.output) == {"ok": False, "error": error.format(n=ready.number), "kind": kind}
    assert _claim_state(ready.id) == before


def test_invalid_input_in_json_lists_its_problems(flask, ready):
    result = flask("claims", "hold", ready.number, "--reason", " ", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"ok": False, "error": "reason: A hold needs a reason.", "kind": "invalid",
                                         "problems": ["reason: A hold needs a reason."]}


def test_a_command_that_succeeds_prints_its_text_or_its_data(flask, ready):
    held = flask("claims", "hold", ready.number, "--reason", "check the authorization")
    assert (held.exit_code, held.output) == (0, f"{ready.number} held; now held.\n")
    released = flask("claims", "release", ready.number, "--json")
    assert released.exit_code == 0, released.output
    assert json.loads(released.output) == {"ok": True, "number": ready.number, "status": "ready"}


# --- decisions taken from data, not from message text -----------------------------------------------------


def test_a_person_hold_whose_reason_looks_like_a_rule_hold_stays(world):
    """The rules lift only a hold their run placed (its history row names the run), whatever its reason says."""
    by_rule, by_person = world.claim(), world.claim(day=DAY + timedelta(days=1))
    rule = make_rule("Hold all", conditions=leaf("units", "greater_than", 0),
                     actions=[{"name": "hold_claim", "params": {"reason": "check"}}])
    run = run_rules(actor=SYSTEM, claim_ids=[by_rule.id, by_person.id])
    assert run.holds_placed == 2
    placed = db.session.scalars(select(StatusChange).where(
        StatusChange.subject_id == by_rule.id, StatusChange.action == AuditAction.CLAIM_HELD)).one()
    assert placed.data == {"run": run.run_number}
    # A person releases one and holds it again, with a reason that reads like a rule's.
    by_person.status = ClaimStatus.READY  # shortcut: a release would look coverage up again
    hold_claim(by_person, reason="Rule of thumb: ask the parent first", actor=SYSTEM)
    rule.enabled = False
    db.session.flush()
    again = run_rules(actor=SYSTEM, claim_ids=[by_rule.id, by_person.id])
    db.session.expire_all()
    assert again.holds_lifted == 1
    assert (by_rule.status, by_rule.hold_reason) == (ClaimStatus.READY, None)
    assert (by_person.status, by_person.hold_reason) == (ClaimStatus.HELD, "Rule of thumb: ask the parent first")
