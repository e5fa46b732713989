"""The demo practice's billing history: rules loaded and run, claims sent, payers answered.

Everything goes through the operations a biller's clicks and the nightly jobs run: the default rules
are loaded and run, older Ready claims are batched into validated 837P files and marked uploaded
week by week, and the payers answer the oldest of them with 835 files that the importer posts
(payments, contractual adjustments, coinsurance, a few denials, a clawback, interest). So the
Remittances, Denied tab, Failed Charges, reports and the front page all show a practice at work.

Beside those drawn at random, fixed claims (`Shape`, every n-th claim a shape fits) show the remittance
shapes a biller meets: a Medicare crossover (CLP02 = 19) that the next payer then pays, a secondary claim
the biller makes and sends after the primary paid, a paid claim with one line denied, and a copay as a
claim-level adjustment beside the service lines.

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
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import to_money
from billing.coverage.models import Authorization, InsurancePolicy, Payer, PayerType, PolicyRank
from billing.ledger.postings import REVERSAL_CODE, Adjustment, ClaimPosting, LinePosting
from billing.org.models import Company
from billing.payments.remittances import import_835
from billing.payments.secondary import generate_secondary_claim, live_secondary
from billing.submissions.inbound import import_x12
from billing.submissions.models import Clearinghouse, SubmissionBatch
from billing.submissions.operations import create_batches, mark_batch_sent
from billing.submissions.queries import candidates
from demo.ack_writer import ClaimAnswer, write_277ca, write_999
from demo.eligibility import check_demo_eligibility
from demo.era_writer import ClaimRemit, Payment, ProviderLevelAdjustment, write_835
from demo.self_pay import collect_self_pay
from demo.status_answers import ask_and_answer_status
from rules.operations import load_defaults
from rules.runs import run_rules

ACTOR = Actor.system("seed-demo")
SUBMITTED_AFTER_DAYS = 7  # claims at least a week old have been sent...
ANSWERED_AFTER_DAYS = 28  # ...and payers have answered those four weeks old
DENIAL_SHARE = 0.05
COINSURANCE_SHARE = 0.3  # commercial claims with a coinsurance the family owes
COINSURANCE = Decimal("0.20")  # of the allowed amount
CLAIM_COPAY = Decimal("20.00")
#: What the demo's payers deny for, with the remark they add: (group, CARC, RARC).
DENIALS = (("CO", "197", "N54"), ("CO", "16", "MA130"), ("CO", "50", "N115"))
#: What the payers' front ends reject claims of the newest batch for (277CA STC01: category, status, entity).
REJECTIONS = (("A7", "562", "85"), ("A7", "33", "IL"), ("A3", "21", ""))
#: What they deny one line of a paid claim for: information missing, or not medically necessary.
LINE_DENIALS = DENIALS[1:]
NEXT_PAYER_ANSWERS_AFTER_DAYS = 14
#: A commercial payer allows this share of the billed charge; the rest is contractual (CO-45).
ALLOWED_SHARE = {PayerType.COMMERCIAL: Decimal("0.92"), PayerType.MEDICAID: Decimal("1.00")}


class Shape(StrEnum):
    """A remittance shape the demo shows on purpose, beside the payments, denials and coinsurance drawn at random."""

    CROSSOVER = "crossover"  # Medicare pays (CLP02 = 19) and forwards the coinsurance to the client's next payer
    SECONDARY = "secondary"  # the biller bills the coinsurance to the secondary payer, which pays it
    LINE_DENIAL = "line_denial"  # a paid claim with one line denied (CO-16 or CO-50)
    CLAIM_COPAY = "claim_copay"  # a copay as a claim-level CAS (PR-3) beside the service lines


#: Every n-th claim (in id order) of those a shape fits gets it; a claim gets the first shape that picks it.
SHAPE_EVERY = {Shape.CROSSOVER: 4, Shape.SECONDARY: 50, Shape.LINE_DENIAL: 4, Shape.CLAIM_COPAY: 25}


def work_demo_billing(company: Company, client_ids: Collection[int], *, today: date) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["rules"] = len(load_defaults(actor=ACTOR).created)
    _clearinghouse(company)
    db.session.flush()
    claim_ids = list(db.session.scalars(select(Claim.id).where(any_of(Claim.client_id, client_ids))))
    run_rules(actor=ACTOR, today=today, claim_ids=claim_ids)
    sent = _submit_weekly(claim_ids, today=today)
    counts["submission_batches"] = len(sent)
    counts.update(_acknowledge(sent, today=today))
    counts.update(_answer(company, today=today))
    counts.update(ask_and_answer_status(claim_ids, today=today))  # 276/277 for the oldest claims still waiting
    counts.update(collect_self_pay(claim_ids, today=today))  # the families pay their self-pay visits
    counts.update(check_demo_eligibility(client_ids, today=today))  # 270s out, 271s back, one policy lapsed
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


def _submit_weekly(claim_ids: Collection[int], *, today: date) -> list[tuple[int, date]]:
    """One batch per week of service, each marked uploaded, oldest first: (batch id, the day it was uploaded)."""
    cutoff = today - timedelta(days=SUBMITTED_AFTER_DAYS)
    weeks: dict[date, list[int]] = defaultdict(list)
    for candidate in candidates(claim_ids=claim_ids):
        if candidate.eligible and candidate.service_date <= cutoff:
            weeks[_monday(candidate.service_date)].append(candidate.claim_id)
    sent = []
    for week, claim_ids in sorted(weeks.items()):
        # Uploaded the Monday after the week of service: the charges enter the ledger that day, before any payment.
        sent_on = min(week + timedelta(days=7), today)
        for batch in create_batches(actor=ACTOR, claim_ids=claim_ids, today=sent_on):
            mark_batch_sent(batch.id, actor=ACTOR, sent_on=sent_on)
            sent.append((batch.id, sent_on))
    return sent


def _acknowledge(sent: Sequence[tuple[int, date]], *, today: date) -> Counter[str]:
    """The clearinghouse accepts every file the next day (999) and the payers' front ends answer claim by claim
    the day after (277CA), giving their claim numbers. In the newest batch, which no 835 answers yet, a few claims
    are rejected, so the Rejected tab shows what a biller fixes first each morning."""
    counts: Counter[str] = Counter()
    newest = sent[-1][0] if sent else None
    for batch_id, sent_on in sent:
        batch = db.session.get(SubmissionBatch, batch_id)
        claims = [entry.claim for entry in batch.entries]
        rejected = {c.id: REJECTIONS[n] for n, c in enumerate(claims[:len(REJECTIONS)])} if batch_id == newest else {}
        answers = [ClaimAnswer(c.number, *rejected.get(c.id, ("A2", "20", "")), payer_claim_number=f"{c.payer_id}"
                               f"{c.id:09d}", service_date=c.service_date) for c in claims]  # fmt: skip
        for data, name in ((write_999(batch, on=min(sent_on + timedelta(days=1), today)), "999"),
                           (write_277ca(batch, answers, on=min(sent_on + timedelta(days=2), today)), "277")):
            imported = import_x12(data, filename=f"{batch.number}.{name}", actor=ACTOR,
                                  clearinghouse=batch.clearinghouse)
            counts[f"acknowledgments_{name}"] += 1
            counts["claims_rejected"] += imported.result.rejected if name == "277" else 0
    return counts


def _answer(company: Company, *, today: date) -> Counter[str]:
    """Each payer pays each week of service three weeks later: one 835 per payer and week. A next payer answers
    two weeks after the primary: a secondary claim a biller made and sent, or a crossover the primary forwarded."""
    rng = random.Random("claimdesk-demo-remits")
    cutoff = today - timedelta(days=ANSWERED_AFTER_DAYS)
    claims = db.session.scalars(
        select(Claim)
        # Payers answer what they were sent: a self-pay claim is the patient's (demo/self_pay.py).
        .where(Claim.status == ClaimStatus.SUBMITTED, Claim.service_date <= cutoff, Claim.self_pay.is_(False))
        .options(selectinload(Claim.lines), selectinload(Claim.client), selectinload(Claim.policy))
        .order_by(Claim.id)
    ).all()
    shapes = _shapes(claims)
    by_payer_week: dict[tuple[int, date], list[Claim]] = defaultdict(list)
    for claim in claims:
        by_payer_week[(claim.payer_id, _monday(claim.service_date))].append(claim)
    counts: Counter[str] = Counter()
    files = [
        _payment(company, claims_of_week, week, rng, shapes)
        for (_, week), claims_of_week in sorted(by_payer_week.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    if files:
        files[-1] = _with_interest(files[-1])
        files = _with_clawback(files, shapes)
    by_day: dict[date, list[Payment]] = defaultdict(list)
    for payment in files:  # the clearinghouse hands over one file a day, holding every payer's payments
        by_day[payment.paid_on].append(payment)
    control = 0
    while by_day:  # day by day, since a next payer's claim exists only once the primary's 835 is posted
        day = min(by_day)
        payments = by_day.pop(day)
        control += 1
        _import(payments, company, control, counts)
        for remit in _next_payers(payments, shapes, day, today=today, counts=counts):
            _pay_on(by_day, company, remit, day + timedelta(days=NEXT_PAYER_ANSWERS_AFTER_DAYS))
    return counts


def _shapes(claims: Sequence[Claim]) -> dict[int, Shape]:
    """The remittance shapes the demo must show, given to fixed claims: every n-th claim (in id order) of those
    each shape fits. The first claim that fits a shape always gets it, so each shape is there on any day."""
    with_next_payer = set(db.session.scalars(
        select(InsurancePolicy.client_id).where(InsurancePolicy.rank == PolicyRank.SECONDARY)))
    seen: Counter[Shape] = Counter()
    shapes: dict[int, Shape] = {}
    for claim in claims:
        for shape in _shapes_that_fit(claim, claim.client_id in with_next_payer):
            seen[shape] += 1
            if (seen[shape] - 1) % SHAPE_EVERY[shape] == 0:
                shapes[claim.id] = shape
                break
    return shapes


def _shapes_that_fit(claim: Claim, has_next_payer: bool) -> list[Shape]:
    kind = claim.policy.payer.payer_type
    fits = []
    if has_next_payer and kind is PayerType.MEDICARE:
        fits.append(Shape.CROSSOVER)
    if has_next_payer and kind is PayerType.COMMERCIAL:
        fits.append(Shape.SECONDARY)
    if len(claim.lines) > 1:
        fits.append(Shape.LINE_DENIAL)
    if kind is PayerType.COMMERCIAL:
        fits.append(Shape.CLAIM_COPAY)
    return fits


def _payment(company: Company, claims: Sequence[Claim], week: date, rng: random.Random,
             shapes: dict[int, Shape]) -> Payment:
    payer = claims[0].policy.payer
    paid_on = week + timedelta(days=25)
    remits = [ClaimRemit(claim, _adjudicate(claim, payer, paid_on, rng, shapes.get(claim.id))) for claim in claims]
    return _check(company, payer, paid_on, remits)


def _check(company: Company, payer: Payer, paid_on: date, remits: Sequence[ClaimRemit]) -> Payment:
    return Payment(
        payer_name=payer.name, payer_id=payer.edi_payer_id or "DEMO", payee_name=company.legal_name,
        payee_npi=company.group_npi, check_number=f"EFT{payer.id:02d}{paid_on:%y%m%d}", paid_on=paid_on,
        claims=remits,
    )


def _adjudicate(claim: Claim, payer: Payer, paid_on: date, rng: random.Random, shape: Shape | None) -> ClaimPosting:
    icn = f"{payer.id}{claim.id:09d}"  # the payer's claim number, sent back on corrections and voids
    # The draws happen for every claim, shaped or not, so the shapes leave the other claims' answers as they were.
    denial = rng.choice(DENIALS) if rng.random() < DENIAL_SHARE else None
    coinsurance = payer.payer_type is PayerType.COMMERCIAL and denial is None and rng.random() < COINSURANCE_SHARE
    if denial is not None and shape is None:
        group, carc, rarc = denial
        return ClaimPosting(paid_on, tuple(_denied_line(ln.line_number, ln.charge, (group, carc, rarc))
                                           for ln in claim.lines), status_code="4", payer_claim_number=icn)
    share = ALLOWED_SHARE.get(payer.payer_type, Decimal("0.90"))
    if shape in (Shape.CROSSOVER, Shape.SECONDARY):
        coinsurance = True  # the patient's part is what the next payer is billed for
    elif shape is Shape.CLAIM_COPAY:
        coinsurance = False  # a copay plan: a flat amount per visit instead
    lines = [_paid_line(ln.line_number, ln.charge, share, coinsurance) for ln in claim.lines]
    if shape is Shape.LINE_DENIAL:  # the visit's last service is denied, the rest paid
        last = claim.lines[-1]
        lines[-1] = _denied_line(last.line_number, last.charge, LINE_DENIALS[claim.id % len(LINE_DENIALS)])
    posting = ClaimPosting(paid_on, tuple(lines), status_code="19" if shape is Shape.CROSSOVER else "1",
                           payer_claim_number=icn)
    return _with_claim_copay(posting) if shape is Shape.CLAIM_COPAY else posting


def _denied_line(number: int, charge: Decimal, denial: tuple[str, str, str]) -> LinePosting:
    group, carc, rarc = denial
    return LinePosting(number, Decimal(0), (Adjustment(group, carc, charge),), allowed=Decimal(0), remarks=(rarc,))


def _paid_line(number: int, charge: Decimal, share: Decimal, coinsurance: bool) -> LinePosting:
    allowed = to_money(charge * share)
    patient = to_money(allowed * COINSURANCE) if coinsurance else Decimal(0)
    adjustments = [Adjustment("CO", "45", charge - allowed)] if charge > allowed else []
    if patient:
        adjustments.append(Adjustment("PR", "2", patient))
    return LinePosting(number, allowed - patient, tuple(adjustments), allowed=allowed)


def _with_claim_copay(posting: ClaimPosting) -> ClaimPosting:
    """The copay as a claim-level CAS (loop 2100) beside the service lines: CLP04 = the lines' SVC03 - the copay."""
    copay = min(CLAIM_COPAY, posting.lines_paid)
    return replace(posting, claim_adjustments=(Adjustment("PR", "3", copay),), claim_paid=posting.lines_paid - copay)


