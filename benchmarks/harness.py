"""What the benchmark scripts share: a migrated scratch SQLite app, warmed median timings, and the script's own
section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so a script runs from anywhere

from app import create_app  # noqa: E402
from billing.core.db import db  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
T = TypeVar("T")


@contextmanager
def scratch_app() -> Iterator[Path]:
    """Inside an app context on a fresh SQLite file built with the migrations; yields its temporary folder."""
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only"}, instance_path=tmp)
        with app.app_context():
            flask_migrate.upgrade()
            try:
                yield Path(tmp)
            finally:
                db.engine.dispose()


def median_seconds(run: Callable[[], T], runs: int) -> tuple[float, T]:
    """The median of `runs` timed runs after one warm-up, and the last run's result."""
    timings, value = [], None
    for attempt in range(runs + 1):
        value = None  # the previous run's result must not be alive (and scanned by the GC) during this one
        db.session.expire_all()  # every run loads from the database, as the real operation does
        started = time.perf_counter()
        value = run()
        if attempt:  # the first run warms SQLite's page cache and is not counted
            timings.append(time.perf_counter() - started)
    return statistics.median(timings), value  # type: ignore[return-value]


def update_section(script: str, header: str, intro: Callable[[], str], rows: Sequence[str], *,
                   key_cells: int = 2) -> None:
    """Put `rows` in `script`'s section of RESULTS.md (made with `intro` the first time), replacing the rows whose
    first `key_cells` cells (backend, size...) are the same and keeping the others."""
    begin, end = f"<!-- {script}:begin -->", f"<!-- {script}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    if begin not in text:
        text = text.rstrip("\n") + "\n\n" + intro() + f"{begin}\n{header}\n{end}\n"
    head, rest = text.split(begin, 1)
    body, tail = rest.split(end, 1)
    keys = {tuple(row.split("|")[1:1 + key_cells]) for row in rows}
    kept = [x for x in body.strip().splitlines()[2:]
            if x.startswith("|") and tuple(x.split("|")[1:1 + key_cells]) not in keys]
    RESULTS.write_text(f"{head}{begin}\n{header}\n" + "\n".join([*kept, *rows]) + f"\n{end}{tail}")
    print(f"updated {RESULTS.relative_to(ROOT)}")
