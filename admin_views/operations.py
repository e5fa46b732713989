"""How a view runs one operation: in one unit of work, with a flash for what happened and a redirect.

A view parses its input and makes one `run_operation` call. A refusal (any BillingError) rolled everything
back, so the person reads its message and goes back to where they were; a success says what was done and
goes on. Forms that show refusals beside their fields use `form_problems` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, redirect
from werkzeug.wrappers import Response

from billing.core.errors import BillingError, Problem, ValidationFailed
from billing.core.unit_of_work import unit_of_work

T = TypeVar("T")


def run_operation(
    operation: Callable[[], T],
    *,
    success: str | Callable[[T], str | None],
    back: str,
    then: str | Callable[[T], str] | None = None,
    refusal: Callable[[BillingError], str] | None = None,
) -> Response:
    """Run `operation` in one unit of work, then flash and redirect.

    Args:
        success: flashed as "success" after the commit: a text, or made from the result (a callable that
            flashes for itself returns None).
        back: where a refusal goes (and a success too, unless `then` says otherwise).
        then: where a success goes: a URL, or made from the result (e.g. the new claim's page).
        refusal: how a refusal reads, when not its own message as it is (e.g. "Nothing was changed: ...").
    """
    try:
        with unit_of_work():
            result = operation()
    except BillingError as exc:
        flash(refusal(exc) if refusal else exc.message, "error")
        return redirect(back)
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    target = then(result) if callable(then) else then
    return redirect(target or back)


def form_problems(exc: BillingError) -> list[Problem]:
    """A refusal as a form shows it: ValidationFailed's problems per field, any other as one form-wide problem."""
    return exc.problems if isinstance(exc, ValidationFailed) else [Problem("", exc.message)]
