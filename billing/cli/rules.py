"""`flask rules ...`: load the defaults, list, run, export, import and list failures; `--json` for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.claims.models import Claim
from billing.cli.output import COUNT, RECORD_ID, json_option, run_command
from billing.cli.output import emit as _emit
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import Problem, ValidationFailed
from rules.engine import COMPILED, ENGINES
from rules.models import BillingRun, Rule
from rules.operations import (
    ImportResult,
    export_rules,
    import_rules,
    load_defaults,
    read_rules_file,
    rule_document,
)
from rules.queries import FailureFilters, failure_rows, run_record
from rules.runs import RunResult, run_rules

rules_cli = AppGroup("rules", help="Validation rules: defaults, runs, files and failed charges.")
CLI_ACTOR = Actor.system("cli")
SHOWN = 50  # claims described in text output; --json lists every one


@rules_cli.command("load-defaults")
@json_option
def load_defaults_command(as_json: bool) -> None:
    """Add the shipped default rules; rules that already exist by name are left alone."""
    run_command(lambda: load_defaults(actor=CLI_ACTOR), as_json=as_json,
                data=lambda result: {"created": result.created, "unchanged": result.unchanged,
                                     "retired": result.retired},
                text=_defaults_text)


def _defaults_text(result: ImportResult) -> str:
    lines = [f"{len(result.created)} default rules added, {len(result.unchanged)} already present."]
    lines += [f"Switched off {name!r}: a newer default replaces it." for name in result.retired]
    return "\n".join(lines)


@rules_cli.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """Every rule in run order, with its version and whether it is enabled."""
    rules = list(db.session.scalars(select(Rule).order_by(Rule.position, Rule.id)))
    data = [{"id": r.id, "version": r.version, **rule_document(r)} for r in rules]
    lines = [f"{r.position:>5} {'on ' if r.enabled else 'off'} v{r.version:<3} {r.name}" for r in rules]
    _emit(as_json, data, "\n".join(lines) or "No rules yet: `flask rules load-defaults` adds the defaults.")


@rules_cli.command("run")
@click.option("--company", "company_id", type=RECORD_ID, help="Only claims of this company id.")
@click.option("--practice", "practice_id", type=RECORD_ID, help="Only claims of this practice id.")
@click.option("--location", "location_id", type=RECORD_ID, help="Only claims of this location id.")
@click.option("--claims", "numbers", help="Only these claims, e.g. C-000012,C-000013.")
@click.option("--engine", type=click.Choice(ENGINES), default=COMPILED, show_default=True,
              help="business-rules evaluates through its own run_all: slower, the same results (a cross-check).")
@json_option
def run_rules_command(company_id: int | None, practice_id: int | None, location_id: int | None, numbers: str | None,
                      engine: str, as_json: bool) -> None:
    """Evaluate every enabled rule on Ready claims (and claims the rules stopped) in scope."""
    def run() -> RunResult:
        return run_rules(actor=CLI_ACTOR, claim_ids=_claim_ids(numbers) if numbers else None, company_id=company_id,
                         practice_id=practice_id, location_id=location_id, engine=engine)

    run_command(run, as_json=as_json, text=_run_text, data=lambda result: result.as_dict())


def _run_text(result: RunResult) -> str:
    lines = [result.summary(), *(c.describe() for c in result.changes[:SHOWN]), *result.skipped]
    if len(result.changes) > SHOWN:
        lines.append(f"...and {len(result.changes) - SHOWN} more claims changed (--json lists them all).")
    return "\n".join(lines)


@rules_cli.command("runs")
@click.option("--limit", type=COUNT, default=20, show_default=True, help="The most recent runs.")
@json_option
def runs_command(limit: int, as_json: bool) -> None:
    """Billing runs, newest first: number, start, end, who, scope and counts."""
    runs = list(db.session.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(limit)))
    data = [run_record(run) for run in runs]
    text = "\n".join(
        f"Run {r['run']}: {r['started'][:16]} by {r['actor']}, {r['claims_checked']} checked, "
        f"{r['claims_failing']} failing, {r['rule_errors']} rule errors"
        + ("" if r["finished"] else " (did not finish)")
        for r in data
    )
    _emit(as_json, data, text or "No billing runs yet: `flask rules run` starts one.")


def _claim_ids(numbers: str) -> list[int]:
    ids, unknown = [], []
    for number in filter(None, (n.strip() for n in numbers.split(","))):
        claim_id = Claim.id_from_number(number)
        (ids if claim_id is not None and db.session.get(Claim, claim_id) else unknown).append(claim_id or number)
    if unknown:
        raise ValidationFailed([Problem("claims", f"No claim has the number {', '.join(map(str, unknown))}.")])
    return ids


@rules_cli.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="JSON file.")
def export_command(output: str) -> None:
    """Write every rule to a JSON file that `flask rules import` reads back."""
    document = export_rules()
    Path(output).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    click.echo(f"Wrote {len(document['rules'])} rules to {output}.")


@rules_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@json_option
def import_command(path: str, as_json: bool) -> None:
    """Create or update rules from a file, matched by name; one invalid rule refuses the whole file."""
    run_command(lambda: import_rules(read_rules_file(Path(path)), actor=CLI_ACTOR), as_json=as_json,
                data=lambda result: {"created": result.created, "updated": result.updated,
                                     "unchanged": result.unchanged},
                text=lambda result: f"{len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged.")


@rules_cli.command("failures")
@click.option("--run", "run_number", type=COUNT, help="Only failures seen last in this run.")
@click.option("--open", "open_only", is_flag=True, help="Only failures not resolved yet.")
@click.option("--limit", type=COUNT, default=None, help="At most this many rows.")
@json_option
def failures_command(run_number: int | None, open_only: bool, limit: int | None, as_json: bool) -> None:
    """Failed charges: claim, rule, reason, first and last failure, last run, resolved."""
    rows = failure_rows(FailureFilters(run=run_number, open_only=open_only), limit)
    text = "\n".join(
        f"{r['claim']}  {r['rule']}: {r['reason']}  first {r['first_failure'][:10]}  last {r['last_failure'][:10]}"
        f"  run {r['last_run']}  {'resolved ' + r['resolved'][:10] if r['resolved'] else 'open'}"
        for r in rows
    )
    _emit(as_json, rows, text or "No failed charges.")
