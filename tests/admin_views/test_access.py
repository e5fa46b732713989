"""The role matrix: every grid, every role, every kind of request, and anonymous visitors."""

from __future__ import annotations

import itertools

import pytest

from admin_views.errors import MESSAGES
from billing.claims.models import Claim
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.people.models import Role
from billing.sessions.models import NoteStatus, TherapySession
from tests.admin_views.grids import CREATED, GRIDS, Grid, count, exists, post, row
from tests.worlds import factories as f

FORBIDDEN = MESSAGES[403]
READ_ONLY_BADGE = "read-only for your role"
CELLS = [pytest.param(grid, role, id=f"{grid}-{role}") for grid, role in itertools.product(GRIDS, Role)]
AJAX_GRIDS = [grid for grid in GRIDS if grid.ajax]


def cannot_change(role: Role) -> str:
    """The flash a reader gets for a refused POST; it names the role so they know why."""
    return f"Your role ({role.label}) cannot change"


def assert_forbidden(response: object) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert FORBIDDEN in body
    assert "Traceback" not in body


def assert_refused(response: object, grid: Grid, role: Role) -> None:
    """Readers get the list back with a flash; a role that cannot even read gets the 403 page."""
    if role in grid.readers:
        assert response.status_code == 200
        assert cannot_change(role) in response.get_data(as_text=True)
    else:
        assert_forbidden(response)


# --- reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("grid", "role"), CELLS)
def test_list_and_details_are_open_to_readers_only(client, login, grid, role):
    record = grid.make()
    login(role)
    listing = client.get(grid.url)
    details = client.get(f"{grid.url}details/?id={record.id}")
    if role not in grid.readers:
        assert_forbidden(listing)
        assert_forbidden(details)
        return
    assert listing.status_code == 200
    assert details.status_code == 200
    page = listing.get_data(as_text=True)
    assert "data-scope" in page
    # Billers retract claims and bill sessions again from the sessions grid: it is not read-only for them.
    acts_here = grid.endpoint == "session" and role is Role.BILLER
    assert (READ_ONLY_BADGE in page) is (role not in grid.editors and not acts_here)


@pytest.mark.parametrize(("grid", "role"), [c for c in CELLS if c.values[0].ajax])
def test_ajax_client_lookup_answers_readers(client, login, grid, role):
    record = grid.make()
    login(role)
    response = client.get(f"{grid.url}ajax/lookup/?name=client&query={record.client.last_name}")
    assert response.status_code == 200
    assert [record.client.id, str(record.client)] in response.get_json()


# --- form pages ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("grid", "role"), CELLS)
def test_new_and_edit_forms_open_for_editors_only(client, login, grid, role):
    record = grid.make()
    login(role)
    new = client.get(f"{grid.url}new/")
    edit = client.get(f"{grid.url}edit/?id={record.id}")
    if role in grid.editors:
        assert new.status_code == 200
        assert edit.status_code == 200
        assert 'name="csrf_token"' in edit.get_data(as_text=True)
    else:
        assert_forbidden(new)
        assert_forbidden(edit)


# --- writing ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("grid", "role"), CELLS)
def test_create_succeeds_for_editors_and_writes_nothing_for_others(client, login, grid, role):
    login(role)
    form = grid.form()
    before = count(grid.model)
    response = post(client, f"{grid.url}new/", form, follow_redirects=True)
    if role in grid.editors:
        assert response.status_code == 200
        assert CREATED in response.get_data(as_text=True)
        assert count(grid.model) == before + 1
        assert exists(grid.model, *grid.key)
    else:
        assert_refused(response, grid, role)
        assert count(grid.model) == before
        assert not exists(grid.model, *grid.key)


@pytest.mark.parametrize(("grid", "role"), [c for c in CELLS if c.values[1] not in c.values[0].editors])
def test_edit_post_by_a_role_that_may_not_edit_writes_nothing(client, login, grid, role):
    record = grid.make()
    login(role)
    form = grid.form()
    before = row(record)
    response = post(client, f"{grid.url}edit/?id={record.id}", form, follow_redirects=True)
    assert_refused(response, grid, role)
    assert row(record) == before


@pytest.mark.parametrize(("grid", "role"), CELLS)
def test_delete_is_refused_and_the_row_stays(client, login, grid, role):
    """Grids never delete; sessions alone let editors delete a draft entered in error."""
    record = grid.make()
    record_id = record.id
    login(role)
    before = count(grid.model)
    response = post(client, f"{grid.url}delete/", {"id": str(record_id)}, follow_redirects=True)
    db.session.expire_all()
    if grid.deletable and role in grid.editors:
        assert "Record was successfully deleted." in response.get_data(as_text=True)
        assert db.session.get(grid.model, record_id) is None
        return
    if role in grid.editors:  # editors reach the view; it refuses because deleting is off
        assert cannot_change(role) in response.get_data(as_text=True)
    else:
        assert_refused(response, grid, role)
    assert count(grid.model) == before
    assert db.session.get(grid.model, record_id) is not None


