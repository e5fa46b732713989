"""Interchange control numbers: unique and increasing per clearinghouse, handed out by the database."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from billing.core.db import db
from billing.core.errors import NotAllowed, NotFound
from billing.submissions.models import Clearinghouse


def reserve_control_numbers(clearinghouse_id: int, count: int = 1) -> int:
    """Take `count` consecutive numbers and return the first.

    One UPDATE ... RETURNING increments and reads in a single statement: on PostgreSQL the row stays
    locked until the batch commits, so two batches created at once queue on it and never share a
    number; a rolled-back batch gives its numbers back.
    """
    try:
        last = db.session.execute(
            update(Clearinghouse)
            .where(Clearinghouse.id == clearinghouse_id)
            .values(last_control_number=Clearinghouse.last_control_number + count)
            .returning(Clearinghouse.last_control_number)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
    except IntegrityError:  # the CHECK keeps ISA13 within 9 digits
        raise NotAllowed(
            "This clearinghouse has used every interchange control number (ISA13 has 9 digits)."
        ) from None
    if last is None:
        raise NotFound("That clearinghouse does not exist.")
    return last - count + 1
