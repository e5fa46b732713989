"""`flask users create`, `list`, `set-password`, `unlock` and `reset-mfa`."""

from __future__ import annotations

from sqlalchemy import func, select

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
