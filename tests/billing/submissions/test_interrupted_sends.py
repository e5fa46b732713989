"""A send that stops part-way: the batch is Sending before the upload, and a retry never uploads the file twice.

A fake clearinghouse folder stands in for the SFTP server: uploads land in a dict, and a retry's look-up
reads it. Failures are injected at each step: before the upload, after it (the connection breaks, the
process dies, the completion fails), and while looking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from billing.claims.operations import hold_claim, release_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError, Conflict
from billing.core.unit_of_work import unit_of_work
from billing.submissions import operations
from billing.submissions.jobs import submit_ready_claims
from billing.submissions.models import BatchStatus, SendMethod
from billing.submissions.operations import StillSending, create_batches, mark_batch_sent, send_batch
from billing.submissions.queries import batch_by_id, subject_history
from billing.submissions.sftp import LookupFailed, RemoteStat, SendFailed, SftpSettings
from tests.worlds.practice import SYSTEM


@dataclass
class FakeInbound:
    """The clearinghouse's inbound folder: what arrived, how many uploads were made and how many look-ups."""

    files: dict[str, bytes] = field(default_factory=dict)
    uploads: int = 0
    lookups: int = 0
    #: What the next upload does: "ok", "refuse" (nothing arrives), "break_after" (arrives, then the line drops).
    next_upload: str = "ok"

    def upload(self, settings: SftpSettings, name: str, content: bytes) -> None:
        behaviour, self.next_upload = self.next_upload, "ok"
        if behaviour == "refuse":
            raise SendFailed(f"Could not connect to {settings.host}:{settings.port}: Connection refused.")
        self.uploads += 1
        self.files[name] = content
        if behaviour == "break_after":
            raise EOFError  # as paramiko does when the server hangs up before answering the rename

    def find(self, settings: SftpSettings, name: str) -> RemoteStat | None:
        self.lookups += 1
        return RemoteStat(len(self.files[name])) if name in self.files else None


@pytest.fixture
def inbound() -> FakeInbound:
    return FakeInbound()


@pytest.fixture
def batch(world):
    world.ready_claim()
    return create_batches(actor=SYSTEM)[0]


def _send(batch_id: int, inbound: FakeInbound):
    return send_batch(batch_id, actor=SYSTEM, uploader=inbound.upload, finder=inbound.find)


def _actions(batch) -> list[AuditAction]:
    return [h.action for h in subject_history("batch", batch.id)]


def _claim_statuses(batch) -> set[ClaimStatus]:
    return {e.claim.status for e in batch.entries}


def test_a_first_send_commits_sending_then_uploads_once_without_looking(batch, inbound):
    sent = _send(batch.id, inbound)
    assert (sent.status, sent.sent_how, sent.send_attempts) == (BatchStatus.SENT, SendMethod.SFTP, 1)
    assert sent.send_started_by == SYSTEM.name
    assert (inbound.uploads, inbound.lookups) == (1, 0)
    assert inbound.files[batch.file_name] == batch.content.encode("ascii")
    assert _claim_statuses(batch) == {ClaimStatus.SUBMITTED}
    assert _actions(batch)[-2:] == [AuditAction.BATCH_SENDING, AuditAction.BATCH_SENT]


def test_the_connection_breaking_after_the_upload_then_a_retry_uploads_exactly_once(batch, inbound):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending, match="stays Sending"):
        _send(batch.id, inbound)
    db.session.expire_all()
    assert batch_by_id(batch.id).status is BatchStatus.SENDING
    assert _claim_statuses(batch) == {ClaimStatus.READY}

    sent = _send(batch.id, inbound)
    assert sent.status is BatchStatus.SENT
    assert (inbound.uploads, inbound.lookups) == (1, 1)
    assert _claim_statuses(batch) == {ClaimStatus.SUBMITTED}
    history = subject_history("batch", batch.id)
    assert "found on the server" in history[-1].reason
    assert sent.send_attempts == 2


def test_a_completion_that_fails_after_the_upload_is_finished_by_the_retry_without_uploading(
    batch, inbound, monkeypatch
):
    def broken_charges(*args, **kwargs):
        raise RuntimeError("the database went away")  # the process dies here as far as this send knows

    with monkeypatch.context() as patched:
        patched.setattr(operations, "post_submission_charges", broken_charges)
        with pytest.raises(RuntimeError):
            _send(batch.id, inbound)
    db.session.expire_all()
    assert batch_by_id(batch.id).status is BatchStatus.SENDING
    assert inbound.uploads == 1

    _send(batch.id, inbound)
    assert inbound.uploads == 1
    assert batch_by_id(batch.id).status is BatchStatus.SENT


