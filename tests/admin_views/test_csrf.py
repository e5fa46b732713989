"""CSRF protection is on (as in production): every state-changing POST needs the session's token."""

from __future__ import annotations

import pytest

from billing.core.db import db
from billing.people.models import Provider, Role
from billing.sessions.models import NoteStatus, TherapySession
from tests.admin_views.conftest import QUICK_HASH
from tests.admin_views.grids import CREATED, GRIDS, count, exists, post, row
from tests.conftest import TEST_PASSWORD, csrf_token
from tests.worlds import factories as f

EXPIRED = "Your form had expired or was sent from elsewhere, so nothing was saved. Reload and retry."


def assert_expired(response: object) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert EXPIRED in body
    assert "Traceback" not in body


def test_the_app_under_test_really_checks_csrf(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


@pytest.mark.parametrize("grid", GRIDS, ids=str)
def test_create_needs_the_token(client, login, grid):
    login(Role.ADMIN)
    form = grid.form()
    before = count(grid.model)
    assert_expired(client.post(f"{grid.url}new/", data=form))
    assert_expired(client.post(f"{grid.url}new/", data={**form, "csrf_token": "forged"}))
    assert count(grid.model) == before
    accepted = post(client, f"{grid.url}new/", form, follow_redirects=True)
    assert CREATED in accepted.get_data(as_text=True)
    assert count(grid.model) == before + 1
    assert exists(grid.model, *grid.key)


def test_a_token_from_another_session_is_refused(app, client, login):
    login(Role.ADMIN)
    company = f.CompanyFactory()
    stranger = app.test_client()
    data = {"company": company.id, "first_name": "Eve", "last_name": "Forged", "npi": "1234567893",
            "csrf_token": csrf_token(stranger, "/login")}
    assert_expired(client.post("/admin/provider/new/", data=data))
    assert not exists(Provider, "npi", "1234567893")


def test_edit_needs_the_token(client, login):
    provider = f.ProviderFactory()
    login(Role.OFFICE_MANAGER)
    url = f"/admin/provider/edit/?id={provider.id}"
    form = {"company": provider.company_id, "first_name": provider.first_name, "last_name": "Renamed",
            "npi": provider.npi, "active": "y"}
    before = row(provider)
    assert_expired(client.post(url, data=form))
    assert row(provider) == before
    post(client, url, form, page=url)
    db.session.expire_all()
    assert db.session.get(Provider, provider.id).last_name == "Renamed"


def test_delete_needs_the_token(client, login):
    visit = f.TherapySessionFactory()
    visit_id = visit.id
    login(Role.OFFICE_MANAGER)
    assert_expired(client.post("/admin/session/delete/", data={"id": str(visit_id)}))
    assert db.session.get(TherapySession, visit_id) is not None
    post(client, "/admin/session/delete/", {"id": str(visit_id)}, page="/admin/session/")
    db.session.expire_all()
    assert db.session.get(TherapySession, visit_id) is None


def test_action_needs_the_token(client, login):
    visit = f.TherapySessionFactory(note_text="Practised turn taking.")
    login(Role.OFFICE_MANAGER)
    data = {"action": "finalize", "rowid": [str(visit.id)]}
    assert_expired(client.post("/admin/session/action/", data=data))
    db.session.expire_all()
    assert db.session.get(TherapySession, visit.id).note_status is NoteStatus.DRAFT
    post(client, "/admin/session/action/", data, page="/admin/session/")
    db.session.expire_all()
    assert db.session.get(TherapySession, visit.id).note_status is NoteStatus.FINALIZED


def test_scope_needs_the_token(client, login):
    location = f.LocationFactory(name="Riverside clinic")
    login(Role.ACCOUNTANT)
    assert_expired(client.post("/scope", data={"scope": f"location:{location.id}"}))
    assert "Riverside clinic</strong>" not in client.get("/admin/client/").get_data(as_text=True)
    post(client, "/scope", {"scope": f"location:{location.id}"})
    assert "Riverside clinic</strong>" in client.get("/admin/client/").get_data(as_text=True)


def test_logout_needs_the_token(client, login):
    login(Role.BILLER)
    assert_expired(client.post("/logout"))
    assert client.get("/admin/").status_code == 200
    response = post(client, "/logout", {})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/admin/").status_code == 302


def test_login_needs_the_token(client):
    user = f.UserFactory(role=Role.BILLER, password_hash=QUICK_HASH)
    credentials = {"email": user.email, "password": TEST_PASSWORD}
    assert_expired(client.post("/login", data=credentials))
    assert client.get("/admin/").status_code == 302
    response = post(client, "/login", credentials, page="/login")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_session_cookie_is_http_only_and_same_site_lax(client):
    user = f.UserFactory(password_hash=QUICK_HASH)
    response = post(client, "/login", {"email": user.email, "password": TEST_PASSWORD}, page="/login")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    attributes = {part.strip() for part in cookies[0].split(";")}
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
