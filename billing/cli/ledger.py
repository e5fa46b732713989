"""`flask ledger check`: every money invariant over the live database; exit 1 listing each violation."""

from __future__ import annotations

import sys

from flask.cli import AppGroup

from billing.cli.output import emit, json_option
from billing.payments.invariants import check_ledger, total

ledger_cli = AppGroup("ledger", help="The money's invariants, checked on this database.")


@ledger_cli.command("check")
@json_option
def check_command(as_json: bool) -> None:
    """Balances, remittance totals, reversal links, credits and open lines; exits 1 on any violation."""
    violations = check_ledger()
    counts = total(violations)
    lines = [str(v) for v in violations] or ["The ledger holds every invariant."]
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    emit(as_json, {"ok": not violations, "counts": counts, "violations": [v.as_dict() for v in violations]},
         "\n".join([*lines, f"Checked: {summary}."]))
    if violations:
        sys.exit(1)
