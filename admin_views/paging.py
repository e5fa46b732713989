"""A page of a long list computed in full (a statement cycle, the claims near their filing deadline): which page the
request asked for and which rows it shows. The template side is claimdesk/pager.html."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from billing.core.checks import parse_id

#: Rows listed per page; counts and totals on the page cover the whole list.
PAGE_SIZE = 100


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    size: int

    @property
    def first(self) -> int:
        """Index of the page's first row."""
        return (self.page - 1) * self.size

    def template_args(self) -> dict[str, int]:
        return {"page": self.page, "pages": self.pages, "first": self.first}


def requested_page(count: int, size: int | None = None) -> Paging:
    """The page the request's `page` argument asks for, within the pages `count` rows make (a stale link past the
    end shows the last page; anything but a whole number the first)."""
    size = size or PAGE_SIZE
    pages = max(1, -(-count // size))
    text = request.args.get("page")
    number = (parse_id(text) if text else None) or 1
    return Paging(min(number, pages), pages, size)
