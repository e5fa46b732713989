"""The nightly planner-statistics job: on SQLite it gathers the statistics that let the planner pick the front
page's partial index of draft notes; on PostgreSQL autovacuum does it, and the job says so."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from billing.core.db import db
from billing.jobs.definitions import job_definition
from billing.jobs.tasks import refresh_statistics

NOW = datetime(2026, 4, 2, 9, 50, tzinfo=UTC)


def test_the_statistics_are_a_nightly_job():
    definition = job_definition("planner-statistics")
    assert definition.func is refresh_statistics
    assert (definition.default.minute, definition.default.hour) == ("50", "4")


def test_the_job_refreshes_sqlite_statistics_or_leaves_them_to_postgresql(world):
    world.visit()
    summary = refresh_statistics(NOW)
    if db.session.get_bind().dialect.name == "sqlite":
        assert summary == "Planner statistics refreshed (SQLite ANALYZE)."
        analyzed = {row[0] for row in db.session.execute(text("SELECT DISTINCT idx FROM sqlite_stat1"))}
        assert "ix_therapy_session_draft_notes" in analyzed
    else:
        assert "autovacuum" in summary
