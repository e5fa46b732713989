"""`flask statements run` and `flask statements preview`: files written, JSON fields, a dry run records nothing,
refusals in one line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.statement_models import StatementRecord
from tests.worlds.pdfs import pdf_text
from tests.worlds.practice import DAY
from tests.worlds.statements import CLAIM_CHARGE, family_member, owed_claim


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _records() -> int:
    return db.session.scalar(select(func.count(StatementRecord.id)))


def test_a_dry_run_writes_the_files_and_records_nothing_then_a_run_records(flask, world, tmp_path):
    member = family_member(world, parent="Dana Rivera")
    owed_claim(member, billed_on=DAY + timedelta(days=10))
    dry = flask("statements", "run", "--dry-run", "-o", str(tmp_path / "dry"), "--json")
    assert dry.exit_code == 0, dry.output
    done = json.loads(dry.output)
    assert done["dry_run"]
    assert done["recorded"] == 0
    assert _records() == 0
    mine = [s for s in done["statements"] if s["recipient"] == "Dana Rivera"]
    assert [s["amount_due"] for s in mine] == [str(CLAIM_CHARGE)]
    assert f"{mine[0]['number']}.pdf" in done["files"]
    assert (tmp_path / "dry" / f"{mine[0]['number']}.pdf").is_file()
    sent = flask("statements", "run", "-o", str(tmp_path / "real"))
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("Sent ")
    assert _records() >= 1
    history = json.loads(flask("statements", "history", str(member.client.id), "--json").output)
    assert [(s["number"], s["amount_due"], s["addressed_to"]) for s in history["statements"]] == [
        (mine[0]["number"], str(CLAIM_CHARGE), "Dana Rivera")]
    assert "No client 999999" in flask("statements", "history", "999999").output


def test_preview_writes_one_statement(flask, world, tmp_path):
    member = family_member(world, parent=None, first="Eve")
    owed_claim(member, billed_on=DAY + timedelta(days=10))
    out = tmp_path / "one.pdf"
    result = flask("statements", "preview", str(member.client.id), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Eve Rivera" in result.output
    assert "EVE RIVERA" in pdf_text(out.read_bytes())
    assert _records() == 0


def test_refusals_are_one_line(flask, world, tmp_path):
    member = family_member(world, parent=None)
    nothing = flask("statements", "preview", str(member.client.id), "-o", str(tmp_path / "x.pdf"), "--json")
    assert nothing.exit_code == 1
    assert json.loads(nothing.output)["kind"] == "invalid"
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    clash = flask("statements", "run", "-o", str(afile))
    assert clash.exit_code != 0
    assert "Traceback" not in clash.output
