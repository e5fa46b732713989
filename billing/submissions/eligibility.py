"""Eligibility through the clearinghouse: 270 batches out over SFTP, 271 answers in, each recorded once.

    request_checks(requests, actor=...)        a 270 per clearinghouse for (policy, service date) pairs
    upcoming_requests(days, today=...)         the policies of every client with sessions in the next N days
    policy_requests(policy_ids, service_date)  chosen policies, on demand
    import_271(data, filename=..., actor=...)  record the answers (same file twice records nothing)

Asking writes a *pending* check per policy and commits it before the upload, so a 271 that arrives finds its
question; an upload that certainly failed writes a *failed* check instead. Answers never change money.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import db, utcnow
from billing.core.errors import BillingError, Invalid, NotFound
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work as _unit_of_work
from billing.coverage.eligibility import (
    EligibilityBenefit,
    EligibilityCheck,
    EligibilityStatus,
    latest_checks,
    needing_attention,
)
from billing.coverage.models import InsurancePolicy, Payer, SubscriberRelationship
from billing.edi.x270 import Inquiry, InquiryEnvelope, Person, Receiver, inquiry_problems, write_270
from billing.edi.x271 import Answer, read_271
from billing.org.queries import Scope, by_location
from billing.people.models import Client
from billing.sessions.models import TherapySession
from billing.submissions import sftp
from billing.submissions.control_numbers import reserve_control_numbers
from billing.submissions.models import Clearinghouse
from billing.submissions.operations import sftp_settings

#: Hands a 270 to the clearinghouse: (clearinghouse, file name, bytes). The default uploads by SFTP; the demo's
#: test-mode clearinghouse answers in place (demo/eligibility.py).
Sender = Callable[[Clearinghouse, str, bytes], None]
MAX_UPCOMING_DAYS = 60


@dataclass(frozen=True)
class CheckRequest:
    policy_id: int
    service_date: date


@dataclass
class RequestReport:
    files: list[str] = field(default_factory=list)
    asked: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    check_ids: list[int] = field(default_factory=list)
    #: file name -> 270 text (kept for the caller: tests, the demo clearinghouse, --json)
    texts: dict[str, str] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        parts = [f"{self.asked} policy check(s) asked in {len(self.files)} file(s)"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed: " + "; ".join(self.failed[:5]))
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped: " + "; ".join(self.skipped[:5]))
        return ". ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "asked": self.asked, "failed": self.failed, "skipped": self.skipped,
                "check_ids": self.check_ids}  # fmt: skip


@dataclass
class EligibilityImport:
    """What a 271 recorded; the shape `billing.submissions.inbound` expects of an import's result."""

    filename: str
    recorded: list[int] = field(default_factory=list)  # new check ids
    already: int = 0  # answers recorded before (same file again)
    unmatched: list[str] = field(default_factory=list)  # trace numbers we never asked

    @property
    def duplicate(self) -> bool:
        return not self.recorded and self.already > 0

    def summary(self) -> str:
        text = f"{self.filename}: {len(self.recorded)} eligibility answer(s) recorded"
        if self.already:
            text += f", {self.already} already recorded"
        if self.unmatched:
            text += f", {len(self.unmatched)} for no inquiry of ours"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.filename, "recorded": self.recorded, "already_recorded": self.already,
                "unmatched_traces": self.unmatched, "duplicate": self.duplicate, "summary": self.summary()}  # fmt: skip


# --- what to ask -------------------------------------------------------------------------------------------------


def upcoming_requests(days: int, *, today: date | None = None) -> list[CheckRequest]:
    """One request per policy in force on the first upcoming session of each client with sessions in [today,
    today + days]; primary and secondary policies alike."""
    if not 0 <= days <= MAX_UPCOMING_DAYS:
        raise Invalid(f"days: give 0 to {MAX_UPCOMING_DAYS}.")
    today = today or practice_today()
    rows = db.session.execute(
        select(TherapySession.client_id, TherapySession.service_date)
        .where(TherapySession.service_date.between(today, today + timedelta(days=days)),
               TherapySession.cancelled_at.is_(None))
        .order_by(TherapySession.service_date)
    )  # fmt: skip
    first: dict[int, date] = {}
    for client_id, day in rows:
        first.setdefault(client_id, day)
    if not first:
        return []
    policies = db.session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.client_id.in_(first)).order_by(InsurancePolicy.id)
    )
    return [CheckRequest(p.id, first[p.client_id]) for p in policies if _in_force(p, first[p.client_id])]


