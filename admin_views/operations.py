"""How a view runs one operation: in one unit of work, with a flash for what happened and a redirect.

A view parses its input and makes one `run_operation` call. A refusal (any BillingError) rolled everything
back, so the person reads its message and goes back to where they were; a success says what was done and
goes on. Forms that show refusals beside their fields use `form_problems` instead.

Money forms also carry a one-time key (billing.core.operation_keys): `run_once` posts a form at most once and
answers a repeat with what the first submit did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from billing.core.db import db
from billing.core.errors import BillingError, Problem, ValidationFailed
from billing.core.operation_keys import (
    AlreadyDone,
    checked_key,
    claim_key,
    is_operation_key,
    new_operation_key,
    previous_use,
)
from billing.core.unit_of_work import unit_of_work

#: The hidden field a money form's one-time key travels in.
KEY_FIELD = "op_key"

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


def operation_key_input() -> Markup:
    """A fresh one-time key as a hidden input; a form re-shown after a refusal keeps the key it was sent with."""
    key = request.form.get(KEY_FIELD, "") if request.method == "POST" else ""
    value = key if is_operation_key(key) else new_operation_key()
    return Markup('<input type="hidden" name="{}" value="{}">').format(KEY_FIELD, value)


class Repeated(Exception):
    """A submit whose key was used before (or by a concurrent submit that committed first): nothing was done."""

    def __init__(self, done: AlreadyDone) -> None:
        super().__init__(done.outcome)
        self.done = done


class _Lost(Exception):
    """The key's INSERT lost a race: the other submit committed first."""


@dataclass(frozen=True)
class Done(Generic[T]):
    result: T
    message: str
    target: str | None


def once(name: str, subject: str, operation: Callable[[], T], *, outcome: Callable[[T], str],
         target: Callable[[T], str | None] | None = None) -> Done[T]:
    """Run a keyed money operation in one unit of work: at most once per key, whatever the timing.

    Raises Repeated (nothing done) when the key was used before; a BillingError refusal leaves the key unused.
    The outcome message (and where the person went next) is stored with the key so a repeat can show them.
    """
    key = checked_key(request.form.get(KEY_FIELD))
    if (done := previous_use(key, operation=name, subject=subject)) is not None:
        raise Repeated(done)
    # End the read transaction the page's lookups began: the key's INSERT then opens the write transaction,
    # so everything the operation reads is as committed now, after any concurrent submit it waited for.
    db.session.rollback()
    try:
        with unit_of_work():
            row = claim_key(key, operation=name, subject=subject, actor=current_actor().name)
            if row is None:
                raise _Lost()
            result = operation()
            message, where = outcome(result), (target(result) if target else None)
            row.outcome, row.target = message[:2000], where if where and len(where) <= 255 else None
    except _Lost:
        raise Repeated(previous_use(key, operation=name, subject=subject) or AlreadyDone("", None)) from None
    return Done(result, message, where)


def run_once(
    name: str,
    subject: str,
    operation: Callable[[], T],
    *,
    success: Callable[[T], str],
    back: str,
    then: Callable[[T], str | None] | None = None,
    refusal: Callable[[BillingError], str] | None = None,
) -> Response:
    """`run_operation` for a money form: posts at most once per form; a repeat shows the first outcome."""
    try:
        done = once(name, subject, operation, outcome=success, target=then)
    except Repeated as repeat:
        return show_repeat(repeat.done, back)
    except BillingError as exc:
        flash(refusal(exc) if refusal else exc.message, "error")
        return redirect(back)
    flash(done.message, "success")
    return redirect(done.target or back)


def show_repeat(done: AlreadyDone, back: str) -> Response:
    said = f" {done.outcome}" if done.outcome else ""
    flash(f"This form was already submitted; nothing was posted again.{said}", "info")
    return redirect(done.target or back)
