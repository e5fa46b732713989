"""Logins under attack (issue 16, items 1-5): guessing, replayed cookies, idle sessions, off-site redirects,
and two-factor enrolment, login, recovery and reset, on a fixed clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import billing.people.logins as logins
from admin_views.login_state import limiter
from billing.core.audit import Actor, AuditAction, StatusChange
from billing.core.db import db
from billing.people.mfa import reset_mfa
from billing.people.models import Role, User
from billing.people.operations import change_password
from tests.admin_views.grids import post
from tests.conftest import TEST_PASSWORD, csrf_token
from tests.worlds import factories

HOST = "claimdesk.test"
START = datetime(2026, 3, 2, 14, 0, 7, tzinfo=UTC)
EVIL = "https://evil.example/phish"
SYSTEM = Actor.system("test")


class Clock:
    """The app's login clock (CLAIMDESK_CLOCK), moved by hand."""

    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setitem(app.config, "CLAIMDESK_CLOCK", fixed)
    return fixed


@pytest.fixture
def mfa_required(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "CLAIMDESK_MFA_REQUIRED", True)


@pytest.fixture
def throttle(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "CLAIMDESK_LOGIN_THROTTLE", True)
    limiter.reset()
    yield
    limiter.reset()


def log_in(client: FlaskClient, email: str, password: str = TEST_PASSWORD, next_: str | None = None):
    path = f"/login?next={next_}" if next_ else "/login"
    return client.post(path, data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def logged_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


def log_out(client: FlaskClient) -> None:
    if logged_in(client):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def history(user: User, action: AuditAction) -> list[StatusChange]:
    return list(db.session.scalars(select(StatusChange).where(
        StatusChange.subject_type == "user", StatusChange.subject_id == user.id, StatusChange.action == action)))


# --- guessing ------------------------------------------------------------------------------------------------

def test_30_wrong_passwords_then_the_right_one_is_refused(client, clock):
    user = factories.UserFactory(role=Role.ADMIN)
    for attempt in range(30):
        assert "do not match" in log_in(client, user.email, f"guess number {attempt}").get_data(as_text=True)
    response = log_in(client, user.email)
    assert response.status_code == 200
    assert "do not match" in response.get_data(as_text=True)
    assert not logged_in(client)
    db.session.expire_all()
    # 10 failures lock it; the 20 tries during the lockout are refused unseen (the lock is not stretched).
    assert len(history(user, AuditAction.USER_LOCKED)) == 1
    assert db.session.get(User, user.id).locked_until == START + timedelta(minutes=15)


def test_a_lockout_ends_after_its_window(client, clock):
    user = factories.UserFactory(role=Role.BILLER)
    for attempt in range(10):
        log_in(client, user.email, f"wrong {attempt}")
    clock.advance(minutes=14)
    log_in(client, user.email)
    assert not logged_in(client)
    clock.advance(minutes=2)
    assert log_in(client, user.email).status_code == 302
    assert logged_in(client)


def test_an_admin_unlocks_on_the_users_page_and_both_are_recorded(app, client, clock, login):
    locked = factories.UserFactory(role=Role.BILLER)
    other = app.test_client()
    for attempt in range(10):
        log_in(other, locked.email, f"wrong {attempt}")
    admin = login(Role.ADMIN)
    assert "locked until" in client.get("/admin/user/").get_data(as_text=True)
    response = post(client, "/admin/user/action/", {"action": "unlock", "rowid": [str(locked.id)]},
                    follow_redirects=True)
    assert f"Unlocked: {locked.email}" in response.get_data(as_text=True)
    db.session.expire_all()
    [unlocked] = history(locked, AuditAction.USER_UNLOCKED)
    assert unlocked.actor == admin.email
    assert log_in(other, locked.email).status_code == 302


def test_the_throttle_refuses_an_address_that_tries_too_often(client, throttle):
    user = factories.UserFactory()
    for attempt in range(10):
        assert log_in(client, user.email, f"wrong {attempt}").status_code == 200
    response = log_in(client, user.email)
    assert response.status_code == 429
    assert "Too many login attempts" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_every_refusal_costs_one_password_hash(client, clock, monkeypatch):
    """Unknown, inactive, locked and wrong all take the same work, so timing reveals no account."""
    calls: list[str] = []
    real = logins.check_password_hash
    monkeypatch.setattr(logins, "check_password_hash", lambda h, p: calls.append(p) or real(h, p))
    active = factories.UserFactory()
    inactive = factories.UserFactory(active=False)
    locked = factories.UserFactory(locked_until=START + timedelta(minutes=5))
    for email, password in ((active.email, "wrong"), ("nobody@example.test", TEST_PASSWORD),
                            (inactive.email, TEST_PASSWORD), (locked.email, TEST_PASSWORD)):
        calls.clear()
        response = log_in(client, email, password)
        assert "do not match an active account" in response.get_data(as_text=True)
        assert len(calls) == 1, email


# --- sessions that end ---------------------------------------------------------------------------------------

def _replay(app: Flask, cookie: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain=HOST)
    return thief


def test_a_cookie_copied_before_logout_does_not_work_after_it(app, client, login):
    login(Role.BILLER)
    stolen = client.get_cookie("session", domain=HOST).value
    assert logged_in(_replay(app, stolen))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert not logged_in(_replay(app, stolen))


@pytest.mark.parametrize("change", ["password", "role", "deactivation", "mfa_reset"])
def test_a_cookie_stops_working_when_the_account_changes(app, client, login, change):
    user = login(Role.BILLER)
    stolen = client.get_cookie("session", domain=HOST).value
    if change == "password":
        change_password(user, "a completely new passphrase", actor=SYSTEM)
    elif change == "role":
        user.role = Role.ACCOUNTANT
    elif change == "deactivation":
        user.active = False
    else:
        user.totp_secret = pyotp.random_base32()
        reset_mfa(user, actor=SYSTEM)
    db.session.flush()
    assert not logged_in(_replay(app, stolen))
    assert not logged_in(client)


def test_idle_sessions_are_logged_off_after_15_minutes(client, clock, login):
    login(Role.ACCOUNTANT)
    clock.advance(minutes=14)
    assert logged_in(client)  # a request: the 15 minutes start again
    clock.advance(minutes=14)
    assert logged_in(client)
    clock.advance(minutes=15, seconds=1)
    response = client.get("/admin/claim/", follow_redirects=True)
    assert response.request.path == "/login"
    assert "logged off after 15 minutes without activity" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_pages_carry_the_idle_warning_script(client, login):
    login(Role.BILLER)
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'claimdesk/idle\.js" defer data-idle-seconds="900"', page)
    script = client.get("/static/claimdesk/idle.js")
    script.close()
    assert script.status_code == 200


