"""Errors with messages meant for the person at the keyboard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field it belongs to and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class BillingError(Exception):
    """Base for every error whose message may be shown to a user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(BillingError):
    """Input was refused; nothing was written. `problems` names each faulty field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)
