"""The monthly statement job: paused on a new install (it sends mail), and when run it writes the cycle's files
under instance/statements/ and records the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from billing.core.db import db
from billing.jobs.definitions import job_definition
from billing.jobs.schedules import schedule_row
from billing.jobs.tasks import send_statements
from billing.ledger.statement_models import StatementRecord
from tests.worlds.practice import DAY
from tests.worlds.statements import STATEMENT_DAY, family_member, owed_claim

NOW = datetime(STATEMENT_DAY.year, STATEMENT_DAY.month, STATEMENT_DAY.day, 17, 0, tzinfo=UTC)


def test_the_statement_job_starts_paused_and_runs_monthly():
    definition = job_definition("send-statements")
    assert definition.paused_at_first
    assert definition.default.day == "1"
    assert schedule_row("send-statements").paused


def test_a_run_writes_the_cycle_and_records_it(world, app, instance_in_tmp):
    member = family_member(world, parent="Dana Rivera")
    owed_claim(member, billed_on=DAY + timedelta(days=10))
    summary = send_statements(NOW)
    assert "statement(s)" in summary
    folder = f"{app.instance_path}/statements/{STATEMENT_DAY:%Y-%m-%d}"
    assert folder in summary
    assert db.session.scalar(select(func.count(StatementRecord.id)).where(
        StatementRecord.client_id == member.client.id)) == 1
