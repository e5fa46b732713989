"""`flask sessions ...`: finalize one session, bill it again after its claim was retracted or voided, cancel it
with a session class. Each command is one operation in one unit of work; `--json` for scripts."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from billing.claims.building import BillingResult
from billing.claims.sessions import bill_again, cancel_session, finalize_session
from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import NotFound
from billing.sessions.models import SessionClass, TherapySession

sessions_cli = AppGroup("sessions", help="Finalize, bill again and cancel therapy sessions.")
CLI_ACTOR = Actor.system("cli")


def _session(session_id: int) -> TherapySession:
    visit = db.session.get(TherapySession, session_id)
    if visit is None:
        raise NotFound(f"There is no session {session_id}.")
    return visit


def _billed(visit: TherapySession, result: BillingResult) -> dict[str, Any]:
    return {
        "ok": True,
        "session_id": visit.id,
        "claims": [{"number": c.number, "status": c.status.value, "hold_reason": c.hold_reason}
                   for c in result.created + result.extended],
        "unbilled": [why for _visit, why in result.unbilled],
    }


def _billed_text(data: dict[str, Any]) -> str:
    claims = ", ".join(f"{c['number']} ({c['status']})" for c in data["claims"]) or "no claim"
    unbilled = "".join(f"; not billed: {why}" for why in data["unbilled"])
    return f"Session {data['session_id']} billed on {claims}{unbilled}."


@sessions_cli.command("finalize")
@click.argument("session_id", type=RECORD_ID)
@json_option
def finalize_command(session_id: int, as_json: bool) -> None:
    """Finalize one session's note and bill it."""
    run_command(lambda: _billed(visit := _session(session_id), finalize_session(visit, actor=CLI_ACTOR)),
                as_json=as_json, text=_billed_text)


@sessions_cli.command("bill-again")
@click.argument("session_id", type=RECORD_ID)
@json_option
def bill_again_command(session_id: int, as_json: bool) -> None:
    """Bill a finalized session again after its claim was retracted or voided (a new original claim)."""
    run_command(lambda: _billed(visit := _session(session_id), bill_again(visit, actor=CLI_ACTOR)),
                as_json=as_json, text=_billed_text)


@sessions_cli.command("cancel")
@click.argument("session_id", type=RECORD_ID)
@click.option("--class", "class_name", required=True, help="The session class, by name (e.g. No-show).")
@click.option("--reason", default=None, help="A note for the history.")
@json_option
def cancel_command(session_id: int, class_name: str, reason: str | None, as_json: bool) -> None:
    """Cancel a session with a session class; a claim that was never sent is withdrawn with it."""
    def cancel() -> dict[str, Any]:
        visit = _session(session_id)
        chosen = _session_class(class_name)
        withdrawn = cancel_session(visit, session_class=chosen, actor=CLI_ACTOR, reason=reason)
        return {"ok": True, "session_id": visit.id, "session_class": chosen.name, "claim": withdrawn}

    run_command(cancel, as_json=as_json, text=lambda data: f"Session {data['session_id']} cancelled as "
                f"{data['session_class']}" + (f"; {data['claim']}." if data["claim"] else "."))


def _session_class(name: str) -> SessionClass:
    found = db.session.scalar(select(SessionClass).where(func.lower(SessionClass.name) == name.strip().lower())
                              .order_by(SessionClass.id).limit(1))
    if found is None:
        raise NotFound(f"There is no session class named {name.strip()[:60]!r}.")
    return found
