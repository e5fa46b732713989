"""Generated 837P files, scenario by scenario: pyx12 finds nothing, the house checks find nothing, and each
loop carries the segments the matching TR3 sample carries, in the same order."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from billing.claims.operations import correct_claim, void_claim
from billing.claims.sessions import finalize_session
from billing.coverage.models import SubscriberRelationship
from billing.edi.segments import segment_texts
from billing.edi.x837p_checks import house_checks, pyx12_errors, validate_837
from billing.people.models import Sex
from billing.submissions.operations import create_batches, mark_batch_sent
from tests.billing.edi.loops import NOTHING, assert_loops_match, sample
from tests.paths import X12_SAMPLES
from tests.worlds.claims import bulk_ready_claims
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import give_address

SAMPLES = X12_SAMPLES / "837p"


def generated(world) -> str:
    batch = create_batches(actor=SYSTEM)[0]
    assert validate_837(batch.content) == [], "create_batches let an invalid file through"
    return batch.content


@pytest.mark.samples
@pytest.mark.parametrize(
    "name",
    [p.name for p in sorted(SAMPLES.glob("X222-*.edi"))] if SAMPLES.exists() else ["(samples missing)"],
)
def test_the_validator_passes_every_valid_sample(name):
    """pyx12 finds nothing; the house checks object only to the TR3's placeholder NPIs (bad check digits)."""
    text = sample(name)
    assert pyx12_errors(text) == []
    leftovers = [e for e in validate_837(text) if "NPI check digit" not in e.message]
    assert leftovers == []


@pytest.mark.samples
def test_the_validator_refuses_the_broken_sample_and_says_where():
    errors = validate_837(sample("x12_bad_valid_code.txt"))
    assert errors
    assert any("NM1*117" in e.message for e in errors)
    assert all(e.segment_number for e in errors)


@pytest.mark.samples
def test_one_claim_patient_is_the_subscriber(world):
    claim = world.ready_claim()
    text = generated(world)
    assert f"CLM*{claim.number}*73.48***11:B:1*Y*A*Y*Y~" in text
    assert "HL*2*1*22*0~" in text
    assert "*23*" not in text
    # The Medicare-secondary sample has the patient as subscriber (2010BA with address and DMG).
    assert_loops_match(text, sample("X222-medicare-secondary-payer-COB.edi"), {
        "1000A": NOTHING, "1000B": NOTHING, "2000B": NOTHING, "2010BA": NOTHING,
        "2010AA": ({"REF*1G"}, set()),  # legacy provider id: retired in 2007, never sent
        "2400": NOTHING,
    })  # fmt: skip


@pytest.mark.samples
def test_patient_not_the_subscriber_gets_2000c(world):
    policy = world.policy
    policy.relationship_to_subscriber = SubscriberRelationship.CHILD
    policy.subscriber_first_name, policy.subscriber_last_name = "Jane", "Smith"
    policy.subscriber_date_of_birth, policy.subscriber_sex = date(1984, 2, 3), Sex.FEMALE
    world.ready_claim()
    text = generated(world)
    assert "HL*2*1*22*1~" in text
    assert "HL*3*2*23*0~PAT*19~" in text
    assert "NM1*IL*1*SMITH*JANE****MI*" in text
    assert_loops_match(text, sample("X222-commercial-health-insurance.edi"), {
        "1000A": NOTHING, "1000B": NOTHING, "2000A": NOTHING, "2010AA": NOTHING,
        "2000B": NOTHING, "2010BA": NOTHING, "2000C": NOTHING, "2010CA": NOTHING,
        "2010BB": ({"REF*G2"}, set()),  # payer-assigned provider id: ClaimDesk bills by NPI only
        "2300": ({"REF*D9"}, set()),  # the clearinghouse's trace number: theirs to add
        "2400": NOTHING,
    })  # fmt: skip


