"""Round trip: an 837P for our claims goes out, the payer's 835 comes back and posts exactly, twice posts once."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.sessions import finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.edi.segments import split_segments
from billing.ledger.balances import claim_balance
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.models import ProviderAdjustment, Remittance, UnmatchedClaim
from billing.payments.remittances import import_835
from billing.submissions.queries import pending_batch_of
from tests.worlds.claims import history
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import DAY, SYSTEM

D = Decimal
submissions = pytest.importorskip("billing.submissions.operations", reason="the 837P writer")
SENT_ON = DAY + timedelta(days=7)


def billed_837(world, claims) -> dict[str, dict]:
    """Generate the 837P batch and read back what we billed: CLM01 -> charge and lines (code, charge, date)."""
    from billing.submissions.operations import create_batches

    batch = create_batches(actor=SYSTEM, claim_ids=[c.id for c in claims])[0]
    _, segments = split_segments(batch.content)
    billed: dict[str, dict] = {}
    current = None
    for seg in segments:
        if seg[0] == "CLM":
            current = billed[seg[1]] = {"charge": D(seg[2]), "lines": []}
        elif seg[0] == "SV1":
            current["lines"].append([seg[1].split(":")[1], D(seg[2]), None])
        elif seg[0] == "DTP" and seg[1] == "472":
            current["lines"][-1][2] = date(int(seg[3][:4]), int(seg[3][4:6]), int(seg[3][6:8]))
    return billed


def svc(line, paid, *adjustments, allowed=None) -> Svc:
    code, charge, day = line
    return Svc(code, charge, D(paid), [(g, r, D(a)) for g, r, a in adjustments], allowed, day)


@pytest.fixture
def sent():
    """Four Submitted claims (A has two lines) that went out in one 837P."""
    from tests.worlds.submissions import build_submission_world

    sw = build_submission_world()
    days = [DAY + timedelta(days=n) for n in range(4)]
    visits = [[sw.base.visit(day=days[0], start=time(8)), sw.base.visit(day=days[0], start=time(11))]]
    visits += [[sw.base.visit(day=d)] for d in days[1:]]
    claims = [finalize_sessions(v, actor=SYSTEM).created[0] for v in visits]
    billed = billed_837(sw, claims)
    # Sent for real: the charges enter the ledger on the upload date, before the payer answers.
    submissions.mark_batch_sent(pending_batch_of(claims[0].id).id, actor=SYSTEM, sent_on=SENT_ON)
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}
    return sw, claims, billed


def _charges() -> list[LedgerEntry]:
    return db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CHARGE)).all()


def test_round_trip(sent):
    sw, (a, b, c, d), billed = sent
    assert set(billed) == {x.number for x in (a, b, c, d)}
    # Owed by the payer from the day the file went out: one charge per line, dated the send.
    charges = _charges()
    assert sorted(e.claim_line_id for e in charges) == sorted(ln.id for x in (a, b, c, d) for ln in x.lines)
    assert {e.posted_on for e in charges} == {SENT_ON}
    assert [claim_balance(x.id).insurance for x in (a, b, c, d)] == [billed[x.number]["charge"] for x in (a, b, c, d)]
    payer = dict(payer_name=sw.base.payer.name.upper(), payer_id=sw.base.payer.edi_payer_id)
    line = {k: v["lines"] for k, v in billed.items()}
    charge = {k: v["charge"] for k, v in billed.items()}

    first = Payment(D("58.78"), "CHK100", claims=[
        Clp(d.number, "1", charge[d.number], D("58.78"), payer_claim_number="ICN-D1",
            services=[svc(line[d.number][0], "58.78", ("CO", "45", "14.70"), allowed=D("58.78"))])], **payer)
    import_835(write_835([first], control=1).encode(), filename="first.835", actor=SYSTEM)
    assert d.status is ClaimStatus.PAID

    claims = [
        Clp(a.number, "1", charge[a.number], D("117.56"), payer_claim_number="ICN-A",
            services=[svc(ln, "58.78", ("CO", "45", "14.70"), allowed=D("58.78")) for ln in line[a.number]]),
        Clp(b.number, "4", charge[b.number], D("0"), payer_claim_number="ICN-B",
            services=[svc(line[b.number][0], "0", ("CO", "197", "73.48"))]),
        Clp(c.number, "1", charge[c.number], D("40.00"), D("20.00"), payer_claim_number="ICN-C",
            services=[svc(line[c.number][0], "40.00", ("CO", "45", "13.48"), ("PR", "2", "20.00"),
                          allowed=D("60.00"))]),
        Clp(d.number, "22", -charge[d.number], D("-58.78"), payer_claim_number="ICN-D1",
            services=[svc((line[d.number][0][0], -line[d.number][0][1], line[d.number][0][2]), "-58.78",
                          ("CO", "45", "-14.70"))]),
        Clp(d.number, "1", charge[d.number], D("50.00"), payer_claim_number="ICN-D2",
            services=[svc(line[d.number][0], "50.00", ("CO", "45", "23.48"), allowed=D("50.00"))]),
        Clp("C-999999", "1", D("100"), D("80"), services=[Svc("97153", D("100"), D("80"), [("CO", "45", D("20"))])]),
    ]
    paid = D("117.56") + D("40.00") - D("58.78") + D("50.00") + D("80")
    second = Payment(paid - D("5.00"), "EFT200", claims=claims, plbs=[("WO", D("5.00"))], method="ACH", **payer)
    data = write_835([second], control=2).encode()
    result = import_835(data, filename="second.835", actor=SYSTEM)

    assert (result.claims, result.matched, result.unmatched, result.reversals) == (6, 5, 1, 1)
    assert result.balanced
    assert result.plb_total == D("5.00")
    assert result.bpr_amount == paid - D("5.00")
    assert result.paid_total == paid - D("80")  # what posted to our claims
    statuses = [x.status for x in (a, b, c, d)]
    assert statuses == [ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.PAID, ClaimStatus.PAID]
    balances = {x.number: claim_balance(x.id) for x in (a, b, c, d)}
    assert balances[a.number].balance == D("0.00")
    assert balances[b.number].insurance == D("73.48")  # denied: open, to be worked
    assert (balances[c.number].insurance, balances[c.number].patient) == (D("0.00"), D("20.00"))
    assert (balances[d.number].paid_by_payer, balances[d.number].balance) == (D("50.00"), D("0.00"))
    assert [x.needs_review for x in (a, b, c, d)] == [False, False, False, True]
    # D's reversal reopened it (Paid -> Submitted) before the corrected payment settled it again.
    moves = [(h.from_status, h.to_status) for h in history(d) if h.from_status != h.to_status]
    assert moves[-2:] == [("paid", "submitted"), ("submitted", "paid")]
    assert d.payer_claim_number == "ICN-D2"
    assert b.payer_claim_number == "ICN-B"
    remittance = db.session.scalars(select(Remittance).where(Remittance.check_number == "EFT200")).one()
    assert db.session.scalars(select(ProviderAdjustment.amount).where(
        ProviderAdjustment.remittance_id == remittance.id)).all() == [D("5.00")]
    assert db.session.scalars(select(UnmatchedClaim.claim_number)).all() == ["C-999999"]

    assert _charges() == charges  # the payments posted no second charge
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    again = import_835(data, filename="second.835", actor=SYSTEM)
    assert again.duplicate
    assert "already imported" in again.summary()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    assert [x.status for x in (a, b, c, d)] == statuses


def test_an_unbalanced_check_is_imported_and_flagged(sent):
    sw, (a, *_), billed = sent
    line = billed[a.number]["lines"]
    payment = Payment(D("999.00"), "CHK300", payer_name=sw.base.payer.name, payer_id=sw.base.payer.edi_payer_id,
                      claims=[Clp(a.number, "1", billed[a.number]["charge"], D("117.56"),
                                  services=[svc(ln, "58.78", ("CO", "45", "14.70")) for ln in line])])
    result = import_835(write_835([payment]).encode(), filename="odd.835", actor=SYSTEM)
    assert not result.balanced
    assert result.matched == 1
    assert not db.session.scalars(select(Remittance.balanced)).one()


def test_unmatched_then_matched_by_hand_posts_as_if_matched(sent):
    from billing.payments.matching import match_unmatched

    _sw, (a, *_), billed = sent
    line = billed[a.number]["lines"]
    payment = Payment(D("117.56"), "CHK400", payer_name="SOME OTHER NAME", payer_id="NOPE",
                      claims=[Clp("PATIENT-ACCT-7", "1", billed[a.number]["charge"], D("117.56"),
                                  services=[svc(ln, "58.78", ("CO", "45", "14.70")) for ln in line])])
    import_835(write_835([payment]).encode(), filename="x.835", actor=SYSTEM)
    item = db.session.scalars(select(UnmatchedClaim)).one()
    assert "not one of our claim numbers" in item.reason
    assert a.status is ClaimStatus.SUBMITTED
    match_unmatched(item, a, actor=SYSTEM, remember_as=a.payer,  # the check's payer name is not known yet
                    override_reason="the EOB's payer")
    db.session.flush()
    assert a.status is ClaimStatus.PAID
    assert claim_balance(a.id).balance == D("0.00")
    assert item.matched_claim_id == a.id


def test_the_payer_claim_number_from_the_835_goes_into_ref_f8_of_the_corrected_claim(sent):
    """CLP07 is kept on the claim; a corrected claim and its 837P carry it in REF*F8 without anyone typing it."""
    from billing.claims.operations import correct_claim
    from billing.submissions.operations import create_batches

    sw, (a, *_), billed = sent
    line = billed[a.number]["lines"]
    payment = Payment(D("117.56"), "CHK500", payer_name=sw.base.payer.name, payer_id=sw.base.payer.edi_payer_id,
                      claims=[Clp(a.number, "1", billed[a.number]["charge"], D("117.56"), payer_claim_number="ICN-555",
                                  services=[svc(ln, "58.78", ("CO", "45", "14.70")) for ln in line])])
    import_835(write_835([payment], control=5).encode(), filename="c.835", actor=SYSTEM)
    assert a.payer_claim_number == "ICN-555"
    corrected = correct_claim(a, actor=SYSTEM, reason="wrong modifier")
    db.session.flush()
    assert (corrected.frequency_code, corrected.payer_claim_number) == ("7", "ICN-555")
    batch = create_batches(actor=SYSTEM, claim_ids=[corrected.id])[0]
    _, segments = split_segments(batch.content)
    assert ["REF", "F8", "ICN-555"] in segments
    clm = next(s for s in segments if s[0] == "CLM")
    assert clm[5].split(":")[2] == "7"
