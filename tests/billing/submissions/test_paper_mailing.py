"""Paper payers: their Ready claims print (rules first, as Generate) and go Submitted when the print is mailed,
with the same history and ledger as an EDI send; EDI batches never take them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.operations import LineChange, correct_claim, edit_claim, hold_claim, void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import Invalid, NothingToDo, ValidationFailed
from billing.core.time import practice_today
from billing.coverage.models import ClaimChannel
from billing.edi.x837p import write_837
from billing.ledger.models import EntryKind, LedgerEntry
from billing.submissions.loading import claim_facts
from billing.submissions.operations import generate_batches
from billing.submissions.paper.printing import layout_from_settings, mark_mailed, print_claims
from billing.submissions.queries import candidates, paper_candidates
from rules.models import BillingRun
from tests.billing.edi.scenario_facts import ENVELOPE
from tests.billing.submissions.paper_reading import X12, read_pdf
from tests.worlds.claims import history, submitted_claim, walk_to
from tests.worlds.practice import SYSTEM
from tests.worlds.rules import leaf, make_rule


@pytest.fixture
def world(world):
    world.payer.claim_channel = ClaimChannel.PAPER
    db.session.flush()
    return world


def _charges(claim) -> list[tuple[Decimal, date]]:
    return list(db.session.execute(select(LedgerEntry.amount, LedgerEntry.posted_on).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.kind == EntryKind.CHARGE).order_by(LedgerEntry.id)))  # fmt: skip


def test_a_paper_payers_claims_print_after_the_rules_and_stay_ready(world):
    first, second = world.ready_claim(), world.ready_claim(day=date(2026, 3, 3))
    runs_before = db.session.scalar(select(BillingRun.id).order_by(BillingRun.id.desc()).limit(1))
    printed = print_claims(actor=SYSTEM)
    assert printed.claim_ids == [first.id, second.id]
    assert printed.pages == 2
    assert db.session.scalar(select(BillingRun.id).order_by(BillingRun.id.desc()).limit(1)) != runs_before
    assert (first.status, second.status) == (ClaimStatus.READY, ClaimStatus.READY)
    assert history(first)[-1].action is AuditAction.CLAIM_PRINTED
    pages = read_pdf(printed.pdf)
    assert [p.box("26") for p in pages] == [first.number, second.number]


def test_edi_batches_leave_paper_payers_out_and_the_print_leaves_edi_payers_out(world):
    claim = world.ready_claim()
    assert [c.claim_id for c in paper_candidates()] == [claim.id]
    assert candidates() == []
    with pytest.raises(NothingToDo, match="no eligible claims"):
        generate_batches(actor=SYSTEM)
    world.payer.claim_channel = ClaimChannel.EDI
    db.session.flush()
    with pytest.raises(NothingToDo, match="no claims to print"):
        print_claims(actor=SYSTEM)


def test_the_printed_boxes_equal_the_837p_of_the_same_claim_from_the_database(world):
    claim = world.ready_claim()
    printed = print_claims(actor=SYSTEM, claim_ids=[claim.id])
    [page] = read_pdf(printed.pdf)
    facts = claim_facts({claim.id: "1"}).facts
    x12 = X12(write_837(ENVELOPE, facts).text, claim.number)
    clm = x12.one("CLM")
    assert page.box("26") == clm[1]
    assert page.box("28") == f"{Decimal(clm[2]):.2f}".replace(".", " ")
    assert page.box("1a") == x12.one("NM1", "IL", "head")[9]
    assert page.box("13") == "SIGNATURE ON FILE"
    assert clm[8] == "Y"
    assert page.box("27_yes") == "X"
    assert clm[7] == "A"
    assert page.line(0, "24d_code") == x12.one("SV1")[1].split(":")[1]


def test_a_corrected_paper_claim_fills_box_22_from_the_same_facts_as_ref_f8(world):
    original = submitted_claim(world)
    corrected = correct_claim(original, actor=SYSTEM, reason="wrong units", payer_claim_number="ICN77001")
    db.session.flush()
    printed = print_claims(actor=SYSTEM, claim_ids=[corrected.id])
    [page] = read_pdf(printed.pdf)
    assert (page.box("22_code"), page.box("22_ref")) == ("7", "ICN77001")


def test_marking_mailed_submits_and_charges_each_line_once_dated_the_mailing(world):
    claim = world.ready_claim(minutes=60)  # 4 units x 18.37
    printed = print_claims(actor=SYSTEM)
    mailed_on = practice_today() - timedelta(days=2)
    mark_mailed(printed.claim_ids, mailed_on=mailed_on, actor=SYSTEM)
    assert claim.status is ClaimStatus.SUBMITTED
    submitted = history(claim)[-1]
    assert submitted.action is AuditAction.CLAIM_SUBMITTED
    assert "Mailed on paper" in submitted.reason
    assert _charges(claim) == [(Decimal("73.48"), mailed_on)]
    with db.session.begin_nested(), pytest.raises(ValidationFailed, match="already mailed"):
        mark_mailed(printed.claim_ids, mailed_on=mailed_on, actor=SYSTEM)
    assert _charges(claim) == [(Decimal("73.48"), mailed_on)]


def test_a_future_mailing_date_or_a_claim_held_since_the_print_changes_nothing(world):
    claim = world.ready_claim()
    printed = print_claims(actor=SYSTEM)
    with db.session.begin_nested(), pytest.raises(ValidationFailed, match="future"):
        mark_mailed(printed.claim_ids, mailed_on=practice_today() + timedelta(days=1), actor=SYSTEM)
    hold_claim(claim, actor=SYSTEM, reason="check the units")
    with db.session.begin_nested(), pytest.raises(ValidationFailed, match=claim.number):
        mark_mailed(printed.claim_ids, mailed_on=practice_today(), actor=SYSTEM)
    assert claim.status is ClaimStatus.HELD
    assert _charges(claim) == []


def test_chosen_claims_that_cannot_print_are_refused_by_name(world):
    claim = world.ready_claim()
    hold_claim(claim, actor=SYSTEM, reason="check")
    with pytest.raises(ValidationFailed, match=claim.number):
        print_claims(actor=SYSTEM, claim_ids=[claim.id])


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_flask_claims_print_writes_the_pdf_and_marks_mailed(flask, world, tmp_path):
    claim = world.ready_claim()
    db.session.commit()
    target = tmp_path / "claims.pdf"
    day = practice_today().isoformat()
    result = flask("claims", "print", "--payer", str(world.payer.id), "-o", str(target), "--mark-mailed", day,
                   "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["claims"], out["pages"], out["mailed_on"]) == ([claim.number], 1, day)
    assert [p.box("26") for p in read_pdf(target.read_bytes())] == [claim.number]
    db.session.expire_all()
    assert claim.status is ClaimStatus.SUBMITTED
    again = flask("claims", "print", "--claims", claim.number, "-o", str(tmp_path / "again.pdf"))
    assert again.exit_code == 1
    assert "Traceback" not in again.output
    assert claim.number in again.output


def test_flask_claims_print_refuses_a_bad_claim_number(flask, world, tmp_path):
    result = flask("claims", "print", "--claims", "nope", "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1
    assert "--claims" in result.output


def test_the_printer_offset_comes_from_the_installations_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLAIMDESK_CMS1500_OFFSET_X", 3.6)
    monkeypatch.setitem(app.config, "CLAIMDESK_CMS1500_OFFSET_Y", "-6")
    layout = layout_from_settings()
    assert (layout.offset_x, layout.offset_y, layout.font_size) == (3.6, -6.0, 10.0)
    monkeypatch.setitem(app.config, "CLAIMDESK_CMS1500_OFFSET_X", "a bit")
    with pytest.raises(Invalid, match="CLAIMDESK_CMS1500_OFFSET_X"):
        layout_from_settings()


def test_a_claim_edited_after_printing_must_be_printed_again_before_it_is_mailed(world):
    claim = world.ready_claim()
    printed = print_claims(actor=SYSTEM)
    edit_claim(claim, actor=SYSTEM, lines=[LineChange(1, modifiers="HN")])
    with db.session.begin_nested(), pytest.raises(ValidationFailed, match="print it again"):
        mark_mailed(printed.claim_ids, mailed_on=practice_today(), actor=SYSTEM)
    assert claim.status is ClaimStatus.READY
    again = print_claims(actor=SYSTEM)
    mark_mailed(again.claim_ids, mailed_on=practice_today(), actor=SYSTEM)
    assert claim.status is ClaimStatus.SUBMITTED


def test_a_void_for_a_paper_payer_prints_box_22_code_8_and_mailing_records_it_sent(world):
    claim = submitted_claim(world)  # charged when it was first sent
    claim.payer_claim_number = "ICN55002"
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)  # the void withdraws the bill
    charged = _charges(claim)
    assert claim.void_to_send
    printed = print_claims(actor=SYSTEM, claim_ids=[claim.id])
    [page] = read_pdf(printed.pdf)
    assert (page.box("22_code"), page.box("22_ref")) == ("8", "ICN55002")
    mark_mailed(printed.claim_ids, mailed_on=practice_today(), actor=SYSTEM)
    assert claim.void_to_send is False
    assert claim.status is ClaimStatus.VOIDED
    assert history(claim)[-1].action is AuditAction.CLAIM_VOID_SENT
    assert _charges(claim) == charged  # mailing the void posts nothing


def test_a_void_waiting_for_the_payers_claim_number_is_left_out_by_name(world):
    claim = walk_to(world.ready_claim(), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    other = world.ready_claim(day=date(2026, 3, 3))
    printed = print_claims(actor=SYSTEM)
    assert printed.claim_ids == [other.id]
    assert any(claim.number in reason for reason in printed.left_out)


def test_the_rules_run_first_and_what_they_hold_stays_held_and_out_of_the_pdf(world):
    make_rule("Long session", conditions=leaf("units", "greater_than", 4),
              actions=[{"name": "hold_claim", "params": {"reason": "More than 4 units need a second look."}}])
    long = world.ready_claim(minutes=120)  # 8 units
    short = world.ready_claim(day=date(2026, 3, 3))
    printed = print_claims(actor=SYSTEM)
    assert printed.claim_ids == [short.id]
    assert [stop.claim_id for stop in printed.held] == [long.id]
    assert long.status is ClaimStatus.HELD
    hold_claim(short, actor=SYSTEM, reason="not this one")
    db.session.flush()
    long_again = world.ready_claim(minutes=120, day=date(2026, 3, 4))
    stopped_all = print_claims(actor=SYSTEM)  # no PDF, but the run (and its hold) stands
    assert (stopped_all.claims, stopped_all.pdf) == ([], b"")
    assert long_again.status is ClaimStatus.HELD


def test_flask_claims_print_keeps_the_rules_run_when_they_stop_every_claim(flask, world, tmp_path):
    make_rule("Long session", conditions=leaf("units", "greater_than", 4),
              actions=[{"name": "hold_claim", "params": {"reason": "More than 4 units need a second look."}}])
    claim = world.ready_claim(minutes=120)
    db.session.commit()
    target = tmp_path / "none.pdf"
    result = flask("claims", "print", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "Nothing was printed" in result.output
    assert claim.number in result.output
    assert not target.exists()
    db.session.expire_all()
    assert claim.status is ClaimStatus.HELD
