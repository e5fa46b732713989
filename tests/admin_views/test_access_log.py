"""The PHI access log (issue 16 item 8): who viewed, listed, exported or downloaded what, written by one hook,
append-only in the ORM and in the database, read by admins alone (page, Access report, CLI)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from billing.core.access_log import AccessEntry, AccessKind, AccessLogIsAppendOnly, Subject
from billing.core.db import db
from billing.payments.models import EraFile
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import era_for
from tests.worlds.sheets import open_workbook

REPORTS = "/admin/reports/"


def entries() -> list[AccessEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessEntry).order_by(AccessEntry.id)))


def test_a_client_page_records_who_which_client_when_and_from_where(client, login, world):
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"  # the login's session is bound to its address
    user = login(Role.OFFICE_MANAGER)
    assert client.get(f"/admin/client/details/?id={world.client.id}").status_code == 200
    [entry] = entries()
    assert (entry.actor, entry.user_id, entry.kind, entry.subject_type, entry.subject_id, entry.ip) == (
        user.email, user.id, AccessKind.VIEWED, Subject.CLIENT, world.client.id, "10.1.2.3")
    assert entry.path == "/admin/client/details/"
    assert entry.at is not None


def test_a_list_is_one_row_with_its_filters_not_one_per_record(client, login, world, count_queries):
    for _ in range(5):
        f.ClientFactory(location=world.location)
    login(Role.BILLER)
    before = len(entries())
    counter = count_queries()
    assert client.get("/admin/client/?search=Lee&page_size=50").status_code == 200
    inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT INTO ACCESS_LOG")]
    assert len(inserts) == 1
    [entry] = entries()[before:]
    assert (entry.kind, entry.subject_type, entry.subject_id) == (AccessKind.LISTED, Subject.CLIENT, None)
    assert entry.detail == "search=Lee&page_size=50"


@pytest.mark.parametrize("path", ["/admin/claim/details/?id={claim}", "/admin/claim/lines/?id={claim}",
                                  "/admin/session/details/?id={session}", "/admin/policy/edit/?id={policy}"])
def test_claim_session_and_policy_pages_are_recorded(client, login, world, path):
    claim = world.claim()
    session_id = claim.lines[0].session_id
    login(Role.ADMIN)
    url = path.format(claim=claim.id, session=session_id, policy=world.policy.id)
    assert client.get(url).status_code == 200
    entry = entries()[-1]
    expected = {"claim": claim.id, "session": session_id, "policy": world.policy.id}
    assert entry.subject_type.value in expected
    assert entry.subject_id == expected[entry.subject_type.value]


@pytest.mark.parametrize(("path", "kind"), [
    ("/admin/client-ledger/?client_id={client}", AccessKind.VIEWED),
    ("/admin/client-ledger/download/xlsx?client_id={client}", AccessKind.DOWNLOADED),
])
def test_a_client_ledger_view_or_download_names_the_client(client, login, world, path, kind):
    submitted_claim(world)
    login(Role.BILLER)
    response = client.get(path.format(client=world.client.id))
    assert response.status_code == 200
    [entry] = [e for e in entries() if e.subject_type is Subject.CLIENT]
    assert (entry.kind, entry.subject_id) == (kind, world.client.id)


def test_a_refused_or_missing_record_is_not_recorded(client, login, world):
    login(Role.ACCOUNTANT)
    client.get("/admin/client/details/?id=999999")  # "not found": a redirect, nothing shown
    client.get("/admin/user/")  # 403 for accountants
    assert entries() == []


def test_an_835_download_names_the_file(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    files = [(io.BytesIO(era_for(world, claim)), "a.835")]
    client.post("/admin/remittance/upload/", content_type="multipart/form-data",
                data={"csrf_token": csrf_token(client, "/admin/remittance/"), "files": files})
    era_file = db.session.scalars(select(EraFile)).one()
    assert client.get(f"/admin/remittance/file/{era_file.id}/").status_code == 200
    entry = entries()[-1]
    assert (entry.kind, entry.subject_type, entry.subject_id) == (AccessKind.DOWNLOADED, Subject.ERA_FILE, era_file.id)


@pytest.mark.usefixtures("instance_in_tmp")
def test_a_report_export_records_the_report_and_its_filters(client, login, world):
    world.claim()
    db.session.commit()
    login(Role.ACCOUNTANT)
    response = client.post(f"{REPORTS}download", data={"report": "claims", "date_from": "2026-03-01",
                                                       "csrf_token": csrf_token(client, REPORTS)})
    assert response.status_code == 200
    entry = entries()[-1]
    assert (entry.kind, entry.subject_type) == (AccessKind.EXPORTED, Subject.REPORT)
    assert "report=claims" in entry.detail
    assert "date_from=2026-03-01" in entry.detail
    assert "csrf_token" not in entry.detail


# --- append-only --------------------------------------------------------------------------------
@pytest.fixture
def entry(client, login, world):
    login(Role.ADMIN)
    client.get(f"/admin/client/details/?id={world.client.id}")
    return entries()[-1]


def test_the_orm_refuses_to_edit_a_row(entry):
    entry.actor = "someone.else@example.test"
    with pytest.raises(AccessLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_the_orm_refuses_to_delete_a_row(entry):
    db.session.delete(entry)
    with pytest.raises(AccessLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_bulk_statements_are_refused(entry, statement):
    query = update(AccessEntry).values(actor="x") if statement == "update" else delete(AccessEntry)
    with pytest.raises(AccessLogIsAppendOnly):
        db.session.execute(query.where(AccessEntry.id == entry.id))


@pytest.mark.parametrize("sql", ["UPDATE access_log SET actor = 'x' WHERE id = :id",
                                 "DELETE FROM access_log WHERE id = :id"])
def test_the_database_refuses_raw_sql(entry, sql):
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(sql), {"id": entry.id})
    nested.rollback()
    assert db.session.get(AccessEntry, entry.id).actor != "x"


# --- who reads the log --------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_only_admins_open_the_access_log_page(client, login, role):
    login(role)
    response = client.get("/admin/access_log/")
    assert response.status_code == (200 if role is Role.ADMIN else 403)


def test_the_page_filters_by_user_record_and_day_and_offers_no_change(client, login, world):
    biller = login(Role.BILLER)
    client.get(f"/admin/client/details/?id={world.client.id}")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(Role.ADMIN)
    page = client.get(f"/admin/access_log/?flt0_user_contains={biller.email}&flt1_record_type_equals=client"
                      f"&flt2_record_id_equals={world.client.id}").get_data(as_text=True)
    assert f"client {world.client.id}" in page
    assert "access log (list)" not in page  # the admin's own reading of the log is another record type
    later = client.get("/admin/access_log/?flt0_day_on_or_after_yyyymmdd=2999-01-01").get_data(as_text=True)
    assert f"client {world.client.id}" not in later
    assert "access log (list)" not in later
    for path in ("new/", f"edit/?id={entries()[0].id}", "delete/"):
        assert client.get(f"/admin/access_log/{path}").status_code in (403, 404, 405)


@pytest.mark.usefixtures("instance_in_tmp")
@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.BILLER])
def test_the_access_report_is_for_admins_only(client, login, role):
    login(role)
    assert 'value="access"' not in client.get(REPORTS).get_data(as_text=True)
    response = client.post(f"{REPORTS}download", data={"report": "access", "csrf_token": csrf_token(client, REPORTS)},
                           follow_redirects=True)
    assert response.mimetype == "text/html"
    assert not any(e.subject_type is Subject.REPORT for e in entries())


@pytest.mark.usefixtures("instance_in_tmp")
def test_an_admin_downloads_the_access_report(client, login, world):
    admin = login(Role.ADMIN)
    client.get(f"/admin/client/details/?id={world.client.id}")
    response = client.post(f"{REPORTS}download", data={"report": "access", "csrf_token": csrf_token(client, REPORTS)})
    assert response.status_code == 200
    rows = list(open_workbook(response.data)["Access"].iter_rows(values_only=True))
    assert any(admin.email in row and "client" in row and world.client.id in row for row in rows)


def test_the_cli_lists_the_log_as_json(app, client, login, world):
    biller = login(Role.BILLER)
    client.get(f"/admin/client/details/?id={world.client.id}")
    result = app.test_cli_runner().invoke(args=["access-log", "list", "--user", biller.email, "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["actor"], row["kind"], row["subject_type"], row["subject_id"]) == (
        biller.email, "viewed", "client", world.client.id)
    plain = app.test_cli_runner().invoke(args=["access-log", "list", "--since", "2999-01-01"])
    assert plain.exit_code == 0
    assert "No access recorded" in plain.output
    assert db.session.scalar(select(func.count()).select_from(AccessEntry)) == 1