@pytest.mark.parametrize(("grid", "role"), CELLS)
def test_bulk_delete_action_leaves_every_row(client, login, grid, role):
    record = grid.make()
    record_id = record.id
    login(role)
    response = post(client, f"{grid.url}action/", {"action": "delete", "rowid": [str(record_id)]},
                    follow_redirects=True)
    if role not in grid.editors:
        assert_refused(response, grid, role)
    db.session.expire_all()
    if grid.deletable and role in grid.editors:
        assert db.session.get(grid.model, record_id) is None
    else:
        assert db.session.get(grid.model, record_id) is not None


@pytest.mark.parametrize("role", list(Role))
def test_finalize_action_on_sessions_is_for_clinical_editors_only(client, login, role):
    visit = f.TherapySessionFactory(note_text="Worked on requesting.")
    login(role)
    response = post(client, "/admin/session/action/", {"action": "finalize", "rowid": [str(visit.id)]},
                    follow_redirects=True)
    db.session.expire_all()
    finalized = db.session.get(TherapySession, visit.id).note_status is NoteStatus.FINALIZED
    assert finalized is (role in {Role.ADMIN, Role.OFFICE_MANAGER})
    if not finalized:
        assert cannot_change(role) in response.get_data(as_text=True)


@pytest.mark.parametrize("role", list(Role))
def test_retract_action_on_sessions_is_for_billers_only(client, login, role):
    """Retracting a claim is a billing move: offered in the sessions grid to billers and admins, not to the
    office managers who keep the sessions (issue 16: the role table gives claim changes to billers)."""
    visit = f.TherapySessionFactory(note_text="Worked on requesting.")
    f.DiagnosisFactory(client=visit.client)
    f.PolicyFactory(client=visit.client, payer=f.PayerFactory(company=visit.provider.company))
    claim = finalize_session(visit, actor=Actor.system("test")).created[0]
    login(role)
    page = client.get("/admin/session/").get_data(as_text=True)
    response = post(client, "/admin/session/action/", {"action": "retract", "rowid": [str(visit.id)]},
                    follow_redirects=True)
    body = response.get_data(as_text=True)
    db.session.expire_all()
    allowed = role in {Role.ADMIN, Role.BILLER}
    assert ("Retract claims" in page) is allowed
    assert (f"{claim.number} retracted" in body) is allowed
    assert (db.session.get(Claim, claim.id).status is ClaimStatus.VOIDED) is allowed


# --- claims and the dashboard -------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_dashboard_and_claims_but_nobody_types_a_claim(client, login, role):
    login(role)
    assert client.get("/admin/").status_code == 200
    claims = client.get("/admin/claim/")
    assert claims.status_code == 200
    assert (READ_ONLY_BADGE in claims.get_data(as_text=True)) is (role not in {Role.ADMIN, Role.BILLER})
    assert_forbidden(client.get("/admin/claim/new/"))


# --- anonymous visitors -------------------------------------------------------------------------
def _anonymous_gets() -> list[str]:
    urls = ["/admin/", "/admin/claim/", "/admin/claim/details/?id=1"]
    for grid in GRIDS:
        urls += [grid.url, f"{grid.url}new/", f"{grid.url}edit/?id=1", f"{grid.url}details/?id=1"]
        urls += [f"{grid.url}ajax/lookup/?name={name}&query=x" for name in grid.ajax]
    return urls


def _anonymous_posts() -> list[str]:
    urls = ["/logout", "/scope", "/admin/claim/action/", "/admin/session/cancel/"]
    for grid in GRIDS:
        urls += [f"{grid.url}new/", f"{grid.url}edit/?id=1", f"{grid.url}delete/", f"{grid.url}action/"]
    return urls


def _sent_to_login(response: object) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_login_page_is_open(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


@pytest.mark.parametrize("url", _anonymous_gets())
def test_anonymous_get_is_sent_to_login(client, url):
    assert _sent_to_login(client.get(url))


@pytest.mark.parametrize("url", _anonymous_posts())
def test_anonymous_post_is_sent_to_login_and_writes_nothing(client, url):
    visit = f.TherapySessionFactory()
    before = row(visit), count(TherapySession)
    response = post(client, url, {"id": str(visit.id), "rowid": [str(visit.id)], "action": "delete"},
                    page="/login")
    assert _sent_to_login(response)
    assert (row(visit), count(TherapySession)) == before
