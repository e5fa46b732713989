"""Which payer a check is from (posting rule 9): an id it sent (TRN03, N1*PR N104, REF*2U) against the payer's
EDI id, its name compared normalised, or a name a biller taught. Case L of the posting audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import Conflict, Invalid, NotAllowed
from billing.coverage.models import PayerAlias
from billing.coverage.payer_names import (
    add_payer_alias,
    is_known_payer_name,
    normalise_payer_name,
    remove_payer_alias,
)
from billing.edi.era import parse_835
from billing.ledger.balances import claim_balance
from billing.payments.invariants import check_ledger
from billing.payments.matching import match_unmatched
from billing.payments.models import Remittance, UnmatchedClaim, UnmatchedStatus
from billing.payments.remittances import import_835
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payer_files import payer_known_by
from tests.worlds.payments import DAY, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
AETNA_PRINTED = "AETNA LIFE INSURANCE COMPANY"
BILLER = Actor("biller@example.com", None)
CHARGE, PAID, CO45, COPAY = D("73.48"), D("50.00"), D("13.48"), D("10.00")  # submitted_claim: 4 x 18.37


@pytest.fixture
def aetna(world):
    world.payer.name, world.payer.edi_payer_id = "Aetna", "60054"
    db.session.flush()
    return world.payer


def claims(world, count: int, first_day: int = 2):
    return [submitted_claim(world, day=DAY.replace(day=first_day + n)) for n in range(count)]


def clp(claim) -> Clp:
    line = claim.lines[0]
    return Clp(claim.number, "1", CHARGE, PAID, COPAY, f"ICN{claim.id}", [
        Svc(line.service_code.code, CHARGE, PAID, [("CO", "45", CO45), ("PR", "3", COPAY)], None, line.service_date)
    ])


def check(claim_list, number: str, *, name: str = AETNA_PRINTED, payer_id: str = "999999999") -> str:
    return write_835([Payment(PAID * len(claim_list), number, name, payer_id, [clp(c) for c in claim_list])])


def imported(text: str, name: str):
    result = import_835(text.encode(), filename=name, actor=SYSTEM)
    db.session.flush()
    return result


def assert_paid(claim) -> None:
    sums = claim_balance(claim.id)
    assert sums.paid_by_payer == PAID
    assert (sums.insurance, sums.patient) == (CHARGE - PAID - CO45 - COPAY, COPAY)
    assert claim.status is ClaimStatus.PAID


def test_names_are_compared_normalised():
    assert normalise_payer_name("  Aetna,  Inc. ") == normalise_payer_name("AETNA INC") == "AETNA INC"
    assert normalise_payer_name("Blue Cross/Blue Shield") == "BLUE CROSS BLUE SHIELD"
    assert normalise_payer_name(None) == ""


def test_case_l_a_name_taught_in_the_unmatched_queue_matches_every_claim_of_the_next_check(world, aetna):
    first = claims(world, 3)
    result = imported(check(first, "CHK-L1"), "l1.835")
    # No id of Aetna's and a name we never typed: all three wait in Unmatched.
    assert (result.matched, result.unmatched) == (0, 3)
    remittance = db.session.scalars(select(Remittance)).one()
    assert remittance.payer_id is None
    items = list(db.session.scalars(select(UnmatchedClaim).order_by(UnmatchedClaim.id)))
    assert all("billed to Aetna" in i.reason for i in items)
    assert not is_known_payer_name(AETNA_PRINTED)

    # The biller matches one and ticks "remember this name for Aetna".
    match_unmatched(items[0], first[0], actor=BILLER, remember_as=aetna, override_reason="the EOB says Aetna")
    db.session.flush()
    alias = db.session.scalars(select(PayerAlias)).one()
    assert (alias.payer_id, alias.name, alias.created_by) == (aetna.id, AETNA_PRINTED, BILLER.name)
    assert alias.created_at is not None
    taught = db.session.scalars(select(StatusChange).where(StatusChange.action == AuditAction.PAYER_ALIAS_ADDED)).one()
    assert (taught.subject_type, taught.subject_id, taught.actor, taught.to_status) == ("payer", aetna.id,
                                                                                      BILLER.name, AETNA_PRINTED)
    assert remittance.payer_id == aetna.id
    assert_paid(first[0])
    # The other two of that check now match without teaching again.
    for item, claim in zip(items[1:], first[1:], strict=True):
        match_unmatched(item, claim, actor=BILLER)
        assert item.status is UnmatchedStatus.MATCHED
    db.session.flush()
    for claim in first[1:]:
        assert_paid(claim)

    # A new check with that name: every claim matches by itself.
    later = claims(world, 3, first_day=9)
    result = imported(check(later, "CHK-L2"), "l2.835")
    assert (result.matched, result.unmatched) == (3, 0)
    assert result.paid_total == PAID * 3
    assert db.session.scalars(select(Remittance).where(Remittance.check_number == "CHK-L2")).one().payer_id == aetna.id
    for claim in later:
        assert_paid(claim)
    assert check_ledger() == []


def test_n1_pr_n104_with_the_edi_id_alone_recognises_the_payer(world, aetna):
    claim = claims(world, 1)[0]
    text = payer_known_by(check([claim], "CHK-N1", name="SOME PLAN"), trn03="1999999999",
                          n1_pr="N1*PR*SOME PLAN*XV*60054")
    result = imported(text, "n1.835")
    assert (result.matched, result.unmatched) == (1, 0)
    assert db.session.scalars(select(Remittance)).one().payer_id == aetna.id
    assert_paid(claim)
    assert check_ledger() == []


def test_n1_pr_n104_counts_only_as_a_payer_id():
    """N103 says what N104 is: XV (the CMS plan id) or PI makes it the payer's id; anything else does not."""
    text = check([], "CHK-N2", name="SOME PLAN")
    for qualifier, ids in (("XV", ["60054"]), ("PI", ["60054"]), ("FI", [])):
        era = parse_835(payer_known_by(text, n1_pr=f"N1*PR*SOME PLAN*{qualifier}*60054"))
        assert era.transactions[0].payer_ids == [*ids, "NOT-AN-ID-OF-OURS"]


