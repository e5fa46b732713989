"""Statement cycles on paper: one PDF per statement and a CSV for a mail vendor, then the history.

Views, the `flask statements` commands and the monthly job call one function here each; the statements come from
billing/ledger/statements.py, the drawing from exports/pdf/statement.py.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import ColumnElement

from billing.core.audit import Actor
from billing.core.errors import Invalid, NotFound, Problem
from billing.ledger.statements import Statement, StatementCycle, build_cycle, record_cycle, statement_for
from exports.pdf.statement import write_statement_pdf
from exports.workbook import is_formula_like, private_file

MAIL_COLUMNS = ["statement", "account", "recipient", "address_line1", "address_line2", "city", "state", "zip",
                "amount_due", "due_on", "statement_date", "dunning_days", "file"]


@dataclass
class CycleFiles:
    """A cycle written to a folder: its statements, the PDFs and the mail vendor's CSV."""

    cycle: StatementCycle
    folder: Path
    dry_run: bool
    pdfs: list[Path] = field(default_factory=list)
    csv: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "dry_run": self.dry_run, "folder": str(self.folder),
                "csv": str(self.csv) if self.csv else None, "files": [p.name for p in self.pdfs],
                **self.cycle.as_dict()}


def statements_root() -> Path:
    """Where cycles run from the page and the monthly job keep their files: instance/statements/."""
    return Path(current_app.instance_path) / "statements"


def statement_folder(day: date) -> Path:
    return statements_root() / f"{day:%Y-%m-%d}"


def pdf_name(statement: Statement) -> str:
    return f"{statement.number}.pdf"


def _cell(value: str) -> str:
    # A mail vendor opens the file in a spreadsheet: a name starting with "=" must stay text (CSV injection).
    return f"'{value}" if is_formula_like(value) else value


def mail_rows(statements: list[Statement]) -> list[list[str]]:
    return [[_cell(v) for v in (s.number, s.account, s.address.name, s.address.line1, s.address.line2,
                                s.address.city, s.address.state, s.address.zip_code)]
            + [str(s.amount_due), s.due_on.isoformat(), s.statement_on.isoformat(),
               "" if s.dunning is None else str(s.dunning.min_days), pdf_name(s)]
            for s in statements]


def write_mail_csv(statements: list[Statement], target: IO[str]) -> None:
    writer = csv.writer(target, lineterminator="\r\n")
    writer.writerow(MAIL_COLUMNS)
    writer.writerows(mail_rows(statements))


def mail_csv_bytes(statements: list[Statement]) -> bytes:
    buffer = io.StringIO()
    write_mail_csv(statements, buffer)
    return buffer.getvalue().encode("utf-8")


def run_statement_files(folder: str | Path, *, today: date, actor: Actor, dry_run: bool = False,
                        minimum: Decimal | None = None, where: Iterable[ColumnElement[bool]] = ()) -> CycleFiles:
    """Build today's cycle, write each statement's PDF and the mail CSV into `folder`, then (unless `dry_run`)
    record the statements in the history: a run that fails writing files records nothing."""
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise Invalid(f"{out} is a file, not a folder.", [Problem("output", "Give a folder for the statements.")])
    out.mkdir(parents=True, exist_ok=True)
    cycle = build_cycle(today=today, minimum=minimum, where=where)
    files = CycleFiles(cycle, out, dry_run)
    for statement in cycle.statements:
        path = out / pdf_name(statement)
        write_statement_pdf(statement, path)
        files.pdfs.append(path)
    files.csv = out / f"statements-{today:%Y%m%d}.csv"
    private_file(files.csv)
    with files.csv.open("w", encoding="utf-8", newline="") as handle:
        write_mail_csv(cycle.statements, handle)
    if not dry_run:
        record_cycle(cycle, actor=actor)
    return files


def statement_preview(client_id: int, target: str | Path | IO[bytes], *, today: date) -> Statement:
    """The statement the client's responsible party would get today, as a PDF (nothing recorded)."""
    statement = statement_for(client_id, today=today)
    write_statement_pdf(statement, target)
    return statement


#: A cycle's folder: the job's is the day (2026-09-01), a run from the page adds the time (2026-09-01-143015).
CYCLE_NAME = re.compile(r"\d{4}-\d{2}-\d{2}(-\d{6})?")


@dataclass(frozen=True)
class CycleFolder:
    name: str
    statements: int
    csv: str | None


def cycle_folders() -> list[CycleFolder]:
    """The cycles on disk, newest first."""
    root = statements_root()
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and CYCLE_NAME.fullmatch(p.name)]
    return [CycleFolder(p.name, len(list(p.glob("*.pdf"))), next((c.name for c in p.glob("*.csv")), None))
            for p in sorted(found, key=lambda p: p.name, reverse=True)]


def _cycle_path(name: str) -> Path:
    """A cycle folder by name; anything that is not one (a path, "..") is "not found"."""
    path = statements_root() / name
    if not CYCLE_NAME.fullmatch(name) or not path.is_dir():
        raise NotFound(f"No statement cycle {name[:40]!r}.")
    return path


def cycle_zip(name: str) -> bytes:
    """Every PDF and the CSV of one cycle, in one ZIP (what the page downloads)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_cycle_path(name).iterdir()):
            if path.suffix in (".pdf", ".csv"):
                archive.write(path, path.name)
    return buffer.getvalue()


def cycle_csv(name: str) -> tuple[str, bytes]:
    """The mail vendor's CSV of one cycle: (file name, content)."""
    path = next(_cycle_path(name).glob("*.csv"), None)
    if path is None:
        raise NotFound(f"The cycle {name} has no CSV.")
    return path.name, path.read_bytes()
