"""Staff accounts: create, change a password. Operations flush; the caller commits.

Logging in (lockout, sessions) is billing/people/logins.py; two-factor is billing/people/mfa.py.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import NotFound, Problem, raise_if
from billing.people.models import Role, User
from billing.people.passwords import password_problems


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_problems(
    email: str, name: str, role: str, password: str | None, *, user_id: int | None = None
) -> list[Problem]:
    """Everything wrong with a would-be account, so one message can list it all."""
    problems: list[Problem] = []
    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        problems.append(Problem("email", str(exc)))
    else:
        clash = db.session.scalar(select(User.id).where(func.lower(User.email) == normalize_email(email)))
        if clash is not None and clash != user_id:
            problems.append(Problem("email", f"{normalize_email(email)} already has an account."))
    if not name.strip():
        problems.append(Problem("name", "A name is required."))
    if role not in {r.value for r in Role}:
        problems.append(Problem("role", f"Role must be one of {', '.join(r.value for r in Role)}."))
    if password is not None:
        problems.extend(password_problems(password, role, personal=(email, name)))
    return problems


def create_user(email: str, *, name: str, role: str, password: str) -> User:
    """Add a staff login with a hashed password."""
    raise_if(user_problems(email, name, role, password))
    user = User(email=normalize_email(email), name=name.strip(), role=Role(role), active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"No account has the email {normalize_email(email)[:254]}.")
    return user


def change_password(user: User, password: str, *, actor: Actor) -> User:
    """Set a new password (checked against the rule for the user's role); every open session of theirs ends."""
    raise_if(password_problems(password, user.role, personal=(user.email, user.name)))
    user.set_password(password)  # the session version rises on flush (models._end_sessions_on_access_change)
    user.failed_logins, user.locked_until = 0, None
    record_change("user", user.id, AuditAction.PASSWORD_CHANGED, actor=actor)
    db.session.flush()
    return user
