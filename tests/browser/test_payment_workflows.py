"""Money as a biller enters it from paper: a payment with CARCs and the patient's part, then the secondary claim;
a denial, then the corrected claim; a manual and a bulk clawback."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.test_claim_workflows import claim_status, open_first_claim
from tests.browser.ui import Browse

pytestmark = pytest.mark.browser

CENT = Decimal("0.01")


def open_submitted_claim_with_a_secondary(me: Browse) -> str:
    """From Policies, a client with a secondary policy; then that client's Submitted claim, found by name."""
    me.step("Menu › Policies", lambda: me.menu("Policies"))
    secondary = me.page.locator("table tbody tr").filter(has_text="Secondary")
    for order in ("ascending", "descending"):  # whichever order brings the secondary policies to the first page
        me.step(f"Policies › sort by Rank, {order}", lambda: me.link(re.compile(r"^Rank")).click())
        if secondary.count():
            break
    clients = [
        row.locator("td").filter(has_text=re.compile(r"\(BP-")).first.inner_text().split(" (")[0]
        for row in secondary.all()
    ]
    assert clients, "the demo has no secondary policy"
    for client in clients:
        me.step("Menu › Claims", lambda: me.menu("Claims"))
        me.step("Claims › Submitted tab", lambda: me.page.get_by_role("link", name=re.compile(r"^Submitted\b")).click())
        me.step(f"Claims › search {client}", lambda client=client: search(me, client.split(",")[0]))
        rows = me.page.locator("table tbody tr").filter(has_text=client)
        if rows.count():
            view = rows.first.get_by_title("View Record")
            me.step(f"Claims › open the submitted claim of {client}", view.click)
            return me.page.get_by_role("heading", name=re.compile(r"^Claim C-\d+")).first.inner_text().split()[1]
    raise AssertionError(f"none of {clients} has a Submitted claim")


def search(me: Browse, text: str) -> None:
    box = me.page.get_by_role("searchbox").or_(me.page.locator("input[name='search']")).first
    box.fill(text)
    box.press("Enter")


def test_payment_with_carcs_and_patient_part_then_secondary_claim(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    number = open_submitted_claim_with_a_secondary(me)
    me.step(f"Claim {number} › Record payment", lambda: me.link("Record payment").click())
    owed = Decimal(0)
    for line, charge in me.payment_lines():
        contractual = (charge * Decimal("0.20")).quantize(CENT)
        coinsurance = (charge * Decimal("0.16")).quantize(CENT)
        paid = charge - contractual - coinsurance
        owed += coinsurance
        me.payment_cell(line, "allowed").fill(str(charge - contractual))
        me.payment_cell(line, "paid").fill(str(paid))
        me.payment_cell(line, "coinsurance").fill(str(coinsurance))
        me.payment_cell(line, "adj-0-group").select_option("CO")
        me.payment_cell(line, "adj-0-reason").fill("45")
        me.payment_cell(line, "adj-0-amount").fill(str(contractual))
    me.field("Source / reason (EOB, letter, portal, phone)").fill("Paper EOB, check 40112")
    me.step(f"Record payment {number} › Preview balances", lambda: me.button("Preview balances").click())
    me.step(f"Record payment {number} › Save payment", lambda: me.button("Save payment").click())
    claim_status(me)("Paid")
    expect(me.page.locator("[data-insurance-balance]")).to_have_text("$0.00")
    expect(me.page.locator("[data-patient-balance]")).to_have_text(f"${owed:,.2f}")
    me.step(f"Claim {number} › Generate Secondary Claim", lambda: me.button("Generate Secondary Claim").click())
    me.expect_flash(r"Secondary claim C-\d+ created")
    expect(me.page.get_by_role("row", name=re.compile(rf"^Secondary to {number}\b"))).to_be_visible()
    # the secondary bills what the primary left to the patient
    expect(me.page.locator("[data-balance]")).to_have_text(f"${owed:,.2f}")


def test_deny_then_correct(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    number = open_first_claim(me, "Submitted")
    me.step(f"Claim {number} › Record payment", lambda: me.link("Record payment").click())
    for line, charge in me.payment_lines():
        me.payment_cell(line, "allowed").fill("0")
        me.payment_cell(line, "paid").fill("0")
        me.payment_cell(line, "adj-0-group").select_option("CO")
        me.payment_cell(line, "adj-0-reason").fill("50")
        me.payment_cell(line, "adj-0-amount").fill(str(charge))
    me.field("Source / reason (EOB, letter, portal, phone)").fill("Denial letter: not medically necessary")
    me.step(f"Record payment {number} › Save payment", lambda: me.button("Save payment").click())
    claim_status(me)("Denied")
    expect(me.page.locator("[data-denial-reasons]")).to_contain_text("CO-50")

    def correct() -> None:
        form = me.form_with("Create corrected claim")
        me.textbox(form, re.compile("corrected", re.I)).fill("Added the KX modifier and the progress note")
        icn = form.get_by_role("textbox", name=re.compile("payer claim number", re.I))
        if icn.count():
            icn.fill("2026338000123")
        form.get_by_role("button", name="Create corrected claim").click()

    me.step(f"Claim {number} › Create corrected claim", correct)
    me.expect_flash(rf"Corrected claim C-\d+ created from {number}")
    expect(me.page.get_by_text(f"Corrected claim (frequency 7) of {number}")).to_be_visible()


def test_manual_clawback(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    number = open_first_claim(me, "Paid")
    me.step(f"Claim {number} › Reverse prior entry…", lambda: me.link("Reverse prior entry…").click())
    me.step(
        "Reverse › tick the payment",
        lambda: me.page.locator("form[data-reverse] input[name^='payment-']").first.check(),
    )
    me.field("Source / reason (required)").fill("Payer letter: duplicate payment taken back")
    me.step(f"Reverse {number} › Save the reversal", lambda: me.button("Save the reversal").click())
    expect(me.page.locator("[data-needs-review]")).to_be_visible()


def test_bulk_clawback(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    me.step("Menu › Claims", lambda: me.menu("Claims"))
    me.step("Claims › Paid tab", lambda: me.page.get_by_role("link", name=re.compile(r"^Paid\b")).click())
    day = me.page.locator("table tbody tr").last.locator("td.col-service_date").inner_text().strip()
    month, date, year = day.split("/")
    me.step("Menu › Bulk clawback", lambda: me.menu("Bulk clawback"))
    me.field("Date of service").fill(f"{year}-{month}-{date}")
    me.step(f"Bulk clawback › Find paid claims of {day}", lambda: me.button("Find paid claims").click())
    boxes = me.page.locator("form[data-bulk-clawback] input[type='checkbox'][name^='claim-']")
    expect(boxes.first).to_be_visible()
    ticked = min(boxes.count(), 2)
    assert ticked, f"no paid claim found for {day}"
    for box in boxes.all()[:ticked]:
        box.check()
    me.field("Source / reason (required)").fill("Paper remittance, page 2: recoupment")
    me.step("Bulk clawback › Record clawback", lambda: me.button("Record clawback for the ticked claims").click())
    me.expect_flash(r"\b(claw|revers)")
