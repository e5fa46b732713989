"""The Statements page through the test client: who sees it and who may run a cycle, scope, the PDF preview,
running a cycle once per form, downloads of the cycle's PDFs and CSV; the dunning levels grid (admins edit)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_views import statements as statements_view
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.operation_keys import new_operation_key
from billing.ledger.statement_models import DunningLevel, StatementRecord
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.pdfs import pdf_text
from tests.worlds.practice import DAY
from tests.worlds.statements import CLAIM_CHARGE, family_member, owed_claim

PAGE = "/admin/statements/"


@pytest.fixture
def family(world):
    member = family_member(world, parent="Dana Rivera")
    owed_claim(member, billed_on=DAY + timedelta(days=10))
    db.session.commit()  # a refused POST rolls back its own work only
    return member


def _records() -> int:
    return db.session.scalar(select(func.count(StatementRecord.id)))


@pytest.mark.parametrize("role", [Role.BILLER, Role.ACCOUNTANT, Role.ADMIN])
def test_readers_see_todays_cycle_and_only_editors_may_run_it(client, login, family, role):
    login(role)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Dana Rivera" in page
    assert f"${CLAIM_CHARGE}" in page
    assert ("data-run-cycle" in page) is (role is not Role.ACCOUNTANT)


def test_an_office_manager_is_refused(client, login, family):
    login(Role.OFFICE_MANAGER)
    assert client.get(PAGE).status_code == 403


def test_the_preview_is_the_statement_pdf(client, login, family):
    login(Role.ACCOUNTANT)
    pdf = client.get(f"{PAGE}preview/?client_id={family.client.id}")
    assert pdf.mimetype == "application/pdf"
    assert "DANA RIVERA" in pdf_text(pdf.data)
    assert _records() == 0


def test_a_client_outside_the_scope_is_not_previewed(client, login, family):
    login(Role.BILLER)
    other = f.LocationFactory(practice=f.PracticeFactory(company=f.CompanyFactory()))
    db.session.commit()
    client.post("/scope", data={"scope": f"location:{other.id}", "csrf_token": csrf_token(client, PAGE)})
    page = client.get(PAGE).get_data(as_text=True)
    assert "Dana Rivera" not in page
    shown = client.get(f"{PAGE}preview/?client_id={family.client.id}", follow_redirects=True).get_data(as_text=True)
    assert "No such client in the chosen scope" in shown


def test_an_accountant_cannot_run_a_cycle(client, login, family, instance_in_tmp):
    login(Role.ACCOUNTANT)
    done = client.post(f"{PAGE}run/", data={"csrf_token": csrf_token(client, PAGE)}, follow_redirects=True)
    assert "cannot run statement cycles" in done.get_data(as_text=True)
    assert _records() == 0


def test_a_run_records_once_and_its_files_download(client, login, family, instance_in_tmp):
    login(Role.BILLER)
    key = new_operation_key()
    form = {"csrf_token": csrf_token(client, PAGE), "op_key": key}
    first = client.post(f"{PAGE}run/", data=form, follow_redirects=True).get_data(as_text=True)
    assert "statement(s) sent" in first
    again = client.post(f"{PAGE}run/", data=form, follow_redirects=True).get_data(as_text=True)
    assert "already submitted" in again
    assert _records() == 1
    db.session.expire_all()
    page = client.get(PAGE).get_data(as_text=True)
    name = page.split('data-cycle="', 1)[1].split('"', 1)[0]
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{PAGE}download/{name}/").data))
    names = archive.namelist()
    assert any(n.endswith(".pdf") for n in names)
    assert any(n.endswith(".csv") for n in names)
    csv_text = client.get(f"{PAGE}download/{name}/csv/").get_data(as_text=True)
    assert "Dana Rivera,12 Elm St" in csv_text
    assert client.get(f"{PAGE}download/..%2F..%2Fetc/").status_code == 404
    for bad in ("nope", "..", "2026-01-01"):
        shown = client.get(f"{PAGE}download/{bad}/", follow_redirects=True).get_data(as_text=True)
        assert "No statement cycle" in shown


def test_billers_read_the_dunning_levels_and_cannot_edit_them(client, login):
    login(Role.BILLER)
    assert "Final notice" in client.get("/admin/dunning_level/").get_data(as_text=True)
    assert client.get("/admin/dunning_level/new/").status_code == 403


def test_admins_edit_dunning_levels_with_history(client, login):
    login(Role.ADMIN)
    token = csrf_token(client, "/admin/dunning_level/new/")
    clash = client.post("/admin/dunning_level/new/", data={"min_days": "31", "message": "x", "csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "Already exists" in clash  # the form's unique check names the field
    negative = client.post("/admin/dunning_level/new/", data={"min_days": "-3", "message": "x", "csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
    assert "Give 0 or more days." in negative
    client.post("/admin/dunning_level/new/", data={"min_days": "120", "message": "Sent to collections next.",
                                                   "csrf_token": token})
    level = db.session.scalars(select(DunningLevel).where(DunningLevel.min_days == 120)).one()
    assert level.message == "Sent to collections next."
    history = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "dunning_level"))
    assert [h.action for h in history] == [AuditAction.DUNNING_LEVEL_CHANGED]


def test_the_no_statements_flag_is_set_on_the_client_form_with_history(client, login, family):
    login(Role.ADMIN)
    person = family.client
    form = {"csrf_token": csrf_token(client, f"/admin/client/edit/?id={person.id}"),
            "location": person.location_id, "account_number": person.account_number, "first_name": person.first_name,
            "last_name": person.last_name, "date_of_birth": person.date_of_birth.isoformat(), "sex": person.sex.value,
            "address_line1": person.address_line1, "city": person.city, "state": person.state,
            "zip_code": person.zip_code, "responsible_party_name": person.responsible_party_name,
            "no_statements": "y", "active": "y", "diagnoses-0-id": person.diagnoses[0].id,
            "diagnoses-0-position": "1", "diagnoses-0-code": "F840"}
    client.post(f"/admin/client/edit/?id={person.id}", data=form)
    db.session.expire_all()
    assert db.session.get(type(person), person.id).no_statements
    history = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "client",
                                                            StatusChange.subject_id == person.id)).all()
    assert [(h.action, h.from_status, h.to_status) for h in history] == [
        (AuditAction.STATEMENTS_FLAG_CHANGED, "statements", "no statements")]
    page = client.get(PAGE).get_data(as_text=True)
    assert "no statements flag" in page


def test_the_cycle_is_listed_a_page_at_a_time_with_the_whole_count(client, login, world, monkeypatch):
    monkeypatch.setattr(statements_view, "PAGE_SIZE", 2)
    for n, parent in enumerate(("Ann Abel", "Bob Baker", "Cy Cole")):
        owed_claim(family_member(world, parent=parent, street=f"{n} Elm St"), billed_on=DAY + timedelta(days=10))
    db.session.commit()
    login(Role.BILLER)
    first = client.get(PAGE).get_data(as_text=True)
    assert [name in first for name in ("Ann Abel", "Bob Baker", "Cy Cole")] == [True, True, False]
    assert "Statements 1&ndash;2 of 3" in first
    assert "data-page-next" in first
    assert "Run the cycle: 3 statement(s)" in first
    last = client.get(f"{PAGE}?page=2").get_data(as_text=True)
    assert [name in last for name in ("Ann Abel", "Cy Cole", "data-page-previous")] == [False, True, True]
    assert "Cy Cole" in client.get(f"{PAGE}?page=99").get_data(as_text=True)  # past the end: the last page
