"""`flask payments post-check FILE --json`: one check across claims from a JSON or CSV file, once, to the cent."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.models import PostedCheck
from tests.worlds.claims import submitted_claim

D = Decimal


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def claims(world):
    claims = [submitted_claim(world) for _ in range(2)]  # one line each: $73.48
    db.session.commit()  # the command commits or rolls back its own unit of work
    return claims


def paid_by_payer(claims) -> Decimal:
    db.session.expire_all()
    amounts = db.session.scalars(
        select(LedgerEntry.amount).where(
            LedgerEntry.claim_id.in_([c.id for c in claims]), LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT
        )
    )
    return sum(amounts, D("0"))


def document(world, claims, amount: str, **extra) -> dict:
    return {
        "payer": str(world.payer.id),
        "check_number": "CHK-9",
        "check_date": "2026-04-01",
        "amount": amount,
        "method": "check",
        **extra,
        "claims": [
            {
                "claim": claims[0].number,
                "lines": [
                    {"line": 1, "paid": "58.78", "adjustments": [{"group": "CO", "reason": "45", "amount": "14.70"}]}
                ],
            },
            {
                "claim": claims[1].number,
                "lines": [
                    {
                        "line": 1,
                        "paid": "50.00",
                        "adjustments": [
                            {"group": "CO", "reason": "45", "amount": "13.48"},
                            {"group": "PR", "reason": "2", "amount": "10.00"},
                        ],
                    }
                ],
            },
        ],
    }


def test_a_json_check_posts_once(flask, world, claims, tmp_path):
    path = tmp_path / "check.json"
    path.write_text(json.dumps(document(world, claims, "108.78")))
    first = flask("payments", "post-check", str(path), "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["check"]["applied"] == "108.78"
    assert out["check"]["unapplied"] == "0.00"
    assert [c["claim"] for c in out["claims"]] == [c.number for c in claims]
    second = flask("payments", "post-check", str(path), "--json")
    assert json.loads(second.output)["already_posted"] is True
    assert paid_by_payer(claims) == D("58.78") + D("50.00")
    assert db.session.scalar(select(func.count()).select_from(PostedCheck)) == 1


def test_a_short_json_check_is_refused_unless_kept_unapplied(flask, world, claims, tmp_path):
    path = tmp_path / "check.json"
    path.write_text(json.dumps(document(world, claims, "110.00")))
    refused = flask("payments", "post-check", str(path), "--json")
    assert refused.exit_code == 1
    assert "unapplied: " in " ".join(json.loads(refused.output)["problems"])
    assert paid_by_payer(claims) == D("0")
    path.write_text(json.dumps(document(world, claims, "110.00", keep_unapplied=True, note="EOB page 2")))
    kept = json.loads(flask("payments", "post-check", str(path), "--json").output)
    assert kept["check"]["unapplied"] == "1.22"


def test_a_float_amount_in_json_is_refused_by_its_place(flask, world, claims, tmp_path):
    doc = document(world, claims, "108.78")
    doc["claims"][1]["lines"][0]["paid"] = 50.0
    path = tmp_path / "check.json"
    path.write_text(json.dumps(doc))
    refused = flask("payments", "post-check", str(path), "--json")
    assert refused.exit_code == 1
    assert any(p.startswith("claims[1].lines[0].paid") for p in json.loads(refused.output)["problems"])


def test_a_csv_check_posts_its_lines(flask, world, claims, tmp_path):
    path = tmp_path / "check.csv"
    path.write_text(
        "claim,line,paid,allowed,deductible,coinsurance,copay,group,reason,adjustment,remarks,leave_open\n"
        f"{claims[0].number},1,58.78,58.78,,,,CO,45,14.70,,\n"
        f"{claims[1].number},1,50.00,60.00,,10.00,,CO,45,13.48,N130,\n"
    )
    result = flask(
        "payments",
        "post-check",
        str(path),
        "--payer",
        str(world.payer.id),
        "--number",
        "EFT-1",
        "--date",
        "2026-04-01",
        "--amount",
        "108.78",
        "--method",
        "eft",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["check"]["method"] == "eft"
    assert paid_by_payer(claims) == D("108.78")


def test_a_csv_without_the_check_options_is_refused(flask, claims, tmp_path):
    path = tmp_path / "check.csv"
    path.write_text(f"claim,line,paid\n{claims[0].number},1,58.78\n")
    result = flask("payments", "post-check", str(path), "--json")
    assert result.exit_code == 1
    assert "--payer" in result.output
