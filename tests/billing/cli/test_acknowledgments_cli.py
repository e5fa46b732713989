"""`flask edi import` routes 999 and 277CA files, refuses other kinds naming them; `flask submissions filing-proof`
and the Proof of Timely Filing report show each send with its acknowledgments."""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing.claims.statuses import ClaimStatus
from billing.submissions.operations import create_batches, mark_batch_sent
from demo.ack_writer import Answer, ClaimAnswer, write_277ca, write_999
from exports.filters import ReportFilters
from exports.reports import report_named
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import SubmissionWorld, build_submission_world


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _sent(world):
    claims = [world.ready_claim(day=date(2026, 3, 2)), world.ready_claim(day=date(2026, 3, 3))]
    batch = create_batches(actor=SYSTEM)[0]
    mark_batch_sent(batch.id, actor=SYSTEM)
    return batch, claims


def test_edi_import_records_a_999_and_a_277ca_and_refuses_an_837(cli, world, tmp_path):
    batch, (first, second) = _sent(world)
    ack = tmp_path / "batch.999"
    ack.write_bytes(write_999(batch))
    claims = tmp_path / "claims.277"
    claims.write_bytes(write_277ca(batch, [ClaimAnswer(first.number, "A2", "20", "", "PCN9"),
                                           ClaimAnswer(second.number, "A7", "164", "IL")]))
    ours = tmp_path / "ours.837"
    ours.write_text(batch.content)
    result = cli("edi", "import", str(ack), str(claims), str(ours), "--json")
    assert result.exit_code == 1  # one file refused
    done = json.loads(result.output)
    assert [d.get("kind") for d in done[:2]] == ["999", "277CA"]
    assert done[0]["accepted"] == 2
    assert done[1]["rejected_claims"] == [second.number]
    assert done[2]["refused"] is True
    assert "837P" in done[2]["errors"][0]
    assert second.status is ClaimStatus.REJECTED
    assert first.payer_claim_number == "PCN9"
    again = cli("edi", "import", str(ack))
    assert again.exit_code == 0
    assert "already imported" in again.output


def test_filing_proof_shows_each_send_and_its_acknowledgments(cli, world):
    batch, (first, _) = _sent(world)
    from billing.submissions.acknowledgments import import_ack

    import_ack(write_999(batch, {f"{batch.control_number:04d}": Answer("A")}), filename="b.999", actor=SYSTEM)
    result = cli("submissions", "filing-proof", first.number, "--json")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.output)
    [send] = proof["sends"]
    assert send["batch"] == batch.number
    assert send["control_number"] == f"{batch.control_number:09d}"
    assert send["file"] == batch.file_name
    assert [a["outcome"] for a in send["acknowledgments"]] == ["accepted"]
    text = cli("submissions", "filing-proof", first.number)
    assert batch.number in text.output
    assert "b.999" in text.output
    missing = cli("submissions", "filing-proof", "C-999999")
    assert missing.exit_code == 1


def test_the_filing_proof_report_lists_sends_with_their_acknowledgments(world):
    batch, (first, second) = _sent(world)
    from billing.submissions.acknowledgments import import_ack

    import_ack(write_277ca(batch, [ClaimAnswer(first.number, "A2", "20", "", "PCN1")]), filename="c.277",
               actor=SYSTEM)
    report = report_named("filing-proof")
    [sheet] = report.sheets(ReportFilters())
    rows = list(sheet.rows)
    by_claim = {r[0]: r for r in rows}
    assert set(by_claim) == {first.number, second.number}
    assert by_claim[first.number][5] == batch.number
    assert by_claim[first.number][13] == "Accepted"
    assert by_claim[first.number][15] == "PCN1"
    assert by_claim[second.number][11] == ""  # sent, nothing answered yet
    assert report.count(ReportFilters()) == 2
