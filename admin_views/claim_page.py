"""The claim page as a work surface: history in sentences, codes as people write them, the rules it fails with a
link to the record to fix, and the warnings a risky action needs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from sqlalchemy import select

from admin_views.formatters import practice_datetime
from billing.claims.models import Claim
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import BillingError, ValidationFailed
from billing.people.models import User
from rules.fixes import Fix, fix_for
from rules.models import OutcomeKind, RuleOutcome

A = AuditAction
#: What each history row says, in words; "{by}" is the person (or process), "{reason}" the row's reason.
SENTENCES: dict[AuditAction, str] = {
    A.CLAIM_CREATED: "Created by {by}",
    A.CLAIM_HELD: "Held by {by}",
    A.CLAIM_RELEASED: "Released by {by}",
    A.CLAIM_EDITED: "Lines edited by {by}",
    A.CLAIM_VOIDED: "Voided by {by}",
    A.CLAIM_RETRACTED: "Retracted by {by}",
    A.CLAIM_SUBMITTED: "Sent to the payer by {by}",
    A.CLAIM_PAID: "Marked paid by {by}",
    A.CLAIM_DENIED: "Denied by the payer (posted by {by})",
    A.CLAIM_RESUBMITTED: "Put back to Ready by {by}",
    A.CLAIM_CORRECTED: "Corrected claim created by {by}",
    A.CLAIM_REOPENED: "Reopened by {by}",
    A.CLAIM_REVIEWED: "Review cleared by {by}",
    A.CLAIM_FLAGGED: "Flagged for review by {by}",
    A.SELF_PAY_BILLED: "Billed to the patient (self-pay) by {by}",
    A.PAYMENT_POSTED: "Payment posted by {by}",
    A.PAYMENT_REVERSED: "Payment reversed by {by}",
    A.WRITTEN_OFF: "Written off by {by}",
    A.PATIENT_BILLED: "Balance billed to the patient by {by}",
    A.CREDIT_REFUNDED: "Credit refunded by {by}",
    A.CREDIT_APPLIED: "Patient credit applied by {by}",
    A.PATIENT_PAYMENT_RECEIVED: "Patient payment posted by {by}",
    A.LINE_DENIAL: "Denied line worked by {by}",
    A.SECONDARY_CREATED: "Secondary claim created by {by}",
    A.CLAIM_DELAYED: "Delayed by the rules ({by})",
    A.CLAIM_BATCHED: "{reason_sentence} by {by}",
    A.CLAIM_UNBATCHED: "Taken out of its batch by {by}",
    A.CLAIM_VOID_SENT: "Void sent to the payer by {by}",
    A.CLAIM_PRINTED: "CMS-1500 printed by {by}",
    A.CLAIM_PAYER_NUMBER_SET: "Payer claim number entered by {by}",
    A.CLAIM_VOID_NOT_NEEDED: "Void marked not needed by {by}",
    A.CHARGES_WITHDRAWN: "Charges withdrawn by {by}",
    A.FOLLOW_UP_NOTED: "Follow-up note by {by}",
    A.FOLLOW_UP_ASSIGNED: "Follow-up assigned by {by}",
    A.CLAIM_REJECTED: "Rejected by the clearinghouse or payer (recorded by {by})",
    A.CLAIM_RESENT: "Fixed and put back to Ready by {by}",
    A.CLAIM_ACKNOWLEDGED: "Accepted by the payer (277CA)",
}
_BATCH = re.compile(r"\bB-\d+\b")
#: Names of fields the claim operations refuse, as a person reads them.
FIELD_WORDS = {
    "payer_claim_number": "Payer claim number (ICN)",
    "reason": "Reason",
    "place_of_service": "Place of service",
    "lines": "Lines",
    "units": "Units",
    "modifiers": "Modifiers",
}


@dataclass(frozen=True)
class HistoryLine:
    when: str
    sentence: str
    reason: str


def history_lines(rows: Iterable[StatusChange]) -> list[HistoryLine]:
    """Each history row as a sentence naming the person ("Put in batch B-000014 by Dana") and its local time."""
    rows = list(rows)
    ids = {r.user_id for r in rows if r.user_id}
    names = {i: n for i, n in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))} if ids else {}
    return [HistoryLine(practice_datetime(r.at), _sentence(r, names), r.reason or "") for r in rows]


def _sentence(row: StatusChange, names: dict[int, str]) -> str:
    by = names.get(row.user_id or 0) or _process(row.actor)
    template = SENTENCES.get(row.action)
    if row.action is A.CLAIM_BATCHED:
        batch = _BATCH.search(row.reason or "")
        return template.format(by=by, reason_sentence=f"Put in batch {batch.group(0)}" if batch else "Put in a batch")
    if template is None:
        words = str(row.action.value).split(".")[-1].replace("_", " ")
        return f"{words.capitalize()} by {by}"
    return template.format(by=by)


def _process(actor: str) -> str:
    if actor.startswith("system:"):
        return "the system (" + actor.removeprefix("system:").replace("_", " ") + ")"
    return actor


def icd10(code: str) -> str:
    """An ICD-10-CM code as people write it, with its dot after the category (F840 -> F84.0)."""
    code = (code or "").strip().upper().replace(".", "")
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def pointer_letters(pointers: str | None) -> str:
    """Diagnosis pointers as the CMS-1500 prints them: 1:2:3 -> A, B, C."""
    numbers = [p for p in re.split(r"[^0-9]+", pointers or "") if p]
    return ", ".join(chr(ord("A") + int(n) - 1) if 1 <= int(n) <= 12 else n for n in numbers)


@dataclass(frozen=True)
class FailedRule:
    rule: str
    kind: str
    reason: str
    fix: Fix
    url: str | None


def failed_rules(claim: Claim) -> list[FailedRule]:
    """The open outcomes of the claim's latest rules runs (open until a run passes them), with where to fix."""
    outcomes = db.session.scalars(
        select(RuleOutcome)
        .where(
            RuleOutcome.claim_id == claim.id, RuleOutcome.resolved_at.is_(None), RuleOutcome.kind != OutcomeKind.WARNING
        )
        .order_by(RuleOutcome.id)
    )
    found = []
    for outcome in outcomes:
        fix = fix_for(outcome.rule.conditions)
        found.append(FailedRule(outcome.rule.name, outcome.kind.label, outcome.reason, fix, _fix_url(fix, claim)))
    return found


