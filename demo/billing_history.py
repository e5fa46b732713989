"""The demo practice's billing history: rules loaded and run, claims sent, payers answered.

Everything goes through the operations a biller's clicks and the nightly jobs run: the default rules
are loaded and run, older Ready claims are batched into validated 837P files and marked uploaded
week by week, and the payers answer the oldest of them with 835 files that the importer posts
(payments, contractual adjustments, coinsurance, a few denials, a clawback, interest). So the
Remittances, Denied tab, Failed Charges, reports and the front page all show a practice at work.

Only the first cohort's clients (the scale-1 demo) get this history: at `--scale 100` it would
otherwise add minutes of 837P validation to a seed that exists to measure finalizing.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.money import to_money
from billing.coverage.models import Payer, PayerType
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.org.models import Company
from billing.payments.remittances import import_835
from billing.submissions.models import Clearinghouse
from billing.submissions.operations import create_batches, mark_batch_sent
from billing.submissions.queries import candidates
from demo.era_writer import ClaimRemit, Payment, ProviderLevelAdjustment, write_835
from rules.operations import load_defaults
from rules.runs import run_rules

ACTOR = Actor.system("seed-demo")
SUBMITTED_AFTER_DAYS = 7  # claims at least a week old have been sent...
ANSWERED_AFTER_DAYS = 28  # ...and payers have answered those four weeks old
DENIAL_SHARE = 0.05
COINSURANCE_SHARE = 0.3  # commercial claims with a coinsurance the family owes
#: What the demo's payers deny for, with the remark they add: (group, CARC, RARC).
DENIALS = (("CO", "197", "N54"), ("CO", "16", "MA130"), ("CO", "50", "N115"))
#: A commercial payer allows this share of the billed charge; the rest is contractual (CO-45).
ALLOWED_SHARE = {PayerType.COMMERCIAL: Decimal("0.92"), PayerType.MEDICAID: Decimal("1.00")}


def work_demo_billing(company: Company, client_ids: Collection[int], *, today: date) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["rules"] = len(load_defaults(actor=ACTOR).created)
    _clearinghouse(company)
    db.session.flush()
    claim_ids = list(db.session.scalars(select(Claim.id).where(Claim.client_id.in_(list(client_ids)))))
    run_rules(actor=ACTOR, today=today, claim_ids=claim_ids)
    sent = _submit_weekly(claim_ids, today=today)
    counts["submission_batches"] = len(sent)
    counts.update(_answer(company, today=today))
    # Claims paid in full have nothing left to check: a second run shows the office's current picture.
    run_rules(actor=ACTOR, today=today, claim_ids=claim_ids)
    return counts


def _clearinghouse(company: Company) -> Clearinghouse:
    """A test-mode clearinghouse without an SFTP box: the demo downloads files and marks them uploaded."""
    house = Clearinghouse(
        name="Demo Clearinghouse (test mode)", isa_sender_id=f"BP{company.tax_id}", isa_receiver_id="DEMOCH",
        gs_sender_code=f"BP{company.tax_id}", gs_receiver_code="DEMOCH", submitter_name=company.legal_name,
        submitter_etin=f"BP{company.tax_id}", submitter_contact_name="Billing Office",
        submitter_contact_phone=company.phone or "3125550100", receiver_name="DEMO CLEARINGHOUSE",
        receiver_id="DEMOCH", usage_indicator="T",
    )
    db.session.add(house)
    db.session.flush()
    db.session.execute(
        update(Payer)
        .where(Payer.company_id == company.id, Payer.edi_enabled)
        .values(clearinghouse_id=house.id, clearinghouse_payer_id=Payer.edi_payer_id)
    )
    return house


def _submit_weekly(claim_ids: Collection[int], *, today: date) -> list[int]:
    """One batch per week of service, each marked uploaded, oldest first."""
    cutoff = today - timedelta(days=SUBMITTED_AFTER_DAYS)
    weeks: dict[date, list[int]] = defaultdict(list)
    for candidate in candidates(claim_ids=claim_ids):
        if candidate.eligible and candidate.service_date <= cutoff:
            weeks[_monday(candidate.service_date)].append(candidate.claim_id)
    sent = []
    for week, claim_ids in sorted(weeks.items()):
        # Uploaded the Monday after the week of service: the charges enter the ledger that day, before any payment.
        sent_on = min(week + timedelta(days=7), today)
        for batch in create_batches(actor=ACTOR, claim_ids=claim_ids):
            mark_batch_sent(batch.id, actor=ACTOR, sent_on=sent_on)
            sent.append(batch.id)
    return sent


def _answer(company: Company, *, today: date) -> Counter[str]:
    """Each payer pays each week of service three weeks later: one 835 per payer and week."""
    rng = random.Random("claimdesk-demo-remits")
    cutoff = today - timedelta(days=ANSWERED_AFTER_DAYS)
    claims = db.session.scalars(
        select(Claim)
        .where(Claim.status == ClaimStatus.SUBMITTED, Claim.service_date <= cutoff)
        .options(selectinload(Claim.lines), selectinload(Claim.client), selectinload(Claim.policy))
        .order_by(Claim.id)
    ).all()
    by_payer_week: dict[tuple[int, date], list[Claim]] = defaultdict(list)
    for claim in claims:
        by_payer_week[(claim.payer_id, _monday(claim.service_date))].append(claim)
    counts: Counter[str] = Counter()
    files = [
        _payment(company, claims_of_week, week, rng)
        for (_, week), claims_of_week in sorted(by_payer_week.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    if files:
        files[-1] = _with_interest(files[-1])
        files = _with_clawback(files)
    by_week: dict[date, list[Payment]] = defaultdict(list)
    for payment in files:  # the clearinghouse hands over one file a day, holding every payer's payments
        by_week[payment.paid_on].append(payment)
    for control, (_, payments) in enumerate(sorted(by_week.items()), start=1):
        _import(payments, company, control, counts)
    return counts


def _payment(company: Company, claims: Sequence[Claim], week: date, rng: random.Random) -> Payment:
    payer = claims[0].policy.payer
    paid_on = week + timedelta(days=25)
    remits = [ClaimRemit(claim, _adjudicate(claim, payer, paid_on, rng)) for claim in claims]
    return Payment(
        payer_name=payer.name, payer_id=payer.edi_payer_id or "DEMO", payee_name=company.legal_name,
        payee_npi=company.group_npi, check_number=f"EFT{payer.id:02d}{paid_on:%y%m%d}", paid_on=paid_on,
        claims=remits,
    )


def _adjudicate(claim: Claim, payer: Payer, paid_on: date, rng: random.Random) -> ClaimPosting:
    icn = f"{payer.id}{claim.id:09d}"  # the payer's claim number, sent back on corrections and voids
    if rng.random() < DENIAL_SHARE:
        group, carc, rarc = rng.choice(DENIALS)
        lines = tuple(LinePosting(line.line_number, Decimal(0), (Adjustment(group, carc, line.charge),),
                                  allowed=Decimal(0), remarks=(rarc,)) for line in claim.lines)
        return ClaimPosting(paid_on, lines, status_code="4", payer_claim_number=icn)
    share = ALLOWED_SHARE.get(payer.payer_type, Decimal("0.90"))
    coinsurance = payer.payer_type is PayerType.COMMERCIAL and rng.random() < COINSURANCE_SHARE
    return ClaimPosting(paid_on, tuple(_paid_line(line.line_number, line.charge, share, coinsurance)
                                       for line in claim.lines), payer_claim_number=icn)


def _paid_line(number: int, charge: Decimal, share: Decimal, coinsurance: bool) -> LinePosting:
    allowed = to_money(charge * share)
    patient = to_money(allowed * Decimal("0.20")) if coinsurance else Decimal(0)
    adjustments = [Adjustment("CO", "45", charge - allowed)] if charge > allowed else []
    if patient:
        adjustments.append(Adjustment("PR", "2", patient))
    return LinePosting(number, allowed - patient, tuple(adjustments), allowed=allowed)


def _with_interest(payment: Payment) -> Payment:
    """The latest payment carries late-payment interest: a PLB (L6) with a negative amount adds money."""
    interest = ProviderLevelAdjustment("L6", "PROMPT PAY", Decimal("-3.17"))
    return replace(payment, plbs=(interest,))


def _with_clawback(files: list[Payment]) -> list[Payment]:
    """The payer takes back its first paid claim (CLP02 = 22) in a later check, netted against what it pays then."""
    first = files[0]
    remit = next((r for r in first.claims if r.posting.status_code == "1"), None)
    later = next((i for i, p in enumerate(files) if p.payer_id == first.payer_id and p.paid_on > first.paid_on
                  and p.amount > remit.posting.paid), None) if remit else None
    if later is None:
        return files
    reversed_lines = tuple(
        LinePosting(lp.line_number, -lp.paid, tuple(Adjustment(a.group, a.reason, -a.amount) for a in lp.adjustments),
                    allowed=None if lp.allowed is None else -lp.allowed, charge=-_charge(remit, lp.line_number))
        for lp in remit.posting.lines
    )
    payment = files[later]
    reversal = ClaimPosting(payment.paid_on, reversed_lines, status_code="22",
                            payer_claim_number=remit.posting.payer_claim_number)
    files[later] = replace(payment, claims=(*payment.claims, ClaimRemit(remit.claim, reversal)))
    return files


def _charge(remit: ClaimRemit, line_number: int) -> Decimal:
    return next(line.charge for line in remit.claim.lines if line.line_number == line_number)


def _import(payments: list[Payment], company: Company, control: int, counts: Counter[str]) -> None:
    paid_on = payments[0].paid_on
    created = datetime.combine(paid_on, time(6, 0), tzinfo=UTC)
    text = write_835(payments, sender="DEMOCH", receiver=f"BP{company.tax_id}", control=control, created=created)
    result = import_835(text.encode(), filename=f"ERA-{paid_on:%Y%m%d}-{control:03d}.835", actor=ACTOR)
    counts["remittances"] += result.transactions
    counts["remittance_claims"] += result.matched


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())

