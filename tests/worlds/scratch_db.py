"""A database of the test's own, for races: two real connections that see each other's commits.

The per-test transaction (tests/conftest.py) cannot host a race, since every session there shares one
connection. `own_database` points the app's sessions at a scratch schema (PostgreSQL) or file (SQLite) built
from the models, and back again afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.unit_of_work import unit_of_work

SCHEMA = "money_race"


@contextmanager
def own_database(tmp_path: Path, schema: str = SCHEMA) -> Iterator[Engine]:
    engines = db.engines
    saved = engines[None]
    url = saved.engine.url.render_as_string(hide_password=False)
    if url.startswith("postgresql"):
        _run_once(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = create_engine(f"sqlite:///{tmp_path / f'{schema}.sqlite'}", connect_args={"timeout": 30})
    db.metadata.create_all(engine)
    db.session.remove()
    engines[None] = engine
    try:
        yield engine
    finally:
        db.session.remove()
        engines[None] = saved
        engine.dispose()
        if url.startswith("postgresql"):
            _run_once(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _run_once(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def race(app: Flask, first: Callable[[], object], second: Callable[[], object], *, hold: float = 0.5) -> dict[str, str]:
    """Run `first` in one connection and, while it still holds its transaction open, `second` in another.

    Each runs in its own unit of work; the result per side is "done" or the refusal's message.
    """
    results: dict[str, str] = {}
    holding = threading.Event()

    def run(name: str, operation: Callable[[], object], keep: float) -> None:
        with app.app_context():
            try:
                with unit_of_work():
                    operation()
                    if keep:
                        holding.set()
                        time.sleep(keep)  # the other side starts now and must wait for this commit
                results[name] = "done"
            except BillingError as exc:
                results[name] = exc.message
            finally:
                holding.set()
                db.session.remove()

    one = threading.Thread(target=run, args=("first", first, hold))
    two = threading.Thread(target=run, args=("second", second, 0))
    one.start()
    holding.wait(20)
    two.start()
    one.join(60)
    two.join(60)
    return results
