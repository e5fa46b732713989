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


def list_views(app: Flask) -> list[ModelView]:
    """The model grids registered in the admin, in menu order."""
    admin = app.extensions["admin"][0]
    return [view for view in admin._views if isinstance(view, ModelView)]


def list_endpoints(app: Flask) -> list[str]:
    return [view.endpoint for view in list_views(app)]


def view_for(app: Flask, endpoint: str) -> ModelView:
    return next(view for view in list_views(app) if view.endpoint == endpoint)


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
