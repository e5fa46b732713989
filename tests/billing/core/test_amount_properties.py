"""parse_amount is strict: every plain two-place amount reads back exactly, nothing else reads at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.core.money import MAX_AMOUNT, parse_amount

cents = st.integers(min_value=-999_999_999_999, max_value=999_999_999_999)


@given(cents)
def test_a_plain_amount_reads_back_exactly(value):
    amount = Decimal(value) / 100
    assert parse_amount(f"{amount:.2f}", negative=True) == amount


@given(cents, st.sampled_from(["e2", "E0", ",", "_", " 1", ".001"]))
def test_anything_else_is_refused(value, tail):
    text = f"{Decimal(value) / 100:.2f}" + tail
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text, negative=True)


@pytest.mark.parametrize("text", ["1e10", "1,2,3", "\uff11\uff12", "12.345", "99999999999.99", "", "+5", "NaN",
                                  "Infinity", "0x10", ".5", "5."])
def test_the_audit_inputs_are_refused(text):
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text)


def test_a_negative_amount_only_where_allowed():
    assert parse_amount("-3.10", negative=True) == Decimal("-3.10")
    with pytest.raises(ValueError, match="negative"):
        parse_amount("-3.10")
    assert parse_amount(str(MAX_AMOUNT)) == MAX_AMOUNT
