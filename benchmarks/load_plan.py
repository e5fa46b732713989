"""What the load test's users will do, decided before the servers start: their logins and their claims.

Runs in the load test's own process against the freshly seeded database, through the app's models (the
same way the demo seeds it). Each biller gets claims of their own, so what the client believes it posted
is exact: a claim is paid by one form (maybe submitted twice on purpose), one 835, or patient payments
within the balance, never by two of them. The 835 files are written here, by the demo's payer writer,
for submitted claims no one else touches.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.ledger.balances import Balances, claim_balances
from billing.ledger.models import EntryKind
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.org.models import Company
from billing.payments.models import Remittance, UnmatchedClaim
from billing.people.operations import create_user
from demo.era_writer import ClaimRemit, Payment, write_835
from exports.reports import all_reports

CENT = Decimal("0.01")
#: Of the submitted claims with no payment yet, this share is paid by 835 uploads, the rest through the form.
ERA_SHARE = 0.4
CLAIMS_PER_ERA = 3
PASSWORD = "load-test-password"  # scratch database logins, dropped with it


@dataclass(frozen=True)
class FormPayment:
    """Record Payment on one claim: per line (line number, paid, coinsurance) adding up to its charge."""

    claim_id: int
    number: str
    lines: tuple[tuple[int, Decimal, Decimal], ...]

    @property
    def paid(self) -> Decimal:
        return sum((paid for _, paid, _ in self.lines), Decimal(0))

    @property
    def coinsurance(self) -> Decimal:
        return sum((coins for _, _, coins in self.lines), Decimal(0))


@dataclass(frozen=True)
class EraUpload:
    """One 835 file and what it pays per claim (CLP04)."""

    filename: str
    content: bytes
    paid: dict[int, Decimal]


@dataclass
class BillerPlan:
    email: str
    payments: list[FormPayment] = field(default_factory=list)
    eras: list[EraUpload] = field(default_factory=list)
    #: claim id -> patient balance the client may still collect on it
    patient_owes: dict[int, Decimal] = field(default_factory=dict)
    ready_claims: list[int] = field(default_factory=list)


@dataclass
class LoadPlan:
    billers: list[BillerPlan]
    accountants: list[str]
    password: str
    claim_ids: list[int]
    remittance_ids: list[int]
    unmatched_ids: list[int]
    reports: list[str]


def make_plan(billers: int, accountants: int, *, seed: int = 14) -> LoadPlan:
    """Create the logins and share out the claims; the caller commits."""
    rng = random.Random(seed)
    biller_emails = [_login(f"biller{n:02d}@load.example.com", f"Load Biller {n}", "biller") for n in
                     range(1, billers + 1)]
    accountant_emails = [_login(f"accountant{n:02d}@load.example.com", f"Load Accountant {n}", "accountant")
                         for n in range(1, accountants + 1)]
    plans = [BillerPlan(email) for email in biller_emails]

    unpaid = _unpaid_submitted()
    rng.shuffle(unpaid)
    cut = int(len(unpaid) * ERA_SHARE)
    for plan, claim in zip(itertools.cycle(plans), unpaid[cut:], strict=False):
        plan.payments.append(_form_payment(claim))
    for plan, upload in zip(itertools.cycle(plans), _era_uploads(unpaid[:cut]), strict=False):
        plan.eras.append(upload)
    for plan, (claim_id, owed) in zip(itertools.cycle(plans), _patient_balances().items(), strict=False):
        plan.patient_owes[claim_id] = owed
    ready = list(db.session.scalars(select(Claim.id).where(Claim.status == ClaimStatus.READY).order_by(Claim.id)))
    for plan, claim_id in zip(itertools.cycle(plans), ready, strict=False):
        plan.ready_claims.append(claim_id)
    return LoadPlan(
        billers=plans, accountants=accountant_emails, password=PASSWORD,
        claim_ids=list(db.session.scalars(select(Claim.id))),
        remittance_ids=list(db.session.scalars(select(Remittance.id))),
        unmatched_ids=list(db.session.scalars(select(UnmatchedClaim.id))),
        reports=[r.name for r in all_reports()],
    )


def _login(email: str, name: str, role: str) -> str:
    create_user(email, name=name, role=role, password=PASSWORD)
    return email


def _unpaid_submitted() -> list[Claim]:
    claims = list(db.session.scalars(select(Claim).where(Claim.status == ClaimStatus.SUBMITTED).order_by(Claim.id)))
    balances = claim_balances([c.id for c in claims])
    # Only claims whose ledger holds nothing but the charge: the payment is the first money on them.
    return [c for c in claims if c.policy is not None and _only_charged(balances.get(c.id))]


def _only_charged(sums: Balances | None) -> bool:
    return sums is None or set(sums.by_kind) <= {EntryKind.CHARGE}


def _share(charge: Decimal) -> tuple[Decimal, Decimal]:
    """Paid 80 % of a line, the patient's coinsurance the rest: a line that adds up exactly."""
    paid = (charge * Decimal("0.80")).quantize(CENT)
    return paid, charge - paid


def _form_payment(claim: Claim) -> FormPayment:
    lines = tuple((ln.line_number, *_share(ln.charge)) for ln in sorted(claim.lines, key=lambda ln: ln.line_number))
    return FormPayment(claim.id, claim.number, lines)


def _era_posting(claim: Claim) -> ClaimPosting:
    lines = []
    for line in claim.lines:
        paid, coinsurance = _share(line.charge)
        adjustments = (Adjustment("PR", "2", coinsurance),) if coinsurance else ()
        lines.append(LinePosting(line.line_number, paid, adjustments, allowed=line.charge))
    return ClaimPosting(paid_on=practice_today(), lines=tuple(lines), payer_claim_number=f"LT{claim.id:09d}")


def _era_uploads(claims: list[Claim]) -> list[EraUpload]:
    """Files of a few claims of one payer each: one check per file, numbered so no two files share one."""
    company = db.session.scalars(select(Company).order_by(Company.id)).first()
    by_payer: dict[int, list[Claim]] = {}
    for claim in claims:
        by_payer.setdefault(claim.policy.payer_id, []).append(claim)
    uploads: list[EraUpload] = []
    stamp = datetime.now(UTC)
    for payer_id, group in sorted(by_payer.items()):
        payer = db.session.get(Payer, payer_id)
        for start in range(0, len(group), CLAIMS_PER_ERA):
            chunk = group[start:start + CLAIMS_PER_ERA]
            control = len(uploads) + 1
            remits = [ClaimRemit(claim, _era_posting(claim)) for claim in chunk]
            payment = Payment(
                payer_name=payer.name, payer_id=payer.edi_payer_id or "DEMO", payee_name=company.legal_name,
                payee_npi=company.group_npi, check_number=f"LOAD{stamp:%H%M%S}{control:05d}",
                paid_on=practice_today(), claims=remits,
            )
            text = write_835([payment], sender="LOADPAYER", receiver=f"BP{company.tax_id}", control=control,
                             created=stamp)
            uploads.append(EraUpload(f"load-{control:05d}.835", text.encode(),
                                     {r.claim.id: r.posting.paid for r in remits}))
    return uploads


def _patient_balances() -> dict[int, Decimal]:
    """Claims the payer settled on which the patient still owes something: patient payments go there."""
    paid = list(db.session.scalars(select(Claim.id).where(Claim.status == ClaimStatus.PAID).order_by(Claim.id)))
    return {claim_id: sums.patient for claim_id, sums in claim_balances(paid).items() if sums.patient > 0}
