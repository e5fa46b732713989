"""`flask claims ...` through the CLI runner: text and --json output, refusals that change nothing."""

from __future__ import annotations

import json
from datetime import time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db, utcnow
from billing.coverage.models import RoundingRule
from billing.sessions.models import NoteStatus
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, SYSTEM


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["claims", *args])

    return invoke


@pytest.fixture
def ready(world) -> Claim:
    """A committed Ready claim (the CLI commits or rolls back its own unit of work)."""
    claim = world.claim()
    db.session.commit()
    return claim


def _state(number: str) -> tuple[str, int]:
    db.session.expire_all()
    claim = db.session.get(Claim, Claim.id_from_number(number))
    changes = db.session.scalar(
        select(func.count()).where(StatusChange.subject_type == "claim", StatusChange.subject_id == claim.id)
    )
    return claim.status.value, changes


def _finalized(world, **fields):
    return world.visit(note_status=NoteStatus.FINALIZED, finalized_at=utcnow(), **fields)


def test_generate_prints_a_summary_and_is_idempotent(world, cli):
    _finalized(world)
    _finalized(world, start=time(13, 0))
    _finalized(world, day=DAY + timedelta(days=1))
    db.session.commit()

    first = cli("generate")
    assert first.exit_code == 0, first.output
    assert first.output == "2 claims created (0 held), 0 extended, 3 lines; 0 sessions not billable.\n"
    again = cli("generate")
    assert again.output == "0 claims created (0 held), 0 extended, 0 lines; 0 sessions not billable.\n"
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 2


def test_generate_json(world, cli):
    waiting = _finalized(world)
    short = _finalized(world, start=time(13, 0), minutes=7)  # 7 minutes of whole units: nothing
    db.session.commit()

    result = cli("generate", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    [number] = data["created"]
    assert (data["extended"], data["lines"], data["held"]) == ([], 1, [])
    assert data["unbilled"] == [{"session_id": short.id, "why": "7 minutes of 97153 is less than one billable unit"}]
    claim = db.session.get(Claim, Claim.id_from_number(number))
    assert [ln.session_id for ln in claim.lines] == [waiting.id]


def test_list_by_status_json(world, cli):
    ready = world.claim()
    held = walk_to(world.claim(day=DAY + timedelta(days=1)), ClaimStatus.HELD)
    db.session.commit()

    result = cli("list", "--status", "ready", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["number"] for r in rows] == [ready.number]
    assert rows[0] == {
        "number": ready.number,
        "status": "ready",
        "service_date": "2026-03-02",
        "client": world.client.full_name,
        "payer": world.payer.name,
        "billed": "73.48",
    }
    held_rows = json.loads(cli("list", "--status", "held", "--json").output)
    assert [r["number"] for r in held_rows] == [held.number]
    by_payer = json.loads(cli("list", "--payer", str(world.payer.id), "--json").output)
    assert {r["number"] for r in by_payer} == {ready.number, held.number}


def test_list_text_and_an_unknown_status(ready, cli):
    text = cli("list")
    assert text.exit_code == 0
    assert ready.number in text.output
    assert "73.48" in text.output
    bad = cli("list", "--status", "lost")
    assert bad.exit_code != 0
    assert "'lost' is not one of" in bad.output


def test_show_json_has_everything_a_script_needs(world, ready, cli):
    result = cli("show", ready.number, "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {
        "number",
        "status",
        "frequency_code",
        "client",
        "payer",
        "service_dates",
        "billed",
        "paid",
        "balance",
        "needs_review",
        "lines",
        "history",
    } <= doc.keys()
    assert (doc["number"], doc["status"], doc["frequency_code"]) == (ready.number, "ready", "1")
    assert doc["client"]["name"] == world.client.full_name
    assert doc["payer"] == {"id": world.payer.id, "name": world.payer.name}
    assert doc["service_dates"] == ["2026-03-02"]
    assert (doc["billed"], doc["paid"], doc["balance"], doc["needs_review"]) == ("73.48", "0.00", "73.48", False)
    [line] = doc["lines"]
    assert {k: line[k] for k in ("code", "modifiers", "units", "rate", "charge")} == {
        "code": "97153",
        "modifiers": "",
        "units": 4,
        "rate": "18.37",
        "charge": "73.48",
    }
    assert Decimal(line["charge"]) == Decimal(line["rate"]) * line["units"]
    [created] = doc["history"]
    assert (created["action"], created["from"], created["to"], created["who"]) == (
        "claim.created",
        None,
        "ready",
        SYSTEM.name,
    )


def test_show_text(ready, cli):
    result = cli("show", ready.number)
    assert result.exit_code == 0, result.output
    assert f"{ready.number}  ready  frequency 1" in result.output
    assert "97153 x4 @ 18.37 = 73.48" in result.output
    assert "Billed 73.48  Paid 0.00  Balance 73.48" in result.output


def test_show_accepts_the_number_without_leading_zeros(ready, cli):
    assert json.loads(cli("show", f"c{ready.id}", "--json").output)["number"] == ready.number


def test_hold_release_void_with_json(ready, cli):
    held = cli("hold", ready.number, "--reason", "check the authorization", "--json")
    assert held.exit_code == 0, held.output
    assert json.loads(held.output) == {"ok": True, "number": ready.number, "status": "held"}
    assert _state(ready.number) == ("held", 2)

    released = cli("release", ready.number, "--json")
    assert json.loads(released.output) == {"ok": True, "number": ready.number, "status": "ready"}

    voided = cli("void", ready.number, "--reason", "duplicate", "--json")
    assert json.loads(voided.output) == {"ok": True, "number": ready.number, "status": "voided"}
    assert _state(ready.number) == ("voided", 4)
    assert db.session.get(Claim, ready.id).void_reason == "duplicate"


def test_hold_text(ready, cli):
    result = cli("hold", ready.number, "--reason", "check the authorization")
    assert result.exit_code == 0, result.output
    assert result.output == f"{ready.number} held; now held.\n"


def test_retract_with_json(ready, cli):
    result = cli("retract", ready.number, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "number": ready.number, "status": "voided"}
    assert db.session.get(Claim, ready.id).void_reason == "retracted"


def test_resubmit_with_json(world, cli):
    claim = walk_to(world.claim(), ClaimStatus.DENIED)
    db.session.commit()
    result = cli("resubmit", claim.number, "--reason", "eligibility fixed", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "number": claim.number, "status": "ready"}
    assert _state(claim.number) == ("ready", 4)


# Refusals: non-zero exit, one line, nothing changed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hold", "{n}", "--reason", ""], "reason: A hold needs a reason."),
        (["hold", "{n}", "--reason", "   "], "reason: A hold needs a reason."),
        (["void", "{n}", "--reason", " "], "reason: A void needs a reason."),
        (["release", "{n}"], "Claim {n} is Ready, not Held; there is nothing to release."),
        (["resubmit", "{n}"], "Only denied claims are resubmitted; claim {n} is Ready."),
    ],
)
def test_refused_operations_print_one_line_and_change_nothing(ready, cli, args, message):
    before = _state(ready.number)
    result = cli(*(a.format(n=ready.number) for a in args))
    assert result.exit_code == 1
    assert result.output == f"Error: {message.format(n=ready.number)}\n"
    assert _state(ready.number) == before