def test_the_csrf_token_changes_at_login(client):
    user = factories.UserFactory()
    before = csrf_token(client)
    log_in(client, user.email)
    assert csrf_token(client, "/admin/") != before


# --- off-site next ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [EVIL, "//evil.example/x", "/\\evil.example", "https:/evil.example",
                                    "javascript:alert(1)", " //evil.example"])
def test_login_never_sends_anyone_off_site(client, target):
    user = factories.UserFactory()
    response = log_in(client, user.email, next_=target)
    assert response.headers["Location"] == "/admin/"


def test_claim_reason_form_never_sends_anyone_off_site(client, login, world):
    login(Role.BILLER)
    claim = world.claim()
    page = client.get(f"/admin/claim/reason/?operation=hold&ids={claim.id}&next={EVIL}").get_data(as_text=True)
    assert 'name="next" value="https://evil' not in page  # the form does not carry it on
    response = post(client, "/admin/claim/reason/", {"operation": "hold", "ids": str(claim.id), "reason": "check",
                                                     "next": EVIL})
    assert "evil" not in response.headers["Location"]


def test_scope_picker_and_list_actions_never_send_anyone_off_site(client, login):
    login(Role.ADMIN)
    response = post(client, "/scope", {"scope": "all", "next": EVIL})
    assert "evil" not in response.headers["Location"]
    user = factories.UserFactory()
    response = post(client, "/admin/user/action/", {"action": "unlock", "rowid": [str(user.id)], "url": EVIL})
    assert "evil" not in response.headers["Location"]


