"""Submissions at scale: every Ready claim of a seeded demo built into batches, validated and marked sent.

    .venv/bin/python benchmarks/bench_submissions_scale.py --database-url postgresql+psycopg://.../claimdesk_scale \
        --seed-scale 100

`--seed-scale N` first runs `flask seed-demo --scale N` into the (empty, migrated) database; without it the database
must hold a demo not yet submitted (the run sends its Ready claims, so a second run finds none). Then, in this
process and timed apart: `generate_in_steps` for every EDI payer, the path of `flask submissions create --all` (the
rules over the Ready claims and the plan in one unit of work, then each batch, capped at its clearinghouse's
`max_claims_per_file` and validated by pyx12 in worker processes, in its own, the next batch read and written while
one validates), then `mark_batch_sent` for each batch in its own. Peak memory is this process's maximum resident
set, also read once the plan is made (before any batch); the pyx12 workers are separate processes (a child's maximum
resident set counts its parent's pages from before its exec, so it is not reported). PostgreSQL's server CPU is that
of the backends this process used, read from /proc (the server must be on this machine), in all and apart for the
generation and the marking sent. Not part of
`make bench` (a scale-100 seed alone takes minutes): `make bench-scale` runs it.

Targets (issue 20): any count works; at most 2 ms per claim wall clock; at most 300 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.submissions.builds import generate_in_steps  # noqa: E402
from billing.submissions.operations import mark_batch_sent  # noqa: E402

HEADER = (
    "| Backend | Seed scale | Claims batched | Batches | Generate + validate (s) | Mark sent (s) | Total (s) "
    "| ms per claim: generate / total | CPU s: generate (this process + pyx12 workers) / mark sent "
    "| CPU ms per claim: generate / total | PostgreSQL server CPU s: all (generate / mark sent) | Load average "
    "| Peak RSS (MB): after the plan / whole run | Target "
    "| Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
)
ACTOR = Actor.system("bench")
TARGET_MS, TARGET_MB = 2.0, 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL (or SQLite) database to use up")
    parser.add_argument("--seed-scale", type=int, default=None, help="seed the demo at this scale first")
    parser.add_argument("--label-scale", type=int, default=None, help="the scale a database seeded beforehand has")
    args = parser.parse_args(argv)
    if args.seed_scale:
        _seed(args.database_url, args.seed_scale)
        # Measured in a process of its own: the seed's memory (a child of this one) must not count.
        again = [sys.executable, __file__, "--database-url", args.database_url, "--label-scale", str(args.seed_scale)]
        return subprocess.run(again, check=False).returncode  # noqa: S603 - this script, again
    # The seeded demo keeps its published logins: allowed, as for `make run`.
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench-only", "CLAIMDESK_DEMO": True})
    with app.app_context():
        result = _measure()
        backend = db.engine.dialect.name
    result["scale"] = args.seed_scale or args.label_scale or 0
    result["backend"] = "PostgreSQL" if backend == "postgresql" else "SQLite"
    print(result)
    update_section("bench_submissions_scale", HEADER, _intro, [_row(result)])
    return 0


def _seed(url: str, scale: int) -> None:
    env = {**os.environ, "FLASK_APP": "app", "FLASK_SQLALCHEMY_DATABASE_URI": url, "PYTHONPATH": str(ROOT),
           "FLASK_SECRET_KEY": os.environ.get("FLASK_SECRET_KEY", "bench-only-secret-key")}  # fmt: skip
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT)  # noqa: S603 - our own CLI
    subprocess.run([*flask, "seed-demo", "--scale", str(scale)], env=env, check=True, cwd=ROOT)  # noqa: S603


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children (the pyx12 workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends this process talks to (read from /proc: the server is on this machine).

    A backend is seen when this process asks for its pid (once at the start, once per batch): one first seen
    later was opened during the run, so all of its CPU counts. Nothing on SQLite, or with a server elsewhere."""

    def __init__(self) -> None:
        self.start: dict[int, float] = {}
        self.seen: set[int] = set()
        self.see(first=True)

    def see(self, *, first: bool = False) -> None:
        if db.session.get_bind().dialect.name != "postgresql":
            return
        pid = int(db.session.scalar(text("select pg_backend_pid()")) or 0)
        if first:
            self.start[pid] = _proc_cpu(pid)
        self.seen.add(pid)

    def used(self) -> float:
        return sum(_proc_cpu(pid) - self.start.get(pid, 0.0) for pid in self.seen)


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def _measure() -> dict[str, float | int]:
    server = _ServerCpu()
    db.session.commit()
    cpu_before = _cpu()
    started = time.perf_counter()
    counts: list[int] = []
    planned_mb: list[float] = []  # the peak once the rules ran and the plan is made, before any batch

    def planned(_plan: object) -> None:
        planned_mb.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    def each(batch: object, _claims: int) -> None:
        server.see()
        if batch is not None:
            counts.append(batch.claim_count)  # type: ignore[attr-defined]

    generation = generate_in_steps(actor=ACTOR, each=each, planned=planned)
    batches = list(zip(generation.batch_ids, counts, strict=True))
    built = time.perf_counter()
    cpu_built = _cpu()  # the workers were all waited for: their CPU is counted
    server_built = server.used()
    db.session.remove()  # the generation's objects go: marking sent loads each batch afresh, as the CLI does
    for batch_id, _ in batches:
        with unit_of_work():
            mark_batch_sent(batch_id, actor=ACTOR)
            server.see()
        db.session.remove()
    finished = time.perf_counter()
    cpu_after = _cpu()
    claims = sum(count for _, count in batches)
    return {
        "cpu": cpu_built[0] - cpu_before[0], "workers_cpu": cpu_built[1] - cpu_before[1],
        "mark_cpu": sum(cpu_after) - sum(cpu_built), "server_cpu": server.used(), "server_built": server_built,
        "load": os.getloadavg()[0],
        "claims": claims, "batches": len(batches), "generate": built - started, "mark": finished - built,
        "total": finished - started, "ms_per_claim": 1000 * (finished - started) / max(claims, 1),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "planned_mb": planned_mb[0] if planned_mb else 0,
    }  # fmt: skip


