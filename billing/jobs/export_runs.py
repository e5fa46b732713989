"""Background report exports: queued from the Reports page or a schedule, built by the scheduler process.

Progress goes to a small file beside the export, not to the database: the long streaming read then
never waits on a write lock (SQLite) and needs no second connection. Exports are built only inside job
runs, and each records the host:pid building it: billing.jobs.recovery relies on both.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from billing.core.audit import Actor
from billing.core.db import db, utcnow
from billing.core.errors import BillingError, NotAllowed, NotFound, withheld_summary
from billing.core.unit_of_work import unit_of_work
from billing.jobs.models import ExportRun, ExportStatus, ReportDownload
from billing.jobs.process import host
from exports.build import build_from_json, expected_rows


def exports_dir() -> Path:
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the reports hold PHI: owner only
    return folder


def queue_export(report: str, filters: dict[str, Any], *, actor: Actor, rows_expected: int | None = None) -> ExportRun:
    run = ExportRun(report=report, filters=filters, status=ExportStatus.QUEUED, requested_by=actor.name,
                    user_id=actor.user_id, rows_expected=rows_expected)
    db.session.add(run)
    db.session.flush()
    return run


def has_queued() -> bool:
    return db.session.scalar(select(ExportRun.id).where(ExportRun.status == ExportStatus.QUEUED).limit(1)) is not None


def start_export(run: ExportRun, *, now: datetime) -> None:
    """Mark an export this process builds right away (a scheduled one) as running here."""
    run.status, run.started_at, run.host = ExportStatus.RUNNING, now, host()


def claim_next_queued() -> ExportRun | None:
    """Take the oldest queued export; the conditional UPDATE lets only one process win it."""
    for run_id in db.session.scalars(select(ExportRun.id).where(ExportRun.status == ExportStatus.QUEUED)
                                     .order_by(ExportRun.id).limit(5)):
        with unit_of_work():
            won = db.session.execute(
                update(ExportRun).where(ExportRun.id == run_id, ExportRun.status == ExportStatus.QUEUED)
                .values(status=ExportStatus.RUNNING, started_at=utcnow(), host=host())
            ).rowcount
        if won:
            return db.session.get(ExportRun, run_id)
    return None


def _progress_file(run: ExportRun) -> Path:
    return exports_dir() / f"export-{run.id}.progress"


def progress(run: ExportRun) -> int:
    """Rows written so far by the process building `run`."""
    try:
        return int(_progress_file(run).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def build_export(run: ExportRun, *, now: datetime) -> ExportRun:
    """Build a claimed (running) export into instance/exports/; a failure is recorded on the run, not raised."""
    file_name = f"{run.report}-{run.id:06d}-{now:%Y%m%d-%H%M%S}.xlsx"
    target, marker = exports_dir() / file_name, _progress_file(run)
    run_id, report, filters, requested_by = run.id, run.report, dict(run.filters), run.requested_by
    try:
        if run.rows_expected is None:
            run.rows_expected = expected_rows(report, filters)
        rows = build_from_json(report, filters, target, generated_by=requested_by, now=now,
                      progress=lambda done: marker.write_text(str(done)))
    except Exception as exc:  # the failure belongs on the Reports page, whatever it was
        db.session.rollback()
        target.unlink(missing_ok=True)
        message = exc.message if isinstance(exc, BillingError) else withheld_summary(exc)
        with unit_of_work():
            failed = db.session.get(ExportRun, run_id)
            failed.status, failed.error, failed.finished_at = ExportStatus.FAILED, message[:2000], utcnow()
        return failed
    finally:
        marker.unlink(missing_ok=True)
    with unit_of_work():
        done = db.session.get(ExportRun, run_id)
        done.status, done.file_name, done.row_count, done.finished_at = ExportStatus.FINISHED, file_name, rows, utcnow()
    return done


def build_queued(*, now: datetime, limit: int = 10) -> list[ExportRun]:
    built = []
    while len(built) < limit and (run := claim_next_queued()) is not None:
        built.append(build_export(run, now=now))
    return built


def export_path(run: ExportRun) -> Path:
    if run.status is not ExportStatus.FINISHED or not run.file_name:
        raise NotAllowed(f"Export #{run.id} is {run.status.value}; there is no file to download.")
    path = exports_dir() / Path(run.file_name).name
    if not path.is_file():
        raise NotFound(f"The file of export #{run.id} is no longer on the server; build it again.")
    return path


def record_download(report: str, filters: dict[str, Any], *, actor: Actor, export_run_id: int | None = None,
                    row_count: int | None = None) -> ReportDownload:
    download = ReportDownload(report=report, filters=filters, actor=actor.name, user_id=actor.user_id,
                              export_run_id=export_run_id, row_count=row_count)
    db.session.add(download)
    db.session.flush()
    return download


def recent_exports(limit: int = 30) -> list[ExportRun]:
    return list(db.session.scalars(select(ExportRun).order_by(ExportRun.id.desc()).limit(limit)))


def recent_downloads(limit: int = 50) -> list[ReportDownload]:
    return list(db.session.scalars(select(ReportDownload).order_by(ReportDownload.id.desc()).limit(limit)))
