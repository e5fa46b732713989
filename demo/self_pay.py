"""The demo's self-pay clients: their sessions are billed to them when finalized, and most of them have paid.

Self-pay claims go to the patient's balance as their notes are finalized (billing/claims/self_pay.py). Here the
families pay, through the same operation the claim page's Patient payment form runs: most of the older visits in
full (those claims are Paid), some in part, and the recent ones not yet, so Patient A/R and the Self-pay tab show an
office at work.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import to_money
from billing.payments.operations import record_patient_payment

ACTOR = Actor.system("seed-demo")
PAID_AFTER_DAYS = 14  # families settle a visit within two weeks...
PAID_IN_FULL_SHARE, PAID_IN_PART_SHARE = 0.8, 0.1  # ...most in full, some in part, a few not yet
PART = Decimal("0.50")


def collect_self_pay(claim_ids: Collection[int], *, today: date) -> Counter[str]:
    """Patient payments on the self-pay claims among `claim_ids` at least two weeks old."""
    rng = random.Random("claimdesk-demo-self-pay")
    counts: Counter[str] = Counter()
    claims = db.session.scalars(
        select(Claim).where(any_of(Claim.id, claim_ids), Claim.self_pay.is_(True),
                            Claim.status == ClaimStatus.SUBMITTED,
                            Claim.service_date <= today - timedelta(days=PAID_AFTER_DAYS))
        .order_by(Claim.id)
    ).all()
    for claim in claims:
        draw = rng.random()
        if draw < PAID_IN_FULL_SHARE:
            amount = claim.total_charge
        elif draw < PAID_IN_FULL_SHARE + PAID_IN_PART_SHARE:
            amount = to_money(claim.total_charge * PART)
        else:
            continue
        record_patient_payment(claim, amount, actor=ACTOR, posted_on=today, memo="paid at the front desk")
        counts["patient_payments"] += 1
    return counts