def _intro() -> str:
    return (
        "## Submissions at scale: every Ready claim of a seeded demo, batched, validated and marked sent\n\n"
        "`benchmarks/bench_submissions_scale.py` (run by `make bench-scale`, not `make bench`) takes a database "
        "seeded with `seed-demo --scale N`, builds batches for every EDI payer as `flask submissions create --all` "
        "does (the rules and the plan in one unit of work, then each batch in its own: files capped per "
        "clearinghouse, each validated by pyx12 in worker processes, a transaction per worker), then marks each "
        "batch sent in its own. Targets (issue 20): any count works, at most 2 ms per claim wall clock for the "
        "generation, at most 300 MB. The machine is shared: the load average is the 1-minute one at the end, and "
        "CPU seconds are the steadier figure.\n\n"
        "```sh\nmake bench-scale   # BENCH_SCALE_DATABASE_URL=postgresql+psycopg://... (an empty database)\n```\n\n"
    )


def _row(r: dict[str, float | int | str]) -> str:
    ms, mb, claims = float(r["ms_per_claim"]), float(r["rss_mb"]), max(int(r["claims"]), 1)
    cpu, workers_cpu, mark_cpu = float(r["cpu"]), float(r["workers_cpu"]), float(r["mark_cpu"])
    generate_ms = 1000 * float(r["generate"]) / claims
    verdict = (f"≤ {TARGET_MS:g} ms/claim (generate): {'met' if generate_ms <= TARGET_MS else 'missed'}; "
               f"≤ {TARGET_MB} MB: {'met' if mb <= TARGET_MB else 'missed'}")  # fmt: skip
    cells = [r["backend"], f"{r['scale']}", f"{r['claims']:,}", f"{r['batches']}", f"{r['generate']:.1f}",
             f"{r['mark']:.1f}", f"{r['total']:.1f}", f"{generate_ms:.2f} / {ms:.2f}",
             f"{cpu:.1f} + {workers_cpu:.1f} / {mark_cpu:.1f}",
             f"{1000 * (cpu + workers_cpu) / claims:.2f} / {1000 * (cpu + workers_cpu + mark_cpu) / claims:.2f}",
             _server(r), f"{float(r['load']):.1f}", f"{float(r['planned_mb']):.0f} / {mb:.0f}",
             verdict, machine_label(), date.today().isoformat()]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _server(r: dict[str, float | int | str]) -> str:
    """All of the server's CPU, then its generation's and its marking's apart (what grew with the tables)."""
    total, built = float(r["server_cpu"]), float(r["server_built"])
    return f"{total:.1f} ({built:.1f} / {total - built:.1f})"


if __name__ == "__main__":
    sys.exit(main())
