"""What the browser tests share: logging in, watching a page for errors, named steps with screenshots, and every
selector the workflows use (role, label and button-text selectors, kept here so a markup change is fixed once).

A failing step says where it failed: `me.step("Claims > Hold", ...)` re-raises as a StepFailed naming the page's
URL, the action and the screenshot taken at that moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import ConsoleMessage, Download, Locator, Page, Request, Response, expect

from demo.catalog import DEMO_LOGINS, DEMO_PASSWORD

T = TypeVar("T")

#: The demo's login per role (demo/catalog.py).
LOGINS: dict[str, str] = {role: email for email, role, _name in DEMO_LOGINS}
ROLES = ("admin", "biller", "office_manager", "accountant")



class StepFailed(AssertionError):
    """A workflow step failed: names the page, the action and the screenshot."""


@dataclass
class Watch:
    """Everything that went wrong on a page since it opened: console errors, page errors, failed requests and
    same-origin responses of 400 or more."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error on {page.url}: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        where = message.page.url if message.page else "?"
        self.problems.append(f"console error on {where}: {message.text} ({source or 'inline'})")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure and request.is_navigation_request():
            return  # a navigation that became a download (or was replaced by the next click) is not a failure
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response: Response) -> None:
        ours = response.url.startswith(self.origin)
        if response.status >= 400 and ours:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    def take(self) -> list[str]:
        taken, self.problems = self.problems, []
        return taken


