"""`flask sessions finalize|bill-again|cancel` through the CLI runner: --json for scripts, one line on a refusal."""

from __future__ import annotations

import json

import pytest

from billing.claims.operations import retract_claim
from billing.claims.queries import claim_locking
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.sessions.models import TherapySession
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import SYSTEM


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["sessions", *args])


def test_finalize_then_bill_again_after_a_retraction(world, cli):
    visit = world.visit()
    db.session.commit()
    first = cli("finalize", str(visit.id), "--json")
    assert first.exit_code == 0, first.output
    [billed] = json.loads(first.output)["claims"]
    db.session.expire_all()
    retract_claim(claim_locking(visit.id), actor=SYSTEM)
    db.session.commit()
    again = cli("bill-again", str(visit.id), "--json")
    assert again.exit_code == 0, again.output
    [rebilled] = json.loads(again.output)["claims"]
    assert rebilled["number"] != billed["number"]
    assert rebilled["status"] == "ready"
    twice = cli("bill-again", str(visit.id))
    assert twice.exit_code == 1
    assert f"is billed on claim {rebilled['number']}" in twice.output


def test_cancel_while_the_claim_is_at_the_payer_is_refused_with_the_way_forward(world, cli):
    f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    visit = world.visit()
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], ClaimStatus.SUBMITTED)
    db.session.commit()
    refused = cli("cancel", str(visit.id), "--class", "no-show", "--json")
    assert refused.exit_code == 1
    error = json.loads(refused.output)
    assert f"Void claim {claim.number} (the payer is sent a void) or correct it" in json.dumps(error)
    db.session.expire_all()
    assert not db.session.get(TherapySession, visit.id).is_cancelled


def test_cancel_withdraws_an_unsent_claim_and_names_it(world, cli):
    f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    db.session.commit()
    done = cli("cancel", str(visit.id), "--class", "No-show", "--reason", "did not come")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (f"Session {visit.id} cancelled as No-show; claim {claim.number} was withdrawn "
                                   "(voided without sending).")
    unknown = cli("cancel", str(visit.id), "--class", "Snow day")
    assert unknown.exit_code == 1
    assert "There is no session class named 'Snow day'" in unknown.output