def policy_requests(policy_ids: Sequence[int], service_date: date | None = None) -> list[CheckRequest]:
    day = service_date or practice_today()
    requests = []
    for policy_id in policy_ids:
        if db.session.get(InsurancePolicy, policy_id) is None:
            raise NotFound(f"policy: no policy {policy_id}.")
        requests.append(CheckRequest(policy_id, day))
    return requests


def _in_force(policy: InsurancePolicy, day: date) -> bool:
    return _covers(policy.effective_on, policy.ends_on, day)


def _covers(starts: date, ends: date | None, day: date) -> bool:
    return starts <= day and (ends is None or ends >= day)


# --- asking ------------------------------------------------------------------------------------------------------


def sftp_sender(house: Clearinghouse, file_name: str, content: bytes) -> None:
    """Upload to the clearinghouse's inbound folder, as 837 batches go (`billing.submissions.sftp`)."""
    sftp.upload(sftp_settings(house), file_name, content)


def request_checks(requests: Sequence[CheckRequest], *, actor: Actor, sender: Sender | None = None,
                   skip_pending_today: bool = True, own_transactions: bool = True) -> RequestReport:  # fmt: skip
    """Build one 270 per clearinghouse, record the pending checks, commit, then upload each file.

    A policy whose payer has no clearinghouse with SFTP, or whose data cannot go into a 270, is skipped with the
    reason. A policy already asked today for the same service date and still pending is not asked again.
    `own_transactions=False` (the demo's seed) writes inside the caller's transaction instead of committing.
    """
    unit_of_work = _unit_of_work if own_transactions else contextlib.nullcontext
    report = RequestReport()
    with unit_of_work():
        by_house = _group(requests, report, skip_pending_today=skip_pending_today, need_sftp=sender is None)
    for house_id, items in by_house.items():
        with unit_of_work():
            house = db.session.get(Clearinghouse, house_id)
            file_name, text, check_ids = _write_pending(house, items, actor)
        report.files.append(file_name)
        report.texts[file_name] = text
        report.check_ids.extend(check_ids)
        try:
            (sender or sftp_sender)(house, file_name, text.encode("ascii"))
            report.asked += len(check_ids)
        except sftp.UploadOutcomeUnknown:
            report.asked += len(check_ids)  # it may be there: the checks stay pending and a 271 may answer
            report.failed.append(f"{file_name}: the upload broke off; the checks stay pending")
        except BillingError as exc:
            with unit_of_work():
                _fail_pending(check_ids, f"The 270 could not be sent: {exc.message}", actor)
            report.failed.append(f"{file_name}: {exc.message}")
    return report


@dataclass(frozen=True)
class _Planned:
    """One inquiry to write, as plain data: a commit between planning and writing expires ORM objects."""

    policy_id: int
    service_date: date
    inquiry: Inquiry
    receiver: Receiver


def _group(requests: Sequence[CheckRequest], report: RequestReport, *, skip_pending_today: bool, need_sftp: bool
           ) -> dict[int, list[_Planned]]:  # fmt: skip
    """The requests per clearinghouse, in three queries whatever their number (policies with payer,
    clearinghouse, company and client; the latest check of each)."""
    groups: dict[int, list[_Planned]] = {}
    wanted = list(dict.fromkeys(requests))
    ids = list({r.policy_id for r in wanted})
    policies = {p.id: p for p in db.session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.id.in_(ids)).options(
            selectinload(InsurancePolicy.client),
            selectinload(InsurancePolicy.payer).selectinload(Payer.clearinghouse),
            selectinload(InsurancePolicy.payer).selectinload(Payer.company)))}  # fmt: skip
    latest = latest_checks(ids) if skip_pending_today else {}
    today = practice_today()
    for request in wanted:
        policy = policies.get(request.policy_id)
        if policy is None:
            report.skipped.append(f"policy {request.policy_id}: no such policy")
            continue
        payer = policy.payer
        house = payer.clearinghouse
        if house is None or not house.active or (need_sftp and not house.sftp_host):
            report.skipped.append(f"policy {policy.id}: {payer.name} has no clearinghouse with SFTP")
            continue
        inquiry = _inquiry(policy, request.service_date, "")
        problems = inquiry_problems(inquiry)
        if problems:
            report.skipped.append(f"policy {policy.id}: {problems[0]}")
            continue
        if _pending_today(latest.get(policy.id), request.service_date, today):
            report.skipped.append(f"policy {policy.id}: already asked today, answer pending")
            continue
        company = payer.company
        receiver = Receiver(company.legal_name, company.group_npi, company.tax_id)
        groups.setdefault(house.id, []).append(_Planned(policy.id, request.service_date, inquiry, receiver))
    return groups


