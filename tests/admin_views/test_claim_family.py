"""The claim page's family panel: every member with its role, payer, status and balance, linked."""

from __future__ import annotations

from billing.claims.operations import correct_claim
from billing.core.db import db
from billing.people.models import Role
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import SYSTEM


def test_the_claim_page_shows_the_family(client, login, world):
    login(Role.BILLER)
    claim = submitted_claim(world)
    corrected = correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="ICN-P1")
    db.session.flush()
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-claim-family" in page
    panel = page[page.index("data-claim-family"):]
    panel = panel[:panel.index("</table>")]
    for shown in (claim.number, corrected.number, "Original", "Corrected replacement"):
        assert shown in panel
    assert f"/admin/claim/details/?id={corrected.id}" in panel
    assert world.payer.name in panel
    assert str(claim.lines[0].charge) in panel  # the original's balance: its charge, still open


def test_a_claim_alone_shows_no_family_panel(client, login, world):
    login(Role.BILLER)
    claim = submitted_claim(world)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-claim-family" not in page
