"""QuickSelect writes the markup wtforms' own Select writes, for any option text, value and selection."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.widgets import Select

from admin_views.widgets import QuickSelect

values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))


@given(choices=st.lists(st.tuples(values, st.text(max_size=12)), min_size=1, max_size=6), pick=st.integers(0, 5))
def test_the_options_are_those_of_wtforms(choices, pick):
    class Theirs(Form):
        field = SelectField(choices=choices, widget=Select())

    class Ours(Form):
        field = SelectField(choices=choices, widget=QuickSelect())

    data = MultiDict({"field": str(choices[pick % len(choices)][0])})
    assert str(Ours(data).field()) == str(Theirs(data).field())


def test_an_option_with_its_own_attributes_is_left_to_wtforms():
    class Ours(Form):
        field = SelectField(choices=[("a", "A", {"disabled": True})], widget=QuickSelect())

    assert str(Ours().field()) == '<select id="field" name="field"><option disabled value="a">A</option></select>'
