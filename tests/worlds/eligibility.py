"""Eligibility answers for a world's policy: a 270 asked (kept, not uploaded) and the demo payer's 271 recorded."""

from __future__ import annotations

from datetime import date

from billing.core.db import db
from billing.coverage.eligibility import EligibilityCheck
from billing.coverage.models import InsurancePolicy
from billing.submissions.eligibility import CheckRequest, import_271, request_checks
from demo.eligibility import PayerSays, write_271
from tests.worlds.practice import SYSTEM


def ask(policy: InsurancePolicy, day: date) -> str:
    """The 270 text asking about `policy` on `day` (its pending check is recorded)."""
    sent: list[str] = []
    report = request_checks([CheckRequest(policy.id, day)], actor=SYSTEM, skip_pending_today=False,
                            sender=lambda house, name, content: sent.append(content.decode("ascii")))  # fmt: skip
    assert report.files, report.summary()
    return sent[0]


def answer(policy: InsurancePolicy, day: date, says: PayerSays | None = None) -> EligibilityCheck:
    """Ask, and record the payer's answer; returns the answer's check."""
    text = write_271(ask(policy, day), (lambda trace, member: says) if says else None)
    result = import_271(text, filename="answer.271", actor=SYSTEM)
    return db.session.get(EligibilityCheck, result.recorded[0])
