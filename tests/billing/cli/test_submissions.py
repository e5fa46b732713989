"""`flask submissions ...` through click's runner: output, --json, and one-line refusals with exit 1."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.ledger.models import LedgerEntry
from billing.submissions.models import BatchStatus, SubmissionBatch
from tests.worlds.submissions import SubmissionWorld, build_submission_world


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["submissions", *args])


def test_create_list_export_and_mark_sent(cli, world, tmp_path):
    claim = world.ready_claim()
    created = cli("create", "--all", "--json")
    assert created.exit_code == 0, created.output
    [batch] = json.loads(created.output)["batches"]
    assert batch["claims"] == 1
    assert batch["status"] == "generated"
    listed = json.loads(cli("list", "--json").output)
    assert [b["batch"] for b in listed] == [batch["batch"]]
    out = tmp_path / "out.x12"
    exported = cli("export", batch["batch"], "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == db.session.get(SubmissionBatch, batch["id"]).content.encode("ascii")
    marked = cli("mark-sent", str(batch["id"]))
    assert marked.exit_code == 0
    assert "1 claims submitted" in marked.output
    db.session.expire_all()
    assert db.session.get(type(claim), claim.id).status is ClaimStatus.SUBMITTED


def test_mark_sent_takes_the_upload_date(cli, world):
    claim = world.ready_claim()
    [batch] = json.loads(cli("create", "--all", "--json").output)["batches"]
    future = cli("mark-sent", batch["batch"], "--sent-on", "2999-01-01")
    assert future.exit_code != 0
    assert "in the future" in future.output
    assert cli("mark-sent", batch["batch"], "--sent-on", "2026-03-09").exit_code == 0
    db.session.expire_all()
    posted = db.session.scalars(select(LedgerEntry.posted_on).where(LedgerEntry.claim_id == claim.id)).all()
    assert posted == [date(2026, 3, 9)]


def test_create_for_one_payer(cli, world):
    world.ready_claim()
    result = cli("create", "--payer", str(world.payer.id))
    assert result.exit_code == 0
    assert "1 claims" in result.output


def test_refusals_are_one_line_and_exit_non_zero(cli, world):
    nothing = cli("create", "--all")
    assert nothing.exit_code == 1
    assert nothing.output.strip() == "Error: There are no eligible claims to submit."
    missing = cli("send", "B-999999", "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.output)["ok"] is False
    both = cli("create")
    assert both.exit_code == 2


def test_sending_twice_is_refused(cli, world):
    world.ready_claim()
    batch = json.loads(cli("create", "--all", "--json").output)["batches"][0]
    assert cli("mark-sent", batch["batch"]).exit_code == 0
    again = cli("mark-sent", batch["batch"])
    assert again.exit_code == 1
    assert "already sent" in again.output
    db.session.expire_all()
    assert db.session.get(SubmissionBatch, batch["id"]).status is BatchStatus.SENT


def test_remove_a_claim_from_an_unsent_batch(cli, world):
    claim = world.ready_claim()
    batch = json.loads(cli("create", "--all", "--json").output)["batches"][0]
    result = cli("remove", batch["batch"], claim.number)
    assert result.exit_code == 0
    assert "cancelled" in result.output


def test_export_refuses_a_file_that_no_longer_matches_its_claims(cli, world, tmp_path):
    from billing.claims.operations import hold_claim
    from tests.worlds.practice import SYSTEM

    claim = world.ready_claim()
    batch = json.loads(cli("create", "--all", "--json").output)["batches"][0]
    hold_claim(db.session.get(type(claim), claim.id), reason="wrong auth", actor=SYSTEM)
    out = tmp_path / "stale.x12"
    result = cli("export", batch["batch"], "-o", str(out))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "Held now" in result.output
    assert not out.exists()


# --- case O: a void waiting for the payer's claim number blocks only itself -------------------------------------

@pytest.fixture
def waiting_void(world):
    from billing.claims.operations import void_claim
    from tests.worlds.claims import walk_to
    from tests.worlds.practice import SYSTEM

    claim = walk_to(world.ready_claim(day=date(2026, 3, 2)), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    db.session.commit()
    return claim


def test_case_o_create_sends_the_ready_claims_and_names_the_waiting_void(cli, world, waiting_void):
    world.ready_claim(day=date(2026, 3, 3))
    world.ready_claim(day=date(2026, 3, 4))
    db.session.commit()
    result = cli("create", "--all", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is True
    assert [b["claims"] for b in doc["batches"]] == [2]
    [left] = doc["left_out"]
    assert left["claim"] == waiting_void.number
    assert "waiting for the payer's claim number (ICN)" in left["why"]


def test_case_o_create_text_names_the_waiting_void(cli, world, waiting_void):
    world.ready_claim(day=date(2026, 3, 3))
    db.session.commit()
    result = cli("create", "--all")
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().splitlines()
    assert "1 claims" in first
    assert second.startswith(f"Left out {waiting_void.number}: void waiting for the payer's claim number")


def test_case_o_with_only_the_waiting_void_create_refuses_and_names_it(cli, world, waiting_void):
    text = cli("create", "--all")
    assert text.exit_code == 1
    assert waiting_void.number in text.output
    doc = json.loads(cli("create", "--all", "--json").output)
    assert doc["kind"] == "nothing_to_do"
    assert [v["claim"] for v in doc["left_out"]] == [waiting_void.number]
    assert db.session.scalars(select(SubmissionBatch)).all() == []


def test_create_saves_each_batch_and_a_failure_names_the_batches_kept(cli, world, monkeypatch):
    from billing.edi.x837p_checks import FileError
    from billing.submissions import builds
    from billing.submissions.operations import BatchRefused
    from tests.worlds.bulk_claims import copies_of

    world.clearinghouse.max_claims_per_file = 1
    original = world.ready_claim()
    copies_of(original, 1)
    db.session.commit()
    real, calls = builds.build_part, []

    def second_refused(*args, **kwargs):
        calls.append(real(*args, **kwargs))
        if len(calls) % 2 == 0:
            raise BatchRefused([FileError(9, "NM1*85", "bad NPI", "C-000002")])
        return calls[-1]

    monkeypatch.setattr(builds, "build_part", second_refused)
    refused = cli("create", "--all", "--json")
    assert refused.exit_code == 1
    error = json.loads(refused.output)
    assert error["kind"] == "failed"
    assert error["error"].startswith("Stopped at batch 2 of 2: The 837P was refused")
    [kept] = error["saved_batches"]
    [problem] = error["errors"]
    assert "bad NPI" in problem
    assert f"saved, 1 claims ({kept['batch']})" in error["error"]
    assert [b.number for b in db.session.scalars(select(SubmissionBatch))] == [kept["batch"]]
    again = cli("create", "--all")  # the claim left Ready goes now; the other one is already in a batch
    assert again.exit_code == 0, again.output
    assert len(db.session.scalars(select(SubmissionBatch)).all()) == 2
