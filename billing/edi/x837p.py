"""The 837P (005010X222A1) writer: claim facts in, X12 text out, with a map from segments to claims.

Layout per transaction: 1000A submitter, 1000B receiver, then one 2000A billing-provider HL per
billing provider, and under it one 2000B subscriber HL (plus a 2000C patient HL when the patient is
not the subscriber) per claim. The TR3 allows grouping several claims under one subscriber HL; one
HL per claim keeps removing a claim from a batch a local change and maps every error to one claim.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from billing.edi.claim_codes import consents, resubmission, yes_no
from billing.edi.claim_facts import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimFacts,
    Coverage,
    Line,
    Person,
    PriorPayer,
)
from billing.edi.writing import COMPONENT, REPETITION, SEGMENT, clean_text, segment

IMPLEMENTATION = "005010X222A1"
#: The TR3 allows up to 5,000 claims (CLM) per transaction set; we put at most 2,500 in one, so that pyx12 (about
#: 2.5 ms of CPU per claim) validates a full 5,000-claim file as two transactions side by side, one per core
#: (billing.edi.chunks `split_transactions`). Several transactions in a group are ordinary X12.
CLAIMS_PER_TRANSACTION = 2500
ICD10_PRINCIPAL, ICD10_OTHER = "ABK", "ABF"


@dataclass(frozen=True)
class Envelope:
    """The interchange's identities and numbers (from the clearinghouse settings and the batch)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    gs_sender: str
    gs_receiver: str
    usage_indicator: str  # ISA15: T or P
    control_number: int  # ISA13 and GS06; ST02 counts up from it
    created_at: datetime
    submitter_name: str
    submitter_etin: str
    contact_name: str
    contact_phone: str | None
    contact_email: str | None
    receiver_name: str
    receiver_etin: str
    reference: str  # BHT03, e.g. the batch number


@dataclass
class WrittenFile:
    text: str
    #: claim number -> (first, last) segment numbers, counting ISA as 1 (pyx12's `cur_line`).
    claim_segments: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: claim number -> (ST02, first, last) with positions counted from the transaction's ST = 1: what a 999's
    #: IK302 counts, so an acknowledgment's error traces back to its claim.
    claim_places: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    transaction_count: int = 0

    def claim_at(self, segment_number: int) -> str | None:
        for number, (first, last) in self.claim_segments.items():
            if first <= segment_number <= last:
                return number
        return None


@functools.lru_cache(maxsize=4096)
def d8(day: date) -> str:
    """CCYYMMDD; cached because a batch repeats the same few hundred dates thousands of times."""
    return day.strftime("%Y%m%d")


