"""The demo clearinghouse answers the demo's 270s with 271s: one lapsed policy, one unknown member, the rest
active with therapy benefits; the lapsed client's next visit is on the Eligibility worklist."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from billing.core.db import db
from billing.coverage.eligibility import EligibilityCheck, EligibilityStatus
from billing.org.queries import resolve_scope
from billing.submissions.eligibility import eligibility_worklist
from demo.seed import seed_demo

TODAY = date(2026, 3, 18)  # a Wednesday

pytestmark = pytest.mark.slow  # seeds the whole demo with its billing history


def test_the_demo_shows_the_eligibility_path(app):
    result = seed_demo(today=TODAY)
    db.session.flush()
    answers = db.session.scalars(select(EligibilityCheck).where(EligibilityCheck.answers_id.is_not(None))).all()
    statuses = [c.status for c in answers]
    assert result.counts["eligibility_checks"] == len(answers) > 2
    assert statuses.count(EligibilityStatus.INACTIVE) == 1
    assert statuses.count(EligibilityStatus.UNKNOWN) == 1
    assert statuses.count(EligibilityStatus.ACTIVE) == len(answers) - 2
    assert all(c.benefits for c in answers if c.status is EligibilityStatus.ACTIVE)
    rows = eligibility_worklist(resolve_scope(None, None, None), today=TODAY, days=7)
    assert {r.status for r in rows} >= {"inactive"}