@dataclass
class Browse:
    """One person's browser tab on the live app: the page, its watch and the test's screenshot folder."""

    page: Page
    watch: Watch
    base_url: str
    shots: Path
    _count: int = 0

    # --- navigation and evidence ---------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> Path:
        self._count += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:80] or "page"
        path = self.shots / f"{self._count:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self, where: str) -> None:
        """No console error, page error or failed request since the last check."""
        problems = self.watch.take()
        if problems:
            shot = self.screenshot(f"problem {where}")
            raise StepFailed(f"{where} ({self.page.url}): " + "; ".join(problems) + f" [screenshot: {shot}]")

    def step(self, name: str, action: Callable[[], T]) -> T:
        """Run one user action; on failure re-raise naming the page, the action and a screenshot."""
        try:
            result = action()
            self.page.wait_for_load_state()
        except Exception as exc:
            shot = self._safe_screenshot(name)
            raise StepFailed(f"step {name!r} failed on {self.page.url}: {exc} [screenshot: {shot}]") from exc
        self.assert_clean(name)
        self.screenshot(name)
        return result

    def _safe_screenshot(self, name: str) -> Path | str:
        try:
            return self.screenshot(f"failed {name}")
        except Exception as exc:  # the page itself may be gone
            return f"none ({exc})"

    @contextmanager
    def expect_download(self) -> Iterator[list[Download]]:
        got: list[Download] = []
        with self.page.expect_download() as info:
            yield got
        got.append(info.value)

    # --- the app's own furniture ------------------------------------------------------------------------------

    def log_in(self, role: str) -> None:
        self.open("/login")
        self.page.get_by_label("Email").fill(LOGINS[role])
        self.page.get_by_label("Password").fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(re.compile(r"/admin/"))

    def menu_links(self) -> list[tuple[str, str]]:
        """(label, path) of every page the top menu offers, in menu order, without the dropdown toggles."""
        links = self.page.locator("nav a[href]").evaluate_all(
            "els => els.map(e => [e.textContent.trim().replace(/\\s+/g, ' '), e.getAttribute('href')])"
        )
        seen: dict[str, str] = {}
        for label, href in links:
            if href.startswith("/") and href not in seen and href not in ("/admin",):
                seen[href] = label
        return [(label, href) for href, label in seen.items()]

    def flash_text(self) -> str:
        return " ".join(self.page.locator(".alert").all_inner_texts())

    def expect_flash(self, pattern: str) -> None:
        """A message on the page matches `pattern` (waiting for it, as for any element)."""
        message = self.page.locator(".alert").filter(has_text=re.compile(pattern, re.IGNORECASE))
        try:
            expect(message.first).to_be_visible()
        except AssertionError:
            raise AssertionError(
                f"expected a message matching {pattern!r}, the page says {self.flash_text()!r}"
            ) from None

    # --- selectors ----------------------------------------------------------------------------------------------

    def button(self, name: str | re.Pattern[str], *, exact: bool | None = None) -> Locator:
        return self.page.get_by_role("button", name=name, exact=exact)

    def link(self, name: str | re.Pattern[str], *, exact: bool | None = None) -> Locator:
        return self.page.get_by_role("link", name=name, exact=exact)

    def field(self, label: str | re.Pattern[str]) -> Locator:
        return self.page.get_by_label(label)

    def row_checkboxes(self) -> Locator:
        """The list's per-row checkboxes (Flask-Admin's `rowid`)."""
        return self.page.locator("input[name='rowid']")

    def run_list_action(self, label: str) -> None:
        """Choose an action from the list's "With selected" menu (Flask-Admin), accepting its confirmation."""
        self.page.once("dialog", lambda dialog: dialog.accept())
        self.page.get_by_role("button", name=re.compile("With selected")).click()
        self.page.get_by_role("link", name=label, exact=True).click()

    # --- moving around as a person does ------------------------------------------------------------------------

    def menu(self, item: str) -> None:
        """Click a top-menu entry, opening its dropdown first when it sits in one. The name matches in any case and
        in the singular or plural ("Failed charges", "Claim"), so a renamed menu entry does not break a walk."""
        name = re.compile(rf"^\s*{re.escape(item.rstrip('s'))}s?\s*$", re.IGNORECASE)
        # A closed dropdown's entries are hidden, and hidden elements have no role unless asked for.
        entry = self.page.get_by_role("link", name=name, include_hidden=True)
        dropdown = self.page.locator("nav li.dropdown").filter(has=entry)
        if dropdown.count():
            dropdown.first.locator(".dropdown-toggle").click()
            dropdown.first.get_by_role("link", name=name).first.click()
        else:
            self.page.locator("nav").get_by_role("link", name=name).first.click()

    def open_first_record(self) -> None:
        """Open the first row of a list (Flask-Admin's "View Record" icon: its accessible name is the icon font's
        glyph, so it is found by its title)."""
        self.page.get_by_title("View Record").first.click()

    def edit_first_record(self) -> None:
        self.page.get_by_title("Edit Record").first.click()

    def first_row_with(self, button: str) -> Locator:
        """The list's first row that offers that row button (e.g. the first draft note: it offers Finalize)."""
        return (
            self.page.locator("table tbody tr")
            .filter(has=self.page.get_by_role("button", name=button, exact=True))
            .first
        )

    def form_with(self, button: str | re.Pattern[str]) -> Locator:
        """The form that holds the button of that name (a page with several forms: hold, correct, write off...)."""
        return self.page.locator("form").filter(has=self.page.get_by_role("button", name=button)).first

    def textbox(self, scope: Locator, name: str | re.Pattern[str]) -> Locator:
        """A text field by its label, or its placeholder where a compact form has no label."""
        return scope.get_by_role("textbox", name=name).first

    # --- the EOB grid (Record payment, Reverse prior entry) ---------------------------------------------------------

    def payment_lines(self) -> list[tuple[int, Decimal]]:
        """(line number, charge) of every line of the EOB grid."""
        rows = self.page.locator("tr[data-line]")
        rows.first.wait_for()
        return [
            (int(r.get_attribute("data-line") or 0), Decimal(r.get_attribute("data-charge") or "0")) for r in rows.all()
        ]

    def payment_cell(self, line: int, name: str) -> Locator:
        """One input of the EOB grid: allowed, paid, deductible, coinsurance, copay, adj-0-reason, adj-0-amount..."""
        return self.page.locator(f"tr[data-line='{line}'] [name='line-{line}-{name}']")
