"""The 835 import end to end (issue 14, item 5): nothing in a file is dropped, whitespace between segments changes
nothing, another X12 kind is named, and a re-sent check posts nothing (Posting rule 8: payer + TRN02).

Each refusal is checked to have written nothing: no file, remittance, adjudication or ledger entry.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.models import Adjudication, AdjudicationAdjustment, EntryKind, LedgerEntry
from billing.payments.models import EraFile, Remittance, UnmatchedClaim
from billing.payments.remittances import EraRefused, import_835
from tests.billing.edi.test_bounds import REASONS
from tests.worlds.claims import history, hundred_dollar_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
ON_DB = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BETWEEN = st.text(alphabet=" \t\r\n", max_size=4)


def written() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (EraFile, Remittance, Adjudication, UnmatchedClaim, LedgerEntry)
    )


def paid_on_ledger(claim) -> Decimal:
    return db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.claim_id == claim.id, LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT
        )
    )


def one_cas_era(world, claim, triplets: list[tuple[str, Decimal]], *, check: str = "CAS1") -> str:
    """The payer pays the claim's one $100.00 line and puts every adjustment (all CO) in a single CAS segment."""
    line = claim.lines[0]
    paid = D("100.00") - sum((a for _, a in triplets), D("0.00"))
    svc = Svc(line.service_code.code, D("100.00"), paid, [("CO", "45", D("1.00"))], None, line.service_date, "1")
    payment = Payment(
        paid,
        check,
        world.payer.name,
        world.payer.edi_payer_id,
        [Clp(claim.number, "1", D("100.00"), paid, services=[svc])],
    )
    cas = "CAS*CO" + "".join(f"*{reason}*{amount}*" for reason, amount in triplets).rstrip("*")
    return write_835([payment]).replace("CAS*CO*45*1~", cas + "~")


def refused(data: bytes | str, name: str = "bad.835") -> EraRefused:
    before = written()
    with pytest.raises(EraRefused) as refusal:
        import_835(data.encode() if isinstance(data, str) else data, filename=name, actor=SYSTEM)
    assert written() == before
    return refusal.value


@pytest.fixture
def claim(world):
    return hundred_dollar_claim(world, lines=1)


# --- nothing dropped --------------------------------------------------------------------------------------------


def test_a_cas_with_nineteen_adjustments_is_refused_whole(world, claim):
    """The attack: 19 adjustments in one CAS imported with 13 of them dropped."""
    triplets = [(reason, D("1.00")) for reason in REASONS[:19]]
    refusal = refused(one_cas_era(world, claim, triplets))
    assert "segment 18 (CAS): 19 adjustments in one CAS" in refusal.message
    assert refusal.message.startswith("bad.835 was refused, nothing was posted")


@ON_DB
@given(count=st.integers(min_value=1, max_value=25), cents=st.integers(min_value=1, max_value=300))
def test_up_to_six_adjustments_in_a_cas_all_post_and_more_are_refused(world, count, cents):
    nested = db.session.begin_nested()
    try:
        claim = hundred_dollar_claim(world, lines=1)
        triplets = [(reason, D(cents) / 100) for reason in REASONS[:count]]
        text = one_cas_era(world, claim, triplets, check=f"CAS{claim.id}")
        if count > 6:
            assert f"{count} adjustments in one CAS" in refused(text).message
            return
        import_835(text.encode(), filename="cas.835", actor=SYSTEM)
        kept = db.session.execute(
            select(AdjudicationAdjustment.reason_code, AdjudicationAdjustment.amount)
            .join(Adjudication)
            .where(Adjudication.claim_id == claim.id)
            .order_by(AdjudicationAdjustment.id)
        ).all()
        assert [(r, a) for r, a in kept] == triplets
        assert paid_on_ledger(claim) == D("100.00") - D(cents) / 100 * count
    finally:
        nested.rollback()


def test_a_segment_repeated_beyond_the_tr3_is_refused(world, claim):
    """Repeat counts are pyx12's to check (a service line has at most two DTM): structural, so the file is refused."""
    text = one_cas_era(world, claim, [("45", D("1.00"))])
    day = f"{claim.lines[0].service_date:%Y%m%d}"
    text = text.replace(f"DTM*472*{day}~", f"DTM*472*{day}~DTM*150*{day}~DTM*151*{day}~")
    count = text.count("~", text.index("ST*835"), text.index("SE*")) + 1
    refusal = refused(re.sub(r"SE\*\d+\*", f"SE*{count}*", text))  # the envelope stays right: only DTM is wrong
    assert refusal.problems == ["line 19: Segment DTM exceeded max count.  Found 3, should have 2"]


