"""`flask payments plbs / apply-plb / settle-plb`: open provider-level items worked from a script."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.payments.invariants import check_ledger
from billing.payments.models import PlbDisposition
from tests.billing.payments.test_plb import hundred_dollar_claim, import_plbs, paid, svc
from tests.worlds.payments import Clp

D = Decimal


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _open_fb_offset(world, amount: Decimal):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-CLI")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    remittance = import_plbs(world, [clp], [("FB", amount, "PAYER-REF")], check="FB-CLI")
    (item,) = remittance.provider_adjustments
    db.session.commit()  # the command commits or rolls back its own unit of work
    return earlier, remittance, item


def test_case_i_apply_plb_posts_the_offset_once(flask, world):
    offset = D("40.00")
    earlier, remittance, item = _open_fb_offset(world, offset)
    listed = flask("payments", "plbs", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(p["id"], p["open_amount"]) for p in json.loads(listed.output)] == [(item.id, "40.00")]

    first = flask("payments", "apply-plb", str(remittance.id), str(item.id), "--claim", earlier.number, "--json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.output)
    assert (doc["ok"], doc["posted"], doc["disposition"], doc["claim"]) == (True, "40.00", "applied", earlier.number)
    assert claim_balance(earlier.id).paid_by_payer == D("90.00") - offset

    again = flask("payments", "apply-plb", str(remittance.id), str(item.id), "--claim", earlier.number, "--json")
    assert again.exit_code == 0, again.output
    assert (json.loads(again.output)["already_applied"], json.loads(again.output)["posted"]) == (True, "0.00")
    assert claim_balance(earlier.id).paid_by_payer == D("50.00")  # posted once
    assert check_ledger() == []


def test_apply_plb_refuses_a_plb_of_another_remittance(flask, world):
    earlier, remittance, item = _open_fb_offset(world, D("10.00"))
    result = flask("payments", "apply-plb", str(remittance.id + 1), str(item.id), "--claim", earlier.number, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["kind"] == "not_found"


def test_settle_plb_needs_a_reason_and_closes_the_item(flask, world):
    _earlier, remittance, item = _open_fb_offset(world, D("10.00"))
    result = flask("payments", "settle-plb", str(remittance.id), str(item.id), "--reason", "netted on check 77")
    assert result.exit_code == 0, result.output
    db.session.refresh(item)
    assert (item.disposition, item.note) == (PlbDisposition.SETTLED, "netted on check 77")
    assert json.loads(flask("payments", "plbs", "--json").output) == []
