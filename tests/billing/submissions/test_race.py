"""Two people press Send on the same batch at once: the file goes out once and the claims are submitted once.

The race needs two real connections that see each other's commits, so this test works in a
database of its own (a separate schema on PostgreSQL, a separate file on SQLite) built from the
models, instead of inside the per-test transaction. The second Send starts while the first is still
uploading: on PostgreSQL it waits on the batch row lock, on SQLite on the database write lock, and
then finds the batch already sent.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.unit_of_work import unit_of_work
from billing.submissions.models import BatchStatus, SubmissionBatch
from billing.submissions.operations import create_batches, send_batch
from tests.worlds.practice import SYSTEM
from tests.worlds.scratch_db import own_database
from tests.worlds.submissions import build_submission_world

SCHEMA = "submissions_race"


def test_two_sends_at_once_upload_once_and_submit_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path, schema=SCHEMA):
        world = build_submission_world()
        claim_ids = [world.ready_claim().id, world.ready_claim(day=date(2026, 3, 3)).id]
        batch_id = create_batches(actor=SYSTEM)[0].id
        db.session.commit()

        uploads: list[str] = []
        results: dict[str, str] = {}
        uploading = threading.Event()

        def slow_upload(settings, name, content):
            uploads.append(name)
            uploading.set()
            time.sleep(0.6)  # the second press arrives while this one is still uploading

        def press(who: str) -> None:
            with app.app_context():
                try:
                    with unit_of_work():
                        send_batch(batch_id, actor=SYSTEM, uploader=slow_upload)
                    results[who] = "sent"
                except BillingError as exc:
                    results[who] = exc.message
                finally:
                    db.session.remove()

        first = threading.Thread(target=press, args=("first",))
        second = threading.Thread(target=press, args=("second",))
        first.start()
        assert uploading.wait(10)
        second.start()  # the first is still uploading, holding the batch row (SQLite: the database) locked
        first.join(20)
        second.join(20)

        assert len(uploads) == 1
        assert results["first"] == "sent"
        assert "already sent" in results["second"]
        db.session.remove()
        batch = db.session.get(SubmissionBatch, batch_id)
        assert batch.status is BatchStatus.SENT
        statuses = db.session.scalars(select(Claim.status).where(Claim.id.in_(claim_ids))).all()
        assert set(statuses) == {ClaimStatus.SUBMITTED}
        submitted = db.session.scalar(
            select(func.count()).select_from(StatusChange)
            .where(StatusChange.action == AuditAction.CLAIM_SUBMITTED, StatusChange.subject_id.in_(claim_ids))
        )  # fmt: skip
        assert submitted == len(claim_ids)
        sent_rows = db.session.scalar(
            select(func.count()).select_from(StatusChange).where(StatusChange.action == AuditAction.BATCH_SENT)
        )
        assert sent_rows == 1