# --- whitespace --------------------------------------------------------------------------------------------------


def imported(data: bytes) -> tuple:
    """What an import did, in terms that do not depend on row ids."""
    result = import_835(data, filename="ws.835", actor=SYSTEM)
    entries = db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.group_code, LedgerEntry.reason_code).order_by(
            LedgerEntry.id
        )
    ).all()
    summary = {k: v for k, v in result.as_dict().items() if k != "file"}
    return summary, [tuple(e) for e in entries], written()


@ON_DB
@given(data=st.data())
def test_whitespace_between_segments_never_changes_what_is_imported(world, data):
    nested = db.session.begin_nested()
    try:
        claim = hundred_dollar_claim(world, lines=1)
        plain = one_cas_era(world, claim, [("45", D("15.00")), ("253", D("2.00"))], check=f"WS{claim.id}")
        pieces = plain.replace("~\n", "~").split("~")[:-1]
        text = data.draw(BETWEEN) + "".join(p + "~" + data.draw(BETWEEN) for p in pieces)
        first = db.session.begin_nested()
        expected = imported(plain.encode())
        first.rollback()
        assert imported(text.encode()) == expected
        assert expected[1]  # it did post
    finally:
        nested.rollback()


def test_an_indented_crlf_835_imports_like_the_plain_one(world, claim):
    text = one_cas_era(world, claim, [("45", D("20.00"))]).replace("~\n", "~\r\n    ")
    result = import_835(text.encode(), filename="indented.835", actor=SYSTEM)
    assert (result.matched, result.paid_total, result.warnings) == (1, D("80.00"), [])
    assert paid_on_ledger(claim) == D("80.00")


# --- the wrong file ---------------------------------------------------------------------------------------------


@pytest.mark.samples
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "999/x12_999_rejected.txt",
            "This file is a 999 (implementation acknowledgment), not an 835 remittance; the "
            "clearinghouse's acknowledgments are read by collect-responses",
        ),
        ("999/tc_parse_999.rb__msg2_34accepted.x12", "This file is a 999 (implementation acknowledgment)"),
        ("277ca/x12_277CA_accepted.txt", "This file is a 277CA (claim acknowledgment), not an 835 remittance"),
        ("837p/X222-chiropractic.edi", "This file is an 837P (professional claim), not an 835 remittance"),
    ],
)
def test_another_x12_kind_is_named_not_described_by_pyx12(path, expected):
    from tests.paths import X12_SAMPLES

    refusal = refused((X12_SAMPLES / path).read_bytes(), "wrong.txt")
    assert refusal.problems == [refusal.problems[0]]
    assert refusal.problems[0].startswith(expected)
    assert "segment" not in refusal.message.lower()  # no pyx12 findings about the other transaction's segments


@pytest.mark.parametrize("guide", ["004010X091A1", "005010X222A1", ""])
def test_an_835_of_another_version_is_refused_naming_gs08(world, claim, guide):
    text = one_cas_era(world, claim, [("45", D("20.00"))]).replace("*X*005010X221A1", f"*X*{guide}")
    before = written()
    refusal = refused(text.encode(), "old.835")
    assert refusal.problems[0].startswith(f"GS08 (version) is {guide or 'missing'}: ClaimDesk reads 835s of version "
                                          "005010X221A1 only")
    assert written() == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "This file is a PDF document, not an X12 file"),
        (b"random words, not a remittance\n", "This is not an X12 file"),
    ],
)
def test_a_file_that_is_not_x12_is_refused_in_one_line(data, expected):
    refusal = refused(data)
    assert refusal.problems[0].startswith(expected)
    assert "\n" not in refusal.message


