"""Test harness: one schema per run (built by the migrations), one rolled-back transaction per test.

`TEST_DATABASE_URL` picks the backend (default: a fresh SQLite file); CI runs the suite on SQLite
and again on PostgreSQL. Set `FAIL_ON_SKIP=1` to make any skipped test fail the run.

Tests marked `samples` read the public X12 samples in ../shared/x12-samples (tests/paths.py); where that
folder is absent they skip and say so. The shared worlds the fixtures here build live in tests/worlds/.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from admin_views.operations import KEY_FIELD as OPERATION_KEY
from app import create_app
from billing.core.db import db
from billing.core.operation_keys import new_operation_key
from billing.people.models import Role, User
from tests.paths import X12_SAMPLES
from tests.worlds import factories
from tests.worlds.factories import TEST_PASSWORD
from tests.worlds.practice import World, build_world

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = _database_url(tmp_path_factory)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "claimdesk.test",
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": False,
            # The fixtures log in thousands of times from one address, mostly as admins and billers without
            # an authenticator app; tests/admin_views/test_login_security.py turns each of these back on.
            "CLAIMDESK_MFA_REQUIRED": False,
            "CLAIMDESK_LOGIN_THROTTLE": False,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # a fresh schema: the migrations must build it from nothing
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, own db session), as in production.

    Flask reuses an app context that is already pushed, and the tests push one; without this,
    Flask-Login's cached user and the db session would leak from one request into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if kwargs.get("method") == "POST" and isinstance(data, dict) and OPERATION_KEY not in data:
            # Every money form carries a one-time key (billing.core.operation_keys); a test's POST is a form
            # loaded afresh, so it gets a new one. A test of repeats sends one key twice, of a missing key "".
            kwargs["data"] = {**data, OPERATION_KEY: new_operation_key()}
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Bind every session to one connection inside a transaction that is rolled back after the test.

    Flask-SQLAlchemy 3.1 has no recipe for this; swapping the engine for a connection in
    `db.engines` is the approach its maintainer suggested (pallets-eco/flask-sqlalchemy#1167).
    Sessions join with savepoints (billing.core.db), so the app's own commits and rollbacks stay inside.
    """
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
        try:
            yield
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token the app rendered for this client's session."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no csrf_token on {path}"
    return match.group(1) or match.group(2)


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., User]:
    """Log the test client in as a new user with the given role; returns the user."""

    def _login(role: Role | str = Role.ADMIN, **user_fields: Any) -> User:
        user = factories.UserFactory(role=Role(role), **user_fields)
        response = client.post(
            "/login",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


class QueryCounter:
    """Counts SQL statements sent to the database while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries() -> Iterator[Callable[[], QueryCounter]]:
    counters: list[QueryCounter] = []

    def start() -> QueryCounter:
        counter = QueryCounter()
        event.listen(Engine, "before_cursor_execute", counter)
        counters.append(counter)
        return counter

    yield start
    for counter in counters:
        event.remove(Engine, "before_cursor_execute", counter)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """CI must not pass with tests skipped for want of PostgreSQL (or anything else)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("FAIL_ON_SKIP") == "1" and skipped:
        print(f"\nFAIL_ON_SKIP: {skipped} test(s) were skipped.")
        session.exitstatus = 1


# --- the public X12 samples ---------------------------------------------------------------------------------

SAMPLES_MISSING = (
    "needs the public X12 samples in ../shared/x12-samples (the shared folder beside the checkout; CI always has it)"
)
#: Fixtures that hand a test the sample folder; a test using one must be marked `samples`.
SAMPLE_FIXTURES = {"samples_835"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [item.nodeid for item in items
                if SAMPLE_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("samples")]
    if unmarked:
        raise pytest.UsageError("these tests read the X12 samples; mark them @pytest.mark.samples: "
                                + ", ".join(unmarked))
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        # Deselected, not skipped: on SQLite these tests have nothing to check (CI fails a run with skips).
        kept = [item for item in items if not item.get_closest_marker("postgresql")]
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("postgresql")])
        items[:] = kept
    if not X12_SAMPLES.is_dir():
        skip = pytest.mark.skip(reason=f"{SAMPLES_MISSING}; looked in {X12_SAMPLES}")
        for item in items:
            if item.get_closest_marker("samples"):
                item.add_marker(skip)


@pytest.fixture
def samples_835() -> Path:
    """The public 835 samples (the test must be marked `samples`)."""
    return X12_SAMPLES / "835"


# --- shared worlds and folders ------------------------------------------------------------------------------

@pytest.fixture
def world() -> World:
    """A fresh practice (tests/worlds/practice.py), rolled back with the test's transaction."""
    return build_world()


@pytest.fixture
def instance_in_tmp(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports and lock files go to instance/; keep each test's in its own folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
