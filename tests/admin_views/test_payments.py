"""835 upload, remittances with their drill-down, the Unmatched queue and the bulk clawback page, by role."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import LedgerEntry
from billing.payments.models import Remittance, UnmatchedClaim, UnmatchedStatus
from billing.payments.operations import EntrySource
from billing.payments.posting import post_adjudication
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import Clp, Payment, Svc, era_for, foreign, full_payment, write_835
from tests.worlds.practice import DAY, SYSTEM

D = Decimal


def upload(client, *files):
    data = {"csrf_token": csrf_token(client, "/admin/remittance/"),
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/admin/remittance/upload/", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


@pytest.fixture
def claim(world):
    return submitted_claim(world)


def test_upload_imports_then_says_already_imported(client, login, world, claim):
    login(Role.BILLER)
    data = era_for(world, claim, extra=[foreign()])
    page = upload(client, ("march.835", data)).get_data(as_text=True)
    assert "data-imported" in page
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.PAID
    assert db.session.get(Claim, claim.id).payer_claim_number == "ICN-9"
    assert db.session.scalar(select(func.count()).select_from(UnmatchedClaim)) == 1
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    again = upload(client, ("march-copy.835", data)).get_data(as_text=True)
    assert "Already imported; nothing posted." in again
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries


@pytest.mark.samples
def test_a_broken_file_is_refused_with_its_errors_and_nothing_posted(client, login, world, claim, samples_835):
    login(Role.BILLER)
    broken = (samples_835 / "tc_parse_835.rb__MESSAGE1_reversals.x12").read_bytes()
    page = upload(client, ("broken.x12", broken), ("notes.txt", b"hello")).get_data(as_text=True)
    assert page.count("data-refused") == 2
    assert "IEA id=188915716 does not match ISA id=000004592" in page
    assert "not an X12 file" in page
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 0


def test_remittance_list_and_drill_down(client, login, world, claim):
    login(Role.BILLER)
    upload(client, ("march.835", era_for(world, claim, check="EFT42", extra=[foreign()])))
    remittance = db.session.scalars(select(Remittance)).one()
    listing = client.get("/admin/remittance/").get_data(as_text=True)
    assert "EFT42" in listing
    assert "1 unmatched" in listing
    assert "balanced" in listing
    page = client.get(f"/admin/remittance/details/?id={remittance.id}").get_data(as_text=True)
    assert claim.number in page
    assert "data-plbs" in page
    assert "L6" in page
    assert "ACCT-77" in page
    assert "data-unmatched" in page
    assert "CO-45" in page
    assert "N130" in page
    raw = client.get(f"/admin/remittance/file/{remittance.era_file_id}/")
    assert raw.data.startswith(b"ISA*")


def test_a_remittance_is_never_edited_through_a_form(client, login, world, claim):
    login(Role.ADMIN)
    upload(client, ("march.835", era_for(world, claim, check="EFT43")))
    remittance = db.session.scalars(select(Remittance)).one()
    assert "/admin/remittance/edit/" not in client.get("/admin/remittance/").get_data(as_text=True)
    assert client.get(f"/admin/remittance/edit/?id={remittance.id}").status_code == 403
    refused = client.post(f"/admin/remittance/edit/?id={remittance.id}", follow_redirects=True,
                          data={"csrf_token": csrf_token(client, "/admin/remittance/"), "amount": "1.00",
                                "check_number": "FORGED"})
    assert "cannot change" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert (remittance.amount, remittance.check_number) == (D("48.00"), "EFT43")


def test_an_unbalanced_check_is_flagged_in_the_list(client, login, world, claim):
    login(Role.BILLER)
    svc = Svc("97153", D("73.48"), D("73.48"), [], None, DAY, "1")
    payment = Payment(D("99.00"), "ODD1", world.payer.name, world.payer.edi_payer_id,
                      [Clp(claim.number, "1", D("73.48"), D("73.48"), services=[svc])])
    upload(client, ("odd.835", write_835([payment]).encode()))
    assert "NOT balanced" in client.get("/admin/remittance/").get_data(as_text=True)


def test_unmatched_queue_and_manual_matching(client, login, world, claim):
    login(Role.BILLER)
    upload(client, ("march.835", era_for(world, submitted_claim(world, day=DAY.replace(day=3)),
                                         extra=[foreign("PATIENT-ACCT-1")])))
    item = db.session.scalars(select(UnmatchedClaim)).one()
    queue = client.get("/admin/unmatched/").get_data(as_text=True)
    assert "PATIENT-ACCT-1" in queue
    page = client.get(f"/admin/unmatched/details/?id={item.id}").get_data(as_text=True)
    assert "not one of our claim numbers" in page
    assert "data-candidates" in page
    assert claim.number in page
    response = client.post(f"/admin/unmatched/match/?id={item.id}", follow_redirects=True, data={
        "csrf_token": csrf_token(client, "/admin/unmatched/"), "claim_number": "C-999999"})
    assert "No claim has the number" in response.get_data(as_text=True)
    client.post(f"/admin/unmatched/match/?id={item.id}", follow_redirects=True, data={
        "csrf_token": csrf_token(client, "/admin/unmatched/"), "claim_number": claim.number})
    db.session.expire_all()
    assert db.session.get(UnmatchedClaim, item.id).status is UnmatchedStatus.MATCHED
    assert db.session.get(Claim, claim.id).status is ClaimStatus.PAID
    assert claim_balance(claim.id).paid_by_payer == D("60.00")
    assert "PATIENT-ACCT-1" not in client.get("/admin/unmatched/").get_data(as_text=True)


def test_bulk_clawback_by_date_of_service(client, login, world):
    first, second = submitted_claim(world), submitted_claim(world)
    for claim in (first, second):
        post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    page = client.get(f"/admin/bulk-clawback/?service_date={DAY.isoformat()}").get_data(as_text=True)
    assert first.number in page
    assert second.number in page
    token = csrf_token(client, "/admin/bulk-clawback/")
    refused = client.post(f"/admin/bulk-clawback/?service_date={DAY.isoformat()}", follow_redirects=True, data={
        "csrf_token": token, f"claim-{first.id}": "1", f"c{first.id}-l1-allowed": "80", f"c{first.id}-l1-paid": "40",
        "reason": "paper remittance p.2"})
    assert "≤ charge" in refused.get_data(as_text=True)
    assert claim_balance(first.id).paid_by_payer == D("58.78")  # nothing changed
    client.post(f"/admin/bulk-clawback/?service_date={DAY.isoformat()}", follow_redirects=True, data={
        "csrf_token": token, f"claim-{first.id}": "1", f"c{first.id}-l1-allowed": "60", f"c{first.id}-l1-paid": "40",
        f"c{first.id}-l1-pr": "1", f"claim-{second.id}": "1", "reason": "paper remittance p.2"})
    db.session.expire_all()
    one, two = claim_balance(first.id), claim_balance(second.id)
    assert (one.paid_by_payer, one.patient, one.insurance) == (D("40.00"), D("20.00"), D("0.00"))
    assert (two.paid_by_payer, two.insurance) == (D("0.00"), D("73.48"))
    assert db.session.get(Claim, first.id).status is ClaimStatus.PAID
    assert db.session.get(Claim, second.id).status is ClaimStatus.SUBMITTED  # reopened: the payer owes again
    assert all(db.session.get(Claim, c.id).needs_review for c in (first, second))


@pytest.mark.parametrize("role", list(Role))
def test_roles_on_the_payments_pages(client, login, world, claim, role):
    login(role)
    pages = ["/admin/remittance/", "/admin/unmatched/", "/admin/bulk-clawback/"]
    readers = {Role.ADMIN, Role.BILLER, Role.ACCOUNTANT}
    for path in pages:
        assert client.get(path).status_code == (200 if role in readers else 403), path
    response = upload(client, ("march.835", era_for(world, claim))) if role in readers else None
    if role in (Role.ADMIN, Role.BILLER):
        assert "data-imported" in response.get_data(as_text=True)
    elif role is Role.ACCOUNTANT:
        assert "cannot import remittances" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(Remittance)) == 0
    else:
        assert client.get("/admin/remittance/upload/").status_code == 403


def test_payments_posts_need_the_csrf_token(client, login, world, claim):
    login(Role.BILLER)
    response = client.post("/admin/remittance/upload/", content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(era_for(world, claim)), "a.835")]})
    assert response.status_code == 400
    response = client.post(f"/admin/bulk-clawback/?service_date={DAY.isoformat()}", data={"reason": "x"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 0


def test_remittances_follow_the_scope_picker(client, login, world, claim):
    """A check shows in its payer's company (and wherever it pays a claim); another company's is not found."""
    from tests.worlds import factories as f

    login(Role.BILLER)
    upload(client, ("ours.835", era_for(world, claim, check="OURS")))
    other_payer = f.PayerFactory()
    theirs = Payment(D("60.00"), "THEIRS", other_payer.name, other_payer.edi_payer_id, [foreign("X-1")])
    upload(client, ("theirs.835", write_835([theirs], control=7).encode()))
    foreign_remittance = db.session.scalars(select(Remittance).where(Remittance.check_number == "THEIRS")).one()
    client.post("/scope", data={"scope": f"company:{world.company.id}", "next": "/admin/remittance/",
                                "csrf_token": csrf_token(client, "/admin/remittance/")})
    listing = client.get("/admin/remittance/").get_data(as_text=True)
    assert "OURS" in listing
    assert "THEIRS" not in listing
    assert "X-1" not in client.get("/admin/unmatched/").get_data(as_text=True)
    details = client.get(f"/admin/remittance/details/?id={foreign_remittance.id}", follow_redirects=True)
    assert "THEIRS" not in details.get_data(as_text=True)


def test_an_unmatched_payment_that_is_not_ours_is_set_aside_and_kept(client, login, world, claim):
    login(Role.BILLER)
    upload(client, ("march.835", era_for(world, claim, extra=[foreign("OTHER-PRACTICE-9")])))
    item = db.session.scalars(select(UnmatchedClaim)).one()
    path = f"/admin/unmatched/set-aside/?id={item.id}"
    refused = client.post(path, follow_redirects=True,
                          data={"csrf_token": csrf_token(client, "/admin/unmatched/"), "reason": " "})
    assert "Say why this payment is not ours" in refused.get_data(as_text=True)
    client.post(path, follow_redirects=True, data={"csrf_token": csrf_token(client, "/admin/unmatched/"),
                                                   "reason": "patient of Dr. Other's practice"})
    db.session.expire_all()
    item = db.session.get(UnmatchedClaim, item.id)
    assert (item.status, item.note) == (UnmatchedStatus.SET_ASIDE, "patient of Dr. Other's practice")
    assert "OTHER-PRACTICE-9" not in client.get("/admin/unmatched/").get_data(as_text=True)
    kept = client.get("/admin/unmatched/?flt0_state_equals=set_aside").get_data(as_text=True)
    assert "OTHER-PRACTICE-9" in kept
    remittance = db.session.scalars(select(Remittance)).one()
    assert "0</span>" in client.get("/admin/remittance/").get_data(as_text=True)  # no open unmatched left
    assert "OTHER-PRACTICE-9" in client.get(f"/admin/remittance/details/?id={remittance.id}").get_data(as_text=True)


def test_the_lists_do_not_query_per_row(client, login, world, count_queries):
    login(Role.BILLER)
    for n in range(1, 4):
        claim = submitted_claim(world, day=DAY.replace(day=n + 2))
        upload(client, (f"{n}.835", era_for(world, claim, check=f"CHK{n}", extra=[foreign(f"F-{n}")])))
    counts = {}
    for path in ("/admin/remittance/", "/admin/unmatched/"):
        counter = count_queries()
        assert client.get(path).status_code == 200
        counts[path] = counter.count
    for n in range(4, 10):
        claim = submitted_claim(world, day=DAY.replace(day=n + 2))
        upload(client, (f"{n}.835", era_for(world, claim, check=f"CHK{n}", extra=[foreign(f"F-{n}")])))
    for path, before in counts.items():
        counter = count_queries()
        assert client.get(path).status_code == 200
        assert counter.count == before, path  # three rows or nine: the same queries


@pytest.mark.parametrize("endpoint", ["unmatched", "failed_charge", "billing_run"])
def test_edi_outcomes_and_history_have_no_edit_form(client, login, endpoint):
    login(Role.ADMIN)
    assert client.get(f"/admin/{endpoint}/edit/?id=1").status_code == 403


def test_an_unmatched_payment_cannot_be_rewritten_then_matched_again(client, login, world, claim):
    # The attack from issue 14: edit the kept CLP (status back to open, paid 9,100), then match it again.
    login(Role.BILLER)
    upload(client, ("march.835", era_for(world, submitted_claim(world, day=DAY.replace(day=3)),
                                         extra=[foreign("PATIENT-ACCT-1")])))
    item = db.session.scalars(select(UnmatchedClaim)).one()
    paid, data = item.paid, dict(item.data)
    assert client.get(f"/admin/unmatched/edit/?id={item.id}").status_code == 403
    response = client.post(f"/admin/unmatched/edit/?id={item.id}", follow_redirects=True, data={
        "csrf_token": csrf_token(client, "/admin/unmatched/"), "status": "open", "paid": "9100"})
    assert "cannot change" in response.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(UnmatchedClaim, item.id)
    assert (kept.paid, kept.data) == (paid, data)
