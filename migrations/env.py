"""Alembic environment for ClaimDesk, run through Flask-Migrate (`flask db ...`)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the app's own loggers alive: the default would disable every logger configured before.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revisions(context, revision, directives):
        # `flask db migrate` with nothing to do should not write an empty revision file.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revisions)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with _sqlite_foreign_keys_held(connection), context.begin_transaction():
            context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_held(connection):
    """SQLite alters a table in batch mode by copying it, dropping the old one and renaming the copy; with foreign
    keys enforced, dropping a table other rows point at (payer, clearinghouse) fails on any database with data.
    So enforcement is off while the migrations run (the switch only works outside a transaction, hence the DBAPI
    connection), every reference is checked afterwards, and enforcement is back on before the connection is reused.
    """
    raw = connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
    if raw is None or connection.in_transaction():
        yield
        return
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migrations left {len(broken)} rows pointing at missing rows: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
