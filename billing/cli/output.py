"""What every `flask` command group shares: the --json flag, one-line refusals, strict ids, and how results print.

A command parses its options and hands one operation to `run_command`, which runs it in one unit of work and
prints the result; a refusal prints one line (or one JSON error naming its `kind`) and exits 1. `guard_commands`
(applied by app.py to every group) makes the same true of anything unexpected: one line, exit 1, and a log
line without the message, which may hold SQL or patient data. Never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from billing.core.checks import MAX_ID, parse_int
from billing.core.errors import BillingError, Invalid, withheld_summary
from billing.core.unit_of_work import unit_of_work

T = TypeVar("T")
Details = Callable[[BillingError], dict[str, Any]]

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
log = logging.getLogger("claimdesk.cli")
UNEXPECTED = "the command failed unexpectedly and nothing was saved; the log names where (not what was typed)"


class WholeNumber(click.ParamType):
    """An integer in ASCII digits within low..high: click's INT would take '٣' and 2^70, which the database
    then refuses with a traceback (or SQLite overflows)."""

    def __init__(self, low: int, high: int, what: str) -> None:
        self.low, self.high, self.what = low, high, what
        self.name = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = parse_int(value.strip() if isinstance(value, str) else value, low=self.low, high=self.high)
        if number is None:
            self.fail(f"{str(value)[:40]!r} is not {self.what} ({self.low} to {self.high:,}).", param, ctx)
        return number


#: A record id (claim, entry, unmatched item, remittance, PLB, payer, company...).
RECORD_ID = WholeNumber(1, MAX_ID, "a record id")
#: How many rows to show or a line number: what an INTEGER column and SQL LIMIT take on both databases.
COUNT = WholeNumber(0, 2**31 - 1, "a whole number")
LINE_NUMBER = WholeNumber(1, 2**31 - 1, "a line number")


def refusal_document(exc: BillingError, details: Details | None = None) -> dict[str, Any]:
    """The JSON error of a refusal: its first line, its kind, the problems of invalid input, and `details`."""
    document: dict[str, Any] = {"ok": False, "error": _first_line(exc), "kind": exc.kind}
    if isinstance(exc, Invalid):
        document["problems"] = [str(p) for p in exc.problems]
    return {**document, **(details(exc) if details else {})}


def _first_line(exc: BillingError) -> str:
    return exc.message.splitlines()[0] if exc.message else type(exc).__name__


@contextmanager
def refusals(as_json: bool, *, details: Details | None = None) -> Iterator[None]:
    """A refused operation prints one line (or a JSON error, with `details` of the error) and exits 1.

    Wrap the unit of work in it, so that nothing was written when the refusal prints.
    """
    try:
        yield
    except BillingError as exc:
        if as_json:
            click.echo(json.dumps(refusal_document(exc, details)))
            sys.exit(1)
        raise click.ClickException(_first_line(exc)) from None


def run_command(
    operation: Callable[[], T],
    *,
    as_json: bool,
    text: str | Callable[[T], str],
    data: Callable[[T], Any] | None = None,
    details: Details | None = None,
) -> T:
    """Run one operation in one unit of work and print `text` of its result, or with --json `data` of it
    (the result itself when no `data` is given).

    Both are worked out inside the unit of work, before the commit. A refusal (any BillingError) rolls
    everything back, prints one line or a JSON error (`details` adds to it), and exits 1.
    """
    with refusals(as_json, details=details), unit_of_work():
        result = operation()
        message = text(result) if callable(text) else text
        shown = data(result) if data is not None else result
    emit(as_json, shown, message)
    return result


def emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def guard_commands(command: click.Command) -> None:
    """Wrap every command under `command` (a group or one command) so nothing it raises prints a traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard_commands(sub)
    elif command.callback is not None and not getattr(command.callback, "_guarded", False):
        command.callback = _guarded(command.callback)


def _holding_nul(arguments: dict[str, Any]) -> str | None:
    for name, value in arguments.items():
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            return name
    return None


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        if named := _holding_nul(kwargs):
            # PostgreSQL refuses NUL in any text, even in a lookup; SQLite takes it. One answer for both.
            raise click.BadParameter("contains a NUL character (\\0).", param_hint=f"'{named}'")
        try:
            return callback(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BillingError as exc:  # a command that raised its refusal outside `refusals()`
            with refusals(as_json):
                raise exc from None
        except Exception as exc:  # the point: nothing unexpected reaches the terminal as a traceback
            log.error("flask %s failed: %s", click.get_current_context().command_path, withheld_summary(exc))
            if as_json:
                click.echo(json.dumps({"ok": False, "error": UNEXPECTED, "kind": "unexpected"}))
                sys.exit(1)
            raise click.ClickException(UNEXPECTED) from None

    run._guarded = True  # type: ignore[attr-defined]
    return run
