"""Strict ids, and values that must fit their columns: refused alike on SQLite and PostgreSQL (issue 14, item 8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.core.checks import MAX_ID, parse_id, parse_int, record_id
from billing.core.db import db
from billing.core.errors import NotFound, ValidationFailed, withheld_summary
from billing.people.models import Client
from tests.worlds import factories as f


@pytest.mark.parametrize("hostile", ["²", "٣", "１２", "", " ", "-1", "0", "1e3", "0x10", " 1", "1 ", "1.0", "+1",
                                     str(MAX_ID + 1), "9" * 5000, None, 1.0, True, ("1", "2"), b"1"])
def test_anything_but_ascii_digits_in_range_is_not_an_id(hostile):
    assert parse_id(hostile) is None


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_a_table_can_hold_parses_from_its_digits(number):
    assert parse_id(str(number)) == number
    assert parse_id(number) == number


@given(st.text(max_size=25))
def test_parse_id_agrees_with_an_independent_reading(text):
    expected = int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID else None
    assert parse_id(text) == expected


def test_parse_int_keeps_its_bounds_and_its_sign():
    assert parse_int("-3", low=-5, high=5) == -3
    assert parse_int("6", low=-5, high=5) is None
    assert parse_int("--3", low=-5, high=5) is None


def test_record_id_names_what_was_not_found():
    assert record_id("12", "claim") == 12
    with pytest.raises(NotFound, match="no claim with the id '²'"):
        record_id("²", "claim")


# --- the column-limit guard ---------------------------------------------------------------------------------

def client_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Client))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_name", "A\x00nn", "First name contains a NUL character"),
    ("last_name", "x" * 10_000, "Last name is 10,000 characters long; at most"),
])
def test_text_that_does_not_fit_its_column_is_refused_before_the_database_sees_it(field, value, message):
    before = client_count()
    with pytest.raises(ValidationFailed, match=message) as refused:
        f.ClientFactory(**{field: value})
    assert [p.field for p in refused.value.problems] == [field]
    db.session.rollback()
    assert client_count() == before


def test_a_changed_value_is_checked_too_and_an_unchanged_one_is_not(world):
    world.client.first_name = "x" * 300
    with pytest.raises(ValidationFailed, match="First name is 300 characters long"):
        db.session.flush()
    db.session.rollback()


def test_a_number_past_its_column_is_refused(world):
    claim = world.claim()
    claim.lines[0].charge = 10**10
    with pytest.raises(ValidationFailed, match="Charge must be less than 10,000,000,000"):
        db.session.flush()
    db.session.rollback()


def test_an_integer_past_postgresqls_integer_is_refused(world):
    claim = world.claim()
    claim.lines[0].units = 2**31
    with pytest.raises(ValidationFailed, match="Units must be between"):
        db.session.flush()
    db.session.rollback()


def test_json_nested_too_deep_or_holding_nul_is_refused():
    from billing.core.column_limits import MAX_JSON_DEPTH, value_problem

    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    assert "nested more than" in value_problem("conditions", "json", MAX_JSON_DEPTH, deep).message
    assert "NUL" in value_problem("conditions", "json", MAX_JSON_DEPTH, {"all": [{"value": "a\x00"}]}).message
    assert value_problem("conditions", "json", MAX_JSON_DEPTH, {"all": [{"value": "ok"}]}) is None


# --- what a log line may say --------------------------------------------------------------------------------

def test_an_unexpected_error_is_summarised_without_its_message():
    try:
        raise ValueError("INSERT INTO client (last_name) VALUES ('Doe')")
    except ValueError as exc:
        summary = withheld_summary(exc)
    assert summary.startswith("ValueError (message withheld")
    assert "test_input_limits.py" in summary
    assert "Doe" not in summary
    assert withheld_summary(NotFound("No claim C-1.")) == "NotFound: No claim C-1."
