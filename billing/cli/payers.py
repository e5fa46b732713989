"""`flask payers alias ...`: the names payers print on their 835s that mean one of our payers.

Each command is a thin shell around one operation of billing/coverage/payer_names.py.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from billing.cli.output import emit, json_option, run_command
from billing.core.audit import Actor
from billing.coverage.models import PayerAlias
from billing.coverage.payer_names import add_payer_alias, alias_named, payer_aliases, payer_called, remove_payer_alias

payers_cli = AppGroup("payers", help="Payers: the names they print on their remittances.")
alias_cli = AppGroup("alias", help="Names a payer prints on its 835s (N1*PR) that mean one of our payers.")
payers_cli.add_command(alias_cli)
CLI = Actor.system("cli")


def _document(alias: PayerAlias) -> dict[str, Any]:
    return {"id": alias.id, "name": alias.name, "payer_id": alias.payer_id, "payer": alias.payer.name,
            "created_by": alias.created_by, "created_at": alias.created_at.isoformat() if alias.created_at else None}


@alias_cli.command("add")
@click.argument("name")
@click.option("--payer", "payer_text", required=True, help="Our payer: its name or its id.")
@json_option
def add_alias_command(name: str, payer_text: str, as_json: bool) -> None:
    """Teach that NAME, printed on a remittance, is our payer, e.g. `"AETNA LIFE INSURANCE COMPANY" --payer Aetna`."""
    run_command(lambda: _document(add_payer_alias(payer_called(payer_text), name, actor=CLI)), as_json=as_json,
                text=lambda doc: f"{doc['name']!r} now means {doc['payer']}.")


@alias_cli.command("list")
@json_option
def list_aliases_command(as_json: bool) -> None:
    """Every taught name, by payer, with who taught it and when."""
    documents = [_document(a) for a in payer_aliases()]
    text = "\n".join(f"{d['payer']:30} {d['name']:60} {d['created_by']} {d['created_at'][:10]}" for d in documents)
    emit(as_json, documents, text or "No names taught yet.")


@alias_cli.command("remove")
@click.argument("name")
@click.option("--reason", default=None, help="Why it is forgotten (goes in the payer's history).")
@json_option
def remove_alias_command(name: str, reason: str | None, as_json: bool) -> None:
    """Forget a taught name; later remittances with it wait in Unmatched again."""
    def op() -> dict[str, Any]:
        alias = alias_named(name)
        document = _document(alias)
        remove_payer_alias(alias, actor=CLI, reason=reason)
        return {**document, "removed": True}

    run_command(op, as_json=as_json, text=lambda doc: f"{doc['name']!r} no longer means {doc['payer']}.")
