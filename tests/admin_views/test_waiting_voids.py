"""Case O through the test client: the New submission page names a void waiting for its ICN and sends the rest;
the claim page enters the ICN or marks the void not needed, for billers and admins only, with CSRF."""

from __future__ import annotations

from datetime import date

import pytest

from billing.claims.models import Claim
from billing.claims.operations import void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.people.models import Role
from billing.submissions.models import SubmissionBatch
from tests.conftest import csrf_token
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import SubmissionWorld, build_submission_world

CLAIMS = "/admin/claim/"


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()


@pytest.fixture
def void(world) -> Claim:
    claim = walk_to(world.ready_claim(day=date(2026, 3, 2)), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    return claim


def post(client, path, data, *, token=True):
    data = dict(data)
    if token:
        data["csrf_token"] = csrf_token(client, CLAIMS)
    return client.post(path, data=data, follow_redirects=True)


def fresh(claim: Claim) -> Claim:
    db.session.expire_all()
    return db.session.get(Claim, claim.id)


def test_case_o_generate_sends_the_two_ready_claims_and_flashes_the_waiting_void(client, login, world, void):
    ready = [world.ready_claim(day=date(2026, 3, 3)), world.ready_claim(day=date(2026, 3, 4))]
    login(Role.BILLER)
    new = client.get("/admin/submissions/new/").get_data(as_text=True)
    assert f'data-candidate="{void.number}"' in new
    assert "waiting for the payer&#39;s claim number" in new or "waiting for the payer's claim number" in new
    token = csrf_token(client, "/admin/submissions/new/")
    response = client.post("/admin/submissions/generate/", follow_redirects=True, data={
        "csrf_token": token, "payer": "all", "claim_id": [str(c.id) for c in ready]})  # fmt: skip
    body = response.get_data(as_text=True)
    assert "generated for" in body
    assert f"Left out {void.number}: void waiting for the payer" in body.replace("&#39;", "'")
    [batch] = db.session.query(SubmissionBatch).all()
    assert sorted(e.claim_id for e in batch.entries) == sorted(c.id for c in ready)


def test_case_o_the_claim_page_offers_both_actions_for_a_waiting_void(client, login, void):
    login(Role.BILLER)
    body = client.get(f"{CLAIMS}details/?id={void.id}").get_data(as_text=True)
    assert "data-payer-claim-number" in body
    assert "data-void-not-needed" in body
    assert "data-waits-icn" in body


@pytest.mark.parametrize("role", [Role.BILLER, Role.ADMIN])
def test_case_o_a_biller_or_admin_enters_the_icn(client, login, void, role):
    user = login(role)
    body = post(client, f"{CLAIMS}do/payer_claim_number/?id={void.id}",
                {"payer_claim_number": "ICN-7788", "reason": "EOB 3/18"}).get_data(as_text=True)  # fmt: skip
    assert "payer claim number saved" in body
    claim = fresh(void)
    assert claim.payer_claim_number == "ICN-7788"
    assert claim.void_to_send
    row = history(claim)[-1]
    assert row.action is AuditAction.CLAIM_PAYER_NUMBER_SET
    assert row.actor == user.email
    assert row.data["from"] is None
    assert row.data["to"] == "ICN-7788"
    assert row.data["why"] == "EOB 3/18"


def test_case_o_a_biller_marks_the_void_not_needed(client, login, void):
    login(Role.BILLER)
    body = post(client, f"{CLAIMS}do/void_not_needed/?id={void.id}",
                {"reason": "payer has no record of the claim"}).get_data(as_text=True)  # fmt: skip
    assert "void marked not needed" in body
    claim = fresh(void)
    assert not claim.void_to_send
    assert history(claim)[-1].reason == "payer has no record of the claim"
    assert "data-void-not-needed" not in client.get(f"{CLAIMS}details/?id={void.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_case_o_accountants_and_office_managers_are_refused(client, login, void, role):
    login(role)
    assert "data-payer-claim-number" not in client.get(f"{CLAIMS}details/?id={void.id}").get_data(as_text=True)
    before = len(history(void))
    for operation, data in (("payer_claim_number", {"payer_claim_number": "ICN-1"}),
                            ("void_not_needed", {"reason": "no record"})):  # fmt: skip
        body = post(client, f"{CLAIMS}do/{operation}/?id={void.id}", data).get_data(as_text=True)
        assert "cannot change claims" in body
    claim = fresh(void)
    assert claim.payer_claim_number is None
    assert claim.void_to_send
    assert len(history(claim)) == before


def test_case_o_refusals_on_the_claim_page_change_nothing(client, login, world, void):
    login(Role.BILLER)
    before = len(history(void))
    empty = post(client, f"{CLAIMS}do/payer_claim_number/?id={void.id}", {"payer_claim_number": "  "})
    assert "missing" in empty.get_data(as_text=True)
    no_reason = post(client, f"{CLAIMS}do/void_not_needed/?id={void.id}", {"reason": ""})
    assert "needs a reason" in no_reason.get_data(as_text=True)
    ready = world.ready_claim(day=date(2026, 3, 6))
    not_a_void = post(client, f"{CLAIMS}do/payer_claim_number/?id={ready.id}", {"payer_claim_number": "ICN-1"})
    assert "not a void waiting to be sent" in not_a_void.get_data(as_text=True)
    no_token = post(client, f"{CLAIMS}do/payer_claim_number/?id={void.id}", {"payer_claim_number": "ICN-1"},
                    token=False)  # fmt: skip
    assert no_token.status_code == 400
    claim = fresh(void)
    assert claim.payer_claim_number is None
    assert claim.void_to_send
    assert len(history(claim)) == before
    assert fresh(ready).payer_claim_number is None
