"""Hostile arguments to every `flask` command: exit 0, 1 or 2 with one line, never a traceback, and nothing
written when the command refused (issue 14, item 8).

The commands come from the app's own click groups, so a command added later is fuzzed without anyone listing
it. Only commands that administer the database itself or run until stopped are left out (`SKIPPED`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app import create_app
from billing.cli.output import UNEXPECTED
from billing.core.db import db
from tests.worlds.hostile import (
    AMOUNTS,
    DATES,
    EVERYTHING,
    fingerprint,
    hostile_world,
    kind_of,
)
from tests.worlds.practice import World

#: Alembic's own commands (a fuzzed `db downgrade` would drop the schema), the scheduler's run loop, and the
#: demo seeder (minutes of inserts); each is exercised by its own tests.
SKIPPED = {("db",), ("scheduler", "run"), ("seed-demo",)}
EXAMPLES = 8
#: A failure prints its example as generated: shrinking costs minutes and adds little here.
NO_SHRINK = (Phase.explicit, Phase.generate)
LEAKS = ("Traceback", "[SQL:", "[parameters:", "sqlalchemy.", "psycopg", "sqlite3.", UNEXPECTED)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        here = (*path, name)
        if any(here[: len(s)] == s for s in SKIPPED):
            continue
        if isinstance(command, click.Group):
            found += _commands(command, here)
        else:
            found.append((here, command))
    return found


COMMANDS = _commands(create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}).cli)


def _files(tmp: Path) -> list[str]:
    """Files a path argument may be given: hostile contents, and one that does not exist."""
    contents = {"nul.txt": b"ISA*\x00*", "deep.json": ("[" * 500 + "]" * 500).encode(), "empty.835": b"",
                "notutf8.835": b"\xff\xfe\x00ISA", "big.json": json.dumps({"rules": ["x" * 10_000]}).encode(),
                "deepobj.json": ('{"a": ' * 500 + "1" + "}" * 500).encode()}
    for name, data in contents.items():
        (tmp / name).write_bytes(data)
    return [str(tmp / n) for n in contents] + [str(tmp / "missing.835"), str(tmp)]


def _values(param: click.Parameter, files: list[str], out: str) -> st.SearchStrategy[str]:
    name = param.name or ""
    if isinstance(param.type, click.Path):
        return st.sampled_from([out] if name == "output" else files)
    if isinstance(param.type, click.DateTime):
        return st.sampled_from(DATES)
    if "amount" in name:
        return st.sampled_from(AMOUNTS)
    return st.sampled_from(kind_of(name) + EVERYTHING[::3] + ["C-000001", "claims"])


def _argv(command: click.Command, files: list[str], out: str) -> st.SearchStrategy[list[str]]:
    @st.composite
    def argv(draw: st.DrawFn) -> list[str]:
        words: list[str] = []
        for param in command.params:
            if isinstance(param, click.Argument):
                count = 1 if param.nargs == 1 else draw(st.integers(1, 3))
                words += [draw(_values(param, files, out)) for _ in range(count)]
            elif isinstance(param, click.Option) and (param.required or draw(st.booleans())):
                flag = param.opts[0]
                if param.is_flag:
                    words.append(flag)
                else:
                    words += [flag, draw(_values(param, files, out))]
        # "--" ends the options, so a hostile "-1" is an argument, as a script would pass it.
        options = [w for i, w in enumerate(words) if w.startswith("--") or (i and words[i - 1].startswith("--"))]
        arguments = [w for w in words if w not in options]
        return [*options, "--", *arguments] if arguments else options

    return argv()


@pytest.fixture
def flask(app: Flask) -> Any:
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_hostile_arguments_are_refused_in_one_line(flask: Any, world: World, tmp_path: Path, path: tuple[str, ...],
                                                   command: click.Command) -> None:
    hostile_world(world)
    db.session.commit()  # the commands share the test's session: a refusal's rollback must not take the world
    files, out = _files(tmp_path), str(tmp_path / "out.xlsx")

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, phases=NO_SHRINK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(argv=_argv(command, files, out), as_json=st.booleans())
    def invoke_hostile(argv: list[str], as_json: bool) -> None:
        json_flag = ["--json"] if as_json and any("--json" in p.opts for p in command.params) else []
        before = fingerprint()
        result = flask(*path, *json_flag, *argv)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code in (0, 1, 2), result.output
        for leak in LEAKS:
            assert leak not in result.output, result.output[-2000:]
        if result.exit_code != 0:
            assert fingerprint() == before, f"refused ({result.output.strip()[:200]}) yet the database changed"

    invoke_hostile()


def test_every_group_of_ours_is_fuzzed() -> None:
    groups = {p[0] for p, _ in COMMANDS}
    ours = {"claims", "payments", "edi", "submissions", "rules", "reports", "ledger", "users", "payers", "jobs"}
    assert ours <= groups


def test_an_unexpected_error_is_one_line_and_exit_1(app: Flask, flask: Any, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """What no refusal covers (here a database error carrying a patient's name) still prints one line."""
    from billing.cli import ledger

    def broken(*_: Any) -> None:
        raise RuntimeError("SELECT * FROM client WHERE last_name = 'Doe' [SQL: ...]")

    monkeypatch.setattr(ledger, "check_ledger", broken)
    for as_json in (False, True):
        result = flask("ledger", "check", *(["--json"] if as_json else []))
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "Doe" not in result.output
        assert len(result.output.strip().splitlines()) == 1
        if as_json:
            assert json.loads(result.output) == {"ok": False, "error": UNEXPECTED, "kind": "unexpected"}
    assert "RuntimeError" in caplog.text
    assert "Doe" not in caplog.text


def test_ids_on_the_command_line_are_strict(flask: Any) -> None:
    for hostile in ("²", "٣", "-1", "0", str(2**63), "1e3", "0x10"):
        result = flask("payments", "set-aside", "--reason", "x", "--", hostile)
        assert result.exit_code == 2, result.output
        assert "is not a record id" in result.output
