"""The claim's life as billers and office managers click through it: finalize a note into a Ready claim, hold and
release, retract and bill again, cancel a session with a session class."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.ui import Browse

pytestmark = pytest.mark.browser


def open_first_claim(me: Browse, tab: str) -> str:
    """Claims, the tab, the first claim's page; returns the claim number."""
    me.step("Menu › Claims", lambda: me.menu("Claims"))
    me.step(f"Claims › {tab} tab", lambda: me.page.get_by_role("link", name=re.compile(rf"^{tab}\b")).first.click())
    me.step(f"Claims › {tab} › open the first claim", me.open_first_record)
    heading = me.page.get_by_role("heading", name=re.compile(r"^Claim C-\d+")).first.inner_text()
    return heading.split()[1]


def claim_status(me: Browse) -> Callable[[str], None]:
    def check(label: str) -> None:
        expect(me.page.locator("[data-status]").first).to_have_text(label)

    return check


def test_finalize_a_note_into_a_ready_claim(browse: Callable[[str], Browse]) -> None:
    me = browse("office_manager")
    me.step("Menu › Sessions", lambda: me.menu("Sessions"))
    me.step(
        "Sessions › edit the newest draft note",
        lambda: me.first_row_with("Finalize").get_by_title("Edit Record").click(),
    )
    me.step(
        "Session › write the note",
        lambda: me.field("Note Text").fill("Worked on the home program; tolerated well. Plan: continue twice weekly."),
    )
    me.step("Session › Save", lambda: me.button("Save", exact=True).click())
    me.step("Sessions › open that note", lambda: me.first_row_with("Finalize").get_by_title("View Record").click())
    me.step("Session › Finalize note", lambda: me.button("Finalize note").click())
    me.expect_flash(r"finalized: claim C-\d+ \(Ready\)")


def test_hold_and_release(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    number = open_first_claim(me, "Ready")
    status = claim_status(me)

    def hold() -> None:
        form = me.form_with("Hold")
        me.textbox(form, re.compile("reason", re.I)).fill("Waiting for the new authorization")
        form.get_by_role("button", name="Hold").click()

    me.step(f"Claim {number} › Hold", hold)
    status("Held")
    expect(me.page.get_by_text("Held because: Waiting for the new authorization")).to_be_visible()
    me.step(f"Claim {number} › Release", lambda: me.button("Release").click())
    status("Ready")


def test_retract_and_bill_again(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    number = open_first_claim(me, "Ready")
    me.step(f"Claim {number} › Retract", lambda: me.button("Retract").click())
    claim_status(me)("Voided")
    me.step(f"Claim {number} › open its session", lambda: me.link(re.compile(r"note$")).first.click())
    me.step("Session › Bill again", lambda: me.button("Bill again").click())
    me.expect_flash(r"billed again: claim C-\d+ \((Ready|Held)")
    assert number not in re.findall(r"C-\d+", me.flash_text()), "billed again on the retracted claim"


def test_cancel_a_session_with_a_session_class(browse: Callable[[str], Browse]) -> None:
    me = browse("office_manager")
    me.step("Menu › Sessions", lambda: me.menu("Sessions"))
    me.step(
        "Sessions › tick the newest draft note",
        lambda: me.first_row_with("Finalize").locator("input[name='rowid']").check(),
    )
    me.step("Sessions › With selected › Cancel…", lambda: me.run_list_action("Cancel…"))
    me.step("Cancel sessions › choose No-show", lambda: me.field("Session class").select_option(label="No-show"))
    me.step("Cancel sessions › Note", lambda: me.field("Note (optional)").fill("Called at 9:05, no answer"))
    me.step("Cancel sessions › Cancel sessions", lambda: me.button("Cancel sessions").click())
    me.expect_flash(r"cancelled as No-show")
