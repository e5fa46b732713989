"""The migrations build the schema the models describe, on whichever backend the suite runs."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from billing.core.db import db


def test_models_and_migrations_agree():
    """Equivalent of `flask db check`: autogenerate finds nothing to do against the migrated schema."""
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []


def test_every_table_has_named_constraints():
    """The naming convention gives every constraint a stable name, so later migrations can drop it."""
    inspector = inspect(db.session.connection())
    for table in db.metadata.sorted_tables:
        for fk in inspector.get_foreign_keys(table.name):
            assert (fk["name"] or "").startswith("fk_"), (table.name, fk)
        if db.engine.dialect.name == "postgresql":
            for check in inspector.get_check_constraints(table.name):
                assert check["name"].startswith("ck_"), (table.name, check)