def test_refusals_in_json_are_one_json_line(ready, cli):
    before = _state(ready.number)
    result = cli("hold", ready.number, "--reason", "", "--json")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert json.loads(result.output) == {"ok": False, "error": "reason: A hold needs a reason.", "kind": "invalid",
                                         "problems": ["reason: A hold needs a reason."]}
    assert _state(ready.number) == before


def test_void_without_a_reason_is_refused(ready, cli):
    before = _state(ready.number)
    result = cli("void", ready.number)
    assert result.exit_code == 2
    assert "Error: Missing option '--reason'." in result.output.splitlines()
    assert _state(ready.number) == before


def test_retracting_a_submitted_claim_is_refused(world, cli):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    db.session.commit()
    before = _state(claim.number)
    result = cli("retract", claim.number)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Claim {claim.number} was sent to the payer and cannot be retracted; "
        "void it or create a corrected claim.\n"
    )
    assert _state(claim.number) == before
    as_json = cli("retract", claim.number, "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.output)["error"].startswith(f"Claim {claim.number} was sent to the payer")


@pytest.mark.parametrize(
    "args",
    [
        ["show", "C-999999"],
        ["hold", "C-999999", "--reason", "x"],
        ["release", "C-999999"],
        ["void", "C-999999", "--reason", "x"],
        ["retract", "C-999999"],
        ["resubmit", "C-999999"],
    ],
)
def test_an_unknown_claim_number_is_refused(ready, cli, args):
    changes = db.session.scalar(select(func.count()).select_from(StatusChange))
    result = cli(*args)
    assert result.exit_code == 1
    assert result.output == "Error: No claim has the number 'C-999999'.\n"
    json_result = cli(*args, "--json")
    assert json_result.exit_code == 1
    assert json.loads(json_result.output) == {"ok": False, "error": "No claim has the number 'C-999999'.",
                                              "kind": "not_found"}
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == changes
    assert _state(ready.number) == ("ready", 1)


@pytest.mark.parametrize("number", ["banana", "", "C-", "12-34"])
def test_a_malformed_claim_number_is_refused(cli, number):
    result = cli("show", number)
    assert result.exit_code == 1
    assert result.output == f"Error: No claim has the number {number!r}.\n"


def test_a_refused_release_rolls_back_what_the_recheck_filled_in(world, cli):
    """Release looks coverage up again before it refuses; the command's unit of work undoes that."""
    client = f.ClientFactory(location=world.location)
    f.PolicyFactory(client=client, payer=world.payer)
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)
    claim = world.claim(client=client, service_code=unpriced)
    f.DiagnosisFactory(client=client, position=1, code="F840")  # the diagnosis arrives, the rate does not
    db.session.commit()
    before = _state(claim.number)

    result = cli("release", claim.number)

    assert result.exit_code == 1
    assert result.output == (
        f"Error: Claim {claim.number} is still incomplete: No fee-schedule rate for 97155 on 03/02/2026.\n"
    )
    assert _state(claim.number) == before
    stored = db.session.get(Claim, claim.id)
    assert (stored.status, stored.diagnoses, stored.lines[0].diagnosis_pointers) == (ClaimStatus.HELD, [], "1")


