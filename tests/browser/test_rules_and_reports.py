"""Failed Charges filtered and reprocessed, a rule built with the editor's JavaScript and dry-run, a report
downloaded, and one for a provider picked by typing part of a name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.ui import Browse

pytestmark = pytest.mark.browser


def test_failed_charges_filter_and_reprocess(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    me.step("Menu › Failed Charges", lambda: me.menu("Failed Charges"))
    rows = me.page.locator("table tbody tr").filter(has=me.page.locator("input[name='rowid']"))
    expect(rows.first).to_be_visible()  # the demo has failed charges
    payer = rows.first.locator("td.col-payer").inner_text().strip()

    def filter_by_payer() -> None:
        me.page.get_by_role("link", name=re.compile("Add Filter")).click()
        me.page.locator("a.filter", has_text=re.compile(r"^\s*Payer\s*$")).click()
        # select2 draws its own list over the hidden <select>, which holds the value the form sends
        me.page.locator("select.filter-val").last.select_option(label=payer, force=True)
        me.button("Apply").click()

    me.step(f"Failed Charges › filter Payer = {payer}", filter_by_payer)
    payers = {p.strip() for p in rows.locator("td.col-payer").all_inner_texts()}
    assert payers == {payer}, payers

    me.step("Failed Charges › tick the first claim", lambda: rows.first.locator("input[name='rowid']").check())
    me.step("Failed Charges › With selected › Reprocess", lambda: me.run_list_action("Reprocess"))
    me.expect_flash(r"\brun\b|\breprocess")


def test_rule_editor_builds_a_rule_and_dry_runs_it(browse: Callable[[str], Browse]) -> None:
    me = browse("admin")
    me.step("Menu › Rules", lambda: me.menu("Rules"))
    me.step("Rules › Create", lambda: me.link("Create", exact=True).click())
    me.field("Name").fill("Browser test: large charges")
    conditions = me.page.locator("[data-condition]")
    expect(conditions.first).to_be_visible()  # the builder is drawn by the page's script (nonce under the CSP)
    before = conditions.count()
    me.step("Rule editor › + condition", lambda: me.button("+ condition").first.click())
    expect(conditions).to_have_count(before + 1)
    action = me.page.locator("[data-action]").first
    me.step("Rule editor › action reason", lambda: me.textbox(action, "Reason").fill("Check the authorization"))
    me.step("Rule editor › open the JSON view", lambda: me.page.get_by_text("JSON view").click())
    written = json.loads(me.page.locator("#rule-json").input_value())
    assert json.dumps(written["conditions"]).count('"operator"') == before + 1, written  # the form wrote the JSON
    assert "Check the authorization" in json.dumps(written["actions"]), written
    me.step("Rule editor › Dry run", lambda: me.button("Dry run").click())
    expect(me.page.locator("[data-dry-run]")).to_contain_text("nothing was saved")


def test_download_a_report(browse: Callable[[str], Browse]) -> None:
    me = browse("accountant")
    me.step("Menu › Reports", lambda: me.menu("Reports"))
    me.field("Report").select_option(index=0)
    with me.expect_download() as got:
        me.step("Reports › Download", lambda: me.button("Download", exact=True).click())
    download = got[0]
    assert download.suggested_filename.endswith((".xlsx", ".csv")), download.suggested_filename
    assert download.path().stat().st_size > 0


def test_a_report_for_one_provider_picked_by_typing_a_name(browse: Callable[[str], Browse]) -> None:
    me = browse("accountant")
    me.step("Menu › Reports", lambda: me.menu("Reports"))
    me.field("Report").select_option(value="claims")

    def pick_the_first_provider_found() -> str:
        # select2 draws a search box over the hidden input: typing asks the page's provider search
        me.page.locator(".select2-container").filter(has=me.page.locator(".select2-choice")).last.click()
        me.page.locator(".select2-drop-active input.select2-input").fill("a")
        found = me.page.locator(".select2-drop-active .select2-result-selectable").first
        expect(found).to_contain_text("NPI")
        label = found.inner_text().strip()
        found.click()
        return label

    label = me.step("Reports › Provider › type 'a', pick the first", pick_the_first_provider_found)
    picked = me.page.locator("input[name='provider_id']").input_value()
    assert picked.isdigit(), picked
    with me.expect_download() as got:
        me.step("Reports › Download", lambda: me.button("Download", exact=True).click())
    assert got[0].path().stat().st_size > 0
    me.step("Reports › reload", lambda: me.open("/admin/reports/"))
    expect(me.page.locator("table.small").first).to_contain_text(f"provider_id={picked}")  # Recent downloads
    assert "(NPI " in label, label
