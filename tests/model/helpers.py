"""Driving the system for the model test: claims with chosen charges, and 835s built from the model's answers."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from billing.claims.models import Claim
from billing.claims.sessions import finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import Payer, PolicyRank
from billing.ledger.charges import post_submission_charges
from billing.people.models import Client
from tests.model.reference import Answer
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.payments import Clp, Svc
from tests.worlds.practice import DAY, SYSTEM, World


def insured_twice(world: World) -> tuple[Client, Payer]:
    """A second client of the practice, with the world's payer as primary and a new payer as secondary."""
    client = f.ClientFactory(location=world.location)
    f.DiagnosisFactory(client=client, position=1, code="F840")
    f.DiagnosisFactory(client=client, position=2, code="F900")
    f.PolicyFactory(client=client, payer=world.payer)
    secondary = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=client, payer=secondary, rank=PolicyRank.SECONDARY)
    return client, secondary


def sent_claim(world: World, client: Client, charges: list[Decimal], *, day_offset: int) -> Claim:
    """A Submitted primary claim with one line per charge, its charges in the ledger as a batch send leaves them."""
    day = DAY + timedelta(days=day_offset)
    visits = [world.visit(day=day, start=time(8 + 2 * n, 0), client=client) for n in range(len(charges))]
    result = finalize_sessions(visits, actor=SYSTEM)
    assert len(result.created) == 1, result
    claim = walk_to(result.created[0], ClaimStatus.SUBMITTED)
    for line, charge in zip(sorted(claim.lines, key=lambda ln: ln.line_number), charges, strict=True):
        line.charge = charge
    claim.total_charge = sum(charges, Decimal("0.00"))
    db.session.flush()
    send(claim)
    return claim


def send(claim: Claim, on: date = DAY + timedelta(days=90)) -> None:
    """Submitted, and its charges posted the day it went out (what a batch send does)."""
    if claim.status is ClaimStatus.READY:
        walk_to(claim, ClaimStatus.SUBMITTED)
    post_submission_charges([claim], actor=SYSTEM, posted_on=on)
    db.session.flush()


def clp(claim: Claim, answer: Answer, *, status: str | None = None) -> Clp:
    """The CLP loop a payer would send for the model's answer (REF*6R names our line)."""
    lines = {ln.line_number: ln for ln in claim.lines}
    services = [Svc(lines[a.number].service_code.code, a.charge, a.paid, list(a.cas), None,
                    lines[a.number].service_date, str(a.number)) for a in answer.lines]
    pr = sum((amount for group, _, amount in answer.all_cas if group == "PR"), Decimal("0.00"))
    charge = answer.charge if answer.charge is not None else sum((a.charge for a in answer.lines), Decimal(0))
    return Clp(claim.number, status or answer.status or "1", charge, answer.total_paid, pr,
               f"ICN{claim.id:08d}", services, list(answer.claim_cas))


def with_plb_references(text: str, references: list[str | None]) -> str:
    """The 835 writer names every PLB "REF1"; give each its own PLB03-2 (a claim number) or none, in order."""
    parts = text.split(":REF1*")
    assert len(parts) == len(references) + 1
    out = parts[0]
    for reference, rest in zip(references, parts[1:], strict=True):
        out += (f":{reference}*" if reference else "*") + rest
    return out
