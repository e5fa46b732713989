"""No claim leaves unchecked: generating a batch (service, page, CLI, job) runs the rules on the candidate claims
first, and batches only what they let through; the New submission page marks claims the rules have not seen as
they are now."""

from __future__ import annotations

import json
from datetime import time

import pytest
from sqlalchemy import func, select

from billing.claims.operations import LineChange, edit_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import NothingToDo
from billing.people.models import Role
from billing.submissions.jobs import submit_ready_claims
from billing.submissions.models import SubmissionBatch
from billing.submissions.operations import create_batches, generate_batches
from billing.submissions.queries import candidates
from rules.eligibility import unchecked_claims
from rules.models import BillingRun, OutcomeKind
from rules.runs import run_rules
from tests.conftest import csrf_token
from tests.worlds.claims import history
from tests.worlds.practice import SYSTEM
from tests.worlds.rules import leaf, make_rule
from tests.worlds.submissions import build_submission_world

TOO_MANY = "More than 4 units need a second look."


@pytest.fixture
def world():
    world = build_submission_world()
    make_rule("Long session", conditions=leaf("units", "greater_than", 4),
              actions=[{"name": "hold_claim", "params": {"reason": TOO_MANY}}])
    return world


def _checked_pair(world):
    """Two Ready claims (4 units each) the rules have just passed."""
    first = world.ready_claim()
    second = world.ready_claim(start=time(9, 0), provider=_other_provider(world))
    run_rules(actor=SYSTEM)
    db.session.flush()
    assert (first.status, second.status) == (ClaimStatus.READY, ClaimStatus.READY)
    assert unchecked_claims([first.id, second.id]) == set()
    return first, second


def _other_provider(world):
    from tests.worlds import factories as f

    return f.ProviderFactory(company=world.company)


def _in_file(batch: SubmissionBatch, number: str) -> bool:
    return f"CLM*{number}*" in batch.content


def test_a_claim_edited_after_its_last_run_is_held_at_generate_and_left_out_of_the_file(world):
    first, second = _checked_pair(world)
    edit_claim(second, actor=SYSTEM, lines=[LineChange(1, units=8)])
    db.session.flush()
    assert unchecked_claims([first.id, second.id]) == {second.id}
    assert {c.number: c.unchecked for c in candidates()} == {first.number: False, second.number: True}
    runs_before = db.session.scalar(select(func.count()).select_from(BillingRun))

    generation = generate_batches(actor=SYSTEM)

    [batch] = generation.batches
    assert _in_file(batch, first.number)
    assert not _in_file(batch, second.number)
    assert batch.claim_count == 1
    [stop] = generation.held
    assert (stop.number, stop.rule, stop.kind, stop.reason, stop.new) == (
        second.number, "Long session", OutcomeKind.HOLD, TOO_MANY, True)
    assert second.status is ClaimStatus.HELD
    held = [h for h in history(second) if h.action is AuditAction.CLAIM_HELD]
    assert held[-1].data == {"run": generation.run_number}
    assert db.session.scalar(select(func.count()).select_from(BillingRun)) == runs_before + 1


def test_a_modifier_only_edit_counts_as_a_change(world):
    first, _ = _checked_pair(world)
    edit_claim(first, actor=SYSTEM, lines=[LineChange(1, modifiers="HN")])
    db.session.flush()
    assert unchecked_claims([first.id]) == {first.id}


def test_a_claim_billed_today_is_unchecked_until_a_run_sees_it(world):
    claim = world.ready_claim()
    db.session.flush()
    assert unchecked_claims([claim.id]) == {claim.id}
    generate_batches(actor=SYSTEM)
    assert unchecked_claims([claim.id]) == set()


def test_chosen_claims_the_rules_stop_are_reported_not_refused(world):
    first, second = _checked_pair(world)
    edit_claim(second, actor=SYSTEM, lines=[LineChange(1, units=8)])
    generation = generate_batches(actor=SYSTEM, claim_ids={first.id, second.id})
    assert [s.number for s in generation.held] == [second.number]
    assert [b.claim_count for b in generation.batches] == [1]


def test_when_the_rules_stop_every_claim_the_run_stands_and_no_batch_is_made(world):
    claim = world.ready_claim(minutes=120)  # 8 units
    generation = generate_batches(actor=SYSTEM)
    assert generation.batches == []
    assert [s.number for s in generation.held] == [claim.number]
    assert claim.status is ClaimStatus.HELD
    assert db.session.scalar(select(func.count()).select_from(SubmissionBatch)) == 0
    # The callers that want batches are told why there are none.
    world.ready_claim(minutes=120, start=time(14, 0), provider=_other_provider(world))
    with db.session.begin_nested(), pytest.raises(NothingToDo, match="the rules stopped C-"):
        create_batches(actor=SYSTEM)


def test_the_job_names_what_the_rules_held(world, app):
    claim = world.ready_claim(minutes=120)
    db.session.commit()
    report = submit_ready_claims(actor=SYSTEM)
    assert report.blocked == [f"{claim.number}: Held by rule 'Long session': {TOO_MANY}"]
    assert "LEFT OUT" in report.summary()


def test_flask_submissions_create_json_lists_what_the_rules_held(world, app):
    _first, second = _checked_pair(world)
    edit_claim(second, actor=SYSTEM, lines=[LineChange(1, units=8)])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["submissions", "create", "--all", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [b["claims"] for b in data["batches"]] == [1]
    assert data["held"] == [{"claim": second.number, "rule": "Long session", "outcome": "hold", "reason": TOO_MANY,
                             "new": True}]
    text = app.test_cli_runner().invoke(args=["submissions", "create", "--all"])
    assert text.exit_code == 1  # nothing left to batch: the held claim stays held
    assert "no eligible claims" in text.output.lower()


def test_the_generate_page_marks_unchecked_claims_and_shows_what_the_rules_held(world, client, login):
    first, second = _checked_pair(world)
    edit_claim(second, actor=SYSTEM, lines=[LineChange(1, units=8)])
    db.session.commit()
    login(Role.BILLER)
    page = client.get("/admin/submissions/new/").get_data(as_text=True)
    assert "data-unchecked-note" in page
    assert page.count("data-unchecked ") + page.count("data-unchecked>") == 1
    response = client.post("/admin/submissions/generate/", data={
        "payer": "all", "claim_id": [str(first.id), str(second.id)],
        "csrf_token": csrf_token(client, "/admin/submissions/new/")})
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert "data-rules-held" in shown
    assert f'data-held-claim="{second.number}"' in shown
    assert "Long session" in shown
    assert TOO_MANY in shown
    db.session.expire_all()
    [batch] = db.session.scalars(select(SubmissionBatch)).all()
    assert _in_file(batch, first.number)
    assert not _in_file(batch, second.number)
