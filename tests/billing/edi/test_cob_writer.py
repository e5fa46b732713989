"""Secondary claims on the wire: loops 2320/2330A/2330B and 2430 from the primary payer's adjudication.

Built from hand-made facts: the primary's adjudication comes from the payments package
(`billing.payments.cob.prior_adjudication`), and the writer is tested against the TR3 COB sample here.
"""

from __future__ import annotations

import pytest

from billing.edi.segments import segment_texts
from billing.edi.x837p import write_837
from billing.edi.x837p_checks import validate_837
from tests.billing.edi.loops import NOTHING, assert_loops_match, sample
from tests.billing.edi.scenario_facts import ENVELOPE, primary_claim, secondary_claim


def test_a_secondary_claim_carries_the_primary_adjudication_and_validates():
    written = write_837(ENVELOPE, [secondary_claim()])
    assert validate_837(written.text, written.claim_at) == []
    text = written.text
    assert "SBR*S*" in text
    assert "SBR*P*19*GRP1******CI~" in text
    assert "AMT*D*100~AMT*EAF*20~OI***Y*P**Y~" in text
    assert text.count("SVD*KEY01*50*HC:") == 2
    assert text.count("CAS*CO*45*13.48~CAS*PR*2*10~DTP*573*D8*20260320~") == 2


@pytest.mark.samples
def test_cob_loops_match_the_tr3_secondary_sample():
    written = write_837(ENVELOPE, [secondary_claim()])
    assert_loops_match(written.text, sample("X222-COB-claim-from-billing-provider-to-payer-b.edi"), {
        # The primary adjusted per line (2430 CAS), so no claim-level CAS: the TR3 forbids reporting both.
        "2320": ({"CAS"}, set()), "2330A": NOTHING, "2330B": NOTHING, "2430": NOTHING, "2400": NOTHING,
        "2000C": NOTHING, "2010CA": NOTHING,
    })  # fmt: skip


def test_errors_are_pinned_to_their_claim():
    good, bad = primary_claim("C-000201"), primary_claim("C-000202")
    written = write_837(ENVELOPE, [good, bad])
    first, last = written.claim_segments["C-000202"]
    segments = segment_texts(written.text)
    # Break the second claim's service date; the error must name that claim and no other.
    broken_at = next(i for i in range(first, last + 1) if segments[i - 1].startswith("DTP*472"))
    segments[broken_at - 1] = "DTP*472*D8*20261399"
    errors = validate_837("~".join(segments) + "~", written.claim_at)
    assert errors
    assert {e.claim_number for e in errors} == {"C-000202"}
    assert errors[0].segment_number == broken_at


def test_a_claim_whose_lines_do_not_add_up_is_caught():
    written = write_837(ENVELOPE, [primary_claim()])
    broken = written.text.replace("CLM*C-000101*146.96*", "CLM*C-000101*146.97*")
    errors = validate_837(broken, written.claim_at)
    assert [e.claim_number for e in errors] == ["C-000101"]
    assert "not the sum" in errors[0].message


def test_frequency_7_without_ref_f8_is_caught():
    from dataclasses import replace

    written = write_837(ENVELOPE, [replace(primary_claim(), frequency_code="7", payer_claim_number=None)])
    text = written.text.replace("REF*F8~", "")
    assert any("REF*F8" in e.message for e in validate_837(text, written.claim_at))


def test_more_than_2500_claims_split_into_transactions_with_increasing_st02():
    from dataclasses import replace

    claims = [replace(primary_claim(f"C-{i:06d}")) for i in range(5001)]
    written = write_837(ENVELOPE, claims)
    sts = [s for s in segment_texts(written.text) if s.startswith("ST*")]
    assert sts == ["ST*837*0041*005010X222A1", "ST*837*0042*005010X222A1", "ST*837*0043*005010X222A1"]
    assert segment_texts(written.text)[-2] == "GE*3*41"
    assert [written.text.count("CLM*")] == [5001]


def test_medicare_as_secondary_names_the_msp_type_in_sbr05():
    from dataclasses import replace

    medicare = replace(secondary_claim().coverage, filing_indicator="MB", medicare_secondary=True, group_number=None)
    written = write_837(ENVELOPE, [replace(secondary_claim(), coverage=medicare)])
    assert validate_837(written.text, written.claim_at) == []
    assert "SBR*S****12****MB~" in written.text
