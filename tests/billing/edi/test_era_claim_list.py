"""The 835 import reads a file whole, then keeps each claim as its place in the file (`ClaimList`) and reads it again
when posting: every claim read again is equal to the claim as first read, in the same order, with the same totals,
on the public samples and on files whose claim loops are interrupted, span several transactions or end the file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.edi.era import ClaimList, claim_raw, era_from_segments, read_835
from billing.edi.segments import decode
from tests.worlds.payments import Clp, Payment, Svc, write_835

D = Decimal


def _both(text: str):
    delims, segments = read_835(decode(text))
    return era_from_segments(delims, segments), era_from_segments(delims, segments, claims_by_place=True)


def _assert_same(text: str) -> int:
    held, by_place = _both(text)
    assert len(held.transactions) == len(by_place.transactions)
    for ours, theirs in zip(by_place.transactions, held.transactions, strict=True):
        assert isinstance(ours.claims, ClaimList)
        assert len(ours.claims) == len(theirs.claims)
        for _ in range(2):  # read again each time
            assert list(ours.claims) == theirs.claims
        assert [ours.claims[i] for i in range(-len(theirs.claims), 0)] == theirs.claims
        assert [claim_raw(c, by_place.delimiters) for c in ours.claims] == [
            claim_raw(c, held.delimiters) for c in theirs.claims]
        assert [c.to_data() for c in ours.claims] == [c.to_data() for c in theirs.claims]
        assert (ours.claims_paid_total, ours.service_count, ours.balanced, ours.plb_total) == (
            theirs.claims_paid_total, theirs.service_count, theirs.balanced, theirs.plb_total)
        assert (ours.check_number, ours.payer_name, ours.payer_ids, ours.amount, ours.plbs) == (
            theirs.check_number, theirs.payer_name, theirs.payer_ids, theirs.amount, theirs.plbs)
    return sum(len(t.claims) for t in held.transactions)


def _claims(count: int, first: int = 0) -> list[Clp]:
    out = []
    for n in range(first, first + count):
        services = [Svc("97153", D("73.48"), D("50.00") + n, [("CO", "45", D("13.48") - n), ("PR", "2", D("10.00"))],
                        D("60.00") + n, line_control=str(line), remarks=["N54"] if n % 3 else [])
                    for line in (1, 2)]
        out.append(Clp(f"C-{n:06d}", "4" if n % 5 == 4 else "1", D("146.96"), 2 * (D("50.00") + n), D("20.00"),
                       f"ICN{n}", services, adjustments=[("OA", "23", D("1.00"))] if n % 2 else []))
    return out


def _payment(claims: list[Clp], check: str) -> Payment:
    return Payment(sum((c.paid for c in claims), D(0)) - D("5"), check, "PAYER", "12345", claims,
                   plbs=[("L6", D("5"))])


def test_claims_read_again_are_the_claims_first_read():
    assert _assert_same(write_835([_payment(_claims(25), "CHK1")])) == 25


def test_several_transactions_each_keep_their_own_claims():
    text = write_835([_payment(_claims(7), "CHK1"), _payment(_claims(1, 7), "CHK2"), _payment(_claims(12, 8), "CHK3")])
    assert _assert_same(text) == 20


def test_a_transaction_without_claims_and_a_file_ending_in_a_claim():
    text = write_835([_payment([], "CHK0"), _payment(_claims(3), "CHK1")])
    assert _assert_same(text) == 3
    cut = text[:text.rindex("SE*")]  # no trailers: the last claim is still open when the file ends
    held, by_place = _both(cut)
    assert list(by_place.transactions[-1].claims) == held.transactions[-1].claims
    assert by_place.transactions[-1].claims_paid_total == held.transactions[-1].claims_paid_total


def test_a_claim_loop_interrupted_by_a_segment_not_its_own_is_kept_as_read():
    text = write_835([_payment(_claims(4), "CHK1")])
    second_svc = text.index("SVC*", text.index("CLP*C-000001"))
    interrupted = text[:second_svc] + "TS3*1234567893*11*20261231*1*146.96~" + text[second_svc:]
    _held, by_place = _both(interrupted)
    claims = by_place.transactions[0].claims
    assert isinstance(claims, ClaimList)
    assert claims._kept  # the interrupted claim is held as read; the others by place
    assert len(claims._kept) < len(claims)
    _assert_same(interrupted)


@pytest.mark.samples
def test_the_public_samples(samples_835):
    compared = 0
    for path in sorted(samples_835.iterdir()):
        try:
            compared += _assert_same(decode(path.read_bytes()))
        except Exception as exc:  # a sample the reader refuses is refused both ways
            if type(exc).__name__ not in ("EraUnreadable", "NotX12", "WrongX12Kind"):
                raise
    assert compared >= 10