def test_the_cli_says_what_the_file_is_in_json_and_in_one_line(app, tmp_path):
    """`flask edi import` takes 835s, 999s and 277CAs; any other X12 kind is refused naming what it is."""
    path = tmp_path / "inquiry.270"
    path.write_text(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*"
        "000000001*0*T*:~GS*HS*S*R*20260401*1200*1*X*005010X279A1~ST*270*0001*005010X279A1~"
        "BHT*0022*13*1*20260401*1200~SE*3*0001~GE*1*1~IEA*1*000000001~"
    )
    runner = app.test_cli_runner()
    as_json = runner.invoke(args=["edi", "import", str(path), "--json"])
    assert as_json.exit_code == 1
    [row] = json.loads(as_json.output)
    assert row["refused"]
    assert row["errors"][0].startswith("This file is a 270 (eligibility inquiry)")
    plain = runner.invoke(args=["edi", "import", str(path)])
    assert plain.exit_code == 1
    assert len(plain.output.strip().splitlines()) == 1
    assert "Traceback" not in plain.output


# --- the same check re-sent (rule 8: payer + TRN02) ----------------------------------------------------------------


def paid_era(world, claim, *, check: str, paid_on=PAID_ON, control: int = 1, method: str = "CHK") -> bytes:
    line = claim.lines[0]
    svc = Svc(line.service_code.code, D("100.00"), D("80.00"), [("CO", "45", D("20.00"))], None, line.service_date, "1")
    payment = Payment(
        D("80.00"),
        check,
        world.payer.name,
        world.payer.edi_payer_id,
        [Clp(claim.number, "1", D("100.00"), D("80.00"), services=[svc])],
        paid_on=paid_on,
        method=method,
    )
    return write_835([payment], control=control).encode()


@pytest.mark.parametrize("change", ["BPR16 and DTM*405", "ISA13, GS06 and ST02", "BPR04 (ACH, not CHK)", "indentation"])
def test_the_same_check_re_sent_changed_posts_nothing(world, claim, change):
    first = import_835(paid_era(world, claim, check="TRN-7"), filename="first.835", actor=SYSTEM)
    assert paid_on_ledger(claim) == D("80.00")
    again = {
        "BPR16 and DTM*405": paid_era(world, claim, check="TRN-7", paid_on=PAID_ON + timedelta(days=9)),
        "ISA13, GS06 and ST02": paid_era(world, claim, check="TRN-7", control=7),
        "BPR04 (ACH, not CHK)": paid_era(world, claim, check="TRN-7", method="ACH"),
        "indentation": paid_era(world, claim, check="TRN-7").replace(b"~\n", b"~\r\n  "),
    }[change]
    before = written()
    result = import_835(again, filename="again.835", actor=SYSTEM)
    assert result.duplicate
    assert written() == before  # not even a remittance or a file
    assert paid_on_ledger(claim) == D("80.00")
    [why] = result.repeated
    assert why.startswith(
        f"check TRN-7 from {world.payer.name} is already imported (remittance {first.remittance_ids[0]})"
    )


def test_the_same_payment_under_a_new_check_number_is_kept_and_flagged_not_posted(world, claim):
    """A new TRN02 is another check (rule 8), but the claim it pays again is paid twice: kept, flagged, unposted."""
    import_835(paid_era(world, claim, check="TRN-8"), filename="first.835", actor=SYSTEM)
    result = import_835(paid_era(world, claim, check="TRN-9", control=2), filename="renumbered.835", actor=SYSTEM)
    assert not result.duplicate
    assert (result.matched, result.paid_twice, result.paid_total) == (1, 1, D("0.00"))
    assert paid_on_ledger(claim) == D("80.00")
    [kept] = db.session.scalars(select(UnmatchedClaim).where(UnmatchedClaim.claim_number == claim.number))
    assert kept.reason.startswith(f"paid twice by {world.payer.name} without a reversal between")
    assert claim.needs_review
    assert any("paid twice" in (h.reason or "") for h in history(claim))


def test_every_remark_code_of_a_line_is_kept(world):
    """A line may carry up to 99 LQ*HE remarks; all of them reach the adjudication line, none is cut off."""
    from billing.ledger.models import AdjudicationLine
    from tests.billing.payments.test_posting_cases import import_clp, svc
    from tests.worlds.claims import submitted_claim
    from tests.worlds.payments import Clp

    claim = submitted_claim(world)
    line = claim.lines[0]
    service = svc(line, "58.78", ("CO", "45", "14.70"))
    service.remarks = [f"N{n}" for n in range(100, 140)]  # 40 remarks: 199 characters joined
    import_clp(world, Clp(claim.number, "1", line.charge, D("58.78"), services=[service]))
    stored = db.session.scalars(select(AdjudicationLine.remarks)).one()
    assert stored.split(",") == service.remarks
