"""The nightly ledger check: a sound ledger is one line; a broken one fails the run and names the claim."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert

from billing.core.db import db, utcnow
from billing.core.errors import Failed
from billing.jobs.definitions import job_definition
from billing.jobs.tasks import check_the_ledger
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from tests.worlds.claims import submitted_claim

NOW = datetime(2026, 4, 2, 9, 45, tzinfo=UTC)


def test_the_ledger_check_is_a_nightly_job():
    definition = job_definition("ledger-check")
    assert definition.func is check_the_ledger
    assert (definition.default.minute, definition.default.hour) == ("45", "4")


def test_a_sound_ledger_passes(world):
    submitted_claim(world)
    assert check_the_ledger(NOW) == "The ledger holds every invariant."


def test_a_silent_credit_fails_the_run_naming_the_claim(world):
    claim = submitted_claim(world)  # $73.48 charged
    db.session.execute(insert(LedgerEntry.__table__).values(
        claim_id=claim.id, claim_line_id=claim.lines[0].id, kind=EntryKind.INSURANCE_PAYMENT,
        amount=Decimal("80.00"), posted_on=NOW.date(), actor="intruder", source=EntrySource.MANUAL,
        created_at=utcnow()))
    with pytest.raises(Failed) as refused:
        check_the_ledger(NOW)
    assert f"credit-balance: {claim.number}" in refused.value.message
    assert "-$6.52" in refused.value.message
