"""The Reports page: who may open it, direct downloads, background exports, and the download log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.jobs.export_runs import build_queued
from billing.jobs.models import ExportRun, ExportStatus, ReportDownload
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.sheets import open_workbook, sheet

pytestmark = pytest.mark.usefixtures("instance_in_tmp")  # exports and locks go to instance/

PAGE = "/admin/reports/"


def downloads() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportDownload)) or 0


def post_download(client, **data):
    data = {"report": "claims", "csrf_token": csrf_token(client, PAGE), **data}
    return client.post(f"{PAGE}download", data=data)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.BILLER, Role.ADMIN])
def test_report_readers_see_the_page(client, login, role):
    login(role)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Authorization Utilization" in page.get_data(as_text=True)


def test_office_managers_are_refused_page_and_download(client, login):
    login(Role.ACCOUNTANT)
    token = csrf_token(client, PAGE)
    client.post("/logout", data={"csrf_token": token})
    login(Role.OFFICE_MANAGER)
    assert client.get(PAGE).status_code == 403
    response = client.post(f"{PAGE}download", data={"report": "claims", "csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 403
    assert downloads() == 0


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_accountant_downloads_a_report_and_the_download_is_recorded(client, login, world):
    user = login(Role.ACCOUNTANT)
    claim = world.claim()
    db.session.commit()
    response = post_download(client, date_from="2026-03-01", date_to="2026-03-31")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    read = sheet(open_workbook(response.data), "Claims")
    assert claim.number in read.column("Claim")
    assert read.title_lines[3].endswith(f"by {user.email}")
    logged = db.session.scalars(select(ReportDownload)).one()
    assert (logged.user_id, logged.actor, logged.report) == (user.id, user.email, "claims")
    assert logged.filters == {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def test_a_download_without_csrf_is_refused_and_not_recorded(client, login):
    login(Role.ACCOUNTANT)
    response = client.post(f"{PAGE}download", data={"report": "claims"})
    assert response.status_code == 400
    assert downloads() == 0


def test_bad_filters_flash_a_message_and_record_nothing(client, login):
    login(Role.ACCOUNTANT)
    response = post_download(client, date_from="2026-03-31", date_to="2026-03-01")
    assert response.status_code == 302
    assert "before the start date" in client.get(PAGE).get_data(as_text=True)
    post_download(client, report="no-such-report")
    assert "Not a valid choice" in client.get(PAGE).get_data(as_text=True)
    assert downloads() == 0


def test_large_reports_are_built_in_the_background_then_downloaded(app, client, login, world, monkeypatch):
    monkeypatch.setitem(app.config, "CLAIMDESK_REPORT_INLINE_ROWS", 0)
    user = login(Role.ACCOUNTANT)
    claim = world.claim()
    db.session.commit()
    response = post_download(client)
    assert response.status_code == 302
    run = db.session.scalars(select(ExportRun)).one()
    assert (run.status, run.rows_expected, run.user_id) == (ExportStatus.QUEUED, 1, user.id)
    assert downloads() == 0
    page = client.get(PAGE).get_data(as_text=True)
    assert "progress-bar" in page
    assert "no scheduler process is running" in page  # nobody would build it: the page says so

    build_queued(now=datetime(2026, 3, 20, 12, tzinfo=UTC))  # what the scheduler's export-queue job does
    db.session.refresh(run)
    assert (run.status, run.row_count) == (ExportStatus.FINISHED, 1)
    download = client.get(f"{PAGE}exports/{run.id}")
    assert download.status_code == 200
    assert sheet(open_workbook(download.data), "Claims").column("Claim") == [claim.number]
    download.close()
    logged = db.session.scalars(select(ReportDownload)).one()
    assert (logged.export_run_id, logged.user_id) == (run.id, user.id)


def test_an_unfinished_or_unknown_export_cannot_be_downloaded(client, login):
    login(Role.ACCOUNTANT)
    run = ExportRun(report="claims", filters={}, status=ExportStatus.QUEUED, requested_by="x")
    db.session.add(run)
    db.session.commit()
    response = client.get(f"{PAGE}exports/{run.id}", follow_redirects=True)
    assert "there is no file to download" in response.get_data(as_text=True)
    assert "There is no export #999999" in client.get(f"{PAGE}exports/999999", follow_redirects=True).get_data(
        as_text=True)
    assert downloads() == 0


@pytest.mark.parametrize("name", ["claims", "claim-denials", "revenue", "ar-aging", "failed-charges", "remittances",
                                  "authorization-utilization", "credit-balances", "filing-proof"])
def test_an_accountant_may_download_every_report(client, login, world, name):
    from tests.worlds.money import build_money_world

    build_money_world(world)
    db.session.commit()
    login(Role.ACCOUNTANT)
    response = post_download(client, report=name)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    book = open_workbook(response.data)
    assert book.sheetnames
    assert db.session.scalars(select(ReportDownload.report)).all() == [name]


def test_failed_charges_filters_from_the_page_are_applied_and_logged(client, login, world):
    from rules.runs import run_rules
    from tests.worlds.practice import SYSTEM
    from tests.worlds.rules import fail, leaf, make_rule

    claim = world.claim(minutes=30)
    rule = make_rule("Short sessions", conditions=leaf("units", "less_than", 3), actions=fail("Under 3 units."))
    result = run_rules(actor=SYSTEM)
    db.session.commit()
    login(Role.BILLER)
    response = post_download(client, report="failed-charges", run=str(result.run_number), rule_id=str(rule.id),
                             open_only="y")
    assert response.status_code == 200
    read = sheet(open_workbook(response.data), "Failed charges")
    assert read.column("Charge record") == [claim.number]
    assert f"Run number: {result.run_number}" in read.title_lines[2]
    logged = db.session.scalars(select(ReportDownload)).one()
    assert logged.filters == {"run": result.run_number, "rule_id": rule.id, "open_only": True}


def _providers(*names: tuple[str, str], company):
    from tests.worlds.factories import ProviderFactory

    made = [ProviderFactory(company=company, last_name=last, first_name=first) for last, first in names]
    db.session.commit()
    return made


def test_the_provider_is_searched_not_listed_whole(client, login, world):
    """A billing company's thousands of providers are not written into the page: the picker searches them."""
    others = _providers(("Zimmer", "Una"), ("Zimmerman", "Ola"), ("Abbott", "Zed"), company=world.company)
    login(Role.ACCOUNTANT)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-role="select2-ajax"' in page
    assert f'data-url="{PAGE}providers/"' in page
    assert all(p.last_name not in page for p in others)
    found = client.get(f"{PAGE}providers/", query_string={"query": "zim"}).get_json()
    assert found == [[p.id, f"{p.last_name}, {p.first_name} (NPI {p.npi})"] for p in others[:2]]
    assert client.get(f"{PAGE}providers/", query_string={"query": "ZED"}).get_json() == [
        [others[2].id, f"Abbott, Zed (NPI {others[2].npi})"]]  # first names too, in any case
    by_npi = client.get(f"{PAGE}providers/", query_string={"query": others[1].npi[:9]}).get_json()
    assert [row[0] for row in by_npi] == [others[1].id]
    second = client.get(f"{PAGE}providers/", query_string={"query": "zim", "offset": 1, "limit": 1}).get_json()
    assert [row[0] for row in second] == [others[1].id]
    for nothing in ("", "   ", "%", "_imm"):  # LIKE's wildcards are plain characters here
        assert client.get(f"{PAGE}providers/", query_string={"query": nothing}).get_json() == []


