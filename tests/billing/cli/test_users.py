"""`flask users create`, `list`, `set-password`, `unlock` and `reset-mfa`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.people.models import Role, User


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_with_password_option(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "Ann.Biller@Example.com", "--role", "biller", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    assert "Created ann.biller@example.com (Biller)" in result.output
    user = db.session.scalar(select(User).where(User.email == "ann.biller@example.com"))
    assert user.role is Role.BILLER
    assert user.check_password("long enough pw")
    assert user.password_hash != "long enough pw"


def test_create_reads_the_password_from_stdin_when_not_given(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "bo@example.com", "--role", "accountant", "--name", "Bo Counts"],
        input="quiet harbor lantern\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "bo@example.com"))
    assert user.name == "Bo Counts"
    assert user.check_password("quiet harbor lantern")


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "dup@example.com", "--role", "admin", "--password", "long enough pw"])
    before = _users()
    cases = [
        (["dup@example.com", "--role", "biller", "--password", "long enough pw"], "already has an account"),
        (["not-an-email", "--role", "biller", "--password", "long enough pw"], "email"),
        (["short@example.com", "--role", "accountant", "--password", "short"], "at least 8 characters"),
        (["short@example.com", "--role", "biller", "--password", "eleven char"], "at least 12 characters"),
        (["common@example.com", "--role", "admin", "--password", "password1234"], "too easy to guess"),
        (["x@example.com", "--role", "wizard", "--password", "long enough pw"], "wizard"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert _users() == before


def test_list_shows_role_and_state(app):
    runner = app.test_cli_runner()
    runner.invoke(
        args=["users", "create", "lister@example.com", "--role", "office_manager", "--password", "long enough pw"]
    )
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if line.startswith("lister@example.com"))
    assert "office_manager" in line
    assert "active" in line


def _account(email: str, role: Role = Role.BILLER, **fields: object) -> User:
    user = User(email=email, name="Someone", role=role, password_hash="x", **fields)
    user.set_password("the old passphrase here")
    db.session.add(user)
    db.session.flush()
    return user


def test_set_password_reads_stdin_ends_sessions_and_is_recorded(app):
    user = _account("sp@example.com", failed_logins=3)
    version = user.session_version
    result = app.test_cli_runner().invoke(args=["users", "set-password", "SP@example.com", "--json"],
                                          input="a brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["failed_logins"] == 0
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.check_password("a brand new passphrase")
    assert user.session_version > version
    actions = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_id == user.id,
                                                                    StatusChange.subject_type == "user"))
    assert list(actions) == [AuditAction.PASSWORD_CHANGED]


def test_set_password_refuses_a_weak_password_and_an_unknown_email(app):
    _account("weak@example.com", role=Role.ADMIN)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", "weak@example.com"], input="password1234\n")
    assert result.exit_code == 1
    assert "too easy to guess" in result.output
    result = runner.invoke(args=["users", "set-password", "nobody@example.com", "--json"], input="x\n")
    assert json.loads(result.output)["kind"] == "not_found"


def test_unlock_clears_a_lockout_and_says_when_there_is_none(app):
    user = _account("locked@example.com", failed_logins=4, locked_until=datetime.now(UTC) + timedelta(minutes=9))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "unlock", "locked@example.com", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["locked_until"] is None
    db.session.expire_all()
    assert (db.session.get(User, user.id).failed_logins, db.session.get(User, user.id).locked_until) == (0, None)
    again = runner.invoke(args=["users", "unlock", "locked@example.com", "--json"])
    assert json.loads(again.output)["kind"] == "nothing_to_do"


def test_reset_mfa_forgets_the_app(app):
    user = _account("phone@example.com", totp_secret="JBSWY3DPEHPK3PXP")
    result = app.test_cli_runner().invoke(args=["users", "reset-mfa", "phone@example.com", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["two_factor"] is False
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret is None