def _next_payers(payments: Sequence[Payment], shapes: dict[int, Shape], day: date, *, today: date,
                 counts: Counter[str]) -> list[ClaimRemit]:
    """After the primary's 835 is posted: the biller bills the patient's part to the secondary payer (an 837 sent
    three days later), and the payer that received a crossover has its claim. Returns the next payers' answers
    that are due by today (the others stay Submitted)."""
    answered_on = day + timedelta(days=NEXT_PAYER_ANSWERS_AFTER_DAYS)
    remits = [r for p in payments for r in p.claims if r.posting.status_code != REVERSAL_CODE]
    billed = [generate_secondary_claim(r.claim, actor=ACTOR, posted_on=day)
              for r in remits if shapes.get(r.claim.id) is Shape.SECONDARY]
    if billed:
        db.session.flush()
        for claim in billed:
            _authorize(claim)
        sent_on = min(day + timedelta(days=3), today)
        for batch in create_batches(actor=ACTOR, claim_ids=[c.id for c in billed], today=sent_on):
            mark_batch_sent(batch.id, actor=ACTOR, sent_on=sent_on)
            counts["submission_batches"] += 1
    answers = [ClaimRemit(claim, _next_payer_pays(claim, r, answered_on),
                          control_number=r.claim.number if claim.forwarded_by_payer_id else None)
               for r, claim in _next_claims(remits, shapes)]
    return answers if answered_on <= today else []