@pytest.mark.samples
def test_many_lines_one_claim_each_line_dated_and_pointed(world):
    for hour in (8, 10, 13, 15):
        result = finalize_session(world.visit(start=time(hour, 0)), actor=SYSTEM)
    claim = (result.created or result.extended)[0]
    assert len(claim.lines) == 4
    text = generated(world)
    segments = segment_texts(text)
    assert [s.split("*")[0] for s in segments].count("LX") == 4
    assert house_checks(segments) == []
    # CLM02 is the claim's exact total, and that total is the sum of the four SV102 charges.
    charges = [Decimal(s.split("*")[2]) for s in segments if s.startswith("SV1*")]
    assert charges == [Decimal("73.48")] * 4
    assert f"CLM*{claim.number}*293.92***11:B:1*Y*A*Y*Y~" in text
    assert claim.total_charge == sum(charges) == Decimal("293.92")
    assert next(s for s in segments if s.startswith("SV1*")) == "SV1*HC:97153*73.48*UN*4***1:2"
    assert [s for s in segments if s.startswith("DTP*472")] == ["DTP*472*D8*20260302"] * 4
    # The commercial sample also bills one claim with four lines.
    assert_loops_match(text, sample("X222-commercial-health-insurance.edi"), {
        "2300": ({"REF*D9"}, set()), "2400": NOTHING,
    })  # fmt: skip


@pytest.mark.samples
def test_rendering_provider_and_service_facility_when_they_differ(world):
    world.location.address_line1 = "900 Far Rd"  # not the billing provider's street
    world.ready_claim()
    text = generated(world)
    provider = world.provider
    assert f"NM1*82*1*{provider.last_name.upper()}*{provider.first_name.upper()}****XX*{provider.npi}~" in text
    assert "NM1*77*2*" in text
    assert "N3*900 FAR RD~" in text
    assert_loops_match(text, sample("X222-COB-claim-from-billing-provider-to-payer-b.edi"), {
        "2310B": ({"REF*G2"}, set()),  # payer-assigned provider id, not used
        "2310C": NOTHING,
    })  # fmt: skip


def test_no_2310c_when_the_service_facility_is_the_billing_address(world):
    give_address(world.location, line1=world.company.address_line1, zip_code=world.company.zip_code)
    world.location.city, world.location.state = world.company.city, world.company.state
    world.ready_claim()
    assert "NM1*77*" not in generated(world)


@pytest.mark.samples
def test_corrected_claim_frequency_7_with_ref_f8(world):
    original = world.ready_claim()
    mark_batch_sent(create_batches(actor=SYSTEM)[0].id, actor=SYSTEM)
    corrected = correct_claim(original, actor=SYSTEM, reason="units were wrong", payer_claim_number="ICN-0042")
    text = generated(world)
    assert f"CLM*{corrected.number}*73.48***11:B:7*Y*A*Y*Y~REF*F8*ICN-0042~" in text
    assert original.number not in text
    assert_loops_match(text, sample("X222-commercial-health-insurance.edi"), {
        "2300": ({"REF*D9"}, {"REF*F8"}), "2400": NOTHING,
    })  # fmt: skip


@pytest.mark.samples
def test_void_frequency_8_with_ref_f8(world):
    claim = world.ready_claim()
    mark_batch_sent(create_batches(actor=SYSTEM)[0].id, actor=SYSTEM)
    claim.payer_claim_number = "ICN-0043"
    void_claim(claim, reason="duplicate", actor=SYSTEM)
    text = generated(world)
    # A void repeats the claim as it was sent, lines included, with frequency 8 and the payer's number.
    assert f"CLM*{claim.number}*73.48***11:B:8*Y*A*Y*Y~REF*F8*ICN-0043~" in text
    assert "SV1*HC:97153*73.48*UN*4***1:2~" in text
    assert_loops_match(text, sample("X222-commercial-health-insurance.edi"), {
        "2300": ({"REF*D9"}, {"REF*F8"}), "2400": NOTHING,
    })  # fmt: skip


def test_a_void_without_the_payer_claim_number_is_left_out_or_refused_by_name(world):
    """Case O: it never blocks a batch of all claims (left out, named); chosen by id, it is refused by name."""
    from billing.core.errors import NothingToDo, ValidationFailed

    claim = world.ready_claim()
    mark_batch_sent(create_batches(actor=SYSTEM)[0].id, actor=SYSTEM)
    void_claim(claim, reason="duplicate", actor=SYSTEM)
    with pytest.raises(NothingToDo, match=claim.number):
        create_batches(actor=SYSTEM)
    with pytest.raises(ValidationFailed, match=claim.number) as refused:
        create_batches(actor=SYSTEM, claim_ids=[claim.id])
    assert "REF*F8" in refused.value.problems[0].message


