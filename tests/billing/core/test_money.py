"""Money is Decimal with two places: parsed exactly, rounded half up, never taken from a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.core.money import format_money, sum_money, to_money


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("41.25", Decimal("41.25")),
        (" 41.25 ", Decimal("41.25")),
        (7, Decimal("7.00")),
        (Decimal("18.245"), Decimal("18.25")),  # half up, as payers round
        ("-0.005", Decimal("-0.01")),
        ("1E+2", Decimal("100.00")),
    ],
)
def test_to_money(value, amount):
    result = to_money(value)
    assert result == amount
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("value", [0.1, 1.0, True, False])
def test_to_money_refuses_floats_and_bools(value):
    with pytest.raises(TypeError):
        to_money(value)


@pytest.mark.parametrize("value", ["", "abc", "1,000.00", "NaN", "Infinity", "-inf"])
def test_to_money_refuses_what_is_not_an_amount(value):
    with pytest.raises(ValueError, match="is not an amount"):
        to_money(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_to_money_refuses_a_decimal_that_is_not_an_amount(value):
    with pytest.raises(ValueError, match="is not an amount"):
        to_money(value)


@pytest.mark.parametrize("text", ["13.48", "13.4", "13", "-0.005", "0.005", "18.245", "-18.245", "1E+2", "0E-7",
                                  "123456789.125", "-0", "0.00"])
def test_a_decimal_becomes_money_as_its_text_does(text):
    """The Decimal shortcut of to_money gives what the general path gives: the same value and two places."""
    from_decimal, from_text = to_money(Decimal(text)), to_money(text)
    assert from_decimal == from_text
    assert str(from_decimal) == str(from_text)
    assert from_decimal.as_tuple().exponent == -2


def test_sum_money_is_exact_where_floats_are_not():
    assert sum_money(["0.10", "0.20", Decimal("0.30"), 1]) == Decimal("1.60")
    assert sum_money([]) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("1234.5"), "$1,234.50"), (Decimal("-1234.5"), "-$1,234.50"), (Decimal("0"), "$0.00"), (None, "")],
)
def test_format_money(amount, text):
    assert format_money(amount) == text
