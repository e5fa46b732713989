"""Staff accounts: create, authenticate. Operations flush; the caller commits."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from billing.core.db import db, utcnow
from billing.core.errors import Problem, raise_if
from billing.people.models import Role, User

MIN_PASSWORD_LENGTH = 8
_DUMMY_HASH = generate_password_hash("not-a-real-password")


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
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters."))
    return problems


def create_user(email: str, *, name: str, role: str, password: str) -> User:
    """Add a staff login with a hashed password."""
    raise_if(user_problems(email, name, role, password))
    user = User(email=normalize_email(email), name=name.strip(), role=Role(role), active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, with the login time stamped; else None."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        # Hash anyway, so response time does not reveal which emails have accounts.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user
