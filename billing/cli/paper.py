"""`flask claims print`: one PDF of CMS-1500s for the paper payers' Ready claims, optionally marked mailed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from billing.claims.models import Claim
from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.audit import Actor
from billing.core.errors import Invalid
from billing.submissions.paper.printing import Printed, layout_from_settings, mark_mailed, print_claims
from billing.submissions.paper.render import Mode

CLI_ACTOR = Actor.system("cli")


@click.command("print")
@click.option("--payer", "payer_id", type=RECORD_ID, help="Only this paper payer's claims (payer id).")
@click.option("--claims", "numbers", multiple=True,
              help="Only these claims (C-000012 or 12; repeat, or separate with commas).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="The PDF to write.")
@click.option("--plain", is_flag=True, help="Draw the form's boxes too (plain paper, payer portals).")
@click.option("--mark-mailed", "mailed_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The printed claims were mailed that day (YYYY-MM-DD): they become Submitted and are charged.")
@json_option
def print_command(payer_id: int | None, numbers: tuple[str, ...], output: str, plain: bool, mailed_on: datetime | None,
                  as_json: bool) -> None:
    """Print the Ready claims of paper payers as CMS-1500 (02/12); the rules run first, as for a batch."""
    def operation() -> dict[str, Any]:
        claim_ids = _claim_ids(numbers) if numbers else None
        layout = layout_from_settings(Mode.PLAIN if plain else Mode.DATA)
        printed = print_claims(actor=CLI_ACTOR, payer_id=payer_id, claim_ids=claim_ids, layout=layout)
        if not printed.claims:  # the rules stopped every claim: their run is kept, no file is written
            return _summary(printed, None, None)
        if mailed_on is not None:
            mark_mailed(printed.claim_ids, mailed_on=mailed_on.date(), actor=CLI_ACTOR)
        Path(output).write_bytes(printed.pdf)
        return _summary(printed, output, mailed_on)

    run_command(operation, as_json=as_json, text=_text)


def _claim_ids(numbers: tuple[str, ...]) -> list[int]:
    ids = []
    for text in (n.strip() for joined in numbers for n in joined.split(",")):
        claim_id = Claim.id_from_number(text) if text else None
        if claim_id is None:
            raise Invalid(f"--claims: {text[:40]!r} is not a claim number (e.g. C-000012 or 12).")
        ids.append(claim_id)
    return ids


def _summary(printed: Printed, output: str | None, mailed_on: datetime | None) -> dict[str, Any]:
    return {
        "file": output,
        "pages": printed.pages,
        "claims": [c.number for c in printed.claims],
        "mailed_on": mailed_on.date().isoformat() if mailed_on else None,
        "held": [stop.describe() for stop in printed.held],
        "left_out": printed.left_out,
    }


def _text(data: dict[str, Any]) -> str:
    said = (f"Wrote {len(data['claims'])} claims on {data['pages']} pages to {data['file']}." if data["file"]
            else "Nothing was printed: the rules stopped every claim; no file was written.")
    if data["mailed_on"]:
        said += f" Marked mailed on {data['mailed_on']}: Submitted."
    for reason in data["held"] + data["left_out"]:
        said += f"\nLeft out: {reason}"
    return said
