"""The sessions list and the session page: single-row Finalize and Bill again, and the cancel page's refusal of a
session whose claim is at the payer (with the way forward)."""

from __future__ import annotations

import re

import pytest

from billing.claims.operations import retract_claim
from billing.claims.queries import claim_locking
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.people.models import Role
from billing.sessions.models import NoteStatus, TherapySession
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import SYSTEM

LIST = "/admin/session/"


def _post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, LIST), **data})


def test_a_draft_row_offers_finalize_which_bills_it(world, client, login):
    visit = world.visit()
    db.session.commit()
    login(Role.OFFICE_MANAGER)
    html = client.get(LIST).get_data(as_text=True)
    assert f'data-row-finalize="{visit.id}"' in html
    assert "data-row-bill-again" not in html
    response = _post(client, f"{LIST}do/finalize/?id={visit.id}&next={LIST}")
    assert response.status_code == 302
    db.session.expire_all()
    claim = claim_locking(visit.id)
    assert claim is not None
    assert claim.status is ClaimStatus.READY
    assert db.session.get(TherapySession, visit.id).note_status is NoteStatus.FINALIZED
    assert f"finalized: claim {claim.number} (Ready)" in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_the_session_page_offers_bill_again_after_its_claim_was_retracted(world, client, login):
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    db.session.commit()
    login(Role.BILLER)
    page = client.get(f"{LIST}details/?id={visit.id}").get_data(as_text=True)
    assert "data-session-bill-again" not in page  # still on a live claim
    retract_claim(claim, actor=SYSTEM)
    db.session.commit()
    page = client.get(f"{LIST}details/?id={visit.id}").get_data(as_text=True)
    assert "data-session-bill-again" in page
    assert "data-session-finalize" not in page
    listed = client.get(LIST).get_data(as_text=True)
    assert f'data-row-bill-again="{visit.id}"' in listed
    response = _post(client, f"{LIST}do/bill_again/?id={visit.id}")
    assert response.status_code == 302
    db.session.expire_all()
    again = claim_locking(visit.id)
    assert again is not None
    assert again.id != claim.id
    assert again.status is ClaimStatus.READY
    message = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"billed again: claim {again.number} (Ready)" in message


def test_bill_again_twice_is_refused_with_a_message(world, client, login):
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    db.session.commit()
    login(Role.BILLER)
    response = _post(client, f"{LIST}do/bill_again/?id={visit.id}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"is billed on claim {claim.number} (Ready); it is billed once." in html


def test_an_accountant_cannot_finalize(world, client, login):
    visit = world.visit()
    db.session.commit()
    login(Role.ACCOUNTANT)
    _post(client, f"{LIST}do/finalize/?id={visit.id}")
    db.session.expire_all()
    assert db.session.get(TherapySession, visit.id).note_status is NoteStatus.DRAFT


def test_an_unknown_operation_or_session_changes_nothing(world, client, login):
    visit = world.visit()
    db.session.commit()
    login(Role.OFFICE_MANAGER)
    assert _post(client, f"{LIST}do/delete_everything/?id={visit.id}").status_code == 302
    assert _post(client, f"{LIST}do/finalize/?id=99999999").status_code == 302
    assert _post(client, f"{LIST}do/finalize/?id={visit.id}&next=https://evil.example/").headers[
        "Location"].startswith(LIST)
    db.session.expire_all()
    assert claim_locking(visit.id) is not None  # the last one was a real finalize, sent back to our own list


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.DENIED])
def test_the_cancel_page_refuses_a_session_whose_claim_is_at_the_payer_and_says_what_to_do(world, client, login,
                                                                                             status):
    no_show = f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    visit = world.visit()
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], status)
    db.session.commit()
    login(Role.OFFICE_MANAGER)
    form = client.get(f"{LIST}cancel/?ids={visit.id}").get_data(as_text=True)
    assert "data-at-payer-rule" in form
    assert f"on claim {claim.number} ({status.label})" in form
    response = _post(client, f"{LIST}cancel/", ids=str(visit.id), session_class_id=str(no_show.id))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf"Void claim {claim.number} \(the payer is sent a void\) or correct it without this\s+session",
                     html)
    db.session.expire_all()
    assert not db.session.get(TherapySession, visit.id).is_cancelled


def test_the_cancel_page_withdraws_an_unsent_claim(world, client, login):
    no_show = f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    db.session.commit()
    login(Role.OFFICE_MANAGER)
    response = _post(client, f"{LIST}cancel/", ids=str(visit.id), session_class_id=str(no_show.id))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"cancelled as No-show; claim {claim.number} was withdrawn (voided without sending)." in html
    db.session.expire_all()
    assert claim_locking(visit.id) is None


def test_a_visit_booked_for_a_later_day_offers_no_finalize(world, client, login):
    """A future session cannot be finalized (the operation refuses it), so neither its row nor its page offers to."""
    from datetime import timedelta

    from billing.core.time import practice_today

    booked = world.visit(day=practice_today() + timedelta(days=3))
    db.session.commit()
    login(Role.OFFICE_MANAGER)
    assert f'data-row-finalize="{booked.id}"' not in client.get(LIST).get_data(as_text=True)
    assert "Finalize note" not in client.get(f"{LIST}details/?id={booked.id}").get_data(as_text=True)
