"""Errors with messages meant for the person at the keyboard.

Every refusal is a `BillingError` of one category, so callers branch on the type, never on the text:

    NotFound     the thing named does not exist
    NotAllowed   the user's role or the thing's state forbids it
    Conflict     the state changed underneath: already done, a duplicate, locked by someone else
    Invalid      the input was refused (ValidationFailed names each faulty field)
    NothingToDo  a valid request with nothing to act on
    Failed       something outside the request failed (a server, a worker, a step of a job)

`kind` is the category's name in JSON output (`flask ... --json`).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field it belongs to and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class BillingError(Exception):
    """Base for every error whose message may be shown to a user as it is; raise one of its categories."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(BillingError):
    """The thing named (a claim, batch, job, report, export...) does not exist."""

    kind = "not_found"


class NotAllowed(BillingError):
    """The user's role or the thing's current state forbids the operation."""

    kind = "not_allowed"


class Conflict(BillingError):
    """The state changed underneath: already done, a duplicate, or locked by someone else right now."""

    kind = "conflict"


class Invalid(BillingError):
    """The input was refused and nothing was written; `problems` lists what was wrong, when known."""

    kind = "invalid"

    def __init__(self, message: str, problems: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.problems: list[Any] = list(problems)


class NothingToDo(BillingError):
    """A valid request that found nothing to act on (no eligible claims, no balance, no denied lines)."""

    kind = "nothing_to_do"


class Failed(BillingError):
    """Something outside the request failed (an SFTP server, a worker process, a step of a job); retry later."""

    kind = "failed"


class ValidationFailed(Invalid):
    """Input was refused; nothing was written. `problems` names each faulty field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems), problems)
        self.problems: list[Problem] = problems


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def withheld_summary(exc: BaseException, *, frames: int = 8) -> str:
    """An unexpected error as a log line may carry it: its class and the code it went through, not its message.

    A database error's message holds the SQL and its parameters (patient names, member ids), and a parsing
    error's holds what was typed; neither belongs in a log. The class and the last `frames` frames (file,
    line, function) are enough to find the fault; a BillingError's message is written for users and is kept.
    """
    if isinstance(exc, BillingError):
        return f"{type(exc).__name__}: {exc.message}"
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
    return f"{type(exc).__name__} (message withheld: it may hold SQL, parameters or patient data) at {where or '?'}"
