"""Thousands of Ready claims in a few INSERTs, copied from one claim the world billed the ordinary way.

Each copy is its own claim (own id, lines, diagnoses and sessions) of the same client, payer and provider, a day
apart so no two look like the same visit; the submission rules and the 837P treat them as the original.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.core.db import db, insert_returning_ids
from billing.sessions.models import TherapySession

SKIPPED = {"id", "version"}


def copies_of(claim: Claim, count: int) -> list[int]:
    """`count` new Ready claims like `claim`, each on its own earlier day; returns their ids in order."""
    db.session.flush()
    columns = [c.key for c in Claim.__table__.columns if c.key not in SKIPPED]
    template = {key: getattr(claim, key) for key in columns}
    rows = [{**template, "service_date": claim.service_date - timedelta(days=n)} for n in range(1, count + 1)]
    ids = insert_returning_ids(Claim.__table__, rows)
    lines = db.session.execute(select(ClaimLine.__table__).where(ClaimLine.claim_id == claim.id)).mappings().all()
    sessions = _copied_sessions([line["session_id"] for line in lines], rows)
    diagnoses = (
        db.session.execute(select(ClaimDiagnosis.__table__).where(ClaimDiagnosis.claim_id == claim.id)).mappings().all()
    )
    line_rows, diagnosis_rows = [], []
    for n, (claim_id, row) in enumerate(zip(ids, rows, strict=True)):
        line_rows += [{**_without_id(line), "claim_id": claim_id, "service_date": row["service_date"],
                       "session_id": sessions[line["session_id"]][n] if line["session_id"] else None}
                      for line in lines]  # fmt: skip
        diagnosis_rows += [{**_without_id(d), "claim_id": claim_id} for d in diagnoses]
    db.session.execute(insert(ClaimLine), line_rows)
    if diagnosis_rows:
        db.session.execute(insert(ClaimDiagnosis), diagnosis_rows)
    return ids


def _copied_sessions(session_ids: list[int | None], rows: list[dict[str, object]]) -> dict[int, list[int]]:
    """Each copied claim bills its own copy of the original's sessions (one session is billed once)."""
    copies: dict[int, list[int]] = {}
    for session_id in filter(None, session_ids):
        original = db.session.execute(
            select(TherapySession.__table__).where(TherapySession.id == session_id)
        ).mappings().one()  # fmt: skip
        session_rows = [{**_without_id(original), "service_date": row["service_date"]} for row in rows]
        copies[session_id] = insert_returning_ids(TherapySession.__table__, session_rows)
    return copies


def _without_id(row: object) -> dict[str, object]:
    return {k: v for k, v in dict(row).items() if k != "id"}  # type: ignore[call-overload]