def transactions_needed(claim_count: int) -> int:
    return max(1, -(-claim_count // CLAIMS_PER_TRANSACTION))


def write_837(envelope: Envelope, claims: Sequence[ClaimFacts]) -> WrittenFile:
    """One interchange with one functional group and as many transactions as `CLAIMS_PER_TRANSACTION` chunks need."""
    return enveloped(envelope, write_bodies(claims))


@dataclass(frozen=True)
class Body:
    """One transaction's claims written, without its envelope: the segments between its five header segments and
    SE, and each claim's (first, last) segment counted from the first of them = 1.

    Nothing in it depends on the envelope (control numbers, the date, the batch number), so a batch's claims can
    be written before the batch exists (billing.submissions.operations writes the next file while one validates).
    """

    segments: list[str]
    places: dict[str, tuple[int, int]]


def write_bodies(claims: Sequence[ClaimFacts]) -> list[Body]:
    """The transactions' bodies of `write_837`: one per `CLAIMS_PER_TRANSACTION` claims (one, empty, for none)."""
    chunks = [claims[i : i + CLAIMS_PER_TRANSACTION] for i in range(0, len(claims), CLAIMS_PER_TRANSACTION)] or [[]]
    return [_body(chunk) for chunk in chunks]


def enveloped(envelope: Envelope, bodies: Sequence[Body]) -> WrittenFile:
    """The file of these bodies: ISA, GS, each transaction's header, body and SE, GE, IEA."""
    out: list[str] = [_isa(envelope), _gs(envelope)]
    result = WrittenFile(text="")
    for index, body in enumerate(bodies):
        _transaction(out, envelope, envelope.control_number + index, body, result)
    out.append(segment("GE", len(bodies), envelope.control_number))
    out.append(segment("IEA", 1, f"{envelope.control_number:09d}"))
    result.text = SEGMENT.join(out) + SEGMENT
    result.transaction_count = len(bodies)
    return result


def _isa(env: Envelope) -> str:
    return segment(
        "ISA", "00", " " * 10, "00", " " * 10,
        env.sender_qualifier, env.sender_id.ljust(15)[:15], env.receiver_qualifier, env.receiver_id.ljust(15)[:15],
        env.created_at.strftime("%y%m%d"), env.created_at.strftime("%H%M"), REPETITION, "00501",
        f"{env.control_number:09d}", "0", env.usage_indicator, COMPONENT,
    )  # fmt: skip


def _gs(env: Envelope) -> str:
    return segment(
        "GS", "HC", env.gs_sender, env.gs_receiver, env.created_at.strftime("%Y%m%d"),
        env.created_at.strftime("%H%M"), env.control_number, "X", IMPLEMENTATION,
    )  # fmt: skip


def _transaction(out: list[str], env: Envelope, st_number: int, body: Body, result: WrittenFile) -> None:
    start = len(out)
    control = f"{st_number:04d}"
    out.append(segment("ST", "837", control, IMPLEMENTATION))
    out.append(segment("BHT", "0019", "00", env.reference, env.created_at.strftime("%Y%m%d"),
                       env.created_at.strftime("%H%M"), "CH"))  # fmt: skip
    out.append(segment("NM1", "41", "2", clean_text(env.submitter_name), "", "", "", "", "46", env.submitter_etin))
    out.append(_submitter_contact(env))
    out.append(segment("NM1", "40", "2", clean_text(env.receiver_name), "", "", "", "", "46", env.receiver_etin))
    before, header = len(out), len(out) - start  # the body's first segment is number before + 1 in the file
    for number, (first, last) in body.places.items():
        result.claim_segments[number] = (before + first, before + last)
        result.claim_places[number] = (control, header + first, header + last)
    out.extend(body.segments)
    out.append(segment("SE", len(out) - start + 1, control))


def _body(claims: Sequence[ClaimFacts]) -> Body:
    out: list[str] = []
    places: dict[str, tuple[int, int]] = {}
    hl = 0
    for billing, group in _by_billing_provider(claims):
        hl += 1
        provider_hl = hl
        out.append(segment("HL", provider_hl, "", "20", "1"))
        _billing_provider(out, billing)
        for claim in group:
            first = len(out) + 1
            hl = _claim(out, claim, provider_hl, hl)
            places[claim.number] = (first, len(out))
    return Body(out, places)


def _submitter_contact(env: Envelope) -> str:
    contact: list[str] = []
    if env.contact_phone:
        contact += ["TE", env.contact_phone]
    if env.contact_email:
        contact += ["EM", env.contact_email]
    return segment("PER", "IC", clean_text(env.contact_name), *contact)


def _by_billing_provider(claims: Sequence[ClaimFacts]) -> list[tuple[BillingProvider, list[ClaimFacts]]]:
    groups: dict[int, tuple[BillingProvider, list[ClaimFacts]]] = {}
    for claim in claims:
        groups.setdefault(claim.billing.key, (claim.billing, []))[1].append(claim)
    return list(groups.values())


def _address(out: list[str], address: Address | None) -> None:
    if address is None:
        return
    out.append(segment("N3", clean_text(address.line1, limit=55), clean_text(address.line2, limit=55)))
    out.append(segment("N4", clean_text(address.city, limit=30), address.state, address.zip_code))


def _billing_provider(out: list[str], billing: BillingProvider) -> None:
    if billing.taxonomy:
        out.append(segment("PRV", "BI", "PXC", billing.taxonomy))
    out.append(segment("NM1", "85", "2", clean_text(billing.name), "", "", "", "", "XX", billing.npi))
    _address(out, billing.address)
    out.append(segment("REF", "EI", billing.tax_id))
    if billing.pay_to is not None and billing.pay_to != billing.address:
        out.append(segment("NM1", "87", "2"))
        _address(out, billing.pay_to)


def _person_name(entity: str, person: Person, qualifier: str = "", ident: str = "") -> str:
    return segment(
        "NM1", entity, "1", clean_text(person.last_name), clean_text(person.first_name, limit=35), "", "", "",
        qualifier, ident,
    )  # fmt: skip


def _demographics(out: list[str], person: Person) -> None:
    if person.date_of_birth is not None:
        out.append(segment("DMG", "D8", d8(person.date_of_birth), person.sex or "U"))


def _claim(out: list[str], claim: ClaimFacts, provider_hl: int, hl: int) -> int:
    """Loops 2000B-2400 for one claim; returns the last HL number used."""
    cov = claim.coverage
    hl += 1
    subscriber_hl = hl
    out.append(segment("HL", subscriber_hl, provider_hl, "22", "0" if cov.patient_is_subscriber else "1"))
    out.append(_sbr(cov, cov.responsibility))
    subscriber = claim.patient if cov.patient_is_subscriber else cov.subscriber
    out.append(_person_name("IL", subscriber, "MI", cov.member_id))
    _address(out, subscriber.address)
    _demographics(out, subscriber)
    out.append(segment("NM1", "PR", "2", clean_text(cov.payer_name), "", "", "", "", "PI", cov.payer_id))
    _address(out, cov.payer_address)
    if not cov.patient_is_subscriber:
        hl += 1
        out.append(segment("HL", hl, subscriber_hl, "23", "0"))
        out.append(segment("PAT", cov.relationship_code))
        out.append(_person_name("QC", claim.patient))
        _address(out, claim.patient.address)
        _demographics(out, claim.patient)
    _claim_information(out, claim)
    for number, line in enumerate(claim.lines, start=1):
        _service_line(out, claim, number, line)
    return hl


def _sbr(cov: Coverage, responsibility: str) -> str:
    relationship = "18" if cov.patient_is_subscriber else ""
    # SBR05 is required when Medicare is secondary. 12 (an employer group health plan pays first) is the
    # common case; ESRD (13), disability (43) or liability (47) situations are rare in therapy billing.
    insurance_type = "12" if cov.medicare_secondary else ""
    return segment(
        "SBR", responsibility, relationship, cov.group_number or "", "", insurance_type, "", "", "",
        cov.filing_indicator,
    )  # fmt: skip


def _claim_information(out: list[str], claim: ClaimFacts) -> None:
    facility = f"{claim.place_of_service}{COMPONENT}B{COMPONENT}{claim.frequency_code}"
    agreed = consents(claim)
    out.append(segment("CLM", claim.number, claim.total, "", "", facility, yes_no(agreed.provider_signature),
                       agreed.assignment, yes_no(agreed.benefits_assigned), agreed.release_of_information))
    # The map orders 2300 REF segments by qualifier: prior authorization (G1) before the payer's claim number (F8).
    if claim.prior_authorization:
        out.append(segment("REF", "G1", claim.prior_authorization))
    if (replaces := resubmission(claim)) is not None:
        out.append(segment("REF", "F8", replaces[1]))
    out.append(_health_information(claim.diagnoses))
    _rendering_provider(out, claim)
    _service_facility(out, claim)
    lines_adjudicated = any(line.prior is not None for line in claim.lines)
    for prior in claim.prior_payers:
        _other_subscriber(out, prior, lines_adjudicated)


def _health_information(diagnoses: Sequence[str]) -> str:
    codes = [f"{ICD10_PRINCIPAL if i == 0 else ICD10_OTHER}{COMPONENT}{code}" for i, code in enumerate(diagnoses)]
    return segment("HI", *codes)


def _rendering_provider(out: list[str], claim: ClaimFacts) -> None:
    if claim.rendering is None or claim.rendering_npi in (None, claim.billing.npi):
        return
    out.append(_person_name("82", claim.rendering, "XX", claim.rendering_npi or ""))
    if claim.rendering_taxonomy:
        out.append(segment("PRV", "PE", "PXC", claim.rendering_taxonomy))


def _service_facility(out: list[str], claim: ClaimFacts) -> None:
    if claim.facility_address is None or claim.facility_address == claim.billing.address:
        return
    qualifier = "XX" if claim.facility_npi else ""
    out.append(segment("NM1", "77", "2", clean_text(claim.facility_name), "", "", "", "", qualifier,
                       claim.facility_npi or ""))  # fmt: skip
    _address(out, claim.facility_address)


def _adjustments(out: list[str], adjustments: Sequence[Adjustment]) -> None:
    """CAS: one segment per group code, up to six reason/amount pairs each."""
    by_group: dict[str, list[Adjustment]] = {}
    for adj in adjustments:
        by_group.setdefault(adj.group, []).append(adj)
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            pairs: list[object] = []
            for adj in items[start : start + 6]:
                pairs += [adj.reason, adj.amount, ""]
            out.append(segment("CAS", group, *pairs))


def _other_subscriber(out: list[str], prior: PriorPayer, lines_adjudicated: bool) -> None:
    """Loops 2320/2330A/2330B: the other policy, what its payer adjusted and paid at claim level."""
    cov = prior.coverage
    out.append(segment("SBR", cov.responsibility, cov.relationship_code, cov.group_number or "", "", "", "", "", "",
                       cov.filing_indicator))  # fmt: skip
    _adjustments(out, prior.adjustments)
    out.append(segment("AMT", "D", prior.paid))
    if prior.patient_responsibility is not None:
        out.append(segment("AMT", "EAF", prior.patient_responsibility))
    out.append(segment("OI", "", "", "Y", "P", "", "Y"))
    out.append(_person_name("IL", cov.subscriber, "MI", cov.member_id))
    _address(out, cov.subscriber.address)
    out.append(segment("NM1", "PR", "2", clean_text(cov.payer_name), "", "", "", "", "PI", cov.payer_id))
    # The TR3 wants the claim-level adjudication date only when 2430 does not date each line.
    if prior.paid_on is not None and not lines_adjudicated:
        out.append(segment("DTP", "573", "D8", d8(prior.paid_on)))


def _service_line(out: list[str], claim: ClaimFacts, number: int, line: Line) -> None:
    procedure = COMPONENT.join(("HC", line.procedure_code, *line.modifiers))
    pointers = COMPONENT.join(str(p) for p in line.pointers)
    place = line.place_of_service if line.place_of_service != claim.place_of_service else ""
    # LX and DTP*472 have no optional elements to trim, so they skip segment() (10,000 lines a batch).
    out.append(f"LX*{number}")
    out.append(segment("SV1", procedure, line.charge, "UN", line.units, place, "", pointers))
    out.append(f"DTP*472*D8*{d8(line.service_date)}")
    if line.authorization and line.authorization != claim.prior_authorization:
        out.append(segment("REF", "G1", line.authorization))
    if line.prior is not None:
        prior = line.prior
        code = COMPONENT.join(("HC", prior.procedure_code, *prior.modifiers))
        out.append(segment("SVD", prior.payer_id, prior.paid, code, "", prior.units))
        _adjustments(out, prior.adjustments)
        out.append(segment("DTP", "573", "D8", d8(prior.paid_on)))
