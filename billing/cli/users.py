"""`flask users ...`: staff accounts and roles. Each command is a thin shell around one operation."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.cli.output import json_option, run_command
from billing.core.audit import Actor
from billing.core.db import db, utcnow
from billing.people.logins import is_locked, unlock_user
from billing.people.mfa import reset_mfa
from billing.people.models import Role, User
from billing.people.operations import change_password, create_user, user_by_email

users_cli = AppGroup("users", help="Staff accounts and roles.")


def _actor() -> Actor:
    return Actor.system("cli:users")


def _account(user: User) -> dict[str, Any]:
    now = utcnow()
    return {"email": user.email, "role": user.role.value, "active": user.active,
            "locked_until": user.locked_until.isoformat() if is_locked(user, now) and user.locked_until else None,
            "failed_logins": user.failed_logins, "two_factor": user.mfa_enrolled}


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the user may do.")
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
@click.password_option("--password", prompt_required=False, help="Prompted for when not given.")
def create_user_command(email: str, role: str, name: str | None, password: str | None) -> None:
    """Create a staff login, e.g. `flask users create ann@example.com --role biller`."""
    if password is None:
        password = _read_password()
    run_command(lambda: create_user(email, name=name or email.split("@")[0], role=role, password=password),
                as_json=False, text=lambda user: f"Created {user.email} ({user.role.label}).")


@users_cli.command("list")
@json_option
def list_users_command(as_json: bool) -> None:
    """Print every account with its role, whether it can log in, and its lock and two-factor state."""
    users = list(db.session.scalars(select(User).order_by(User.email)))
    if as_json:
        click.echo(json.dumps([_account(u) for u in users], indent=2))
        return
    for user in users:
        account = _account(user)
        state = "active" if user.active else "inactive"
        extra = (" locked" if account["locked_until"] else "") + (" 2fa" if user.mfa_enrolled else "")
        click.echo(f"{user.email:40} {user.role.value:15} {state}{extra}")


@users_cli.command("set-password")
@click.argument("email")
@json_option
def set_password_command(email: str, as_json: bool) -> None:
    """Give EMAIL a new password, typed at the prompt (twice) or piped on stdin; never on the command line.

    Every session the user has open ends, and a lockout is lifted.
    """
    password = _read_password()
    run_command(lambda: change_password(user_by_email(email), password, actor=_actor()), as_json=as_json,
                text=lambda user: f"New password set for {user.email}; their open sessions have ended.",
                data=_account)


@users_cli.command("unlock")
@click.argument("email")
@json_option
def unlock_command(email: str, as_json: bool) -> None:
    """Lift the lockout of EMAIL (too many failed logins) and clear its count of failures."""
    run_command(lambda: unlock_user(user_by_email(email), actor=_actor(), now=utcnow()), as_json=as_json,
                text=lambda user: f"Unlocked {user.email}.", data=_account)


@users_cli.command("reset-mfa")
@click.argument("email")
@json_option
def reset_mfa_command(email: str, as_json: bool) -> None:
    """Forget EMAIL's authenticator app and recovery codes (a lost phone); they enrol again at their next login."""
    run_command(lambda: reset_mfa(user_by_email(email), actor=_actor()), as_json=as_json,
                text=lambda user: f"Two-factor reset for {user.email}; their open sessions have ended.",
                data=_account)


def _read_password() -> str:
    """From the terminal (hidden, asked twice), or one line of stdin when it is piped (a script, a vault)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
