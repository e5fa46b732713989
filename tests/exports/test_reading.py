"""Reports read in a READ ONLY transaction of their own, and from a read replica when one is configured.

The replica test points `CLAIMDESK_REPORTS_DATABASE_URI` at a connection that cannot write at all: on PostgreSQL
a role granted SELECT only, on SQLite the file opened read-only. The report still builds, every one of its
statements goes there, and a write tried inside the reporting session is refused by the database.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from exports.build import build_report
from exports.filters import ReportFilters
from exports.reading import REPORTS_URI, reading
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import build_world
from tests.worlds.scratch_db import own_database
from tests.worlds.sheets import open_workbook, sheet

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
READER = "claimdesk_report_reader"
SCHEMA = "reports_replica"


def _write_a_history_row() -> None:
    db.session.execute(insert(StatusChange).values(at=NOW, actor="probe", subject_type="claim", subject_id=1,
                                                   action=AuditAction.CLAIM_CREATED))


def test_a_write_inside_the_reporting_session_is_refused_and_writes_work_again_after():
    with reading(), pytest.raises(DBAPIError):
        _write_a_history_row()
    world = build_world()  # the connection is writable again once the report is done
    db.session.flush()
    assert world.client.id is not None


def test_the_report_sees_what_is_in_the_database_in_a_session_of_its_own(world):
    claim = world.claim()
    outer = db.session()
    with reading():
        assert db.session() is not outer
        assert db.session.get(type(claim), claim.id) is not None


def _read_only_uri(engine_url: str, tmp_path: Path) -> str:
    if engine_url.startswith("sqlite"):
        return f"sqlite:///file:{tmp_path / f'{SCHEMA}.sqlite'}?mode=ro&uri=true"
    admin = create_engine(engine_url)
    with admin.begin() as conn:
        conn.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') "
                          f"THEN CREATE ROLE {READER} LOGIN; END IF; END $$"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {READER}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READER}"))
    admin.dispose()
    url = make_url(engine_url).set(username=READER, password=None, query={"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


@pytest.mark.slow
def test_reports_read_from_a_replica_that_cannot_write(app: Flask, tmp_path: Path):
    primary_url = db.engines[None].engine.url.render_as_string(hide_password=False)
    with own_database(tmp_path, schema=SCHEMA):
        claim = submitted_claim(build_world())
        number = claim.number
        db.session.commit()
        db.session.remove()
        app.config[REPORTS_URI] = _read_only_uri(primary_url, tmp_path)
        try:
            with app.app_context():
                sent: list[str] = []
                with reading():
                    replica = db.session.get_bind()
                    event.listen(replica, "before_cursor_execute", lambda *a: sent.append(a[2]))
                    with pytest.raises(DBAPIError):  # the role (or the read-only file) refuses it
                        _write_a_history_row()
                out = io.BytesIO()
                build_report("claims", ReportFilters(), out, generated_by="test", now=NOW)
                out.seek(0)
                rows = sheet(open_workbook(out), "Claims").data_rows()
                assert number in {row[0] for row in rows}
                assert any("FROM claim" in statement for statement in sent)
        finally:
            app.config.pop(REPORTS_URI, None)
            for engine in app.extensions.pop("claimdesk_reports_engines", {}).values():
                engine.dispose()


@pytest.mark.postgresql
def test_report_cursors_are_planned_for_the_whole_read_and_a_querys_planner_settings_are_its_own():
    """PostgreSQL: a report reads every row of its cursors (cursor_tuple_fraction 1, the transaction's only), and the
    settings one query asks for (Revenue's hash joins) are back as they were once its cursor is declared."""
    from sqlalchemy import select

    from billing.claims.models import Claim
    from exports.reports.common import streamed

    def setting(name: str) -> str:
        return db.session.scalar(text(f"SELECT current_setting('{name}')"))

    nestloop, fraction = setting("enable_nestloop"), setting("cursor_tuple_fraction")
    with reading():
        assert float(setting("cursor_tuple_fraction")) == 1.0
        rows = streamed(select(Claim.id), 5, planner={"enable_nestloop": "off"})
        assert setting("enable_nestloop") == nestloop
        rows.close()
    assert setting("cursor_tuple_fraction") == fraction  # LOCAL: gone with the report's transaction
