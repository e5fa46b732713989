"""One transaction per operation: views, CLI commands and jobs wrap each call in `unit_of_work()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from billing.core.db import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once if the block succeeds, roll everything back if it raises."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
