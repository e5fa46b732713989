"""The Denied tab and the claim page's Denied lines panel: a paid claim's denied line is listed and worked per line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import select

from billing.claims.line_denials import LineDenialState
from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.codes import carcs, rarcs
from billing.core.db import db
from billing.core.time import practice_today
from billing.ledger.models import EntryKind, LedgerEntry
from billing.people.models import Role
from tests.billing.payments.test_denials import HUNDRED, case_d
from tests.conftest import csrf_token
from tests.worlds.payments import PAID_ON

D = Decimal


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/claim/"), **data}, follow_redirects=True)


def kinds(claim, kind: EntryKind) -> list[Decimal]:
    return list(db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.claim_id == claim.id,
                                                                     LedgerEntry.kind == kind)))


@pytest.fixture
def paid_with_denied_line(world):
    claim = case_d(world)
    db.session.commit()
    return claim


def test_the_denied_tab_lists_a_paid_claim_with_an_open_denied_line(client, login, paid_with_denied_line):
    claim = paid_with_denied_line
    assert claim.status is ClaimStatus.PAID
    login(Role.BILLER)
    page = client.get("/admin/claim/?status=denied").get_data(as_text=True)
    assert claim.number in page
    assert 'data-denied-line="2"' in page
    assert str(escape(carcs()["16"].description[:60])) in page
    assert "N290" in page
    assert f"{(practice_today() - PAID_ON).days} days since denial" in page
    assert 'Denied <span class="badge badge-light">1</span>' in page


def test_the_claim_page_shows_the_denied_lines_panel_with_reasons(client, login, paid_with_denied_line):
    login(Role.BILLER)
    page = client.get(f"/admin/claim/details/?id={paid_with_denied_line.id}").get_data(as_text=True)
    assert "data-denied-lines" in page
    assert str(escape(carcs()["16"].description)) in page
    assert str(escape(rarcs()["N290"].description)) in page
    assert "data-line-write-off" in page
    assert 'name="override_reason"' in page  # a CO denial asks for an override to bill the patient


def test_a_biller_writes_off_the_denied_line_once(client, login, paid_with_denied_line):
    claim = paid_with_denied_line
    login(Role.BILLER)
    path = f"/admin/claim/money/line-write-off/?id={claim.id}"
    assert "Line 2: wrote off $100.00" in post(client, path, {"line": "2", "reason": "past timely filing"}).get_data(
        as_text=True)
    post(client, path, {"line": "2", "reason": "past timely filing"})
    db.session.expire_all()
    assert kinds(claim, EntryKind.WRITE_OFF) == [HUNDRED]
    assert db.session.get(Claim, claim.id).lines[1].denial_state is LineDenialState.WRITTEN_OFF


def test_bill_patient_from_the_panel_is_refused_for_co_without_override(client, login, paid_with_denied_line):
    claim = paid_with_denied_line
    login(Role.BILLER)
    path = f"/admin/claim/money/line-bill-patient/?id={claim.id}"
    body = post(client, path, {"line": "2"}).get_data(as_text=True)
    assert "may not be billed" in body
    assert kinds(claim, EntryKind.PATIENT_RESPONSIBILITY) == []
    post(client, path, {"line": "2", "override_reason": "waiver signed"})
    assert kinds(claim, EntryKind.PATIENT_RESPONSIBILITY) == [HUNDRED]


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_accountants_and_office_managers_may_not_work_denied_lines(client, login, paid_with_denied_line, role):
    claim = paid_with_denied_line
    login(role)
    for operation, data in (("line-write-off", {"line": "2", "reason": "x"}),
                            ("line-bill-patient", {"line": "2", "override_reason": "x"}),
                            ("line-appeal", {"line": "2", "reason": "x"})):
        body = post(client, f"/admin/claim/money/{operation}/?id={claim.id}", data).get_data(as_text=True)
        assert "cannot post payments" in body
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-line-write-off" not in page
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).lines[1].denial_state is LineDenialState.OPEN
    assert kinds(claim, EntryKind.WRITE_OFF) == []


def test_the_front_page_counts_denied_work_as_the_denied_tab_finds_it(world, paid_with_denied_line):
    """The counted shortcut (denied claims + distinct live claims with a line to work) against the tab's own filter."""
    from sqlalchemy import func

    from billing.org.queries import resolve_scope
    from billing.payments.denials import denied_work_count, in_denied_work
    from billing.worklist import billing_work
    from tests.worlds.claims import submitted_claim, walk_to

    walk_to(world.claim(day=PAID_ON.replace(day=1)), ClaimStatus.DENIED)
    submitted_claim(world)
    db.session.flush()
    expected = db.session.scalar(select(func.count()).select_from(Claim).where(in_denied_work()))
    assert expected >= 2
    assert denied_work_count() == expected
    assert billing_work(resolve_scope(world.company.id, None, None)).denied == expected
