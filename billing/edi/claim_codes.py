"""Claim-level codes that the 837P and the paper CMS-1500 both carry, decided in one place.

OpenEMR users report paper and electronic claims that disagree on the signature and assignment
boxes; here both writers ask the same functions, so box 13 always says what CLM08 says, box 27 what
CLM07 says and box 22 what CLM05-3 and REF*F8 say.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.edi.claim_facts import ClaimFacts

#: CLM05-3 values that replace or cancel an earlier claim; those carry the payer's claim number (REF*F8).
RESUBMISSIONS = frozenset({"7", "8"})


@dataclass(frozen=True)
class Consents:
    """CLM06-CLM09: what the practice keeps on file and how the payer should pay."""

    provider_signature: bool  # CLM06 Y: box 31 signed
    assignment: str  # CLM07: A accepts assignment (box 27 YES), C does not (box 27 NO)
    benefits_assigned: bool  # CLM08 Y: the insured's signature on file for payment to the provider (box 13)
    release_of_information: str  # CLM09: Y signed release on file (box 12)


#: Every ClaimDesk practice is in network and keeps the client's signature on file at intake.
_ON_FILE = Consents(provider_signature=True, assignment="A", benefits_assigned=True, release_of_information="Y")


def consents(claim: ClaimFacts) -> Consents:
    """The same for every claim today; one function so a per-payer setting later changes both writers at once."""
    return _ON_FILE


def resubmission(claim: ClaimFacts) -> tuple[str, str] | None:
    """(frequency code, payer's claim number) for a corrected or void claim: REF*F8 and box 22; None otherwise."""
    if claim.frequency_code not in RESUBMISSIONS:
        return None
    return claim.frequency_code, claim.payer_claim_number or ""


def yes_no(flag: bool) -> str:
    return "Y" if flag else "N"
