"""`flask ledger client-summary`: the client page's hub for scripts (--json); a missing client refused in one line."""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing.core.db import db
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.credits import insurance_credit_claim, patient_owing_claim


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_summary_gives_balances_policies_authorizations_claims_and_sessions(flask, world):
    auth = f.AuthorizationFactory(
        client=world.client, policy=world.policy, number="AUTH-CLI", units_approved=30, service_codes=[world.code]
    )
    owed = submitted_claim(world, day=date(2026, 3, 16))
    copay = patient_owing_claim(world, day=date(2026, 3, 9))
    credit = insurance_credit_claim(world)
    db.session.commit()
    result = flask("ledger", "client-summary", str(world.client.id), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # the payer owes the unpaid claim's charge; the patient the $15.00 copay; the payer overpaid one claim by $80.00
    assert data["totals"] == {"insurance_ar": f"{owed.total_charge:.2f}", "patient_balance": "15.00", "credit": "80.00"}
    assert data["client"]["account"] == world.client.account_number
    assert [p["member_id"] for p in data["policies"]] == [world.policy.member_id]
    [row] = [a for a in data["authorizations"] if a["number"] == "AUTH-CLI"]
    assert row["approved"] == 30
    assert row["remaining"] == 30 - row["used"]
    assert row["codes"] == [world.code.code]
    numbers = {c["number"]: c for c in data["claims"]}
    assert set(numbers) == {owed.number, copay.number, credit.number}
    assert numbers[copay.number]["patient"] == "15.00"
    assert numbers[credit.number]["insurance"] == "-80.00"
    assert data["claim_count"] == 3
    assert data["session_count"] == len(data["sessions"]) == 3
    assert auth.id  # the authorization exists in the database the command read
    text = flask("ledger", "client-summary", str(world.client.id))
    assert text.exit_code == 0
    assert "patient balance $15.00, credit $80.00" in text.output


def test_a_missing_client_is_refused_in_one_line(flask):
    result = flask("ledger", "client-summary", "999999", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"ok": False, "error": "There is no client 999999.", "kind": "not_found"}
    plain = flask("ledger", "client-summary", "999999")
    assert plain.exit_code == 1
    assert "Traceback" not in plain.output
