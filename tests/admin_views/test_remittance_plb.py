"""The remittance page's open provider-level items: applied to a claim or settled by a biller, read by others."""

from __future__ import annotations

from decimal import Decimal

from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.payments.models import PlbDisposition
from billing.people.models import Role
from tests.billing.payments.test_plb import hundred_dollar_claim, import_plbs, paid, svc
from tests.conftest import csrf_token
from tests.worlds.payments import Clp

D = Decimal


def _open_offset(world):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-ADM")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    remittance = import_plbs(world, [clp], [("WO", D("30.00"), "NOT-A-CLAIM")], check="WO-ADM")
    (item,) = remittance.provider_adjustments
    db.session.commit()
    return earlier, remittance, item


def test_case_i_a_biller_applies_an_open_offset_from_the_remittance_page(client, login, world):
    earlier, remittance, item = _open_offset(world)
    login(Role.BILLER)
    page = client.get(f"/admin/remittance/details/?id={remittance.id}").get_data(as_text=True)
    assert "Apply to claim" in page
    assert f'data-plb="{item.id}"' in page
    url = f"/admin/remittance/{remittance.id}/plb/{item.id}/apply/"
    token = csrf_token(client, "/admin/remittance/")
    done = client.post(url, data={"csrf_token": token, "claim_number": earlier.number}, follow_redirects=True)
    assert f"30.00 posted on {earlier.number}" in done.get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "claim_number": earlier.number}, follow_redirects=True)
    db.session.expire_all()
    assert item.disposition is PlbDisposition.APPLIED
    assert claim_balance(earlier.id).paid_by_payer == D("90.00") - D("30.00")  # once


def test_an_accountant_reads_but_cannot_settle(client, login, world):
    _earlier, remittance, item = _open_offset(world)
    login(Role.ACCOUNTANT)
    page = client.get(f"/admin/remittance/details/?id={remittance.id}").get_data(as_text=True)
    assert "NOT-A-CLAIM" in page
    assert "Mark settled" not in page
    refused = client.post(f"/admin/remittance/{remittance.id}/plb/{item.id}/settle/",
                          data={"csrf_token": csrf_token(client, "/admin/remittance/"), "reason": "netted"},
                          follow_redirects=True)
    assert "cannot settle" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert item.disposition is PlbDisposition.OPEN