def _pending_today(latest: EligibilityCheck | None, service_date: date, today: date) -> bool:
    if latest is None or latest.status is not EligibilityStatus.PENDING:
        return False
    return latest.service_date == service_date and latest.requested_at.date() >= today - timedelta(days=1)


def _write_pending(house: Clearinghouse, items: list[_Planned], actor: Actor) -> tuple[str, str, list[int]]:
    control = reserve_control_numbers(house.id)
    now = utcnow()
    file_name = f"ELIG_{control:09d}_{now:%Y%m%d%H%M%S}.270"
    rows, inquiries = [], []
    for number, item in enumerate(items, start=1):
        trace = f"{house.id:03d}{control:09d}{number:05d}"
        inquiries.append(replace(item.inquiry, trace_number=trace))
        rows.append({"policy_id": item.policy_id, "requested_at": now, "service_date": item.service_date,
                     "status": EligibilityStatus.PENDING, "trace_number": trace, "inquiry_file": file_name,
                     "requested_by": actor.name[:254]})  # fmt: skip
    envelope = InquiryEnvelope(
        sender_qualifier=house.isa_sender_qualifier, sender_id=house.isa_sender_id,
        receiver_qualifier=house.isa_receiver_qualifier, receiver_id=house.isa_receiver_id,
        gs_sender=house.gs_sender_code, gs_receiver=house.gs_receiver_code, usage_indicator=house.usage_indicator,
        control_number=control, created_at=now, reference=f"E{control:09d}",
    )  # fmt: skip
    text = write_270(envelope, items[0].receiver, inquiries)
    ids = _insert_checks(rows, "trace_number")
    record_changes("policy", [Change(row["policy_id"], AuditAction.ELIGIBILITY_REQUESTED, after="pending",
                                     reason=f"{file_name}: check {check_id} for {row['service_date']:%m/%d/%Y}")
                              for check_id, row in zip(ids, rows, strict=True)], actor=actor)  # fmt: skip
    return file_name, text, ids


def _inquiry(policy: InsurancePolicy, service_date: date, trace: str) -> Inquiry:
    client = policy.client
    payer = policy.payer
    own = Person(client.last_name, client.first_name, client.date_of_birth, _sex(client.sex))
    self_insured = policy.relationship_to_subscriber is SubscriberRelationship.SELF
    subscriber = own if self_insured else Person(
        policy.subscriber_last_name or "", policy.subscriber_first_name or "", policy.subscriber_date_of_birth,
        _sex(policy.subscriber_sex))  # fmt: skip
    return Inquiry(trace_number=trace, payer_name=payer.name,
                   payer_id=payer.clearinghouse_payer_id or payer.edi_payer_id or "",
                   member_id=policy.member_id, subscriber=subscriber, dependent=None if self_insured else own,
                   service_date=service_date)  # fmt: skip


def _sex(value: Any) -> str | None:
    text = getattr(value, "value", value)
    return str(text)[:1].upper() if text else None


