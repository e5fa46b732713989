"""What every `flask` command group shares: the --json flag, one-line refusals, and how results print.

A command parses its options and hands one operation to `run_command`, which runs it in one unit of work and
prints the result; a refusal prints one line (or one JSON error naming its `kind`) and exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from billing.core.errors import BillingError, Invalid
from billing.core.unit_of_work import unit_of_work

T = TypeVar("T")
Details = Callable[[BillingError], dict[str, Any]]

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


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
