"""Two connections post checks at once: the claims are locked, so one check posts and the other is refused
or posts nothing (the race harness of test_money_races.py, a database of its own per race)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.models import EntryKind, LedgerEntry, PaymentMethod
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.checks import CheckHeader, CheckLine, post_check
from billing.payments.models import PostedCheck
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.scratch_db import own_database, race

D = Decimal
pytestmark = pytest.mark.slow


def _claims() -> tuple[int, list[str]]:
    world = build_world()
    claims = [submitted_claim(world) for _ in range(2)]
    db.session.flush()
    payer_id, numbers = world.payer.id, [c.number for c in claims]
    db.session.commit()
    db.session.remove()
    return payer_id, numbers


def _check(payer_id: int, numbers: list[str], check_number: str):
    lines = [
        CheckLine(n, ClaimPosting(PAID_ON, (LinePosting(1, D("58.78"), (Adjustment("CO", "45", D("14.70")),)),)))
        for n in numbers
    ]
    header = CheckHeader(payer_id, check_number, PAID_ON, D("117.56"), PaymentMethod.CHECK)
    return lambda: post_check(header, lines, actor=SYSTEM)


def _paid() -> Decimal:
    db.session.remove()
    total = db.session.scalar(
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)
    )
    return D(str(total or 0)).quantize(D("0.01"))


def test_two_checks_paying_the_same_claims_post_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        payer_id, numbers = _claims()
        results = race(app, _check(payer_id, numbers, "A-1"), _check(payer_id, numbers[::-1], "B-2"))
        assert results["first"] == "done", results
        assert results["second"] != "done", results  # PostgreSQL: the payment stands; SQLite: try again
        assert _paid() == D("117.56")


def test_the_same_check_sent_twice_at_once_posts_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        payer_id, numbers = _claims()
        results = race(app, _check(payer_id, numbers, "A-1"), _check(payer_id, numbers, "A-1"))
        assert results["first"] == "done", results
        assert _paid() == D("117.56")
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(PostedCheck)) == 1
