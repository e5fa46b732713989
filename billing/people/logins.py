"""Logging in: the password check, failed-login counting with a lockout window, unlocking, ending sessions.

Every answer costs one password hash, whether the account exists, is inactive, locked or fine, so the
response time tells an attacker nothing about which emails have accounts (45 CFR 164.312(d)).
Operations flush; the caller commits, also after a refused login, so that the count is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import NothingToDo
from billing.people.models import User
from billing.people.operations import normalize_email

#: Checked against when there is no real hash to check, so that every answer costs the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class LockoutPolicy:
    """After `attempts` failures in a row an account refuses every login for `minutes`."""

    attempts: int = 10
    minutes: int = 15

    @classmethod
    def configured(cls) -> LockoutPolicy:
        """CLAIMDESK_LOCKOUT_ATTEMPTS and CLAIMDESK_LOCKOUT_MINUTES, else the defaults."""
        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(int(config.get("CLAIMDESK_LOCKOUT_ATTEMPTS", cls.attempts)),
                   int(config.get("CLAIMDESK_LOCKOUT_MINUTES", cls.minutes)))


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(email: str, password: str, *, now: datetime, policy: LockoutPolicy | None = None) -> User | None:
    """The active, unlocked user with this email and password; else None, with the failure counted."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    # Always one hash, and always before any decision: the time taken must not depend on the account.
    matches = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not user.active:
        return None
    if is_locked(user, now):
        return None
    if not matches:
        count_failure(user, now=now, policy=policy)
        return None
    return user


def count_failure(user: User, *, now: datetime, policy: LockoutPolicy | None = None) -> None:
    """One more failed login (a wrong password or a wrong two-factor code); at the limit the account locks."""
    policy = policy or LockoutPolicy.configured()
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= policy.attempts:
        user.locked_until = now + timedelta(minutes=policy.minutes)
        record_change("user", user.id, AuditAction.USER_LOCKED, actor=Actor.system("login"),
                      after=user.locked_until.isoformat(timespec="seconds"),
                      reason=f"{user.failed_logins} failed logins in a row",
                      data={"failed_logins": user.failed_logins, "minutes": policy.minutes})
        user.failed_logins = 0  # the next window starts afresh once this one has passed
    db.session.flush()


def record_login(user: User, *, now: datetime) -> None:
    """A complete login (password, and the code where one is needed): the count starts over."""
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.session.flush()


def unlock_user(user: User, *, actor: Actor, now: datetime) -> User:
    """Lift a lockout before its window ends (an admin who has confirmed who is asking)."""
    if not is_locked(user, now) and not user.failed_logins:
        raise NothingToDo(f"{user.email} is not locked and has no failed logins to clear.")
    before = user.locked_until.isoformat(timespec="seconds") if is_locked(user, now) and user.locked_until else None
    user.failed_logins, user.locked_until = 0, None
    record_change("user", user.id, AuditAction.USER_UNLOCKED, actor=actor, before=before)
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """Every login cookie this user holds stops working on its next request (logout, a reset)."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()
