"""The password rule: long enough for the role, and not a password attackers try first."""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

from billing.core.errors import Problem
from billing.people.models import Role

#: Everyone's minimum; the roles that move money or manage accounts need more.
MIN_PASSWORD_LENGTH = 8
MIN_PRIVILEGED_LENGTH = 12
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.BILLER})
#: zxcvbn's 0-4 guessability score; 3 means "safely unguessable" (about 10^8 guesses or more).
MIN_STRENGTH = 3
#: zxcvbn's cost grows with length; beyond this many characters nothing is gained by scoring more of it.
_SCORED_CHARACTERS = 100


def min_length(role: Role | str | None) -> int:
    return MIN_PRIVILEGED_LENGTH if role in PRIVILEGED_ROLES else MIN_PASSWORD_LENGTH


def password_problems(password: str, role: Role | str | None, *, personal: Sequence[str] = ()) -> list[Problem]:
    """What is wrong with `password` for an account with this role; `personal` are the user's email and name."""
    needed = min_length(role)
    if len(password) < needed:
        what = f"A password for the {Role(role).label.lower()} role" if role in PRIVILEGED_ROLES else "A password"
        return [Problem("password", f"{what} needs at least {needed} characters.")]
    verdict = zxcvbn(password[:_SCORED_CHARACTERS], user_inputs=[p for p in personal if p])
    if verdict["score"] < MIN_STRENGTH:
        hint = verdict["feedback"].get("warning") or "It is among the passwords attackers try first."
        return [Problem("password", f"That password is too easy to guess: {hint.rstrip('.')}. "
                                    "Use a few uncommon words or a longer phrase.")]
    return []
