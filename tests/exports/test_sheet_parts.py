"""A sheet longer than Excel opens goes on in numbered parts, and the totals row sums every part."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exports import workbook
from exports.columns import Column, Kind, Sheet, TitleBlock
from tests.worlds.sheets import open_workbook

TITLE = TitleBlock("Claims", "Sunrise Therapy", [], datetime(2026, 3, 20, 15, 0, tzinfo=UTC), "test")


def _rows(n: int):
    return ((f"C-{i:06d}", Decimal(i) / 100) for i in range(1, n + 1))


def _write(rows, *, limit: int, monkeypatch) -> tuple[list[int], object]:
    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", limit)
    out = io.BytesIO()
    sheet = Sheet("Claims", (Column("Claim"), Column("Billed", Kind.MONEY, total=True)), rows)
    counts = workbook.write_workbook([sheet], out, TITLE)
    out.seek(0)
    return counts, open_workbook(out)


def _data(ws) -> list[tuple]:
    values = [row for row in ws.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row[0] == "Claim")
    return values[header + 1:]


@pytest.mark.parametrize("fast", [True, False])
def test_rows_past_the_limit_go_on_in_parts_with_one_total_over_all(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(workbook.fast_rows, "install", lambda *args, **kwargs: None)
    # 7 title/header rows + 2 kept back: 20 rows leave room for 11 data rows per part.
    counts, book = _write(_rows(25), limit=20, monkeypatch=monkeypatch)
    assert counts == [25]
    assert book.sheetnames == ["Claims", "Claims (2)", "Claims (3)"]
    first, second, third = (_data(book[name]) for name in book.sheetnames)
    assert first[-1][0] == "Continued on sheet 'Claims (2)'."
    assert second[-1][0] == "Continued on sheet 'Claims (3)'."
    claims = [r[0] for r in first[:-1] + second[:-1] + third[:-1]]
    assert claims == [f"C-{i:06d}" for i in range(1, 26)]  # every row once, in order
    assert third[-1] == ("Total", sum(Decimal(i) for i in range(1, 26)) / 100)
    part_line = [row[0] for row in book["Claims (2)"].iter_rows(values_only=True) if row[0]][4]
    assert part_line.startswith("Part 2 of this sheet, continued from 'Claims'")
    for ws in (book[name] for name in book.sheetnames):
        assert ws.max_row <= 20


def test_a_sheet_that_fits_is_one_sheet(monkeypatch):
    counts, book = _write(_rows(11), limit=20, monkeypatch=monkeypatch)
    assert counts == [11]
    assert book.sheetnames == ["Claims"]
    assert _data(book["Claims"])[-1][0] == "Total"


def test_long_sheet_names_keep_their_part_number_within_excels_31_characters():
    assert workbook._part_title("Claims by rendering provider and payer", 12) == "Claims by rendering provid (12)"