def test_trn03_recognises_the_payer_by_its_edi_id_or_one_plus_its_ein(world, aetna):
    aetna.edi_payer_id = "123456789"  # the payer's EIN; TRN03 is "1" followed by it
    first, second = claims(world, 2)
    result = imported(payer_known_by(check([first], "CHK-T1", name="SOME PLAN"), trn03="1123456789"), "t1.835")
    assert (result.matched, result.unmatched) == (1, 0)
    aetna.edi_payer_id = "1123456789"  # or the payer's id is TRN03 itself
    result = imported(payer_known_by(check([second], "CHK-T2", name="SOME PLAN"), trn03="1123456789"), "t2.835")
    assert (result.matched, result.unmatched) == (1, 0)
    for claim in (first, second):
        assert_paid(claim)
    assert check_ledger() == []


def test_the_payer_name_matches_whatever_its_case_and_punctuation(world, aetna):
    aetna.name = "Aetna, Inc."
    claim = claims(world, 1)[0]
    result = imported(check([claim], "CHK-NM", name="AETNA INC"), "nm.835")
    assert (result.matched, result.unmatched) == (1, 0)
    assert_paid(claim)


def test_an_unknown_payer_stays_unmatched(world, aetna):
    claim = claims(world, 1)[0]
    result = imported(check([claim], "CHK-U", name="SOMEONE ELSE"), "u.835")
    assert (result.matched, result.unmatched) == (0, 1)
    assert claim.status is ClaimStatus.SUBMITTED


def test_a_name_means_one_payer(world, aetna):
    cigna = f.PayerFactory(company=world.company, name="Cigna")
    add_payer_alias(aetna, AETNA_PRINTED, actor=BILLER)
    with pytest.raises(Conflict, match="already known as Aetna"):
        add_payer_alias(cigna, "Aetna Life Insurance Company", actor=BILLER)
    with pytest.raises(Conflict, match="already known as Aetna"):
        add_payer_alias(aetna, AETNA_PRINTED, actor=BILLER)
    with pytest.raises(Conflict, match="name of our payer Cigna"):
        add_payer_alias(aetna, "CIGNA", actor=BILLER)
    with pytest.raises(Conflict, match="own name"):
        add_payer_alias(aetna, "aetna", actor=BILLER)
    with pytest.raises(Invalid):
        add_payer_alias(aetna, " ,. ", actor=BILLER)


