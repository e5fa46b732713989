"""Remittance codes read in words with the code beside: CLP02, CAS group + CARC, PLB reasons."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from billing.core.codes import adjustment_words, claim_status_words, plb_words
from billing.core.db import db
from billing.payments.models import Remittance
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import era_for


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("1", "1 — Processed as primary"),
        ("4", "4 — Denied"),
        ("22", "22 — Reversal of an earlier payment"),
        ("19", "19 — Processed as primary, forwarded to the next payer"),
        ("99", "99 — status code not in our list"),
    ],
)
def test_claim_status_in_words(code, words):
    assert claim_status_words(code) == words


def test_adjustments_and_plbs_in_words():
    assert adjustment_words("CO", "45").startswith("CO-45 Charge exceeds fee schedule")
    assert adjustment_words("PR", "2") == "PR-2 Coinsurance amount"
    assert plb_words("L6") == "L6 — Interest owed"
    assert plb_words("wo") == "wo — Overpayment recovery"
    assert plb_words("ZZ") == "ZZ — reason code not in our list"


def test_remittance_and_claim_pages_show_codes_in_words(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    data = {
        "csrf_token": csrf_token(client, "/admin/remittance/"),
        "files": [(io.BytesIO(era_for(world, claim)), "march.835")],
    }
    client.post("/admin/remittance/upload/", data=data, content_type="multipart/form-data")
    remittance = db.session.scalars(select(Remittance)).one()
    page = client.get(f"/admin/remittance/details/?id={remittance.id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", page)
    assert "1 — Processed as primary" in text
    assert "CO-45 Charge exceeds fee schedule" in text
    assert "PR-2 Coinsurance amount" in text
    assert "L6 — Interest owed" in text
    assert "N130 Consult plan benefit documents" in text
    assert "CLP02 1" not in text
    claim_page = re.sub(r"\s+", " ", client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True))
    assert "1 — Processed as primary" in claim_page
    assert "CO-45 Charge exceeds fee schedule" in claim_page
