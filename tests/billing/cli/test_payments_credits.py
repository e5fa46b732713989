"""`flask payments credits / refund / apply-credit`: credit balances worked from a script, refusals in one line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import LedgerEntry
from tests.worlds.credits import CREDIT_ON, insurance_credit_claim, patient_credit_claim, patient_owing_claim

D = Decimal


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def committed(*claims):
    """The world as a previous transaction left it: a refusal rolls back only the command's own work."""
    db.session.commit()
    return claims if len(claims) > 1 else claims[0]


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def test_credits_lists_each_side_with_totals(flask, world):
    overpaid, patient = insurance_credit_claim(world), patient_credit_claim(world)
    result = flask("payments", "credits", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["count"], doc["insurance_total"], doc["patient_total"]) == (2, "80.00", "10.00")
    by_claim = {c["claim"]: c for c in doc["claims"]}
    assert by_claim[overpaid.number]["credits"][0]["since"] == CREDIT_ON.isoformat()
    assert by_claim[patient.number]["credits"][0]["side"] == "patient"
    text = flask("payments", "credits", "--side", "insurance").output
    assert overpaid.number in text
    assert patient.number not in text
    assert "insurance $80.00" in text


def test_refund_posts_once_and_reports_the_balances(flask, world):
    overpaid = committed(insurance_credit_claim(world))
    args = ("payments", "refund", overpaid.number, "--side", "insurance", "--amount", "80.00",
            "--date", CREDIT_ON.isoformat(), "--reference", "CHK 9001", "--reason", "paid twice")
    result = flask(*args, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["amount"], doc["insurance_balance"]) == ("80.00", "0.00")
    again = flask(*args, "--json")
    assert again.exit_code == 1
    assert json.loads(again.output)["kind"] == "nothing_to_do"
    assert claim_balance(overpaid.id).insurance == D("0.00")


@pytest.mark.parametrize(("amount", "day", "field"), [
    ("1e2", "", "amount"), ("80.001", "", "amount"), ("１０", "", "amount"), ("-5", "", "amount"),
    ("80.01", "", "amount"), ("10", "31/31/2026", "refunded_on"), ("10", "2099-01-01", "refunded_on"),
])
def test_refund_refusals_are_one_json_line_naming_the_field(flask, world, amount, day, field):
    overpaid = committed(insurance_credit_claim(world))
    count = entries()
    result = flask("payments", "refund", overpaid.number, "--side", "insurance", "--amount", amount, "--date", day,
                   "--reference", "CHK 1", "--reason", "r", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["ok"] is False
    assert doc["problems"][0].startswith(f"{field}:")
    assert "Traceback" not in result.output
    assert entries() == count


def test_refund_of_an_unknown_claim_is_one_line(flask, world):
    result = flask("payments", "refund", "C-999999", "--side", "patient", "--amount", "1", "--reference", "x",
                   "--reason", "y")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: No claim has the number 'C-999999'."


def test_apply_credit_moves_the_patient_credit_to_the_other_claim(flask, world):
    source, target = committed(patient_credit_claim(world), patient_owing_claim(world))
    result = flask("payments", "apply-credit", source.number, "--to", target.number, "--amount", "10.00",
                   "--reason", "family asked", "--date", CREDIT_ON.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["patient_balance"] == "0.00"
    assert claim_balance(target.id).patient == D("5.00")
    refused = flask("payments", "apply-credit", source.number, "--to", target.number, "--amount", "1.00",
                    "--reason", "again")
    assert refused.exit_code == 1
    assert "no patient credit" in refused.output