def test_names_with_delimiters_are_cleaned_not_split(world):
    world.client.last_name = "O*Brien~Smith:Jr^"
    world.client.first_name = "Zoë"
    world.ready_claim()
    text = generated(world)
    assert "NM1*IL*1*O BRIEN SMITH JR*ZOE****MI*" in text


@pytest.mark.samples
@pytest.mark.slow
def test_a_thousand_claim_batch_is_valid(world):
    ids = bulk_ready_claims(world.base, 1000)
    batch = create_batches(actor=SYSTEM)[0]
    assert batch.claim_count == 1000
    assert len(batch.entries) == 1000
    assert batch.total_charge == Decimal("73.48") * 1000
    assert pyx12_errors(batch.content) == []
    segments = segment_texts(batch.content)
    assert house_checks(segments) == []
    assert [s.split("*")[0] for s in segments].count("CLM") == 1000
    # SE01 counts ST to SE; GE01 one transaction; IEA01 one group.
    se = next(s for s in segments if s.startswith("SE*"))
    assert int(se.split("*")[1]) == len(segments) - 4
    assert segments[-2:] == [f"GE*1*{batch.control_number}", f"IEA*1*{batch.control_number:09d}"]
    assert {e.claim_id for e in batch.entries} == set(ids)
    assert_loops_match(batch.content, sample("X222-medicare-secondary-payer-COB.edi"), {
        "1000A": NOTHING, "1000B": NOTHING, "2000B": NOTHING, "2010BA": NOTHING,
        "2010AA": ({"REF*1G"}, set()), "2400": NOTHING,
    })  # fmt: skip


@pytest.mark.samples
def test_a_secondary_claim_from_the_database_carries_the_primary_payment(world):
    """Primary sent and paid (CO-45 and a PR-3 copay); the secondary claim's file has 2320/2330/2430."""
    from billing.coverage.models import PolicyRank
    from billing.ledger.models import EntrySource
    from billing.payments.posting import post_adjudication
    from billing.payments.secondary import generate_secondary_claim
    from tests.worlds import factories as f
    from tests.worlds.payments import PAID_ON, full_payment

    secondary_payer = f.PayerFactory(company=world.company, name="State Medicaid", claim_filing_indicator="MC",
                                     clearinghouse=world.clearinghouse, clearinghouse_payer_id="MCD01")  # fmt: skip
    give_address(secondary_payer, line1="1 Capitol Ave", zip_code="62701")
    f.PolicyFactory(client=world.client, payer=secondary_payer, rank=PolicyRank.SECONDARY, member_id="MCD0002")
    primary = world.ready_claim()
    mark_batch_sent(create_batches(actor=SYSTEM)[0].id, actor=SYSTEM)
    post_adjudication(primary, full_payment(primary, copay=Decimal("10.00")), actor=SYSTEM,
                      source=EntrySource.MANUAL)  # fmt: skip
    secondary = generate_secondary_claim(primary, actor=SYSTEM, posted_on=PAID_ON)
    text = generated(world)
    assert f"CLM*{secondary.number}*73.48***11:B:1*Y*A*Y*Y~" in text
    assert "SBR*S*18*" in text
    assert "NM1*PR*2*STATE MEDICAID*****PI*MCD01~" in text
    # 2320: the primary as the other payer, what it paid, what it left to the patient.
    assert "SBR*P*18*******CI~AMT*D*58.78~AMT*EAF*10~OI***Y*P**Y~NM1*IL*1*" in text
    assert f"NM1*PR*2*{world.payer.name.upper()}*****PI*KEYINS01~" in text
    # 2430: the line as the primary adjudicated it.
    assert "SVD*KEYINS01*58.78*HC:97153**4~CAS*CO*45*4.7~CAS*PR*3*10~DTP*573*D8*20260401~" in text
    assert_loops_match(text, sample("X222-medicare-secondary-payer-COB.edi"), {
        "2000B": NOTHING, "2010BA": NOTHING, "2010BB": NOTHING,
        "2320": ({"AMT*A8"}, {"AMT*EAF"}),  # A8: noncovered amount (none here); EAF: what the patient owes
        "2330A": NOTHING, "2330B": NOTHING, "2400": NOTHING, "2430": NOTHING,
    })  # fmt: skip
