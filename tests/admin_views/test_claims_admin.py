"""The claims queue, the claim page and the session actions, through the test client."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.claims.models import Claim
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.people.models import Role
from billing.sessions.models import NoteStatus, TherapySession
from tests.conftest import csrf_token
from tests.worlds import factories as f

SYSTEM = Actor.system("test")


@pytest.fixture
def world():
    """A priced, diagnosed, insured client with two draft sessions on one day."""
    company = f.CompanyFactory()
    code = f.ServiceCodeFactory(company=company, code="97153")
    payer = f.PayerFactory(company=company)
    client = f.ClientFactory(location=f.LocationFactory(practice=f.PracticeFactory(company=company)))
    f.DiagnosisFactory(client=client)
    f.PolicyFactory(client=client, payer=payer)
    schedule = f.FeeScheduleFactory(company=company, payer=payer)
    f.RateFactory(fee_schedule=schedule, service_code=code, rate=Decimal("18.25"))
    provider = f.ProviderFactory(company=company)
    first = f.TherapySessionFactory(client=client, service_code=code, provider=provider, note_text="Session note")
    second = f.TherapySessionFactory(
        client=client, service_code=code, provider=provider, note_text="Second note", service_date=first.service_date
    )
    return first, second


def _post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/admin/claim/")
    return client.post(path, data=data, follow_redirects=True)


def test_every_claim_page_renders(client, login, world):
    login(Role.BILLER)
    claim = finalize_session(world[0], actor=SYSTEM).created[0]
    for path in (
        "/admin/claim/",
        "/admin/claim/?status=all",
        f"/admin/claim/?search={claim.number}",
        f"/admin/claim/details/?id={claim.id}",
        f"/admin/claim/lines/?id={claim.id}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert claim.number in page
    assert "$73.00" in page  # 60 minutes = 4 units x 18.25
    assert "data-history" in page


def test_status_tabs_show_counts(client, login, world):
    login(Role.ACCOUNTANT)
    finalize_session(world[0], actor=SYSTEM)
    page = client.get("/admin/claim/?status=ready").get_data(as_text=True)
    assert "data-status-tabs" in page
    assert 'Ready <span class="badge badge-light">1</span>' in page


def test_finalize_action_bills_the_session_and_the_grid_shows_the_lock(client, login, world):
    login(Role.OFFICE_MANAGER)
    response = client.post(
        "/admin/session/action/",
        data={"action": "finalize", "rowid": [str(world[0].id)], "csrf_token": csrf_token(client, "/admin/session/")},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "1 note(s) finalized" in body
    claim = db.session.scalar(db.select(Claim))
    assert claim.status is ClaimStatus.READY
    assert claim.number in client.get("/admin/session/").get_data(as_text=True)


def test_hold_from_the_claim_page_needs_a_reason(client, login, world):
    login(Role.BILLER)
    claim = finalize_session(world[0], actor=SYSTEM).created[0]
    refused = _post(client, f"/admin/claim/do/hold/?id={claim.id}", reason="  ")
    assert "A hold needs a reason" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.READY
    done = _post(client, f"/admin/claim/do/hold/?id={claim.id}", reason="check the authorization")
    assert "now Held" in done.get_data(as_text=True)


def test_bulk_retract_reports_each_claim(client, login, world):
    login(Role.BILLER)
    ready = finalize_session(world[0], actor=SYSTEM).created[0]
    first = world[0]
    elsewhere = f.TherapySessionFactory(
        client=first.client, service_code=first.service_code, service_date=first.service_date, note_text="n",
        provider=f.ProviderFactory(company=first.provider.company),
    )
    other = finalize_session(elsewhere, actor=SYSTEM).created[0]  # another provider: its own claim
    from billing.claims.statuses import transition
    from billing.core.audit import AuditAction

    transition(other, ClaimStatus.SUBMITTED, action=AuditAction.CLAIM_SUBMITTED, actor=SYSTEM, reason=None)
    db.session.flush()
    body = _post(client, "/admin/claim/action/", action="retract", rowid=[str(ready.id), str(other.id)]).get_data(
        as_text=True
    )
    assert f"{ready.number} retracted" in body
    assert f"{other.number} refused: Claim {other.number} was sent to the payer" in body


def test_accountant_cannot_change_claims(client, login, world):
    login(Role.ACCOUNTANT)
    claim = finalize_session(world[0], actor=SYSTEM).created[0]
    body = _post(client, f"/admin/claim/do/hold/?id={claim.id}", reason="x").get_data(as_text=True)
    assert "cannot change claims" in body
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.READY


def test_locked_session_fields_cannot_be_edited(client, login, world):
    login(Role.OFFICE_MANAGER)
    visit = world[0]
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    form = client.get(f"/admin/session/edit/?id={visit.id}").get_data(as_text=True)
    assert "Locked" not in form
    response = client.post(
        f"/admin/session/edit/?id={visit.id}",
        data={
            "csrf_token": csrf_token(client, f"/admin/session/edit/?id={visit.id}"),
            "client": str(visit.client_id),
            "provider": str(visit.provider_id),
            "location": str(visit.location_id),
            "service_code": str(visit.service_code_id),
            "modifiers": "",
            "service_date": str(visit.service_date),
            "start_time": "09:00",
            "end_time": "11:30",
            "place_of_service": "11",
            "authorization": "",
            "note_text": visit.note_text,
        },
    )
    assert f"Locked by claim {claim.number}" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TherapySession, visit.id).end_time.hour == 10


def test_delete_is_refused_with_the_reason_for_a_finalized_session(client, login, world):
    login(Role.OFFICE_MANAGER)
    finalize_session(world[0], actor=SYSTEM)
    body = client.post(
        "/admin/session/delete/",
        data={"id": str(world[0].id), "csrf_token": csrf_token(client, "/admin/session/")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "cannot be deleted: it was billed to insurance" in body
    assert db.session.get(TherapySession, world[0].id) is not None
    draft_id = world[1].id
    assert world[1].note_status is NoteStatus.DRAFT
    token = csrf_token(client, "/admin/session/")
    client.post("/admin/session/delete/", data={"id": str(draft_id), "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(TherapySession, draft_id) is None
