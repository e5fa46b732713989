"""Every list page of the admin, read from the app itself, and the SQL a request sends.

Used by the per-page tests of query counts and plans, so a grid added to the admin is covered without editing them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from billing.core.db import db
from billing.ledger.models import PaymentMethod
from billing.ledger.statement_models import DunningLevel
from billing.payments.models import PostedCheck
from billing.payments.remittances import import_835
from billing.people.models import Role
from rules.runs import run_rules
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import era_for, foreign
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule


def list_views(app: Flask) -> list[ModelView]:
    """The model grids registered in the admin, in menu order."""
    admin = app.extensions["admin"][0]
    return [view for view in admin._views if isinstance(view, ModelView)]


def list_endpoints(app: Flask) -> list[str]:
    return [view.endpoint for view in list_views(app)]


def view_for(app: Flask, endpoint: str) -> ModelView:
    return next(view for view in list_views(app) if view.endpoint == endpoint)


def seed_every_grid(client: Any, login: Any) -> None:
    """At least one row behind each grid (and each table that grows), made the ordinary way; logs in as admin."""
    world = build_world()
    claim = submitted_claim(world)
    make_rule("Any units", conditions=leaf("units", "greater_than", 0), actions=fail("units"))
    world.claim()
    run_rules(actor=SYSTEM, today=claim.service_date)
    import_835(era_for(world, claim, extra=[foreign()]), filename="seed.835", actor=SYSTEM)
    db.session.commit()
    login(Role.ADMIN)
    client.get(f"/admin/client/details/?id={claim.client_id}")
    db.session.add(PostedCheck(payer_id=world.payer.id, check_number="CHK-SEED", check_date=claim.service_date,
                               method=PaymentMethod.CHECK, amount=Decimal("10.00"), applied=Decimal("0.00"),
                               unapplied=Decimal("10.00"), actor="seed"))
    if db.session.scalar(select(DunningLevel.id).limit(1)) is None:
        db.session.add(DunningLevel(min_days=30, message="Past due"))
    db.session.commit()


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