def test_a_process_that_died_before_uploading_is_retried_with_one_upload(batch, inbound):
    with unit_of_work():  # the first step of a send, then nothing: the process was killed
        operations._start_sending(batch.id, SYSTEM)
    db.session.expire_all()
    assert batch_by_id(batch.id).status is BatchStatus.SENDING

    _send(batch.id, inbound)
    assert (inbound.uploads, inbound.lookups) == (1, 1)  # looked, found nothing, uploaded
    assert batch_by_id(batch.id).status is BatchStatus.SENT


def test_an_upload_that_certainly_failed_goes_back_to_generated_and_the_retry_uploads_once(batch, inbound):
    inbound.next_upload = "refuse"
    with pytest.raises(SendFailed, match="Connection refused"):
        _send(batch.id, inbound)
    db.session.expire_all()
    found = batch_by_id(batch.id)
    assert found.status is BatchStatus.GENERATED
    assert _claim_statuses(found) == {ClaimStatus.READY}
    assert _actions(found)[-2:] == [AuditAction.BATCH_SENDING, AuditAction.BATCH_SEND_FAILED]

    _send(batch.id, inbound)
    assert inbound.uploads == 1
    assert batch_by_id(batch.id).status is BatchStatus.SENT


def test_a_look_up_that_fails_uploads_nothing_and_keeps_the_batch_sending(batch, inbound):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)

    def cannot_look(settings, name):
        raise LookupFailed("Could not look for the file: Permission denied.")

    with pytest.raises(StillSending, match="Permission denied"):
        send_batch(batch.id, actor=SYSTEM, uploader=inbound.upload, finder=cannot_look)
    db.session.expire_all()
    assert batch_by_id(batch.id).status is BatchStatus.SENDING
    assert inbound.uploads == 1


def test_a_different_file_of_the_same_name_is_not_taken_for_this_batch(batch, inbound):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)
    inbound.files[batch.file_name] = b"ISA*something else~"
    with pytest.raises(StillSending, match="not this batch's file"):
        _send(batch.id, inbound)
    assert inbound.uploads == 1
    db.session.expire_all()
    assert batch_by_id(batch.id).status is BatchStatus.SENDING


def test_a_batch_left_sending_may_be_marked_as_uploaded_by_hand(batch, inbound):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)
    marked = mark_batch_sent(batch.id, actor=SYSTEM)
    assert (marked.status, marked.sent_how) == (BatchStatus.SENT, SendMethod.MANUAL)
    with pytest.raises(Conflict, match="already sent"):
        _send(batch.id, inbound)
    assert inbound.uploads == 1


def test_a_sending_batch_whose_claim_was_held_says_why_it_cannot_finish(batch, inbound, world):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)
    claim = batch.entries[0].claim
    with unit_of_work():
        hold_claim(claim, reason="check auth", actor=SYSTEM)
    with pytest.raises(BillingError, match="may already be at the clearinghouse"):
        _send(batch.id, inbound)
    with unit_of_work():
        release_claim(claim, actor=SYSTEM)
    _send(batch.id, inbound)  # the file as built, found on the server: the edit since does not stop it
    assert inbound.uploads == 1
    assert claim.status is ClaimStatus.SUBMITTED


def test_the_submit_job_finishes_a_send_left_sending(batch, inbound, monkeypatch):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)
    monkeypatch.setattr("billing.submissions.sftp.upload", inbound.upload)
    monkeypatch.setattr(operations.send_batch, "__kwdefaults__",
                        {"uploader": inbound.upload, "finder": inbound.find})
    report = submit_ready_claims(actor=SYSTEM)
    assert report.done == [f"{batch.number}: 1 claims sent (an unfinished send completed)"]
    assert inbound.uploads == 1
    assert batch_by_id(batch.id).status is BatchStatus.SENT


def test_the_batch_page_and_the_cli_show_sending(batch, inbound, app, client, login):
    inbound.next_upload = "break_after"
    with pytest.raises(StillSending):
        _send(batch.id, inbound)
    login("biller")
    page = client.get(f"/admin/submissions/batch/{batch.id}/").get_data(as_text=True)
    assert "Sending" in page
    assert "data-sending" in page
    assert "Send again" in page
    listed = client.get("/admin/submissions/?status=sending").get_data(as_text=True)
    assert batch.number in listed
    result = app.test_cli_runner().invoke(args=["submissions", "list", "--json"])
    rows = {row["batch"]: row for row in json.loads(result.output)}
    assert rows[batch.number]["status"] == "sending"
