"""`flask claims show NUMBER`: the claim's family (Posting rule 6), in text and in --json."""

from __future__ import annotations

import json

import pytest

from billing.claims.operations import correct_claim
from billing.core.db import db
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import SYSTEM


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_show_json_lists_the_family_with_roles(flask, world):
    claim = submitted_claim(world)
    corrected = correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="ICN-F1")
    db.session.commit()  # the command reads in its own unit of work
    result = flask("claims", "show", corrected.number, "--json")
    assert result.exit_code == 0, result.output
    family = json.loads(result.output)["family"]
    assert [(m["number"], m["role"], m["payer"], m["status"]) for m in family] == [
        (claim.number, "original", world.payer.name, "submitted"),
        (corrected.number, "corrected replacement", world.payer.name, "ready")]
    assert family[0]["balance"] == str(claim.lines[0].charge)
    assert family[1]["came_from"] == claim.number
    assert [m["this_claim"] for m in family] == [False, True]


def test_show_text_has_a_family_section(flask, world):
    claim = submitted_claim(world)
    db.session.commit()
    result = flask("claims", "show", claim.number)
    assert result.exit_code == 0, result.output
    assert "Family:" in result.output
    assert f"{claim.number} original" in result.output
