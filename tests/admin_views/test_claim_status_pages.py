"""Asking the payer (276) from the Follow-up page and the claim page, and the 277 answers shown on both."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.time import practice_today
from billing.people.models import Role
from billing.submissions.claim_status_models import ClaimStatusResponse, InquiryStatus, StatusInquiry
from billing.submissions.follow_up import add_note
from billing.submissions.inbound import import_x12
from demo.status_writer import StatusReply, write_277
from tests.conftest import csrf_token
from tests.worlds.claims import walk_to
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import build_submission_world


def _inquiries() -> int:
    return db.session.scalar(select(func.count()).select_from(StatusInquiry))


@pytest.fixture
def due_claim():
    """A Submitted claim due for follow-up today, its payer on a clearinghouse without SFTP (files by hand)."""
    world = build_submission_world(sftp_host=None)
    claim = walk_to(world.ready_claim(), ClaimStatus.SUBMITTED)
    add_note(
        claim, "Sent; call if nothing comes.", next_follow_up_on=practice_today(), actor=SYSTEM, today=practice_today()
    )
    db.session.commit()
    return claim


def _ask(client, numbers, **extra):
    token = csrf_token(client, "/admin/follow-up/")
    return client.post(
        "/admin/follow-up/ask/", data={"csrf_token": token, "claims": numbers, **extra}, follow_redirects=True
    )


def test_a_biller_ticks_claims_on_the_queue_and_asks_the_payer(client, login, due_claim):
    login(Role.BILLER)
    queue = client.get("/admin/follow-up/").get_data(as_text=True)
    assert f'name="claims" value="{due_claim.number}" form="ask-payer"' in queue
    assert "data-ask-payer" in queue
    page = _ask(client, [due_claim.number]).get_data(as_text=True)
    inquiry = db.session.scalars(select(StatusInquiry)).one()
    assert f"Asked the payer: {inquiry.number}: 1 claim(s)" in page
    assert inquiry.status is InquiryStatus.GENERATED
    assert [e.claim_id for e in inquiry.entries] == [due_claim.id]


def test_a_read_only_role_cannot_ask_and_nothing_is_made(client, login, due_claim):
    login(Role.ACCOUNTANT)
    assert "data-ask-payer" not in client.get("/admin/follow-up/").get_data(as_text=True)
    page = _ask(client, [due_claim.number]).get_data(as_text=True)
    assert "cannot work follow-ups" in page
    assert _inquiries() == 0


def test_asking_about_nothing_or_a_claim_out_of_reach_is_refused_in_words(client, login, due_claim):
    login(Role.BILLER)
    assert "Nobody was asked: " in _ask(client, []).get_data(as_text=True)
    assert "No claim has the number" in _ask(client, ["C-999999"]).get_data(as_text=True)
    assert _inquiries() == 0


def test_the_claim_page_asks_for_one_claim_and_shows_the_answers(client, login, due_claim):
    login(Role.BILLER)
    details = f"/admin/claim/details/?id={due_claim.id}"
    assert "Ask the payer (276)" in client.get(details).get_data(as_text=True)
    page = _ask(client, [due_claim.number], back=details).get_data(as_text=True)
    assert "data-status-trail" in page  # back on the claim page
    inquiry = db.session.scalars(select(StatusInquiry)).one()
    reply = StatusReply(due_claim.number, due_claim.total_charge, due_claim.service_date, category="F2", status="88")
    import_x12(write_277(inquiry, [reply], on=date(2026, 4, 1)), filename="a.277", actor=SYSTEM)
    db.session.commit()
    page = client.get(details).get_data(as_text=True)
    assert 'data-status-answer="denied"' in page
    assert "Finalized: the claim was denied (The entity is not eligible for benefits on the dates of service)" in page
    assert "The 835 brings the payment and its reasons." in page
    queue = client.get("/admin/follow-up/").get_data(as_text=True)
    assert due_claim.number not in queue  # the payer's word moves the follow-up to when the 835 is due


def test_an_offsite_back_address_is_not_followed(client, login, due_claim):
    login(Role.BILLER)
    response = _ask(client, [due_claim.number], back="https://evil.example/")
    assert response.request.path == "/admin/follow-up/"


def test_a_277_uploaded_on_the_import_page_lands_on_the_trail_once(client, login, due_claim):
    login(Role.BILLER)
    _ask(client, [due_claim.number])
    inquiry = db.session.scalars(select(StatusInquiry)).one()
    reply = StatusReply(due_claim.number, due_claim.total_charge, due_claim.service_date, category="P1", status="20")
    data = write_277(inquiry, [reply], on=date(2026, 4, 1))

    def upload(name):
        form = {"csrf_token": csrf_token(client, "/admin/remittance/"), "files": [(io.BytesIO(data), name)]}
        return client.post(
            "/admin/remittance/upload/", data=form, content_type="multipart/form-data", follow_redirects=True
        ).get_data(as_text=True)

    assert "a.277: 277 claim status: 1 pending." in upload("a.277")
    assert "already imported" in upload("again.277")
    assert db.session.scalar(select(func.count()).select_from(ClaimStatusResponse)) == 1
