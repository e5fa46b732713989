"""The workbook writer: title block, frozen header, autofilter, formats, totals, widths, injection guard."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import fast_rows
from exports.columns import Chart, Column, Kind, Sheet, TitleBlock
from exports.workbook import ACCOUNTING, DATE_FORMAT, write_workbook
from tests.worlds.sheets import HEADER_ROW, as_money, open_workbook, sheet

TITLE = TitleBlock("Claims", "Test Therapy LLC", [("Status", "Ready")], datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
                   "ann@example.test")
COLUMNS = (Column("Claim"), Column("Service date", Kind.DATE), Column("Units", Kind.INTEGER, total=True),
           Column("Billed", Kind.MONEY, total=True))
ROWS = [("C-000001", date(2026, 3, 2), 4, Decimal("73.48")), ("C-000002", date(2026, 3, 3), 2, Decimal("-0.05"))]
REAL_INSTALL = fast_rows.install
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True, params=["fast", "plain"])
def row_writer(request, monkeypatch):
    """Every test runs twice: rows spliced in as text (exports.fast_rows) and through plain openpyxl appends,
    the fallback for an openpyxl whose internals moved. Both must give the same workbook."""
    if request.param == "plain":
        monkeypatch.setattr(fast_rows, "install", lambda *args, **kwargs: None)
    return request.param


def test_this_openpyxl_takes_the_fast_path(monkeypatch):
    installed = []
    monkeypatch.setattr(fast_rows, "install", lambda *a: installed.append(REAL_INSTALL(*a)) or installed[-1])
    written([Sheet("Claims", COLUMNS, ROWS)])
    assert installed
    assert all(raw is not None for raw in installed)  # a silent fallback would cost reports 5x their time


def written(sheets: list[Sheet]) -> io.BytesIO:
    out = io.BytesIO()
    write_workbook(sheets, out, TITLE)
    out.seek(0)
    return out


def test_title_block_names_report_company_filters_time_and_person():
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, ROWS)])), "Claims")
    assert read.title_lines == [
        "Claims", "Company: Test Therapy LLC", "Filters: Status: Ready",
        "Generated 2026-03-02 09:30 UTC by ann@example.test",
    ]
    assert read.ws["A1"].font.b


def test_header_is_frozen_bold_and_filterable():
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, ROWS)])), "Claims")
    assert read.header == ["Claim", "Service date", "Units", "Billed"]
    assert read.ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert read.ws.auto_filter.ref == f"A{HEADER_ROW}:D{HEADER_ROW + 2}"
    assert all(cell.font.b for cell in read.ws[HEADER_ROW])


def test_money_is_a_number_in_accounting_format_and_dates_are_dates():
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, ROWS)])), "Claims")
    billed, day = read.cell(0, "Billed"), read.cell(0, "Service date")
    assert billed.data_type == "n"
    assert billed.number_format == ACCOUNTING
    assert as_money(billed.value) == Decimal("73.48")
    assert day.is_date
    assert day.number_format == DATE_FORMAT
    assert day.value.date() == date(2026, 3, 2)


def test_totals_row_sums_money_and_units_exactly():
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, ROWS)])), "Claims")
    assert read.totals()[0] == "Total"
    assert read.totals()[2] == 6
    assert as_money(read.totals()[3]) == Decimal("73.43")
    assert read.ws.cell(read.ws.max_row, 4).number_format == ACCOUNTING


def test_widths_fit_the_longest_value():
    long_name = "Rehabilitation Associates of Greater Springfield"
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, [(long_name, None, 1, Decimal("1.00"))])])), "Claims")
    assert read.ws.column_dimensions["A"].width >= len(long_name)
    assert read.ws.column_dimensions["D"].width >= len("$ 1.00")


def test_an_empty_sheet_still_has_its_header_and_a_zero_total():
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, [])])), "Claims")
    assert read.header == ["Claim", "Service date", "Units", "Billed"]
    assert read.data_rows() == []
    assert read.totals()[2] == 0


def test_floats_are_refused_for_money():
    with pytest.raises(TypeError, match="never float"):
        written([Sheet("Claims", COLUMNS, [("C-1", None, 1, 0.1)])])


def test_a_chart_is_drawn_over_the_sheet_rows():
    book = open_workbook(written([Sheet("Claims", COLUMNS, ROWS, charts=[Chart("Billed by claim", 0, (3,))])]))
    assert len(book["Claims"]._charts) == 1


def test_sheet_names_lose_characters_excel_forbids():
    book = open_workbook(written([Sheet("Denials: by payer/reason [2026]", COLUMNS, ROWS)]))
    assert book.sheetnames == ["Denials  by payer reason  2026 "[:31]]


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-2+3", "@SUM(A1)", "=1+1"])
def test_formula_like_text_stays_text(text):
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, [(text, None, 1, Decimal("1.00"))])])), "Claims")
    cell = read.cell(0, "Claim")
    assert cell.value == text
    assert cell.data_type == "s"
    assert cell.quotePrefix


@HYPOTHESIS
@given(st.text(max_size=40))
def test_any_text_reads_back_as_the_same_text_never_a_formula(text):
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, [(text, None, 1, Decimal("1.00"))])])), "Claims")
    cell = read.cell(0, "Claim")
    expected = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)
    assert cell.data_type != "f"
    assert (cell.value or "") == expected


@HYPOTHESIS
@given(st.lists(st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2),
                max_size=30))
def test_money_cells_and_totals_hold_exact_cents(amounts):
    rows = [(f"C-{i}", None, 1, amount) for i, amount in enumerate(amounts)]
    read = sheet(open_workbook(written([Sheet("Claims", COLUMNS, rows)])), "Claims")
    assert [as_money(v) for v in read.column("Billed")] == amounts
    assert as_money(read.totals()[3]) == sum(amounts, Decimal("0.00"))
