"""SVC06: the procedure we billed, sent when the payer paid under another code (SVC01). The line is ours under
SVC06's code; the payer's SVC01 is kept on the adjudication line. Case K of the posting audit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import RoundingRule
from billing.edi.era import claim_from_data, parse_835
from billing.ledger.balances import claim_balance, line_balances, standing_adjudication
from billing.payments.invariants import check_ledger
from billing.payments.models import UnmatchedClaim
from billing.payments.remittances import import_835
from tests.worlds.claims import submitted_claim
from tests.worlds.payer_files import with_svc06
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM, build_world

D = Decimal
HUNDRED = D("100.00")


@pytest.fixture
def practice():
    return build_world()


def two_code_claim(practice):
    """A Submitted claim of two $100.00 lines on one day: line 1 is 97153, line 2 is 97155."""
    claim = submitted_claim(practice, lines=2, charged=False)
    other = practice.code_with("97155", RoundingRule.WHOLE_UNITS)
    two = claim.lines[1]
    two.service_code, two.service_code_id = other, other.id
    for line in claim.lines:
        line.charge = HUNDRED
    claim.total_charge = HUNDRED * 2
    db.session.flush()
    return claim


def svc(code: str, line, paid: str, contractual: str, *, control: str | None = None) -> Svc:
    return Svc(code, line.charge, D(paid), [("CO", "45", D(contractual))], None, line.service_date, control)


def import_text(practice, text: str, name: str = "k.835"):
    result = import_835(text.encode(), filename=name, actor=SYSTEM)
    db.session.flush()
    return result


def payment(practice, claim, services, paid: Decimal) -> str:
    clp = Clp(claim.number, "1", claim.total_charge, paid, services=services)
    return write_835([Payment(paid, "CHK-K", practice.payer.name, practice.payer.edi_payer_id, [clp])])


def test_svc06_is_parsed_with_its_modifiers_and_survives_the_unmatched_queue(practice):
    text = write_835([Payment(D("80.00"), "P1", "ANY", "X1", [
        Clp("ACCT-1", "1", HUNDRED, D("80.00"), services=[Svc("97155", HUNDRED, D("80.00"), [("CO", "45", D("20"))])])
    ])])
    era = parse_835(with_svc06(text, "97155", "HC:97153:HN:95"))
    service = era.transactions[0].claims[0].services[0]
    assert (service.procedure_code, service.billed_code, service.billed_modifiers) == ("97155", "97153",
                                                                                      ("HN", "95"))
    again = claim_from_data(era.transactions[0].claims[0].to_data()).services[0]
    assert (again.billed_code, again.billed_modifiers) == ("97153", ("HN", "95"))
    plain = parse_835(text).transactions[0].claims[0].services[0]
    assert (plain.billed_code, plain.billed_modifiers) == (None, ())


def test_a_kept_payment_from_before_svc06_was_kept_still_reads():
    data = parse_835(write_835([Payment(D("1.00"), "P1", "ANY", "X1", [
        Clp("ACCT-1", "1", D("1.00"), D("1.00"), services=[Svc("97155", D("1.00"), D("1.00"))])
    ])])).transactions[0].claims[0].to_data()
    for service in data["services"]:
        del service["billed_code"], service["billed_modifiers"]
    assert claim_from_data(data).services[0].billed_code is None


def test_case_k_svc06_matches_the_line_the_payer_recoded(practice):
    """Both lines recoded by the payer (97153 paid as 97155 and the other way round): SVC06 says which is which."""
    claim = two_code_claim(practice)
    one, two = claim.lines
    text = payment(practice, claim, [svc("97155", one, "80.00", "20.00"), svc("97153", two, "55.00", "45.00")],
                   D("135.00"))
    text = with_svc06(with_svc06(text, "97155", "HC:97153"), "97153", "HC:97155")
    result = import_text(practice, text)
    assert (result.matched, result.unmatched) == (1, 0)
    assert db.session.query(UnmatchedClaim).count() == 0
    by_line = line_balances(claim.id)
    # Each line: charge 100.00 less what its own SVC paid and wrote off.
    assert by_line[one.id].paid_by_payer == D("80.00")
    assert by_line[two.id].paid_by_payer == D("55.00")
    assert by_line[one.id].balance == HUNDRED - D("80.00") - D("20.00")
    assert by_line[two.id].balance == HUNDRED - D("55.00") - D("45.00")
    assert claim_balance(claim.id).paid_by_payer == D("80.00") + D("55.00")
    assert claim.status is ClaimStatus.PAID
    # The adjudication keeps the code the payer paid under.
    adjudication = standing_adjudication(claim.id)
    codes = {line.claim_line_id: line.procedure_code for line in adjudication.lines}
    assert codes == {one.id: "97155", two.id: "97153"}
    assert check_ledger() == []


def test_case_k_without_svc06_a_code_we_never_billed_is_still_unmatched(practice):
    claim = two_code_claim(practice)
    one, _two = claim.lines
    result = import_text(practice, payment(practice, claim, [svc("97151", one, "80.00", "20.00")], D("80.00")))
    assert (result.matched, result.unmatched) == (0, 1)
    assert "service 97151" in db.session.query(UnmatchedClaim).one().reason


def test_case_k_svc06_prefers_the_line_with_its_modifiers(practice):
    claim = submitted_claim(practice, lines=2, charged=False)
    one, two = claim.lines
    two.modifiers = "HN"
    for line in claim.lines:
        line.charge = HUNDRED
    claim.total_charge = HUNDRED * 2
    db.session.flush()
    text = payment(practice, claim, [svc("97151", two, "70.00", "30.00")], D("70.00"))
    import_text(practice, with_svc06(text, "97151", "HC:97153:HN"))
    by_line = line_balances(claim.id)
    assert by_line[two.id].paid_by_payer == D("70.00")
    assert one.id not in by_line or by_line[one.id].paid_by_payer == D("0.00")
    assert check_ledger() == []


def test_ref_6r_line_control_wins_over_svc06(practice):
    claim = two_code_claim(practice)
    one, two = claim.lines
    # SVC06 names line 1's code, but REF*6R says line 2: the line control number is ours, it wins.
    text = payment(practice, claim, [svc("97151", two, "60.00", "40.00", control=str(two.line_number))],
                   D("60.00"))
    import_text(practice, with_svc06(text, "97151", "HC:97153"))
    by_line = line_balances(claim.id)
    assert by_line[two.id].paid_by_payer == D("60.00")
    assert one.id not in by_line or by_line[one.id].paid_by_payer == D("0.00")
    assert check_ledger() == []


def test_without_svc06_lines_still_match_on_code_and_date(practice):
    claim = two_code_claim(practice)
    one, two = claim.lines
    text = payment(practice, claim, [svc("97155", two, "60.00", "40.00"), svc("97153", one, "75.00", "25.00")],
                   D("135.00"))
    result = import_text(practice, text)
    assert result.matched == 1
    by_line = line_balances(claim.id)
    assert (by_line[one.id].paid_by_payer, by_line[two.id].paid_by_payer) == (D("75.00"), D("60.00"))
    assert check_ledger() == []
