"""The 835 import posts a file chunk by chunk (issue 20): a file of more claims than one chunk posts exactly what one
chunk would, the chunk's claims are written with one UPDATE per set of changed columns, a claim changed meanwhile
fails the import, the same file twice posts nothing, and no statement binds a parameter per claim.

Money is compared with sums read straight from the 835's segments, never with what the import reports.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import Payer
from billing.ledger.models import Adjudication, AdjudicationLine, EntryKind, LedgerEntry
from billing.payments import remittances
from billing.payments.claim_writes import ClaimChangedMeanwhile, write_claims
from billing.payments.invariants import filing_deadlines_kept
from billing.payments.models import UnmatchedClaim
from billing.payments.remittances import import_835
from tests.worlds.claims import history, hundred_dollar_claim
from tests.worlds.parameter_guard import parameter_guard
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
CLAIMS = 7


def _clp(claim: Claim, n: int) -> Clp:
    """A different answer per claim: paid with CO-45 and PR-2 of varying size, and one denial."""
    if n == 3:
        services = [Svc(ln.service_code.code, D("100.00"), D(0), [("CO", "197", D("100.00"))], None,
                        ln.service_date, str(ln.line_number)) for ln in claim.lines]
        return Clp(claim.number, "4", D("200.00"), D(0), services=services)
    services = []
    for ln in claim.lines:
        co, pr = D(10 + n), D(ln.line_number * 5)
        services.append(Svc(ln.service_code.code, D("100.00"), D("100.00") - co - pr,
                            [("CO", "45", co), ("PR", "2", pr)], None, ln.service_date, str(ln.line_number)))
    paid = sum((s.paid for s in services), D(0))
    return Clp(claim.number, "1", D("200.00"), paid, D(15), f"ICN{claim.id}", services)


def _era(world, claims: list[Claim], check: str) -> str:
    clps = [_clp(claim, n) for n, claim in enumerate(claims)]
    clps.insert(2, Clp("X-999999", "1", D("50.00"), D("50.00"), services=[
        Svc("97153", D("50.00"), D("50.00"), [], None, claims[0].lines[0].service_date, "1")]))  # not ours
    total = sum((c.paid for c in clps), D(0))
    return write_835([Payment(total, check, world.payer.name, world.payer.edi_payer_id, clps)])


def _segment_sums(text: str, ours: set[str]) -> dict[str, Decimal]:
    """From the file's text alone: CLP04 of our claims, and their CAS amounts by group (a denial's CO is not
    booked: rule 3 keeps its balance open)."""
    sums = {"paid": D(0), "CO": D(0), "PR": D(0)}
    current, denied = None, False
    for seg in text.split("~"):
        els = seg.strip().split("*")
        if els[0] == "CLP":
            current, denied = els[1], els[2] == "4"
            if current in ours:
                sums["paid"] += D(els[4])
        elif els[0] == "CAS" and current in ours and not (denied and els[1] != "PR"):
            sums[els[1]] += D(els[3])
    return sums


def _ledger(claims: list[Claim]) -> dict[str, Decimal]:
    ids = [c.id for c in claims]

    def total(kind: EntryKind) -> Decimal:
        return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.claim_id.in_(ids), LedgerEntry.kind == kind))

    return {"paid": total(EntryKind.INSURANCE_PAYMENT), "CO": total(EntryKind.CONTRACTUAL),
            "PR": total(EntryKind.PATIENT_RESPONSIBILITY)}


def _shape(claim: Claim) -> tuple[object, ...]:
    """What posting left on one claim, without ids: comparable between two claims posted alike."""
    db.session.refresh(claim)
    entries = sorted((e.kind.value, str(e.amount), e.group_code or "", e.reason_code or "",
                      next(ln.line_number for ln in claim.lines if ln.id == e.claim_line_id))
                     for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id,
                                                                           LedgerEntry.claim_line_id.is_not(None))))
    lines = db.session.scalar(select(func.count(AdjudicationLine.id)).join(Adjudication).where(
        Adjudication.claim_id == claim.id))
    actions = sorted(h.action.value for h in history(claim))
    return claim.status, claim.needs_review, claim.version, entries, lines, actions


@pytest.fixture
def two_sets(world):
    return ([hundred_dollar_claim(world, lines=2) for _ in range(CLAIMS)],
            [hundred_dollar_claim(world, lines=2) for _ in range(CLAIMS)])


def test_a_file_of_many_chunks_posts_what_one_chunk_posts(world, two_sets, monkeypatch):
    small, whole = two_sets
    versions = {c.id: c.version for c in small}
    monkeypatch.setattr(remittances, "CHUNK", 2)  # 8 CLPs: four chunks, the unmatched one in the second
    text = _era(world, small, "CHUNKED")
    with parameter_guard() as bound:
        chunked = import_835(text.encode(), filename="chunked.835", actor=SYSTEM)
    assert not bound.offenders
    monkeypatch.setattr(remittances, "CHUNK", 500)
    import_835(_era(world, whole, "WHOLE").encode(), filename="whole.835", actor=SYSTEM)

    assert [_shape(c) for c in small] == [_shape(c) for c in whole]
    assert _ledger(small) == _segment_sums(text, {c.number for c in small})
    assert chunked.matched == CLAIMS
    assert chunked.unmatched == 1
    assert db.session.scalar(select(func.count(UnmatchedClaim.id)).where(
        UnmatchedClaim.claim_number == "X-999999")) == 2
    # Every claim's two lines were answered by one adjudication: no claim was cut between chunks.
    for claim in small:
        assert db.session.scalar(select(func.count(AdjudicationLine.id)).join(Adjudication).where(
            Adjudication.claim_id == claim.id)) == 2
    assert all(c.version == versions[c.id] + 1 for c in small)  # one UPDATE each, version bumped once
    assert {c.status for c in small} == {ClaimStatus.PAID, ClaimStatus.DENIED}


def test_the_same_file_twice_posts_nothing_the_second_time(world, two_sets, monkeypatch):
    claims, _ = two_sets
    monkeypatch.setattr(remittances, "CHUNK", 3)
    data = _era(world, claims, "TWICE").encode()
    import_835(data, filename="first.835", actor=SYSTEM)
    before = _ledger(claims), db.session.scalar(select(func.count(LedgerEntry.id)))
    again = import_835(data, filename="again.835", actor=SYSTEM)
    assert again.duplicate
    assert (_ledger(claims), db.session.scalar(select(func.count(LedgerEntry.id)))) == before


def test_a_claim_changed_meanwhile_is_not_overwritten(world):
    claim = hundred_dollar_claim(world, lines=1)
    claim.needs_review = True
    table = Claim.__table__
    db.session.connection().execute(  # someone else's edit, behind the session's back (no autoflush)
        update(table).where(table.c.id == claim.id).values(version=table.c.version + 1))
    with pytest.raises(ClaimChangedMeanwhile):
        write_claims([claim])


def test_claims_written_in_bulk_are_clean_for_the_orm(world):
    claims = [hundred_dollar_claim(world, lines=1) for _ in range(3)]
    for claim in claims:
        claim.needs_review = True
    assert write_claims(claims) == 3
    assert not any(c in db.session.dirty for c in claims)
    db.session.expire_all()
    assert all(c.needs_review for c in claims)


def test_claims_changing_the_same_columns_in_one_statement_each_get_their_own_values(world):
    """One group (the same columns changed), different values per claim, a null among them: each row its own."""
    claims = [hundred_dollar_claim(world, lines=1) for _ in range(3)]
    for claim in claims:
        claim.payer_claim_number = "OLD"
    write_claims(claims)
    numbers, statuses = ["ICN-A", None, "ICN-C"], [ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.PAID]
    expected = {claim.id: (number, status, claim.version + 1)
                for claim, number, status in zip(claims, numbers, statuses, strict=True)}
    for claim, number, status in zip(claims, numbers, statuses, strict=True):
        claim.payer_claim_number, claim.status = number, status
    assert write_claims(claims) == 3
    kept = db.session.execute(select(Claim.id, Claim.payer_claim_number, Claim.status, Claim.version)
                              .where(Claim.id.in_(expected)))
    assert {cid: (number, status, version) for cid, number, status, version in kept} == expected


def test_the_segment_sums_read_what_the_file_says(world, two_sets):
    """The independent reading above, checked against hand-counted figures for one claim."""
    claim = two_sets[0][0]
    text = _era(world, [claim, *two_sets[0][1:]], "ONE")
    sums = _segment_sums(text, {claim.number})
    # n = 0: CO 10 on each line, PR 5 and 10: paid (100 - 15) + (100 - 20).
    assert sums == {"paid": D("165.00"), "CO": D("20.00"), "PR": D("15.00")}
    assert re.search(rf"CLP\*{claim.number}\*1\*200\*165", text)


def test_claims_read_once_post_what_claims_read_again_from_their_place_post(world, two_sets, monkeypatch):
    """A file below CLAIMS_BY_PLACE_FROM_BYTES keeps its claims as read; a bigger one keeps their places and reads
    each again for its chunk. Both post the same."""
    held, by_place = two_sets
    kinds: list[str] = []
    parse = remittances.era_from_segments

    def spy(*args, **kwargs):
        era = parse(*args, **kwargs)
        kinds.append(type(era.transactions[0].claims).__name__)
        return era

    monkeypatch.setattr(remittances, "era_from_segments", spy)
    monkeypatch.setattr(remittances, "CHUNK", 3)
    once = import_835(_era(world, held, "ONCE").encode(), filename="once.835", actor=SYSTEM)  # the default: small
    monkeypatch.setattr(remittances, "CLAIMS_BY_PLACE_FROM_BYTES", 0)
    again = import_835(_era(world, by_place, "AGAIN").encode(), filename="again.835", actor=SYSTEM)

    assert kinds == ["list", "ClaimList"]
    assert [_shape(c) for c in held] == [_shape(c) for c in by_place]
    assert (once.matched, once.unmatched, once.paid_total, once.service_lines, once.claims) == (
        again.matched, again.unmatched, again.paid_total, again.service_lines, again.claims)
    text = _era(world, held, "ONCE")
    assert _ledger(held) == _segment_sums(text, {c.number for c in held})


#: A payer's windows for which an answer moves every claim's deadline: 30 days from service, 400 from the answer.
LIMIT_DAYS, CORRECTED_DAYS = 30, 400


def _answer_moves_deadlines(world) -> None:
    db.session.execute(update(Payer).where(Payer.id == world.payer.id)
                       .values(filing_limit_days=LIMIT_DAYS, corrected_filing_days=CORRECTED_DAYS))


def test_an_imported_answer_gives_each_claim_its_corrected_window(world, two_sets, monkeypatch):
    """Paid or denied, each claim of a file of several chunks ends with the later of its two windows, worked out
    here from the service date, the check's date and the payer's days."""
    claims, _ = two_sets
    _answer_moves_deadlines(world)
    monkeypatch.setattr(remittances, "CHUNK", 3)
    import_835(_era(world, claims, "WINDOWS").encode(), filename="windows.835", actor=SYSTEM)
    expected = {c.id: max(c.service_date + timedelta(days=LIMIT_DAYS), PAID_ON + timedelta(days=CORRECTED_DAYS))
                for c in claims}
    kept = dict(db.session.execute(select(Claim.id, Claim.filing_deadline).where(Claim.id.in_(expected))).all())
    assert kept == expected
    assert filing_deadlines_kept() == []


@pytest.mark.postgresql
def test_an_import_writes_each_answered_claim_once(world, two_sets, monkeypatch):
    """The chunk's UPDATE of its claims already carries the deadline their new adjudications give, so the
    adjudication trigger has no claim left to rewrite: one row version per claim in the transaction (PostgreSQL's
    count of this transaction's updates), where the trigger's own write would make two."""
    claims, _ = two_sets
    _answer_moves_deadlines(world)
    monkeypatch.setattr(remittances, "CHUNK", 3)
    updated = text("SELECT pg_stat_get_xact_tuples_updated(CAST('claim' AS regclass))")
    before = db.session.scalar(updated)
    import_835(_era(world, claims, "ONCE").encode(), filename="once.835", actor=SYSTEM)
    assert db.session.scalar(updated) - before == CLAIMS
    assert filing_deadlines_kept() == []
