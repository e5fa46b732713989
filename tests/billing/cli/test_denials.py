"""`flask payments balance --json` lists denied lines; `flask payments denial ...` works them per line."""

from __future__ import annotations

import json

import pytest

from billing.core.codes import carcs, rarcs
from billing.core.db import db
from billing.core.time import practice_today
from tests.billing.payments.test_denials import case_d
from tests.worlds.payments import PAID_ON


@pytest.fixture
def denied(world):
    """Case D, committed: a refused command rolls back its own unit of work only."""
    claim = case_d(world)
    db.session.commit()
    return claim


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_balance_json_lists_the_denied_line_with_state_reasons_and_open_amount(flask, denied):
    claim = denied
    result = flask("payments", "balance", claim.number, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "paid"
    [line] = doc["denied_lines"]
    assert (line["line"], line["state"], line["open_amount"], line["charge"]) == (2, "open", "100.00", "100.00")
    assert line["carcs"] == [{"group": "CO", "code": "16", "text": carcs()["16"].description}]
    assert line["rarcs"] == [{"code": "N290", "text": rarcs()["N290"].description}]
    assert line["days_since_denial"] == (practice_today() - PAID_ON).days


def test_denial_write_off_needs_a_reason_and_posts_once(flask, denied):
    claim = denied
    assert flask("payments", "denial", "write-off", claim.number, "--line", "2").exit_code != 0  # --reason required
    first = flask("payments", "denial", "write-off", claim.number, "--line", "2", "--reason", "timely filing", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["amount"] == "100.00"
    again = flask("payments", "denial", "write-off", claim.number, "--line", "2", "--reason", "timely filing", "--json")
    assert again.exit_code == 1
    assert json.loads(again.output)["ok"] is False
    doc = json.loads(flask("payments", "balance", claim.number, "--json").output)
    assert [e["amount"] for e in doc["entries"] if e["kind"] == "write_off"] == ["100.00"]
    assert doc["denied_lines"][0]["state"] == "written_off"


def test_denial_bill_patient_refuses_co_without_override_and_allows_it_with_one(flask, denied):
    claim = denied
    refused = flask("payments", "denial", "bill-patient", claim.number, "--line", "2", "--json")
    assert refused.exit_code == 1
    assert "CO" in json.loads(refused.output)["error"]
    done = flask("payments", "denial", "bill-patient", claim.number, "--line", "2", "--override-reason",
                 "waiver signed", "--json")
    assert done.exit_code == 0, done.output
    doc = json.loads(flask("payments", "balance", claim.number, "--json").output)
    assert (doc["insurance_balance"], doc["patient_balance"]) == ("0.00", "100.00")


def test_denial_list_and_resubmit(flask, denied):
    claim = denied
    listed = json.loads(flask("payments", "denial", "list", "--json").output)
    assert [(r["claim"], [d["line"] for d in r["lines"]]) for r in listed] == [(claim.number, [2])]
    result = flask("payments", "denial", "resubmit", claim.number, "--reason", "NPI added", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["lines"] == [1]  # the new claim's only line
    assert json.loads(flask("payments", "denial", "list", "--json").output) == []
