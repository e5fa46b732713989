"""The Rejected tab, the front-page count, the claim page's acknowledgment trail and Resend, the batch counts."""

from __future__ import annotations

from datetime import date

import pytest
from markupsafe import escape

from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.people.models import Role
from billing.submissions.acknowledgments import import_ack
from billing.submissions.operations import create_batches, mark_batch_sent
from demo.ack_writer import ClaimAnswer, write_277ca
from tests.conftest import csrf_token
from tests.worlds.claims import history
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import SubmissionWorld, build_submission_world


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()


@pytest.fixture
def rejected(world):
    accepted, rejected = world.ready_claim(day=date(2026, 3, 2)), world.ready_claim(day=date(2026, 3, 3))
    batch = create_batches(actor=SYSTEM)[0]
    mark_batch_sent(batch.id, actor=SYSTEM)
    import_ack(write_277ca(batch, [ClaimAnswer(accepted.number, "A2", "20", "", "PCN7"),
                                   ClaimAnswer(rejected.number, "A7", "164", "IL")]), filename="day.277", actor=SYSTEM)
    db.session.commit()
    return batch, accepted, rejected


def test_the_rejected_tab_lists_the_claim_with_its_reason_and_the_front_page_counts_it(client, login, rejected):
    _, accepted, claim = rejected
    login(Role.BILLER)
    page = client.get("/admin/claim/?status=rejected").get_data(as_text=True)
    assert claim.number in page
    assert accepted.number not in page
    assert "data-rejection" in page
    assert str(escape("contract or member number")) in page
    assert 'Rejected <span class="badge badge-light">1</span>' in page
    home = client.get("/admin/").get_data(as_text=True)
    assert "Rejected claims to fix" in home


def test_the_claim_page_shows_the_trail_and_resend_puts_the_claim_back_to_ready(client, login, rejected):
    _, _, claim = rejected
    login(Role.BILLER)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-acknowledgments" in page
    assert 'data-ack-outcome="rejected"' in page
    assert "day.277" in page
    assert "Resend (fixed)" in page
    token = csrf_token(client, f"/admin/claim/details/?id={claim.id}")
    client.post(f"/admin/claim/do/resend/?id={claim.id}", data={"csrf_token": token}, follow_redirects=True)
    db.session.expire_all()
    assert claim.status is ClaimStatus.READY
    assert history(claim)[-1].action is AuditAction.CLAIM_RESENT


def test_the_batch_page_counts_accepted_and_rejected_claims(client, login, rejected):
    batch, _, _ = rejected
    login(Role.BILLER)
    page = client.get(f"/admin/submissions/batch/{batch.id}/").get_data(as_text=True)
    assert 'data-accepted="1"' in page
    assert 'data-rejected="1"' in page
    assert "data-acknowledgment-files" in page
