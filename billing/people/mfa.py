"""Two-factor login: a TOTP authenticator app (RFC 6238, via pyotp) and one-time recovery codes.

The secret is saved only once the user has typed a code the app made from it, so a half-finished
enrolment never locks anyone out. Recovery codes are shown once and kept as SHA-256 digests: each is
64 random bits, too many to try against a stolen digest, so a slow hash would add nothing.
Operations flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Invalid, NothingToDo, Problem
from billing.people.logins import end_sessions
from billing.people.models import RecoveryCode, Role, User

ISSUER = "ClaimDesk"
RECOVERY_CODES = 10
#: Codes from the step before and after count too: a phone's clock may be 30 seconds off.
_DRIFT_STEPS = 1
#: Roles that must use two-factor when CLAIMDESK_MFA_REQUIRED is on: they move money or manage accounts.
MFA_ROLES = frozenset({Role.ADMIN, Role.BILLER})


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def enrol(user: User, secret: str, code: str, *, now: datetime, actor: Actor) -> list[str]:
    """Turn two-factor on with `secret` once `code` proves the app has it; returns the recovery codes (shown once)."""
    if user.mfa_enrolled:
        raise NothingToDo(f"{user.email} already uses two-factor; an admin can reset it to enrol again.")
    step = _matching_step(secret, code, now, after=None)
    if step is None:
        raise Invalid("That code does not match; check the app's clock and type the current code.",
                      [Problem("code", "The code does not match the one the app shows now.")])
    user.totp_secret, user.totp_last_step, user.mfa_enrolled_at = secret, step, now
    codes = _new_recovery_codes(user)
    record_change("user", user.id, AuditAction.MFA_ENROLLED, actor=actor)
    db.session.flush()
    return codes


def check_second_factor(user: User, code: str, *, now: datetime) -> bool:
    """True for the app's current code (each code once) or an unused recovery code (then used up)."""
    if not user.mfa_enrolled or not code.strip():
        return False
    step = _matching_step(user.totp_secret or "", code, now, after=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        db.session.flush()
        return True
    return _use_recovery_code(user, code, now=now)


def reset_mfa(user: User, *, actor: Actor) -> User:
    """Forget the user's authenticator and recovery codes (a lost phone); they enrol again at their next login."""
    if not user.mfa_enrolled:
        raise NothingToDo(f"{user.email} has not enrolled in two-factor; there is nothing to reset.")
    user.totp_secret, user.totp_last_step, user.mfa_enrolled_at = None, None, None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.expire(user, ["recovery_codes"])
    record_change("user", user.id, AuditAction.MFA_RESET, actor=actor)
    end_sessions(user)
    return user


def unused_recovery_codes(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)


def _matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time step whose code `code` is, within the allowed drift and later than `after`; else None."""
    typed = "".join(code.split())
    if not (typed.isascii() and typed.isdigit() and len(typed) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    codes = ["-".join(secrets.token_hex(2) for _ in range(4)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    return codes


def _use_recovery_code(user: User, code: str, *, now: datetime) -> bool:
    stored = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code), RecoveryCode.used_at.is_(None)))
    if stored is None:
        return False
    stored.used_at = now
    record_change("user", user.id, AuditAction.RECOVERY_CODE_USED, actor=Actor.user(user),
                  data={"left": unused_recovery_codes(user)})
    db.session.flush()
    return True


def _digest(code: str) -> str:
    """Spaces, dashes and case do not matter when a code is typed back."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()
