"""The 270 writer and 271 reader on their own, and the x12sdk evaluation: what it reads, what it round-trips,
what it refuses. Property tests: any benefit amounts a payer sends come back as sent; no input crashes the reader."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.core.errors import Invalid
from billing.edi.x12sdk_io import read_transactions, round_trip_problems, transaction_problems
from billing.edi.x270 import Inquiry, InquiryEnvelope, Person, Receiver, write_270
from billing.edi.x271 import read_271
from demo.eligibility import PayerSays, write_271

ENVELOPE = InquiryEnvelope("ZZ", "CLAIMDESK", "ZZ", "OFFALLY", "CLAIMDESK", "OFFALLY", "T", 7,
                           datetime(2026, 12, 4, 9, 30), "E000000007")  # fmt: skip
RECEIVER = Receiver("Sunny Therapy LLC", "1234567893", "123456789")
JANE = Person("O'Neil-Smith", "Jané", date(1980, 1, 2), "F")


def inquiries(count: int, *, dependents: bool = False) -> list[Inquiry]:
    return [Inquiry(f"T{n:05d}", "Acme Health" if n % 2 else "Blue Plan", "ACME1" if n % 2 else "BLUE1", f"M{n:07d}",
                    JANE, Person("Kid", f"Child{n}", date(2015, 3, 4), "M") if dependents and n % 3 == 0 else None,
                    date(2026, 12, 7)) for n in range(count)]  # fmt: skip


def test_a_270_is_valid_and_round_trips_through_x12sdk():
    text = write_270(ENVELOPE, RECEIVER, inquiries(12, dependents=True))
    assert transaction_problems(text, "270") == []
    assert round_trip_problems(text, "270") == []
    assert len(read_transactions(text, "270")) == 2  # one transaction set per payer
    assert "NM1*IL*1*O'NEIL-SMITH*JANE****MI*M0000001~" in text  # names cleaned, identifiers never altered


def test_more_than_99_members_of_one_payer_split_into_transaction_sets():
    many = [Inquiry(f"T{n}", "Acme", "ACME1", f"M{n}", JANE, None, date(2026, 12, 7)) for n in range(150)]
    text = write_270(ENVELOPE, RECEIVER, many)
    assert text.count("ST*270*") == 2
    assert transaction_problems(text, "270") == []


def test_x12sdk_reads_and_round_trips_its_own_generated_samples():
    """x12sdk ships no sample files; its generator writes 270/271/276/277 from its own models."""
    from x12sdk.generate import generate_270, generate_271, generate_276, generate_277

    from billing.edi import x12sdk_io  # noqa: F401 - imported first: x12sdk then loads no .env

    for kind, text in (("270", generate_270(seed=5, members=30)), ("271", generate_271(seed=5, members=30)),
                       ("276", generate_276(seed=5)), ("277", generate_277(seed=5))):  # fmt: skip
        assert transaction_problems(text, kind) == [], kind
        assert round_trip_problems(text, kind) == [], kind
    answers = read_271(generate_271(seed=5, members=30))  # and our reader reads its 271
    assert len(answers) == 30
    assert {a.status for a in answers} <= {"active", "inactive", "unknown"}


def test_x12sdk_refuses_a_271_with_a_visit_limit_which_our_reader_reads():
    text = write_271(write_270(ENVELOPE, RECEIVER, inquiries(1)), lambda t, m: PayerSays(visits_limit=20))
    problems = transaction_problems(text, "271")
    assert [p.field.rsplit(".", 1)[-1] for p in problems] == ["quantity_qualifier"] * len(problems)
    assert "VS" not in str(problems)  # a refusal names the field, never the data
    [answer] = read_271(text)
    assert answer.benefits["PT"].visits_limit == 20


def test_x12sdk_is_given_text_only_never_a_path(tmp_path):
    planted = tmp_path / "ISA.x12"
    planted.write_text("not read")
    with pytest.raises(Invalid):
        read_transactions(str(planted), "271")


def test_a_payer_level_rejection_applies_to_every_member():
    text = write_271(write_270(ENVELOPE, RECEIVER, inquiries(2)), lambda t, m: PayerSays(status="42"))
    text = text.replace("HL*2*1*21*1~", "HL*2*1*21*1~AAA*N**79*N~", 1)
    answers = read_271(text)
    assert [a.status for a in answers] == ["failed", "failed"]
    assert "Invalid participant identification (79); resubmission not allowed" in answers[0].rejections[0][1]


def test_a_file_that_is_not_a_271_is_refused_in_one_sentence():
    with pytest.raises(Invalid, match="270"):
        read_271(write_270(ENVELOPE, RECEIVER, inquiries(1)))


CENTS = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
VISITS = st.one_of(st.none(), st.integers(min_value=0, max_value=366))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(copay=CENTS, coinsurance=st.integers(min_value=0, max_value=100), deductible=CENTS, oop=CENTS,
       limit=VISITS, left=VISITS)  # fmt: skip
def test_benefit_amounts_come_back_as_the_payer_sent_them(copay, coinsurance, deductible, oop, limit, left):
    says = PayerSays(copay=copay, coinsurance=Decimal(coinsurance) / 100, deductible_remaining=deductible,
                     out_of_pocket_remaining=oop, visits_limit=limit, visits_remaining=left)  # fmt: skip
    [answer] = read_271(write_271(write_270(ENVELOPE, RECEIVER, inquiries(1)), lambda t, m: says))
    pt, plan = answer.benefits["PT"], answer.benefits["30"]
    assert (pt.copay, plan.deductible_remaining, plan.out_of_pocket_remaining) == (copay, deductible, oop)
    assert pt.coinsurance_percent == Decimal(coinsurance)
    assert (pt.visits_limit, pt.visits_remaining) == (limit, left)
    assert pt.visits_used == (max(limit - left, 0) if limit is not None and left is not None else None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["HL*3*2*22*0", "TRN*2*T1*1", "EB*1", "EB*B*IND*PT***27*x", "AAA*N**", "DTP*291",
                                 "EB*F*IND*PT***29***VS*", "REF*6P", "EB*A*IND**HM**27**abc", "HL*4*3*23*0", "",
                                 "DTP*291*RD8*20260101-", "EB*6**30^PT"]), max_size=12))  # fmt: skip
def test_no_271_body_crashes_the_reader(body):
    head = ("ISA*00*          *00*          *ZZ*A              *ZZ*B              *261204*0930*^*00501*000000001*0*T*:~"
            "GS*HB*A*B*20261204*0930*1*X*005010X279A1~ST*271*0001*005010X279A1~")  # fmt: skip
    try:
        answers = read_271(head + "".join(s + "~" for s in body) + "SE*2*0001~GE*1*1~IEA*1*000000001~")
    except Invalid:
        return
    assert all(a.status in ("active", "inactive", "unknown", "failed") for a in answers)