# --- case O: a void waiting for the payer's claim number -------------------------------------------------------

@pytest.fixture
def waiting_void(world) -> Claim:
    """A committed void of a claim the payer has, with no payer claim number yet: it waits to be sent."""
    from billing.claims.operations import void_claim

    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    db.session.commit()
    return claim


def _void_state(claim_id: int):
    db.session.expire_all()
    claim = db.session.get(Claim, claim_id)
    rows = db.session.scalar(select(func.count()).select_from(StatusChange).where(StatusChange.subject_id == claim_id,
                                                                                 StatusChange.subject_type == "claim"))
    return claim.payer_claim_number, claim.void_to_send, rows


def test_case_o_set_payer_claim_number_text_and_json(waiting_void, cli):
    text = cli("set-payer-claim-number", waiting_void.number, "ICN-1")
    assert text.exit_code == 0, text.output
    assert text.output.strip() == f"{waiting_void.number} carries payer claim number ICN-1; now voided."
    result = cli("set-payer-claim-number", waiting_void.number, "ICN-2", "--reason", "277CA", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "number": waiting_void.number, "status": "voided",
                                         "payer_claim_number": "ICN-2", "void_to_send": True}  # fmt: skip
    db.session.expire_all()
    last = db.session.scalars(select(StatusChange).where(StatusChange.subject_id == waiting_void.id)
                              .order_by(StatusChange.id.desc())).first()  # fmt: skip
    assert last.actor == "system:cli"
    assert (last.data["from"], last.data["to"], last.data["why"]) == ("ICN-1", "ICN-2", "277CA")


def test_case_o_void_not_needed_text_and_json(world, waiting_void, cli):
    from billing.claims.operations import void_claim

    result = cli("void-not-needed", waiting_void.number, "--reason", "payer has no record", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "number": waiting_void.number, "status": "voided",
                                         "void_to_send": False}  # fmt: skip
    assert _void_state(waiting_void.id)[1] is False
    other = walk_to(world.claim(day=DAY + timedelta(days=1)), ClaimStatus.SUBMITTED)
    void_claim(other, reason="duplicate", actor=SYSTEM)
    db.session.commit()
    text = cli("void-not-needed", other.number, "--reason", "never sent")
    assert text.exit_code == 0, text.output
    assert text.output.strip() == f"{other.number} no longer waits to send a void; now voided."


@pytest.mark.parametrize(("args", "kind", "words"), [
    (["set-payer-claim-number", "{n}", " "], "invalid", "missing"),
    (["set-payer-claim-number", "{n}", "ICN*9"], "invalid", "reserves"),
    (["void-not-needed", "{n}", "--reason", " "], "invalid", "needs a reason"),
    (["set-payer-claim-number", "{ready}", "ICN-9"], "not_allowed", "not a void waiting to be sent"),
    (["void-not-needed", "{ready}", "--reason", "x"], "not_allowed", "not a void waiting to be sent"),
    (["set-payer-claim-number", "C-999999", "ICN-9"], "not_found", ""),
])  # fmt: skip
def test_case_o_refusals_change_nothing(world, waiting_void, cli, args, kind, words):
    ready = world.claim(day=DAY + timedelta(days=2))
    db.session.commit()
    before = _void_state(waiting_void.id), _void_state(ready.id)
    argv = [a.format(n=waiting_void.number, ready=ready.number) for a in args]
    as_json = cli(*argv, "--json")
    assert as_json.exit_code == 1
    doc = json.loads(as_json.output)
    assert doc["ok"] is False
    assert doc["kind"] == kind
    assert words in doc["error"] + " ".join(doc.get("problems", []))
    text = cli(*argv)
    assert text.exit_code == 1
    assert len(text.output.strip().splitlines()) == 1
    assert (_void_state(waiting_void.id), _void_state(ready.id)) == before


def test_case_o_void_not_needed_requires_the_reason_option(waiting_void, cli):
    assert cli("void-not-needed", waiting_void.number).exit_code == 2
    assert _void_state(waiting_void.id)[1] is True
