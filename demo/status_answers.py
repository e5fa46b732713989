"""The demo office asks the payers about its oldest claims still waiting (276), and the test-mode clearinghouse
answers from the demo's data (277), so the claim status path shows on `make run`.

The answers, oldest claim first: the payer has never heard of the first claim (A4:35, it must be sent again), then
in turn pending (P1:20), being paid (F1:65, a check on its way, the 835 to come) and denied (F2:88, not eligible on
the dates of service). Nothing here changes money or a claim's status: the answers land on the status trail and
move each claim's follow-up date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import NothingToDo
from billing.submissions.claim_status import ask_payers
from billing.submissions.inbound import import_x12
from demo.status_writer import StatusReply, write_277

ACTOR = Actor.system("seed-demo")
#: How many of the oldest waiting claims the office asks about.
ASKED = 12
#: (category, status) in turn after the first claim, which the payer has never heard of.
ANSWERS = (("P1", "20"), ("F1", "65"), ("F2", "88"))
PAID_SHARE = Decimal("0.80")


def ask_and_answer_status(claim_ids: Collection[int], *, today: date) -> Counter[str]:
    counts: Counter[str] = Counter()
    waiting = list(
        db.session.scalars(
            select(Claim.id)
            .where(Claim.id.in_(list(claim_ids)), Claim.status == ClaimStatus.SUBMITTED, Claim.self_pay.is_(False))
            .order_by(Claim.service_date, Claim.id)
            .limit(ASKED)
        )
    )
    if not waiting:
        return counts
    try:
        asked = ask_payers(waiting, actor=ACTOR, strict=False)
    except NothingToDo:
        return counts
    first = True
    for inquiry in asked.inquiries:
        replies = []
        for n, entry in enumerate(sorted(inquiry.entries, key=lambda e: waiting.index(e.claim_id))):
            claim = entry.claim
            replies.append(_reply(claim, None if first else ANSWERS[n % len(ANSWERS)], today))
            first = False
        data = write_277(inquiry, replies, on=today)
        import_x12(data, filename=f"{inquiry.number}.277", actor=ACTOR, clearinghouse=inquiry.clearinghouse)
        counts["status_inquiries"] += 1
        counts["status_answers"] += len(replies)
    return counts


def _reply(claim: Claim, answer: tuple[str, str] | None, today: date) -> StatusReply:
    names = {
        "last_name": claim.client.last_name.upper()[:60],
        "first_name": claim.client.first_name.upper()[:35],
        "member_id": claim.policy.member_id if claim.policy else "UNKNOWN",
    }
    base = StatusReply(claim.number, claim.total_charge, claim.service_date, **names)
    if answer is None:
        return replace(base, category="A4", status="35")
    category, status = answer
    finalized = today - timedelta(days=2)
    if category == "F1":
        paid = (claim.total_charge * PAID_SHARE).quantize(Decimal("0.01"))
        return replace(
            base,
            category=category,
            status=status,
            paid=paid,
            finalized_on=finalized,
            check_on=finalized,
            check_number=f"DEMO{claim.id}",
        )
    if category == "F2":
        return replace(base, category=category, status=status, finalized_on=finalized)
    return replace(base, category=category, status=status)
