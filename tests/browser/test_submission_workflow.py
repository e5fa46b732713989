"""A biller builds a batch of Ready claims, previews the 837P, downloads it and marks it as uploaded."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.ui import Browse

pytestmark = pytest.mark.browser


def test_build_preview_download_and_mark_uploaded(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    me.step("Menu › Submissions", lambda: me.menu("Submissions"))
    me.step("Submissions › New submission", lambda: me.link("New submission").click())
    me.step("New submission › Payer: Aetna", lambda: me.field("Payer").select_option(label="Aetna"))
    me.page.wait_for_url(re.compile(r"payer=\d+"))
    ticked = me.page.locator("input[name='claim_id']:checked").count()
    assert ticked, "no Ready Aetna claim to send"
    me.step("New submission › Generate", lambda: me.button("Generate").click())
    me.expect_flash(r"Batch B-\d+ generated .*: \d+ claim\(s\), validated")
    generated = re.search(r"Batch (B-\d+) generated .*?: (\d+) claim\(s\), validated", me.flash_text())
    batch, sent = generated.group(1), int(generated.group(2))
    assert 0 < sent <= ticked  # the rules may hold some back, and say so
    heading = me.page.get_by_role("heading", name=re.compile(r"^Batch B-\d+"))
    if not heading.count():  # the rules held some: the page stays on New submission to show which, and why
        expect(me.page.locator("[data-held-claim]").first).to_be_visible()
        me.step("Menu › Submissions", lambda: me.menu("Submissions"))
        me.step(f"Submissions › open {batch}", lambda: me.link(batch, exact=True).click())
    expect(heading).to_have_text(re.compile(rf"^Batch {batch}"))

    preview = me.page.locator("pre").first  # the file, one segment per line
    expect(preview).to_contain_text("ISA*")
    expect(preview).to_contain_text("CLM*")

    with me.expect_download() as got:
        me.step(f"Batch {batch} › Download .x12", lambda: me.link("Download .x12").click())
    text = got[0].path().read_text()
    assert text.startswith("ISA*"), text[:200]
    assert text.count("CLM*") == sent

    def mark_uploaded() -> None:
        me.page.once("dialog", lambda dialog: dialog.accept())  # "Mark B-... as uploaded? ..."
        me.button("Mark as uploaded").click()

    me.step(f"Batch {batch} › Mark as uploaded", mark_uploaded)
    expect(me.page.get_by_text("downloaded and marked as uploaded")).to_be_visible()
    rows = me.page.locator("table tbody tr").filter(has_text=re.compile(r"C-\d+"))
    expect(rows.filter(has_text="Submitted")).to_have_count(sent)
