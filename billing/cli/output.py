"""What every `flask` command group shares: the --json flag, one-line refusals, and how results print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from billing.core.errors import BillingError

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@contextmanager
def refusals(
    as_json: bool, *, details: Callable[[BillingError], dict[str, Any]] | None = None
) -> Iterator[None]:
    """A refused operation prints one line (or a JSON error, with `details` of the error) and exits non-zero.

    The operation ran inside a unit of work, so nothing was written.
    """
    try:
        yield
    except BillingError as exc:
        message = exc.message.splitlines()[0] if exc.message else type(exc).__name__
        if as_json:
            click.echo(json.dumps({"ok": False, "error": message, **(details(exc) if details else {})}))
            sys.exit(1)
        raise click.ClickException(message) from None


def emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)
