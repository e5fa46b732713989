"""List pages never read the stored files (ERA bytes, 837 and acknowledgment text): only a file's own page does.

A 12.5 MB ERA made the Remittances list 414 ms when the list fetched every file's bytes with its rows.
"""

from __future__ import annotations

from billing.core.db import db
from billing.people.models import Role
from billing.submissions.operations import create_batches
from tests.billing.payments.test_plb import hundred_dollar_claim, import_plbs, svc
from tests.worlds.payments import Clp
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import build_submission_world

FILE_COLUMNS = ("era_file.content", "submission_batch.content", "acknowledgment.content",
                "clearinghouse_response.content")


def _reads_a_file(statements: list[str]) -> list[str]:
    return [s for s in statements if any(column in s for column in FILE_COLUMNS)]


def test_the_remittances_list_reads_no_era_bytes(client, login, world, count_queries):
    claim = hundred_dollar_claim(world, lines=1)
    import_plbs(world, [Clp(claim.number, "1", 100, 100, services=[svc(claim.lines[0], "100.00")])], [],
                check="LIST-1")
    db.session.flush()
    login(Role.BILLER)
    counter = count_queries()
    page = client.get("/admin/remittance/")
    assert page.status_code == 200
    assert "LIST-1" in page.get_data(as_text=True)
    assert _reads_a_file(counter.statements) == []


def test_the_submissions_page_reads_no_837_text(client, login, count_queries):
    world = build_submission_world()
    batch = create_batches(actor=SYSTEM, claim_ids=[world.ready_claim().id])[0]
    db.session.flush()
    login(Role.BILLER)
    counter = count_queries()
    page = client.get("/admin/submissions/")
    assert page.status_code == 200
    assert batch.number in page.get_data(as_text=True)
    assert _reads_a_file(counter.statements) == []