def _fail_pending(check_ids: list[int], reason: str, actor: Actor) -> None:
    for pending in db.session.scalars(select(EligibilityCheck).where(EligibilityCheck.id.in_(check_ids))):
        failed = EligibilityCheck(policy_id=pending.policy_id, service_date=pending.service_date,
                                  status=EligibilityStatus.FAILED, trace_number=pending.trace_number,
                                  answers_id=pending.id, inquiry_file=pending.inquiry_file,
                                  rejection_reasons=[reason[:300]], requested_by=actor.name)  # fmt: skip
        db.session.add(failed)
        db.session.flush()
        record_change("policy", pending.policy_id, AuditAction.ELIGIBILITY_ANSWERED, actor=actor, reason=reason[:500],
                      before="pending", after="failed", data={"check_id": failed.id})  # fmt: skip


# --- answers -----------------------------------------------------------------------------------------------------


def import_271(data: bytes | str, *, filename: str, actor: Actor) -> EligibilityImport:
    """Record each answer against the pending check it answers, once. Call inside a unit of work."""
    answers = read_271(data)
    result = EligibilityImport(filename=filename)
    traces = [a.trace_number for a in answers if a.trace_number]
    pending: dict[str, EligibilityCheck] = {}
    for start in range(0, len(traces), CHUNK):
        pending.update({c.trace_number: c for c in db.session.scalars(
            select(EligibilityCheck).where(EligibilityCheck.trace_number.in_(traces[start:start + CHUNK]),
                                           EligibilityCheck.status == EligibilityStatus.PENDING)
            .with_for_update())})  # fmt: skip
    question_ids = [c.id for c in pending.values()]
    answered: set[int] = set()
    for start in range(0, len(question_ids), CHUNK):
        answered.update(db.session.scalars(select(EligibilityCheck.answers_id).where(
            EligibilityCheck.answers_id.in_(question_ids[start:start + CHUNK]))))  # fmt: skip
    new: list[tuple[dict[str, Any], Answer]] = []
    now = utcnow()
    for answer in answers:
        question = pending.get(answer.trace_number or "")
        if question is None:
            result.unmatched.append(answer.trace_number or "(no TRN)")
        elif question.id in answered:
            result.already += 1
        else:
            answered.add(question.id)
            new.append((_answer_row(question, answer, filename, actor, now), answer))
    if not new and not result.already:
        raise Invalid(f"{filename}: the 271 answers no inquiry ClaimDesk sent (trace numbers not found).",
                      [f"TRN {t}" for t in result.unmatched[:20]])  # fmt: skip
    result.recorded = _store(new, filename, actor)
    return result


#: Trace numbers asked about per query (PostgreSQL and SQLite bound-parameter limits).
CHUNK = 2000


def _answer_row(question: EligibilityCheck, answer: Answer, filename: str, actor: Actor, now: datetime
                ) -> dict[str, Any]:  # fmt: skip
    return {
        "policy_id": question.policy_id, "requested_at": now, "service_date": question.service_date,
        "status": EligibilityStatus(answer.status), "trace_number": question.trace_number, "answers_id": question.id,
        "inquiry_file": question.inquiry_file, "response_file": filename[:255],
        "plan_name": (answer.plan_name or "")[:80] or None, "group_number": (answer.group_number or "")[:50] or None,
        "plan_begin": answer.plan_begin, "plan_end": answer.plan_end,
        "rejection_reasons": [words[:300] for _, words in answer.rejections] or None,
        "raw_271": "~".join(answer.segments) + "~", "requested_by": actor.name[:254],
    }  # fmt: skip


def _insert_checks(rows: list[dict[str, Any]], key: str) -> list[int]:
    """One executemany INSERT for many checks (thousands of ORM objects cost seconds), then their ids in the order
    of `rows`, found by `key`: "answers_id" (unique) or "trace_number" (new pending checks: one per trace)."""
    if not rows:
        return []
    db.session.execute(insert(EligibilityCheck.__table__), rows)  # Core executemany: one statement, not one a row
    column = getattr(EligibilityCheck, key)
    values = [row[key] for row in rows]
    found: dict[Any, int] = {}
    for start in range(0, len(values), CHUNK):
        query = select(column, EligibilityCheck.id).where(column.in_(values[start : start + CHUNK]))
        if key == "trace_number":
            query = query.where(EligibilityCheck.status == EligibilityStatus.PENDING)
        found.update({value: check_id for value, check_id in db.session.execute(query)})
    return [found[value] for value in values]