def _fix_url(fix: Fix, claim: Claim) -> str | None:
    line = claim.lines[0] if claim.lines else None
    target: tuple[str, int | None] = {
        Fix.CLIENT: ("client.edit_view", claim.client_id),
        Fix.POLICY: ("policy.edit_view", claim.policy_id),
        Fix.AUTHORIZATION: ("authorization.edit_view", line.authorization_id if line else None),
        Fix.PROVIDER: ("provider.edit_view", claim.rendering_provider_id),
        Fix.SESSION: ("session.edit_view", line.session_id if line else None),
        Fix.CLAIM: ("claim.lines_view", claim.id),
        Fix.PAYER: ("payer.edit_view", claim.payer_id),
    }[fix]
    if target[1] is None:
        return url_for("client.edit_view", id=claim.client_id) if fix is Fix.AUTHORIZATION else None
    return url_for(target[0], id=target[1])


def refusal_in_words(exc: BillingError) -> str:
    """A refusal with each field named as a person reads it ("Payer claim number (ICN): ..."), never its column."""
    if not isinstance(exc, ValidationFailed):
        return exc.message
    return "; ".join(
        f"{FIELD_WORDS.get(p.field, p.field.replace('_', ' ').capitalize())}: {p.message}" if p.field else p.message
        for p in exc.problems
    )


def co_denial(reasons: Iterable[Any]) -> str | None:
    """The first contractual-obligation (CO) group code among the denial reasons, e.g. "CO-50"; None when none."""
    return next((f"{r.group}-{r.code}" for r in reasons if r.group == "CO"), None)
