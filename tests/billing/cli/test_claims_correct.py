"""`flask claims correct NUMBER --reason ...`: the corrected claim (frequency 7) for a claim the payer has."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import DAY


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_correct_creates_the_frequency_7_replacement(flask, world):
    claim = submitted_claim(world)
    db.session.commit()  # the command commits or rolls back its own unit of work
    result = flask("claims", "correct", claim.number, "--reason", "wrong units", "--payer-claim-number", "ICN9",
                   "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    corrected = db.session.get(Claim, Claim.id_from_number(out["corrected"]))
    assert (out["original"], out["frequency_code"], out["payer_claim_number"]) == (claim.number, "7", "ICN9")
    assert corrected.original_claim_id == claim.id
    assert corrected.status is ClaimStatus.READY


def test_correct_needs_a_reason_and_a_sent_claim(flask, world):
    ready = world.claim()
    db.session.commit()
    refused = flask("claims", "correct", ready.number, "--reason", "typo", "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.output)["ok"] is False
    sent = submitted_claim(world, day=DAY + timedelta(days=2))
    db.session.commit()  # the command commits or rolls back its own unit of work
    blank = flask("claims", "correct", sent.number, "--reason", " ", "--json")
    assert blank.exit_code == 1
    assert json.loads(blank.output)["kind"] == "invalid"
