"""`flask edi import` and `flask payments ...`: JSON fields per file, refusals, and the ledger commands."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import LedgerEntry
from billing.payments.models import UnmatchedClaim
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import era_for, foreign

D = Decimal
#: `kind` names what the file was recognised as (835, 999, 277CA): `flask edi import` routes each.
JSON_FIELDS = {"kind", "file", "transactions", "claims", "service_lines", "matched", "unmatched", "reversals",
               "posted_paid_total", "plb_total", "bpr_amount", "balanced", "duplicate", "paid_twice", "repeated",
               "warnings"}


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.mark.samples
def test_edi_import_json_reports_every_field_per_file(flask, world, tmp_path, samples_835):
    claim = submitted_claim(world)
    ours = tmp_path / "ours.835"
    ours.write_bytes(era_for(world, claim, extra=[foreign()]))
    broken = samples_835 / "secondary-payment.835"
    result = flask("edi", "import", str(ours), str(broken), "--json")
    assert result.exit_code == 1  # one file was refused
    first, second = json.loads(result.output)
    assert set(first) == JSON_FIELDS
    assert (first["transactions"], first["claims"], first["matched"], first["unmatched"]) == (1, 2, 1, 1)
    assert (first["posted_paid_total"], first["plb_total"], first["bpr_amount"]) == ("50.00", "2.00", "108.00")
    assert (first["balanced"], first["duplicate"]) == (True, False)
    assert second["refused"] is True
    assert second["file"] == "secondary-payment.835"
    assert any("SVC" in e for e in second["errors"])
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.PAID

    again = flask("edi", "import", str(ours), "--json")
    assert again.exit_code == 0
    assert json.loads(again.output)[0]["duplicate"] is True
    text = flask("edi", "import", str(ours))
    assert "already imported" in text.output


def test_payments_commands(flask, world, tmp_path):
    claim = submitted_claim(world)
    era = tmp_path / "a.835"
    era.write_bytes(era_for(world, claim, extra=[foreign("ACCT-1")]))
    assert flask("edi", "import", str(era)).exit_code == 0
    balance = json.loads(flask("payments", "balance", claim.number, "--json").output)
    assert (balance["insurance_balance"], balance["patient_balance"]) == ("0.00", "10.00")
    payment = next(e for e in balance["entries"] if e["kind"] == "insurance_payment")

    refused = flask("payments", "reverse", claim.number, str(payment["id"]), "--reason", " ")
    assert refused.exit_code == 1
    assert "needs a source or reason" in refused.output
    assert flask("payments", "reverse", claim.number, str(payment["id"]), "--reason", "letter").exit_code == 0
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert (claim.status, claim.needs_review) == (ClaimStatus.SUBMITTED, True)
    assert db.session.scalars(select(LedgerEntry).where(LedgerEntry.reverses_id == payment["id"])).one()

    unmatched = json.loads(flask("payments", "unmatched", "--json").output)
    assert [u["clp01"] for u in unmatched] == ["ACCT-1"]
    assert flask("payments", "set-aside", str(unmatched[0]["id"]), "--reason", "not ours?").exit_code == 0
    assert json.loads(flask("payments", "unmatched", "--json").output) == []  # out of the open queue
    other = submitted_claim(world, day=claim.service_date.replace(day=9))
    assert flask("payments", "match", str(unmatched[0]["id"]), other.number).exit_code == 0
    db.session.expire_all()
    assert db.session.get(UnmatchedClaim, unmatched[0]["id"]).matched_claim_id == other.id
    assert claim_balance(other.id).paid_by_payer == D("60.00")

    assert flask("payments", "write-off", claim.number, "--reason", "small balance", "--amount", "5").exit_code == 0
    db.session.expire_all()
    assert claim_balance(claim.id).insurance == D("45.00")

    assert flask("payments", "clear-review", claim.number, "--note", "checked").exit_code == 0
    db.session.expire_all()
    assert not db.session.get(Claim, claim.id).needs_review
    again = flask("payments", "clear-review", claim.number)
    assert again.exit_code == 1
    assert "is not flagged for review" in again.output
    assert flask("payments", "bill-patient", claim.number, "--reason", "payer will not repay").exit_code == 0
    db.session.expire_all()
    assert (claim_balance(claim.id).insurance, claim_balance(claim.id).patient) == (D("0.00"), D("55.00"))
    assert flask("payments", "patient-payment", claim.number, "10.00", "--memo", "card").exit_code == 0
    db.session.expire_all()
    assert claim_balance(claim.id).paid_by_patient == D("10.00")
    bad = flask("payments", "patient-payment", claim.number, "ten")
    assert bad.exit_code == 1
    assert "is not an amount" in bad.output


def test_cli_amounts_are_parsed_strictly(flask, world):
    claim = submitted_claim(world)
    for typed in ("1e10", "1,2,3", "12.345"):
        refused = flask("payments", "write-off", claim.number, "--reason", "typed", "--amount", typed)
        assert refused.exit_code != 0
        assert "--amount" in refused.output
        assert "Traceback" not in refused.output
    assert claim_balance(claim.id).insurance == D("73.48")