def _authorize(claim: Claim) -> None:
    """The secondary payer's own authorization for the service, entered by the biller before the claim goes: the
    demo's secondary payers require one, and the rules check every claim before it leaves."""
    codes = {line.service_code_id: line.service_code for line in claim.lines}
    auth = Authorization(client_id=claim.client_id, policy_id=claim.policy_id, number=f"SEC{claim.id:07d}",
                         starts_on=claim.service_date, ends_on=claim.service_date,
                         units_approved=sum(line.units for line in claim.lines), service_codes=list(codes.values()))
    db.session.add(auth)
    db.session.flush()
    for line in claim.lines:
        line.authorization_id = auth.id


def _next_claims(remits: Sequence[ClaimRemit], shapes: dict[int, Shape]) -> list[tuple[ClaimRemit, Claim]]:
    found = []
    for remit in remits:
        if shapes.get(remit.claim.id) in (Shape.SECONDARY, Shape.CROSSOVER):
            claim = live_secondary(remit.claim)
            assert claim is not None, f"no next payer's claim for {remit.claim.number}"
            found.append((remit, claim))
    return found


def _next_payer_pays(claim: Claim, primary: ClaimRemit, paid_on: date) -> ClaimPosting:
    """The next payer (CLP02 = 2) pays the patient's part the primary left; the rest is OA-23, the primary's share.
    A crossover comes back under the claim number the primary payer forwarded (our primary claim's)."""
    left = {lp.line_number: lp.patient_responsibility for lp in primary.posting.lines}
    lines = tuple(
        LinePosting(ln.line_number, left[ln.line_number], (Adjustment("OA", "23", ln.charge - left[ln.line_number]),))
        for ln in claim.lines
    )
    return ClaimPosting(paid_on, lines, status_code="2", payer_claim_number=f"{claim.payer_id}{claim.id:09d}")


def _pay_on(by_day: dict[date, list[Payment]], company: Company, remit: ClaimRemit, paid_on: date) -> None:
    """Add the claim to its payer's check of that day, or to a new check when the payer pays nothing else then."""
    payer = remit.claim.policy.payer
    payments = by_day[paid_on]
    at = next((i for i, p in enumerate(payments) if p.payer_name == payer.name), None)
    if at is None:
        payments.append(_check(company, payer, paid_on, [remit]))
    else:
        payments[at] = replace(payments[at], claims=(*payments[at].claims, remit))


def _with_interest(payment: Payment) -> Payment:
    """The latest payment carries late-payment interest: a PLB (L6) with a negative amount adds money."""
    interest = ProviderLevelAdjustment("L6", "PROMPT PAY", Decimal("-3.17"))
    return replace(payment, plbs=(interest,))


def _with_clawback(files: list[Payment], shapes: dict[int, Shape]) -> list[Payment]:
    """The payer takes back its first plainly paid claim (CLP02 = 22) in a later check, netted against what it
    pays then."""
    first = files[0]
    remit = next((r for r in first.claims if r.posting.status_code == "1" and r.claim.id not in shapes), None)
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