def test_removing_a_taught_name_keeps_its_history(world, aetna):
    alias = add_payer_alias(aetna, AETNA_PRINTED, actor=BILLER)
    db.session.flush()
    remove_payer_alias(alias, actor=SYSTEM, reason="taught by mistake")
    assert db.session.scalars(select(PayerAlias)).all() == []
    removed = db.session.scalars(select(StatusChange)
                                 .where(StatusChange.action == AuditAction.PAYER_ALIAS_REMOVED)).one()
    assert (removed.from_status, removed.reason, removed.data["taught_by"]) == (AETNA_PRINTED, "taught by mistake",
                                                                               BILLER.name)
    assert not is_known_payer_name(AETNA_PRINTED)


# --- The Unmatched queue checks the payer and the charge ----------------------------------------------------

def unmatched_item(world, claim, *, name: str = AETNA_PRINTED, charge: Decimal = CHARGE) -> UnmatchedClaim:
    payment = clp(claim)
    payment.number, payment.charge = "PATIENT-ACCT-1", charge
    imported(write_835([Payment(PAID, "CHK-Q", name, "999999999", [payment])]), "q.835")
    return db.session.scalars(select(UnmatchedClaim)).one()


def test_matching_a_check_from_another_payer_is_refused_unless_its_name_is_taught(world, aetna):
    claim = claims(world, 1)[0]
    item = unmatched_item(world, claim)
    with pytest.raises(NotAllowed, match="not known to be Aetna"):
        match_unmatched(item, claim, actor=BILLER)
    cigna = f.PayerFactory(company=world.company, name="Cigna")
    with pytest.raises(NotAllowed, match="not known to be Aetna"):
        match_unmatched(item, claim, actor=BILLER, remember_as=cigna,  # taught as Cigna: still not the claim's
                        override_reason="a guess")
    assert claim.status is ClaimStatus.SUBMITTED


def test_matching_checks_the_charge_unless_the_biller_confirms(world, aetna):
    claim = claims(world, 1)[0]
    item = unmatched_item(world, claim, name="Aetna", charge=D("99.00"))
    with pytest.raises(Conflict, match=r"charge was 99\.00"):
        match_unmatched(item, claim, actor=BILLER)
    assert claim.status is ClaimStatus.SUBMITTED
    with pytest.raises(Invalid, match="Say why"):
        match_unmatched(item, claim, actor=BILLER, charge_confirmed=True)
    match_unmatched(item, claim, actor=BILLER, charge_confirmed=True, override_reason="payer rebundled the codes")
    db.session.flush()
    assert claim_balance(claim.id).paid_by_payer == PAID
    matched = db.session.scalars(select(StatusChange).where(StatusChange.action == AuditAction.ERA_MATCHED)).one()
    assert matched.data["charge_confirmed"] is True
    assert matched.reason == "charge differs, posted by the biller: payer rebundled the codes"


def test_an_unmatched_payment_posts_once_even_if_its_row_is_rewritten(world, aetna):
    """The attack of issue 14: the item is set back to open behind the app's back; the database still refuses
    a second posting (the item's posting key is taken)."""
    from sqlalchemy import update

    claim = claims(world, 1)[0]
    item = unmatched_item(world, claim, name="Aetna")
    from billing.payments.reversals import manual_clawback, standing_payments

    match_unmatched(item, claim, actor=BILLER)
    db.session.flush()
    # Taken back by hand, so rule 8 (paid twice) would let a new payment post: only the item's key stands.
    manual_clawback(claim, reason="letter", posted_on=DAY.replace(day=28), actor=BILLER,
                    payments=standing_payments(claim.id))
    db.session.execute(update(UnmatchedClaim).where(UnmatchedClaim.id == item.id)
                       .values(status=UnmatchedStatus.OPEN, matched_claim_id=None))
    db.session.expire_all()
    with pytest.raises(Conflict, match="already matched"), db.session.begin_nested():  # one operation's rollback
        match_unmatched(item, claim, actor=BILLER)
    assert claim_balance(claim.id).paid_by_payer == D("0.00")  # posted once, taken back once


def test_teaching_a_payer_name_while_matching_needs_a_reason(world, aetna):
    from billing.core.audit import AuditAction as Action

    claim = claims(world, 1)[0]
    item = unmatched_item(world, claim)
    with pytest.raises(Invalid, match="Say why"):
        match_unmatched(item, claim, actor=BILLER, remember_as=aetna)
    assert db.session.scalars(select(PayerAlias)).all() == []
    match_unmatched(item, claim, actor=BILLER, remember_as=aetna, override_reason="the paper EOB says Aetna")
    taught = db.session.scalars(select(StatusChange).where(StatusChange.action == Action.PAYER_ALIAS_ADDED)).one()
    assert taught.reason == "the paper EOB says Aetna"
