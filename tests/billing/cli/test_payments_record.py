"""`flask payments record NUMBER --eob FILE.json`: a paper EOB posted from a script, read strictly."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import LedgerEntry
from tests.worlds.claims import submitted_claim

D = Decimal


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _eob(tmp_path, doc) -> str:
    path = tmp_path / "eob.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(path)


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def test_an_eob_pays_the_claim_to_the_cent(flask, world, tmp_path):
    claim = submitted_claim(world)  # one line: 4 units x $18.37 = $73.48
    db.session.commit()  # the command commits or rolls back its own unit of work
    doc = {"paid_on": "2026-04-01", "payer_claim_number": "ICN77", "lines": [
        {"line": 1, "paid": "50.00", "allowed": "60.00",
         "adjustments": [{"group": "CO", "reason": "45", "amount": "13.48"},
                         {"group": "PR", "reason": "2", "amount": "10.00"}]}]}
    result = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, doc), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    # 73.48 - 50.00 paid - 13.48 contractual = 10.00, all of it the patient's coinsurance.
    assert (out["status"], out["insurance_balance"], out["patient_balance"]) == ("paid", "0.00", "10.00")
    db.session.expire_all()
    balance = claim_balance(claim.id)
    assert (balance.paid_by_payer, balance.insurance, balance.patient) == (D("50.00"), D("0.00"), D("10.00"))
    assert claim.status is ClaimStatus.PAID
    assert claim.payer_claim_number == "ICN77"


@pytest.mark.parametrize(("doc", "field"), [
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": 50.0}]}, "lines[0].paid"),  # a float: refused
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "1e10"}]}, "lines[0].paid"),
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "12.345"}]}, "lines[0].paid"),
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "1,234"}]}, "lines[0].paid"),
    ({"paid_on": "04/01/2026", "lines": [{"line": 1, "paid": "5.00"}]}, "paid_on"),
    ({"paid_on": "2026-04-01", "lines": []}, "lines"),
    ({"paid_on": "2026-04-01", "lines": [{"line": 0, "paid": "5.00"}]}, "lines[0].line"),
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "5.00", "adjustments": [{"group": "CO"}]}]},
     "lines[0].adjustments[0].reason"),
    ({"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "5.00"}], "check": "123"}, "eob"),
    ({"paid_on": "2026-04-01", "mode": "maybe", "lines": [{"line": 1, "paid": "5.00"}]}, "mode"),
])
def test_a_bad_eob_is_refused_naming_the_field_and_posts_nothing(flask, world, tmp_path, doc, field):
    claim = submitted_claim(world)
    db.session.commit()  # the command commits or rolls back its own unit of work
    before = _entries()
    result = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, doc), "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["kind"] == "invalid"
    assert any(p.startswith(f"{field}:") for p in out["problems"]), out
    assert _entries() == before


def test_an_eob_that_does_not_add_up_is_refused_by_the_posting_checks(flask, world, tmp_path):
    claim = submitted_claim(world)
    db.session.commit()  # the command commits or rolls back its own unit of work
    before = _entries()
    doc = {"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "50.00"}]}  # 23.48 unaccounted for
    result = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, doc))
    assert result.exit_code == 1
    assert "line 1: charge $73.48 is not paid + adjustments" in result.output
    assert _entries() == before


def test_a_file_that_is_not_json_is_refused(flask, world, tmp_path):
    claim = submitted_claim(world)
    db.session.commit()  # the command commits or rolls back its own unit of work
    result = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, "{not json"))
    assert result.exit_code == 1
    assert "eob.json is not JSON" in result.output


def test_a_second_eob_must_say_whether_it_adds_or_replaces(flask, world, tmp_path):
    claim = submitted_claim(world)
    db.session.commit()  # the command commits or rolls back its own unit of work
    doc = {"paid_on": "2026-04-01", "lines": [{"line": 1, "paid": "58.78", "adjustments": [
        {"group": "CO", "reason": "45", "amount": "14.70"}]}]}
    assert flask("payments", "record", claim.number, "--eob", _eob(tmp_path, doc)).exit_code == 0
    again = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, doc), "--json")
    assert again.exit_code == 1
    assert json.loads(again.output)["problems"][0].startswith("mode:")
    replaced = flask("payments", "record", claim.number, "--eob", _eob(tmp_path, {**doc, "mode": "replace"}))
    assert replaced.exit_code == 0, replaced.output
    db.session.expire_all()
    assert claim_balance(claim.id).paid_by_payer == D("58.78")  # reversed and posted again: paid once