# --- two-factor ---------------------------------------------------------------------------------------------

def _enrol(client: FlaskClient, clock: Clock) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")
    secret = re.search(r'<code id="cd-secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).at(clock()),
                                                         "csrf_token": csrf_token(client, "/account/two-factor")})
    codes = re.findall(r'<li class="cd-recovery-code">([0-9a-f-]+)</li>', response.get_data(as_text=True))
    return secret, codes


def test_a_biller_must_enrol_then_logs_in_with_a_code(client, clock, mfa_required):
    user = factories.UserFactory(role=Role.BILLER)
    assert log_in(client, user.email).status_code == 302
    assert client.get("/admin/claim/").headers["Location"].endswith("/account/two-factor")
    secret, codes = _enrol(client, clock)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    db.session.expire_all()
    assert db.session.get(User, user.id).mfa_enrolled
    assert history(user, AuditAction.MFA_ENROLLED)
    stored = [c.code_hash for c in db.session.get(User, user.id).recovery_codes]
    assert not set(codes) & set(stored)  # only digests are kept
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})

    clock.advance(seconds=60)
    response = log_in(client, user.email, next_="/admin/claim/")
    assert response.headers["Location"].endswith("/login/code")
    assert not logged_in(client)  # the password alone is not a login
    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(clock()),
                                                "csrf_token": csrf_token(client, "/login/code")})
    assert response.headers["Location"] == "/admin/claim/"
    assert logged_in(client)


def test_a_code_works_once_and_a_wrong_code_counts_as_a_failed_login(client, clock, mfa_required):
    user = factories.UserFactory(role=Role.ADMIN)
    log_in(client, user.email)
    secret, _ = _enrol(client, clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock())
    for typed, works in (("000000" if code != "000000" else "111111", False), (code, True)):
        log_in(client, user.email)
        client.post("/login/code", data={"code": typed, "csrf_token": csrf_token(client, "/login/code")})
        assert logged_in(client) is works
        log_out(client)
    log_in(client, user.email)
    client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})
    assert not logged_in(client)  # the same code again (a replay)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 1  # the good login in between cleared the first


def test_a_recovery_code_logs_in_once(client, clock, mfa_required):
    user = factories.UserFactory(role=Role.BILLER)
    log_in(client, user.email)
    _, codes = _enrol(client, clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    for works in (True, False):
        log_in(client, user.email)
        client.post("/login/code", data={"code": codes[3].upper(), "csrf_token": csrf_token(client, "/login/code")})
        assert logged_in(client) is works
        log_out(client)
    db.session.expire_all()
    assert len(history(user, AuditAction.RECOVERY_CODE_USED)) == 1


def test_an_admin_resets_two_factor_and_the_user_enrols_again(app, client, clock, login, monkeypatch):
    biller = factories.UserFactory(role=Role.BILLER)
    phone = app.test_client()
    log_in(phone, biller.email)
    _enrol(phone, clock)  # of their own accord: anyone may
    stolen = phone.get_cookie("session", domain=HOST).value
    admin = login(Role.ADMIN)
    response = post(client, "/admin/user/action/", {"action": "reset_mfa", "rowid": [str(biller.id)]},
                    follow_redirects=True)
    assert f"Two-factor reset: {biller.email}" in response.get_data(as_text=True)
    db.session.expire_all()
    reset = db.session.get(User, biller.id)
    assert not reset.mfa_enrolled
    assert reset.recovery_codes == []
    assert [h.actor for h in history(biller, AuditAction.MFA_RESET)] == [admin.email]
    assert not logged_in(_replay(app, stolen))
    monkeypatch.setitem(app.config, "CLAIMDESK_MFA_REQUIRED", True)
    fresh = app.test_client()
    assert log_in(fresh, biller.email).status_code == 302
    assert fresh.get("/admin/").headers["Location"].endswith("/account/two-factor")


def test_an_office_manager_is_not_forced_to_enrol(client, mfa_required, login):
    login(Role.OFFICE_MANAGER)
    assert logged_in(client)