def _store(new: list[tuple[dict[str, Any], Answer]], filename: str, actor: Actor) -> list[int]:
    """The answers, then their benefits, each in one batched INSERT; one history row per answer."""
    ids = _insert_checks([row for row, _ in new], "answers_id")
    benefits = [
        {"check_id": check_id, "service_type": benefit.service_type[:2], "service_type_name": benefit.name[:60],
         "copay": benefit.copay, "coinsurance_percent": benefit.coinsurance_percent,
         "deductible_remaining": benefit.deductible_remaining,
         "out_of_pocket_remaining": benefit.out_of_pocket_remaining, "visits_limit": benefit.visits_limit,
         "visits_used": benefit.visits_used, "visits_remaining": benefit.visits_remaining}
        for check_id, (_, answer) in zip(ids, new, strict=True) for benefit in answer.benefits.values()
    ]  # fmt: skip
    if benefits:
        db.session.execute(insert(EligibilityBenefit.__table__), benefits)
    record_changes("policy", [Change(row["policy_id"], AuditAction.ELIGIBILITY_ANSWERED, before="pending",
                                     after=row["status"].value, reason=f"{filename[:200]}: check {check_id}")
                              for check_id, (row, _) in zip(ids, new, strict=True)], actor=actor)  # fmt: skip
    return ids


# --- the Eligibility worklist ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    session_date: date
    client_id: int
    client: str
    policy_id: int
    payer: str
    rank: str
    status: str
    checked_at: Any
    reasons: list[str]
    check_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"session_date": self.session_date.isoformat(), "client_id": self.client_id, "client": self.client,
                "policy_id": self.policy_id, "payer": self.payer, "rank": self.rank, "status": self.status,
                "checked_at": self.checked_at.isoformat(), "reasons": self.reasons,
                "check_id": self.check_id}  # fmt: skip


def eligibility_worklist(scope: Scope, *, today: date, days: int = 7) -> list[WorklistRow]:
    """Clients with sessions in [today, today + days] whose policy's latest answer is inactive, unknown or failed,
    soonest session first.

    It starts from the policies whose latest answer needs attention, kept per policy by the database
    (billing/coverage/eligibility_latest.py), then reads those clients' sessions in the window: a week of a billing
    company's sessions reaches tens of thousands of policies, of which the page shows the few needing attention."""
    if not 0 <= days <= MAX_UPCOMING_DAYS:
        raise Invalid(f"days: give 0 to {MAX_UPCOMING_DAYS}.")
    p, attention = InsurancePolicy, needing_attention().subquery()
    policies = db.session.execute(
        select(p.id, p.client_id, p.rank, p.effective_on, p.ends_on, Client.last_name, Client.first_name, Payer.name,
               attention.c.check_id)
        .join(attention, attention.c.policy_id == p.id)
        .join(Client, Client.id == p.client_id).join(Payer, Payer.id == p.payer_id)
        .where(by_location(Client.location_id, scope))
    ).all()  # fmt: skip
    if not policies:
        return []
    first = dict(db.session.execute(
        select(TherapySession.client_id, func.min(TherapySession.service_date))
        .where(any_of(TherapySession.client_id, list({row.client_id for row in policies})),
               TherapySession.service_date.between(today, today + timedelta(days=days)),
               TherapySession.cancelled_at.is_(None))
        .group_by(TherapySession.client_id)
    ).all())  # fmt: skip
    due = [row for row in policies if row.client_id in first and _covers(row.effective_on, row.ends_on,
                                                                          first[row.client_id])]
    check = EligibilityCheck
    answers = {row.id: row for row in db.session.execute(
        select(check.id, check.status, check.requested_at, check.rejection_reasons)
        .where(any_of(check.id, [row.check_id for row in due])))} if due else {}  # fmt: skip
    rows = []
    for policy_id, client_id, rank, _, _, last, first_name, payer, check_id in due:
        answer = answers[check_id]
        rows.append(WorklistRow(first[client_id], client_id, f"{last}, {first_name}", policy_id, payer, rank.value,
                                answer.status.value, answer.requested_at, list(answer.rejection_reasons or []),
                                check_id))  # fmt: skip
    return sorted(rows, key=lambda r: (r.session_date, r.client, r.policy_id))
