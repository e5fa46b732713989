"""The demo clearinghouse in test mode answers 270s with 271s, from the demo's own data.

ClaimDesk reads 271s; it writes one only to play the payer: the demo practice's eligibility (one lapsed policy
among them, so the Eligibility worklist and the rule hold show on `make run`), and the tests and benchmark that
need 271s answering their own 270s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from billing.core.audit import Actor
from billing.core.db import db
from billing.coverage.models import InsurancePolicy, Payer, PolicyRank
from billing.edi.segments import split_segments
from billing.sessions.models import TherapySession
from billing.submissions.eligibility import request_checks, upcoming_requests
from billing.submissions.inbound import import_x12
from billing.submissions.models import Clearinghouse

ACTOR = Actor.system("demo")
#: How far ahead the demo practice checks: the sessions of the coming two weeks.
DEMO_UPCOMING_DAYS = 14


@dataclass
class PayerSays:
    """What the demo payer answers about one member."""

    status: str = "active"  # active, inactive, or a reject reason code ("75") for an AAA
    plan_name: str = "DEMO PPO"
    group_number: str | None = "GRP100"
    plan_begin: date | None = date(2026, 1, 1)
    plan_end: date | None = None
    service_type: str = "PT"
    copay: Decimal | None = Decimal("25")
    coinsurance: Decimal | None = Decimal("0.2")
    deductible_remaining: Decimal | None = Decimal("350")
    out_of_pocket_remaining: Decimal | None = Decimal("2100.5")
    visits_limit: int | None = 30
    visits_remaining: int | None = 18
    extra: list[str] = field(default_factory=list)


Decide = Callable[[str, str], PayerSays]  # (trace number, member id) -> answer


def write_271(text_270: str, decide: Decide | None = None) -> str:
    """A 271 answering every inquiry of a 270 (ours: one TRN per 2000C or 2000D), echoing its trace numbers."""
    decide = decide or (lambda trace, member: PayerSays())
    _, segments = split_segments(text_270)
    out: list[str] = []
    member_id = pending_trace = ""
    for seg in segments:
        tag = seg[0]
        if tag == "ISA":
            isa = list(seg)
            isa[5], isa[6], isa[7], isa[8] = seg[7], seg[8], seg[5], seg[6]
            out.append("*".join(isa))
        elif tag == "GS":
            out.append("*".join(["GS", "HB", seg[3], seg[2], *seg[4:]]))
        elif tag == "ST":
            out.append(f"ST*271*{seg[2]}*005010X279A1")
        elif tag == "BHT":
            out.append("*".join(["BHT", "0022", "11", *seg[3:]]))
        elif tag in ("HL", "GE", "IEA"):
            out.append("*".join(seg))
        elif tag == "NM1":
            if seg[1] == "IL":
                member_id = seg[9] if len(seg) > 9 else ""
            out.append("*".join(seg))
        elif tag == "TRN":
            pending_trace = seg[2]
            out.append(f"TRN*2*{seg[2]}*{seg[3]}")
        elif tag == "DMG":
            out.append("*".join(seg))
        elif tag == "EQ":
            out.extend(_benefits(decide(pending_trace, member_id)))
        elif tag == "SE":
            start = max(i for i, s in enumerate(out) if s.startswith("ST*"))
            out.append(f"SE*{len(out) - start + 1}*{seg[2]}")
    return "".join(s + "~" for s in out)


def _benefits(says: PayerSays) -> list[str]:
    if says.status not in ("active", "inactive"):
        return [f"AAA*N**{says.status}*C"]
    lines = []
    if says.group_number:
        lines.append(f"REF*6P*{says.group_number}*{says.plan_name}")
    if says.plan_begin and says.plan_end:
        lines.append(f"DTP*291*RD8*{says.plan_begin:%Y%m%d}-{says.plan_end:%Y%m%d}")
    elif says.plan_begin:
        lines.append(f"DTP*346*D8*{says.plan_begin:%Y%m%d}")
    if says.status == "inactive":
        return [*lines, "EB*6**30"]
    kind = says.service_type
    lines.append(f"EB*1*IND*30^{kind}*HM*{says.plan_name}")
    if says.copay is not None:
        lines.append(f"EB*B*IND*{kind}*HM**27*{says.copay}")
    if says.coinsurance is not None:
        lines.append(f"EB*A*IND*{kind}*HM**27**{says.coinsurance}")
    if says.deductible_remaining is not None:
        lines.append(f"EB*C*IND*30*HM**29*{says.deductible_remaining}")
        lines.append(f"EB*C*FAM*30*HM**29*{says.deductible_remaining * 2}")  # a family amount, not the client's
    if says.out_of_pocket_remaining is not None:
        lines.append(f"EB*G*IND*30*HM**29*{says.out_of_pocket_remaining}")
    if says.visits_limit is not None:
        lines.append(f"EB*F*IND*{kind}*HM**23***VS*{says.visits_limit}")
    if says.visits_remaining is not None:
        lines.append(f"EB*F*IND*{kind}*HM**29***VS*{says.visits_remaining}")
    return [*lines, *says.extra]


# --- the demo practice ---------------------------------------------------------------------------------------------


def demo_decider(lapsed_member: str | None, unknown_member: str | None) -> Decide:
    def decide(trace: str, member_id: str) -> PayerSays:
        if member_id == lapsed_member:
            return PayerSays(status="inactive", plan_end=date(2026, 10, 31))
        if member_id == unknown_member:
            return PayerSays(status="75")  # subscriber/insured not found
        return PayerSays(visits_remaining=6 + int(trace[-2:]) % 20)

    return decide


def check_demo_eligibility(client_ids: Collection[int], *, today: date) -> Counter[str]:
    """Ask about every policy of the clients with sessions in the coming two weeks; the test-mode clearinghouse
    answers each 270 at once. The first client's primary policy has lapsed (its next visit is booked, so the
    Eligibility worklist shows it), and the payer of the next one asked about has never heard of its member."""
    visit_day = _next_weekday(today)
    lapsed = db.session.scalars(
        select(InsurancePolicy).join(Payer, Payer.id == InsurancePolicy.payer_id)
        .where(InsurancePolicy.client_id.in_(list(client_ids)), InsurancePolicy.rank == PolicyRank.PRIMARY,
               InsurancePolicy.effective_on <= visit_day, InsurancePolicy.ends_on.is_(None),
               Payer.clearinghouse_id.is_not(None))
        .order_by(InsurancePolicy.client_id, InsurancePolicy.id).limit(1)
    ).first()  # fmt: skip
    if lapsed is not None:
        _book_visit(lapsed.client_id, visit_day)
    requests = upcoming_requests(DEMO_UPCOMING_DAYS, today=today)
    if not requests:
        return Counter()
    policies = [db.session.get(InsurancePolicy, r.policy_id) for r in requests]
    members = [p.member_id for p in policies if p.payer.clearinghouse_id is not None]
    lapsed_member = lapsed.member_id if lapsed is not None else None
    unknown = next((m for m in members if m != lapsed_member), None)
    decide = demo_decider(lapsed_member, unknown)

    def answer_in_place(house: Clearinghouse, file_name: str, content: bytes) -> None:
        answer = write_271(content.decode("ascii"), decide).encode("ascii")
        import_x12(answer, filename=file_name.replace(".270", ".271"), actor=ACTOR,
                   clearinghouse=db.session.get(Clearinghouse, house.id))  # fmt: skip

    report = request_checks(requests, actor=ACTOR, sender=answer_in_place, own_transactions=False)
    return Counter({"eligibility_checks": report.asked, "eligibility_files": len(report.files)})


def _next_weekday(today: date) -> date:
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _book_visit(client_id: int, day: date) -> None:
    """The client's next visit, booked like their latest one (a draft without a note)."""
    last = db.session.scalars(select(TherapySession).where(TherapySession.client_id == client_id,
                                                           TherapySession.cancelled_at.is_(None))
                              .order_by(TherapySession.service_date.desc()).limit(1)).first()  # fmt: skip
    if last is None:
        return
    db.session.add(TherapySession(
        client_id=client_id, provider_id=last.provider_id, location_id=last.location_id,
        service_code_id=last.service_code_id, modifiers=last.modifiers, service_date=day, start_time=last.start_time,
        end_time=last.end_time, place_of_service=last.place_of_service))  # fmt: skip
    db.session.flush()
