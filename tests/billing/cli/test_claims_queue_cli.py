"""`flask claims queue`: the queue's figures and the totals of the whole tab, as text and --json."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from billing.core.db import db
from billing.payments.operations import record_manual_payment
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import full_payment
from tests.worlds.practice import SYSTEM


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["claims", "queue", *args])


@pytest.fixture
def two_claims(world):
    paid = submitted_claim(world, lines=2)
    posting = full_payment(paid)
    record_manual_payment(paid, posting, actor=SYSTEM)
    ready = world.claim(day=paid.service_date.replace(day=paid.service_date.day + 1))
    db.session.commit()
    return paid, ready, sum((line.paid for line in posting.lines), Decimal(0))


def test_the_queue_lists_figures_and_totals_of_the_whole_tab(cli, two_claims):
    paid, ready, received = two_claims
    result = cli("--status", "all", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["totals"]["claims"] == 2  # the totals cover every claim, not only the one listed
    assert Decimal(doc["totals"]["billed"]) == paid.total_charge + ready.total_charge
    assert Decimal(doc["totals"]["paid"]) == received
    assert Decimal(doc["totals"]["balance"]) == ready.total_charge  # the paid claim's rest is contractual
    assert [r["number"] for r in doc["claims"]] == [ready.number]
    assert doc["claims"][0]["cpt"] == "97153"
    assert doc["claims"][0]["balance"] == str(ready.total_charge)


def test_the_queue_searches_and_prints_text(cli, two_claims):
    paid, _, _ = two_claims
    result = cli("--status", "all", "--search", paid.number)
    assert result.exit_code == 0, result.output
    assert paid.number in result.output
    assert result.output.strip().splitlines()[-1].startswith("1 claims: billed")


def test_an_unknown_tab_is_refused_in_one_line(cli, two_claims):
    result = cli("--status", "lost")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
