"""Billing > Print claims through the Flask test client: roles, CSRF, the PDF, and Mark mailed once."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.time import practice_today
from billing.coverage.models import ClaimChannel
from billing.ledger.models import EntryKind, LedgerEntry
from billing.people.models import Role
from tests.billing.submissions.paper_reading import read_pdf
from tests.conftest import csrf_token
from tests.worlds.rules import leaf, make_rule
from tests.worlds.submissions import build_submission_world

BASE = "/admin/paper-claims/"
OP_KEY = re.compile(r'name="op_key" value="([A-Za-z0-9_-]+)"')


@pytest.fixture
def world():
    world = build_submission_world()
    world.payer.claim_channel = ClaimChannel.PAPER
    db.session.flush()
    return world


def _form(client) -> dict[str, str]:
    body = client.get(BASE).get_data(as_text=True)
    assert "Traceback" not in body
    return {"csrf_token": csrf_token(client, BASE), "op_key": OP_KEY.search(body).group(1)}


def _status(claim) -> ClaimStatus:
    db.session.expire_all()
    return db.session.get(type(claim), claim.id).status


def test_a_biller_prints_the_ticked_claims_as_one_pdf_then_marks_them_mailed_once(client, login, world):
    first, second = world.ready_claim(), world.ready_claim(day=date(2026, 3, 3))
    login(Role.BILLER)
    body = client.get(BASE).get_data(as_text=True)
    assert f'data-candidate="{first.number}"' in body
    assert "data-mark-mailed" in body
    form = _form(client)
    response = client.post(f"{BASE}print/", data={**form, "claim_id": [first.id, second.id], "mode": "plain"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert [p.box("26") for p in read_pdf(response.data)] == [first.number, second.number]
    assert _status(first) is ClaimStatus.READY
    mailed = {**_form(client), "claim_id": [first.id, second.id], "mailed_on": practice_today().isoformat()}
    response = client.post(f"{BASE}mark-mailed/", data=mailed, follow_redirects=True)
    assert "2 claim(s) marked mailed" in response.get_data(as_text=True)
    assert (_status(first), _status(second)) == (ClaimStatus.SUBMITTED, ClaimStatus.SUBMITTED)
    again = client.post(f"{BASE}mark-mailed/", data=mailed, follow_redirects=True)  # the same form twice
    assert "already submitted" in again.get_data(as_text=True)
    charges = db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.claim_id.in_([first.id, second.id]), LedgerEntry.kind == EntryKind.CHARGE)).all()  # fmt: skip
    assert sorted(charges) == [Decimal("73.48"), Decimal("73.48")]


def test_an_accountant_sees_the_list_but_cannot_print_or_mark(client, login, world):
    claim = world.ready_claim()
    login(Role.ACCOUNTANT)
    body = client.get(BASE).get_data(as_text=True)
    assert f'data-candidate="{claim.number}"' in body
    assert "data-print" not in body
    token = csrf_token(client, BASE)
    for path in ("print/", "mark-mailed/"):
        response = client.post(BASE + path, data={"csrf_token": token, "claim_id": claim.id,
                                                  "mailed_on": practice_today().isoformat()}, follow_redirects=True)
        assert "cannot print or mail claims" in response.get_data(as_text=True)
    assert _status(claim) is ClaimStatus.READY


def test_an_office_manager_cannot_open_the_page(client, login, world):
    login(Role.OFFICE_MANAGER)
    assert client.get(BASE).status_code == 403


def test_posts_need_the_csrf_token_and_a_bad_date_changes_nothing(client, login, world):
    claim = world.ready_claim()
    login(Role.BILLER)
    assert client.post(f"{BASE}print/", data={"claim_id": claim.id}).status_code == 400
    response = client.post(f"{BASE}mark-mailed/", data={**_form(client), "claim_id": claim.id, "mailed_on": "soon"},
                           follow_redirects=True)  # fmt: skip
    assert "mailed_on" in response.get_data(as_text=True) or "YYYY-MM-DD" in response.get_data(as_text=True)
    assert _status(claim) is ClaimStatus.READY


def test_when_the_rules_stop_every_ticked_claim_the_page_says_so_and_keeps_the_hold(client, login, world):
    make_rule("Long session", conditions=leaf("units", "greater_than", 4),
              actions=[{"name": "hold_claim", "params": {"reason": "More than 4 units need a second look."}}])
    claim = world.ready_claim(minutes=120)
    login(Role.BILLER)
    response = client.post(f"{BASE}print/", data={**_form(client), "claim_id": claim.id}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Nothing was printed" in body
    assert claim.number in body
    assert _status(claim) is ClaimStatus.HELD
