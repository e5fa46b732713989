"""A claim's CMS-1500 boxes, from the claim facts the 837P writer reads (NUCC 1500 instructions, 02/12 form).

Each value is the 837P element's value in the form's notation (dates MM DD YY, amounts without a
dollar sign, pointers as letters): `crosswalk` in tests names the element each box must equal.
Values are upper case, as OCR scanners of the red form read best.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.edi.claim_codes import consents, resubmission
from billing.edi.claim_facts import Address, ClaimFacts, Line, Person
from billing.submissions.paper.grid import LINES_PER_PAGE

#: Box 1 from the claim filing indicator (SBR09); anything not a government program is a group health plan.
PROGRAM_BOX = {"MB": "1_medicare", "MA": "1_medicare", "MC": "1_medicaid", "CH": "1_tricare", "VA": "1_champva",
               "FI": "1_feca", "WC": "1_other", "ZZ": "1_other", "11": "1_other"}  # fmt: skip
RELATIONSHIP_BOX = {"18": "6_self", "01": "6_spouse", "19": "6_child"}
POINTER_LETTERS = "ABCDEFGHIJKL"
CHECK = "X"
CONTINUED = "CONTINUED"


@dataclass(frozen=True)
class Page:
    """One printed form: the header boxes and at most six service lines."""

    claim_number: str
    number: int  # 1-based within the claim
    of: int
    boxes: dict[str, str]
    lines: list[dict[str, str]]


def pages_for(claim: ClaimFacts, printed_on: date) -> list[Page]:
    """One page per six lines; the header repeats, and box 28 holds the claim total on the last page only
    (the pages before it say CONTINUED), so no page's total can be taken for the claim's."""
    header = header_boxes(claim, printed_on)
    chunks = [claim.lines[i : i + LINES_PER_PAGE] for i in range(0, len(claim.lines), LINES_PER_PAGE)] or [()]
    pages = []
    for index, chunk in enumerate(chunks, start=1):
        boxes = dict(header)
        if index < len(chunks):
            boxes["28"] = CONTINUED
        pages.append(Page(claim.number, index, len(chunks), boxes, [line_boxes(claim, line) for line in chunk]))
    return pages


def header_boxes(claim: ClaimFacts, printed_on: date) -> dict[str, str]:
    boxes: dict[str, str] = {}
    boxes.update(_payer(claim))
    boxes.update(_patient_and_insured(claim))
    boxes.update(_other_coverage(claim))
    boxes.update(_claim_boxes(claim, printed_on))
    boxes.update(_providers(claim))
    return {key: value.upper() for key, value in boxes.items() if value}


def _payer(claim: ClaimFacts) -> dict[str, str]:
    cov = claim.coverage
    boxes = {"payer_name": cov.payer_name}
    if cov.payer_address is not None:
        boxes |= {"payer_line1": cov.payer_address.line1, "payer_line2": cov.payer_address.line2 or "",
                  "payer_city": _city_line(cov.payer_address)}  # fmt: skip
        if not boxes["payer_line2"]:  # no second line: the city moves up, as on an envelope
            boxes["payer_line2"], boxes["payer_city"] = boxes.pop("payer_city"), ""
    return boxes


def _patient_and_insured(claim: ClaimFacts) -> dict[str, str]:
    cov, patient = claim.coverage, claim.patient
    insured = patient if cov.patient_is_subscriber else cov.subscriber
    boxes = {
        PROGRAM_BOX.get(cov.filing_indicator, "1_group"): CHECK,
        "1a": cov.member_id,
        "2": person_name(patient),
        "3_dob": form_date(patient.date_of_birth, long=True),
        RELATIONSHIP_BOX.get(cov.relationship_code, "6_other"): CHECK,
        "4": person_name(insured),
        "11": cov.group_number or "",
        "11a_dob": form_date(insured.date_of_birth, long=True),
        "11c": cov.payer_name,
        # 10a-c: therapy claims carry no accident or employment (no CLM11), so each is answered NO.
        "10a_no": CHECK, "10b_no": CHECK, "10c_no": CHECK,
    }  # fmt: skip
    boxes |= _sex("3", patient) | _sex("11a", insured)
    boxes |= _address("5", patient.address)
    boxes |= _address("7", insured.address or (patient.address if cov.patient_is_subscriber else None))
    return boxes


def _other_coverage(claim: ClaimFacts) -> dict[str, str]:
    """Boxes 9, 9a, 9d and 11d from loop 2320/2330 (the other payer a secondary claim reports)."""
    if not claim.prior_payers:
        return {"11d_no": CHECK}
    other = claim.prior_payers[0].coverage
    return {"11d_yes": CHECK, "9": person_name(other.subscriber), "9a": other.group_number or "",
            "9d": other.payer_name}  # fmt: skip


def _claim_boxes(claim: ClaimFacts, printed_on: date) -> dict[str, str]:
    agreed = consents(claim)
    boxes = {
        "12": "SIGNATURE ON FILE" if agreed.release_of_information == "Y" else "",
        "12_date": form_date(printed_on) if agreed.release_of_information == "Y" else "",
        "13": "SIGNATURE ON FILE" if agreed.benefits_assigned else "",
        "21_ind": "0",  # ICD-10-CM, as HI01-1 ABK says
        "23": claim.prior_authorization or "",
        "26": claim.number,
        "27_yes" if agreed.assignment == "A" else "27_no": CHECK,
        "28": amount(claim.total),
        "29": amount(sum((p.paid for p in claim.prior_payers), Decimal("0"))) if claim.prior_payers else "",
    }
    for letter, code in zip(POINTER_LETTERS, claim.diagnoses, strict=False):
        boxes[f"21_{letter.lower()}"] = code
    if (replaces := resubmission(claim)) is not None:
        boxes["22_code"], boxes["22_ref"] = replaces
    return boxes


def _providers(claim: ClaimFacts) -> dict[str, str]:
    billing = claim.billing
    boxes = {"25": billing.tax_id, "25_ein": CHECK, "33_name": billing.name, "33a": billing.npi,
             "33b": f"ZZ{billing.taxonomy}" if billing.taxonomy else ""}  # fmt: skip
    if billing.address is not None:
        boxes |= {"33_street": billing.address.line1, "33_city": _city_line(billing.address)}
    if claim.rendering is not None:
        boxes["31_name"] = f"{claim.rendering.first_name} {claim.rendering.last_name}"
    if claim.facility_address is not None and claim.facility_address != billing.address:
        boxes |= {"32_name": claim.facility_name or "", "32_street": claim.facility_address.line1,
                  "32_city": _city_line(claim.facility_address), "32a": claim.facility_npi or ""}  # fmt: skip
    return boxes


def line_boxes(claim: ClaimFacts, line: Line) -> dict[str, str]:
    boxes = {
        "24a_from": form_date(line.service_date),
        "24a_to": form_date(line.service_date),
        "24b": line.place_of_service,
        "24d_code": line.procedure_code,
        "24e": "".join(POINTER_LETTERS[p - 1] for p in line.pointers),
        "24f": amount(line.charge),
        "24g": str(line.units),
    }
    for index, modifier in enumerate(line.modifiers[:4], start=1):
        boxes[f"24d_mod{index}"] = modifier
    # 24J carries the rendering NPI only when it differs from the billing one, as loop 2310B does.
    if claim.rendering_npi and claim.rendering_npi != claim.billing.npi:
        boxes["24j"] = claim.rendering_npi
        if claim.rendering_taxonomy:
            boxes["24i"], boxes["24j_other"] = "ZZ", claim.rendering_taxonomy
    return {key: value.upper() for key, value in boxes.items() if value}


def person_name(person: Person) -> str:
    return f"{person.last_name}, {person.first_name}"


def form_date(day: date | None, *, long: bool = False) -> str:
    """MM DD YY in the service lines and signatures; MM DD YYYY in the birth-date boxes (box 3, 11a)."""
    if day is None:
        return ""
    return day.strftime("%m %d %Y" if long else "%m %d %y")


def amount(value: Decimal) -> str:
    """Dollars and cents with a space for the point: the form prints its own dollar/cent divider."""
    dollars, cents = f"{value:.2f}".split(".")
    return f"{dollars} {cents}"


def _sex(box: str, person: Person) -> dict[str, str]:
    if person.sex == "M":
        return {f"{box}_male": CHECK}
    if person.sex == "F":
        return {f"{box}_female": CHECK}
    return {}


def _address(box: str, address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    street = f"{address.line1} {address.line2}" if address.line2 else address.line1
    return {f"{box}_street": street, f"{box}_city": address.city, f"{box}_state": address.state,
            f"{box}_zip": address.zip_code}  # fmt: skip


def _city_line(address: Address) -> str:
    return f"{address.city}, {address.state} {address.zip_code}"
