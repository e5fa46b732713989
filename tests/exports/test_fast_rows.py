"""exports.fast_rows' one-pass row writer (`write_rows`) against the general path it short-cuts (each value converted
by the column writer, then formatted by `write`): the same XML, cell for cell, and the same totals, for any value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import to_excel

from billing.core.money import ZERO
from exports import fast_rows
from exports.columns import Column, Kind
from exports.workbook import FORMULA_TRIGGERS, _ColumnWriter, is_formula_like

COLUMNS = (
    Column("Text"), Column("Billed", Kind.MONEY, total=True), Column("Day", Kind.DATE),
    Column("Units", Kind.INTEGER, total=True), Column("Memo"), Column("Paid", Kind.MONEY),
)
STYLES = {"money": 7, "date": 8, "quoted": 9}
#: Characters each of which takes a different turn somewhere: formula triggers, XML specials, whitespace inside and
#: at the ends, control characters XML cannot carry, non-ASCII letters and spaces.
TRICKY = [" ", "=", "+", "-", "@", "&", "<", ">", "\t", "\r", "\n", "a", "Z", "9", "'", "é", "\x01", "\x0b", "\x7f",
          "\u00a0", "\u2028", "\U0001f600", '"', ";"]


def _writers() -> list[_ColumnWriter]:
    return [_ColumnWriter(c, None, ZERO if c.kind is Kind.MONEY else 0) for c in COLUMNS]


def _raw() -> fast_rows.RawRows:
    return fast_rows.RawRows([c.kind for c in COLUMNS], STYLES, 5, is_formula_like, FORMULA_TRIGGERS)


def _text(raw: fast_rows.RawRows) -> str:
    raw.file.seek(0)
    text = raw.file.read()
    raw.file.close()
    return text


def both_ways(rows: list[tuple[Any, ...]]) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]]]:
    """(XML, totals) from write_rows, and from converting and writing each row on its own."""
    fast, fast_writers = _raw(), _writers()

    def add_total(index: int, amount: Any) -> None:
        fast_writers[index].total += amount

    def convert(index: int, value: Any) -> Any:
        return fast_writers[index].convert(value)

    written = fast.write_rows(COLUMNS, add_total, iter(rows), convert, None, 1000)
    assert written == len(rows)
    assert fast.next_row == 5 + len(rows)
    plain, plain_writers = _raw(), _writers()
    for row in rows:
        plain.write([w.convert(v) for w, v in zip(plain_writers, row, strict=True)])
    return (_text(fast), [w.total for w in fast_writers]), (_text(plain), [w.total for w in plain_writers])


def _same(rows: list[tuple[Any, ...]]) -> None:
    fast, plain = both_ways(rows)
    assert fast[0] == plain[0]
    assert fast[1] == plain[1]
    assert [str(t) for t in fast[1]] == [str(t) for t in plain[1]]  # the same cents, written the same way


def test_every_short_string_of_tricky_characters_is_written_as_the_general_path_writes_it():
    texts = ["", *TRICKY, *("".join(p) for p in product(TRICKY, repeat=2)),
             *("".join(p) for p in product(TRICKY[:12], repeat=3))]
    _same([(text, None, None, None, f"x{text}y", None) for text in texts])


def test_every_date_from_excels_first_day_to_2100_has_openpyxls_serial():
    days = [date(1899, 12, 30) + timedelta(days=n) for n in range((date(2100, 1, 1) - date(1899, 12, 30)).days)]
    fast, _plain = both_ways([("d", None, day, None, None, None) for day in days])
    for day, row in zip(days, fast[0].split("</row>"), strict=False):
        assert f"<v>{to_excel(day)}</v>" in row
    _same([("d", None, day, None, None, None) for day in days])


def test_money_is_exact_to_the_cent_and_totalled_like_the_column_writer():
    amounts = [Decimal("73.48"), Decimal("-0.05"), Decimal("0.005"), Decimal("-0.005"), Decimal("1.00"), Decimal("1"),
               Decimal("9999999999.99"), Decimal("-0"), Decimal("12.345"), Decimal("1E+2"), Decimal("2.50000"), 7, 0]
    _same([("m", amount, None, 3, None, amount) for amount in amounts])


def test_values_of_other_types_take_the_general_path():
    rows = [
        ("=SUM(A1)", Decimal("1.10"), datetime(2026, 3, 2, 9, 30, tzinfo=UTC), True, 12, None),
        (42, None, datetime(2026, 3, 2, 9, 30), 2, " padded ", None),
        (None, None, None, None, None, None),
        ("plain", Decimal("2.20"), date(1900, 2, 28), -4, "a & b < c", Decimal("3")),
    ]
    _same(rows)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.text(), st.integers()),
    st.one_of(st.none(), st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, places=3),
              st.integers(-99, 99)),
    st.one_of(st.none(), st.dates(), st.datetimes()),
    st.one_of(st.none(), st.integers()),
    st.one_of(st.none(), st.text(alphabet=st.sampled_from(TRICKY))),
    st.one_of(st.none(), st.decimals(min_value=-10**6, max_value=10**6, allow_nan=False, places=2)),
), max_size=20))
def test_any_rows_give_the_same_xml_and_totals_both_ways(rows):
    _same(rows)


def test_repeated_texts_past_what_a_column_remembers_are_written_the_same_every_time():
    values = [f"Payer {n}" for n in range(fast_rows._KNOWN_TEXTS * 2)] + ["=1+1", " x", "a&b", "", "é"]
    rows = [(values[n % len(values)], None, None, None, values[(n * 7) % len(values)], None) for n in range(600)]
    _same(rows)
