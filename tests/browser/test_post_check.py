"""One paper check across three claims, posted from the Post a check page as a biller types an EOB: the running
total follows the lines, and the check posts once they agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.ui import Browse

pytestmark = pytest.mark.browser

CENT = Decimal("0.01")
MONEY = re.compile(r"\$([0-9,]+\.[0-9]{2})")


def _money(text: str) -> Decimal:
    return Decimal(MONEY.search(text).group(1).replace(",", ""))


def _unpaid(fieldset: Locator) -> bool:
    """A claim on the check with nothing paid yet: no earlier payment to add to or replace, and the payer owes all."""
    if fieldset.locator("input[type='radio']").count():
        return False
    billed, owes = re.search(r"billed (\$[0-9,.]+) · payer owes (\$[0-9,.]+)", fieldset.inner_text()).groups()
    return _money(billed) == _money(owes) > 0


def _on_check(me: Browse) -> list[str]:
    return me.page.locator("fieldset[data-check-claim]").evaluate_all("els => els.map(e => e.dataset.checkClaim)")


def _find(me: Browse, text: str) -> list[str]:
    """Search the claims this payer's check may pay; the numbers offered."""
    me.field("Claim number or client name").fill(text)
    me.step(f"Post a check › find '{text}'", lambda: me.button("Add claim").click())
    offered = me.page.get_by_role("button", name=re.compile(r"^Add C-\d+$")).all_inner_texts()
    return [label.removeprefix("Add ") for label in offered]


def _add(me: Browse, number: str) -> bool:
    """Add one claim by its number (the page adds a claim its number names at once, or offers it to add)."""
    offered = _find(me, number)
    claim = me.page.locator(f"fieldset[data-check-claim='{number}']")
    if not claim.count() and number in offered:
        me.step(f"Post a check › add {number}", lambda: me.button(f"Add {number}", exact=True).click())
    return bool(claim.count())


def _add_three_unpaid_claims(me: Browse) -> list[str]:
    """Choose payers in turn; add the claims a client-name search offers, keeping only unpaid ones, until three."""
    payers = [o for o in me.page.locator("#payer_id option").all_inner_texts() if not o.startswith("Choose")]
    for payer in payers:
        me.page.locator("#payer_id").select_option(label=payer)
        tried: set[str] = set()
        for number in [n for letter in "aeo" for n in _find(me, letter)]:
            if number in tried:
                continue
            tried.add(number)
            if not _add(me, number):
                continue
            if not _unpaid(me.page.locator(f"fieldset[data-check-claim='{number}']")):
                remove = me.button(f"Remove {number} from the check")
                me.step(f"Post a check › remove {number}", remove.click)
            if len(_on_check(me)) == 3:
                return _on_check(me)
        for number in _on_check(me):
            remove = me.button(f"Remove {number} from the check")
            me.step(f"Post a check › remove {number}", remove.click)
    raise AssertionError("no payer has three unpaid claims in the demo")


def test_post_a_check_across_three_claims(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    me.step("Menu › Post a check", lambda: me.menu("Post a check"))
    claims = _add_three_unpaid_claims(me)
    check_number = f"BRW-{date.today():%m%d}-{claims[0]}"
    total = Decimal(0)
    for line in me.page.locator("tr[data-check-line]").all():
        charge = Decimal(line.get_attribute("data-charge"))
        paid = (charge * Decimal("0.80")).quantize(CENT)
        line.locator("input[name$='-paid']").fill(str(paid))
        line.locator("input[name$='-allowed']").fill(str(paid))
        line.locator("input[name$='-adj-0-reason']").fill("45")
        line.locator("input[name$='-adj-0-amount']").fill(str(charge - paid))
        total += paid
    me.field("Check / EFT number").fill(check_number)
    me.field("Check date").fill(date.today().isoformat())
    me.field("Check amount").fill(str(total + 1))  # a dollar too much: the total shows it, posting is refused
    expect(me.page.locator("[data-total-lines]")).to_have_text(re.compile(re.escape(f"${total:,.2f}")))
    expect(me.page.locator("[data-total-difference]")).to_have_text(re.compile(r"1\.00"))
    me.step("Post a check › post with a dollar unapplied", lambda: me.button("Post check").click())
    me.expect_flash(r"\$1\.00 is not applied")
    me.field("Check amount").fill(str(total))
    me.step("Post a check › update the total", lambda: me.button("Update total").click())
    expect(me.page.locator("[data-total-difference]")).to_have_text(re.compile(r"0\.00"))
    me.step("Post a check › post", lambda: me.button("Post check").click())
    me.expect_flash(rf"Check {re.escape(check_number)} \(\${total:,.2f}\) posted on 3 claim")
    me.step("Posted checks", lambda: me.menu("Posted checks"))
    expect(me.page.locator("table tbody tr").filter(has_text=check_number)).to_have_count(1)
