"""The app the browser tests drive: a scratch SQLite database built by the migrations, the demo seeded into it with
`flask seed-demo`, served by werkzeug on a free loopback port in a thread of the test process.

It never uses TEST_DATABASE_URL: the browser suite always has a database of its own, so it runs the same on the
SQLite and the PostgreSQL pass of CI (and .ci/run runs it once, in its own step).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app import create_app
from billing.core.db import db

#: The demo's size: the smallest (60 clients, ~1,000 sessions), enough for every seeded workflow.
DEMO_SCALE = 1


@dataclass(frozen=True)
class LiveServer:
    app: Flask | None  # None: BROWSER_TEST_URL named an app serving elsewhere
    url: str


def build_app(folder: Path) -> Flask:
    """The app as `make run` serves it (CLAIMDESK_DEMO=1: demo logins, optional two-factor), without the login
    throttle (every test logs in from 127.0.0.1)."""
    app = create_app(
        {
            "SECRET_KEY": "browser-tests-only",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.sqlite'}",
            "CLAIMDESK_DEMO": True,
            "CLAIMDESK_MFA_REQUIRED": False,
            "CLAIMDESK_LOGIN_THROTTLE": False,
        },
        instance_path=str(folder),
    )
    with app.app_context():
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["seed-demo", "--scale", str(DEMO_SCALE)])
        db.session.remove()
    if result.exit_code != 0:
        raise RuntimeError(f"flask seed-demo failed: {result.output}")
    return app


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (a page is twenty of them); errors still reach the log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` on 127.0.0.1 (a free port) until the block ends."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-tests-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
