"""`flask users ...`: staff accounts and roles. Each command is a thin shell around one operation."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.cli.output import run_command
from billing.core.db import db
from billing.people.models import Role, User
from billing.people.operations import create_user

users_cli = AppGroup("users", help="Staff accounts and roles.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the user may do.")
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
@click.password_option("--password", prompt_required=False, help="Prompted for when not given.")
def create_user_command(email: str, role: str, name: str | None, password: str | None) -> None:
    """Create a staff login, e.g. `flask users create ann@example.com --role biller`."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    run_command(lambda: create_user(email, name=name or email.split("@")[0], role=role, password=password),
                as_json=False, text=lambda user: f"Created {user.email} ({user.role.label}).")


@users_cli.command("list")
def list_users_command() -> None:
    """Print every account with its role and whether it can log in."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.email:40} {user.role.value:15} {state}")