def test_a_picked_provider_filters_the_report_and_a_forged_one_is_refused(client, login, world):
    other = _providers(("Other", "Pat"), company=world.company)[0]
    mine = world.claim()
    db.session.commit()
    login(Role.ACCOUNTANT)
    response = post_download(client, report="claims", provider_id=str(world.provider.id))
    assert mine.number in sheet(open_workbook(response.data), "Claims").column("Claim")
    response = post_download(client, report="claims", provider_id=str(other.id))
    assert mine.number not in sheet(open_workbook(response.data), "Claims").column("Claim")
    assert db.session.scalars(select(ReportDownload.filters)).all()[-1] == {"provider_id": other.id}
    before = downloads()
    for forged, message in ((str(other.id + 1000), "Provider: No such provider"),
                            ("1 OR 1=1", "Provider: Pick one from the search list")):
        assert post_download(client, report="claims", provider_id=forged).status_code == 302
        page = client.get(PAGE).get_data(as_text=True)
        assert message in page
        assert f'data-json="[{other.id}' not in page
    assert downloads() == before


def test_the_provider_search_is_for_report_readers_only(client, login, world):
    login(Role.OFFICE_MANAGER)
    assert client.get(f"{PAGE}providers/", query_string={"query": "a"}).status_code == 403


def test_another_companys_providers_are_neither_found_nor_accepted_in_a_company_scope(client, login, world):
    from tests.worlds.factories import CompanyFactory

    elsewhere = _providers(("Zeller", "Ann"), company=CompanyFactory())[0]
    here = _providers(("Zeller", "Bob"), company=world.company)[0]
    login(Role.ACCOUNTANT)
    search = {"query": "zeller"}
    assert [row[0] for row in client.get(f"{PAGE}providers/", query_string=search).get_json()] == [
        elsewhere.id, here.id]  # All companies
    client.post("/scope", data={"scope": f"company:{world.company.id}", "csrf_token": csrf_token(client, PAGE)})
    assert [row[0] for row in client.get(f"{PAGE}providers/", query_string=search).get_json()] == [here.id]
    before = downloads()
    post_download(client, report="claims", provider_id=str(elsewhere.id))
    assert "Provider: No such provider" in client.get(PAGE).get_data(as_text=True)
    assert downloads() == before
