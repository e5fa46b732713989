"""A practice's spring in the ledger: three claims sent in early March (their charges post), an 835 with a
payment, a denial, a cost share and a PLB; then a manual clawback, a patient payment, a partial write-off
and a held claim. Every money report reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.claims.models import Claim
from billing.claims.operations import hold_claim
from billing.ledger.balances import standing_adjudication
from billing.ledger.models import EntrySource
from billing.payments.operations import record_patient_payment, write_off
from billing.payments.remittances import import_835
from billing.payments.reversals import reverse_adjudication
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import DAY, SYSTEM, World

D = Decimal
CLAWBACK_ON = date(2026, 5, 3)
PATIENT_PAID_ON = date(2026, 5, 5)
WRITE_OFF_ON = date(2026, 5, 10)


@dataclass
class MoneyWorld:
    base: World
    paid: Claim  # paid by the 835, then clawed back by hand
    denied: Claim  # CO-197, then 20.00 written off
    shared: Claim  # paid with a PR-2 coinsurance of 20.00, 5.00 of it paid by the family
    held: Claim  # never sent: held for a missing signature


def _svc(claim: Claim, paid: str, *adjustments: tuple[str, str, str]) -> Svc:
    line = claim.lines[0]
    return Svc(line.service_code.code, line.charge, D(paid), [(g, r, D(a)) for g, r, a in adjustments],
               service_date=line.service_date)


def build_money_world(base: World) -> MoneyWorld:
    paid, denied, shared = (submitted_claim(base, day=DAY + timedelta(days=n)) for n in range(3))
    claims = [
        Clp(paid.number, "1", paid.total_charge, D("58.78"), payer_claim_number="ICN-1",
            services=[_svc(paid, "58.78", ("CO", "45", "14.70"))]),
        Clp(denied.number, "4", denied.total_charge, D("0"), payer_claim_number="ICN-2",
            services=[_svc(denied, "0", ("CO", "197", "73.48"))]),
        Clp(shared.number, "1", shared.total_charge, D("40.00"), D("20.00"), payer_claim_number="ICN-3",
            services=[_svc(shared, "40.00", ("CO", "45", "13.48"), ("PR", "2", "20.00"))]),
    ]
    payment = Payment(D("93.78"), "EFT200", base.payer.name.upper(), base.payer.edi_payer_id, claims,
                      paid_on=PAID_ON, plbs=[("WO", D("5.00"))], method="ACH")
    import_835(write_835([payment]).encode(), filename="spring.835", actor=SYSTEM)
    reverse_adjudication(standing_adjudication(paid.id), actor=SYSTEM, reason="Payer letter: paid in error",
                         posted_on=CLAWBACK_ON, source=EntrySource.MANUAL)
    record_patient_payment(shared, D("5.00"), actor=SYSTEM, posted_on=PATIENT_PAID_ON, memo="front desk")
    write_off(denied, reason="Small balance", actor=SYSTEM, posted_on=WRITE_OFF_ON, amount=D("20.00"))
    held = base.claim(day=DAY + timedelta(days=5))
    hold_claim(held, reason="Missing parent signature", actor=SYSTEM)
    return MoneyWorld(base, paid, denied, shared, held)
