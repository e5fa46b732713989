"""Form widgets the admin's forms share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import url_for
from markupsafe import Markup, escape
from wtforms import Field, ValidationError
from wtforms.widgets import Select, html_params


class QuickSelect(Select):
    """wtforms' select, with each plain option written by one format instead of `html_params`: a billing company's
    8,000 providers took 0.33 s to render as a filter list, now a few ms. The markup is the same: attributes in
    wtforms' order (`selected` before `value`) and escaped the same way; an option with extra attributes still
    goes through wtforms."""

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        # Both parts escaped here (Markup.format would too, at five times the cost).
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')  # noqa: S704


class SearchPicker:
    """A record picked by typing part of its name: Flask-Admin's select2 search box (`data-role="select2-ajax"`,
    its admin/js/form.js) over a JSON search of our own, for lists too long to send whole (a billing company's
    8,000 providers were a 400 KB select on every Reports page). The field holds the picked record's id."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        attributes = {"type": "hidden", "name": field.name, "value": "" if field.data is None else field.data,
                      "data-role": "select2-ajax", "data-url": field.search_url(),
                      "data-placeholder": field.placeholder, "data-minimum-input-length": "1",
                      "data-allow-blank": "1", **kwargs}
        chosen = field.chosen_label()
        if chosen is not None:
            attributes["data-json"] = json.dumps([field.data, chosen])
        return Markup(f"<input {html_params(**attributes)}>")  # noqa: S704 - html_params escapes every value


class SearchPickerField(Field):
    """The id of a record chosen with `SearchPicker`: blank is "any", anything else must name a record that
    `label_of` knows, or the field says so (a forged or stale id never reaches a report's filters)."""

    widget = SearchPicker()

    def __init__(self, label: str, *, search_endpoint: str, label_of: Callable[[int], str | None],
                 placeholder: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.search_endpoint, self.label_of, self.placeholder = search_endpoint, label_of, placeholder

    def search_url(self) -> str:
        return url_for(self.search_endpoint)

    def chosen_label(self) -> str | None:
        return None if self.data is None else self.label_of(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if raw:
            if not raw.isdigit() or len(raw) > 18:
                raise ValueError("Pick one from the search list.")
            self.data = int(raw)

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and self.chosen_label() is None:
            raise ValidationError(f"No such {self.label.text.lower()}: pick one from the search list.")
