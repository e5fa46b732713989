"""Properties of the NPI check digit, modifier normalisation and money parsing, over generated inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.core.identifiers import normalize_modifiers, npi_check_digit, npi_problem
from billing.core.money import to_money

bases = st.text(alphabet="0123456789", min_size=9, max_size=9)


def luhn_valid(number: str) -> bool:
    """The textbook Luhn check, written independently of billing.core.identifiers as an oracle."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


@given(bases)
def test_a_base_with_its_check_digit_is_a_valid_npi(base):
    npi = f"{base}{npi_check_digit(base)}"
    assert npi_problem(npi) is None
    assert luhn_valid("80840" + npi)  # CMS: Luhn over the card-issuer prefix 80840 plus the NPI


@given(bases, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_makes_the_npi_invalid(base, position, shift):
    npi = f"{base}{npi_check_digit(base)}"
    changed = npi[:position] + str((int(npi[position]) + shift) % 10) + npi[position + 1:]
    assert npi_problem(changed) == f"{changed} fails the NPI check digit; check for a typo."


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_npi_check_agrees_with_the_luhn_oracle(npi):
    assert (npi_problem(npi) is None) is luhn_valid("80840" + npi)


@given(st.text())
def test_normalising_modifiers_twice_changes_nothing(typed):
    once = normalize_modifiers(typed)
    assert normalize_modifiers(once) == once


@given(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2), max_size=4),
       st.sampled_from([",", ", ", " ", ":", ";", " , "]))
def test_modifiers_keep_their_order_whatever_the_separator(modifiers, separator):
    assert normalize_modifiers(separator.join(m.lower() for m in modifiers)) == ":".join(modifiers)


@given(st.floats())
def test_money_refuses_every_float(amount):
    with pytest.raises(TypeError, match="never float"):
        to_money(amount)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_round_trips_exact_two_place_strings(cents):
    text = f"{Decimal(cents).scaleb(-2):.2f}"
    amount = to_money(text)
    assert amount == Decimal(cents) / 100
    assert str(amount) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9))
def test_money_is_already_quantized_after_one_pass(value):
    once = to_money(value)
    assert to_money(once) == once
    assert once.as_tuple().exponent == -2
    assert abs(once - value) <= Decimal("0.005")
