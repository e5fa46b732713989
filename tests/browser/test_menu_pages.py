"""Every role logs in and opens every page of its menu: no console error, no page error, no failed request."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.ui import ROLES, Browse

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_opens_cleanly(browse: Callable[[str], Browse], role: str) -> None:
    me = browse(role)
    pages = me.menu_links()
    assert len(pages) >= 10, pages  # the menu itself rendered (a broken menu would pass with nothing to open)
    failures = []
    for label, path in pages:
        try:
            me.step(f"Menu › {label}", lambda path=path: me.open(path))
            assert "Traceback" not in me.page.locator("body").inner_text(), f"{label}: a traceback on the page"
            refusals = me.page.locator(".alert-danger").all_inner_texts()
            assert not refusals, f"{label} ({me.page.url}) opens with an error for a {role}: {refusals}"
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)
