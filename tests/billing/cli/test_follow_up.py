"""`flask filing deadlines` and `flask follow-up list|note|assign` through the CLI runner, with --json."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.time import practice_today
from billing.people.models import Role
from billing.submissions.follow_up import notes_of
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import build_world


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_deadlines_lists_late_claims_as_json(cli):
    claim = build_world().claim()  # months past the 90-day limit
    walk_to(build_world().claim(), ClaimStatus.SUBMITTED)  # with the payer: not listed
    result = cli("filing", "deadlines", "--within", "0", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    deadline = claim.service_date + timedelta(days=90)
    assert (row["claim"], row["deadline"], row["late"]) == (claim.number, deadline.isoformat(), True)
    assert row["days_left"] == (deadline - practice_today()).days
    assert "days late" in cli("filing", "deadlines").output


def test_note_assign_and_list(cli):
    claim = walk_to(build_world().claim(), ClaimStatus.SUBMITTED)
    biller = f.UserFactory(role=Role.BILLER, email="bea@example.test", name="Bea")
    db.session.flush()
    today = practice_today()
    noted = cli("follow-up", "note", claim.number, "Called, in process.", "--next", today.isoformat(), "--json")
    assert noted.exit_code == 0, noted.output
    assert json.loads(noted.output)["next_follow_up_on"] == today.isoformat()
    assigned = cli("follow-up", "assign", claim.number, "BEA@example.test", "--json")
    assert json.loads(assigned.output) == {"claim": claim.number, "assignee": "bea@example.test"}
    [row] = json.loads(cli("follow-up", "list", "--assignee", "bea@example.test", "--json").output)
    assert (row["claim"], row["assignee"], row["last_note"]) == (claim.number, "Bea", "Called, in process.")
    assert biller.id == row["assignee_id"]
    assert json.loads(cli("follow-up", "list", "--company", "999999", "--json").output) != []  # unknown: all


def test_refusals_change_nothing(cli):
    claim = walk_to(build_world().claim(), ClaimStatus.SUBMITTED)
    ready = build_world().claim()
    db.session.commit()  # a refusal rolls the command's unit of work back: the setup must outlive it
    past = (practice_today() - timedelta(days=1)).isoformat()
    refused = cli("follow-up", "note", claim.number, "late note", "--next", past, "--json")
    assert refused.exit_code == 1
    assert "next follow-up date" in json.loads(refused.output)["error"]
    assert notes_of(claim) == []
    unknown = cli("follow-up", "assign", claim.number, "nobody@example.test")
    assert unknown.exit_code == 1
    assert "No user has the email" in unknown.output
    assert "only a claim waiting at the payer" in cli("follow-up", "note", ready.number, "x").output
