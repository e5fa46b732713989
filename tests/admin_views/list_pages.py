"""Every list page of the admin, read from the app itself, and the SQL a request sends.

Used by the per-page tests of query counts and plans, so a grid added to the admin is covered without editing them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import event
from sqlalchemy.engine import Engine

from billing.people.models import Role
from tests.worlds.big_tables import seed_rows


def list_views(app: Flask) -> list[ModelView]:
    """The model grids registered in the admin, in menu order."""
    admin = app.extensions["admin"][0]
    return [view for view in admin._views if isinstance(view, ModelView)]


def seed_every_grid(client: Any, login: Any) -> None:
    """At least one row behind each grid (and each growing table); logs in as an admin, who opens a client."""
    claim = seed_rows()
    login(Role.ADMIN)
    client.get(f"/admin/client/details/?id={claim.client_id}")  # a row of the PHI access log


@contextmanager
def statements_sent() -> Iterator[list[tuple[str, Any]]]:
    """The (SQL, parameters) of every statement sent while the block runs, transaction control left out."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)
