"""`flask reports list` and `flask reports export` through the CLI runner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.core.db import db
from billing.jobs.models import ReportDownload
from tests.worlds.sheets import open_workbook, sheet

pytestmark = pytest.mark.usefixtures("instance_in_tmp")  # exports and locks go to instance/


@pytest.fixture
def reports(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["reports", *args])


def test_list_names_every_report_with_its_title(reports):
    result = reports("list")
    assert result.exit_code == 0
    assert "claims" in result.output
    assert "Authorization Utilization" in result.output


def test_export_writes_the_filtered_report(reports, world, tmp_path):
    claim = world.claim()
    db.session.commit()
    target = tmp_path / "claims.xlsx"
    result = reports("export", "claims", "--from", "2026-03-01", "--to", "2026-03-31", "--company",
                     str(world.company.id), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "1 rows" in result.output
    read = sheet(open_workbook(str(target)), "Claims")
    assert read.column("Claim") == [claim.number]
    assert "Dates: 2026-03-01 to 2026-03-31" in read.title_lines[2]
    logged = db.session.scalars(select(ReportDownload)).one()
    assert logged.actor.startswith("system:cli:")
    assert (logged.report, logged.row_count, logged.filters["file"]) == ("claims", 1, str(target))


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "There is no report named 'nope'"),
    (["claims", "--from", "2026-03-31", "--to", "2026-03-01"], "before the start date"),
    (["claims", "--from", "31/03/2026"], "Invalid value for '--from'"),
])
def test_bad_input_exits_non_zero_and_writes_nothing(reports, tmp_path, args, message):
    target = tmp_path / "out.xlsx"
    result = reports("export", *args, "-o", str(target))
    assert result.exit_code != 0
    assert message in result.output
    assert not target.exists()
    assert db.session.scalars(select(ReportDownload)).all() == []


def test_list_has_all_ten_reports(reports):
    names = [line.split()[0] for line in reports("list").output.splitlines()]
    assert names == ["claims", "claim-denials", "revenue", "ar-aging", "failed-charges", "remittances",
                     "authorization-utilization", "credit-balances", "filing-proof", "access"]


@pytest.mark.parametrize("name", ["claims", "claim-denials", "revenue", "ar-aging", "failed-charges", "remittances",
                                  "authorization-utilization", "credit-balances", "filing-proof"])
def test_every_report_exports_to_a_readable_workbook(reports, world, tmp_path, name):
    from tests.worlds.money import build_money_world

    build_money_world(world)
    db.session.commit()
    target = tmp_path / f"{name}.xlsx"
    result = reports("export", name, "--company", str(world.company.id), "-o", str(target))
    assert result.exit_code == 0, result.output
    book = open_workbook(str(target))
    first = sheet(book, book.sheetnames[0])
    assert first.title_lines[1] == f"Company: {world.company.legal_name}"
    assert first.totals()[0] == "Total"


def test_the_access_report_exports_and_the_export_is_itself_logged(reports, world, tmp_path):
    """The access log is not per company: the Access report lists every row, and writing it is an access too."""
    from billing.core.access_log import AccessEntry, AccessKind, Subject

    target = tmp_path / "access.xlsx"
    assert reports("export", "claims", "-o", str(tmp_path / "claims.xlsx")).exit_code == 0
    result = reports("export", "access", "-o", str(target))
    assert result.exit_code == 0, result.output
    details = sheet(open_workbook(str(target)), "Access").column("Filters / file")
    assert any(str(d).startswith("claims -> ") for d in details)  # the first export, as the log has it
    logged = db.session.scalars(select(AccessEntry).order_by(AccessEntry.id)).all()
    assert [(e.kind, e.subject_type) for e in logged] == [(AccessKind.EXPORTED, Subject.REPORT)] * 2
    assert all(e.actor.startswith("system:cli:") for e in logged)
