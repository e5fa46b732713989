"""The shortcut in front of pyx12's control-character check answers exactly what pyx12's own function answers."""
from __future__ import annotations

import pyx12.validation

from billing.edi import pyx12 as runner


def test_the_shortcut_is_what_pyx12_calls():
    assert pyx12.validation.contains_control_character is runner._contains_control_character


def test_every_character_is_judged_as_pyx12_judges_it():
    original = runner._pyx12_contains_control_character
    for code in range(0x100):
        c = chr(code)
        for value in (c, f"AB{c}", f"{c}12.50", f"HC:97153{c}\x1d", f"X{c}\x07Y"):
            assert runner._contains_control_character(value) == original(value), (code, value)
    for value in ("", "ABC", "HC:97153:95", "12.50", "MEDICARE PART B", "~*:^", "é"):
        assert runner._contains_control_character(value) == original(value) == (False, None)


def test_a_control_character_in_an_element_is_still_found():
    assert runner._contains_control_character("A\x07B") == (True, "<BEL>")
    assert runner._contains_control_character("A\x01B\x1fC") == (True, "<US>")  # pyx12's order: its first table
