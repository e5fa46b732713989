"""Sending to a real SFTP server on loopback: byte for byte, host key checked, failures change nothing."""

from __future__ import annotations

import socket

import pytest

from billing.claims.statuses import ClaimStatus
from billing.core.errors import BillingError
from billing.core.unit_of_work import unit_of_work
from billing.submissions import operations
from billing.submissions.models import BatchStatus, SendMethod
from billing.submissions.operations import create_batches, send_batch
from billing.submissions.sftp import (
    RemoteStat,
    SendFailed,
    SftpSettings,
    download_new,
    find_uploaded,
    parse_host_key,
    upload,
)
from tests.worlds.practice import SYSTEM
from tests.worlds.sftp_server import other_host_key_line, sftp_server


def _settings(server, **overrides):
    fields = {"host": server.host, "port": server.port, "username": "claimdesk", "password": "s3cret-password",
              "host_key": server.host_key_line, **overrides}
    return SftpSettings(**fields)


def _point_at(house, server, **overrides):
    house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line
    for name, value in overrides.items():
        setattr(house, name, value)


def test_send_delivers_the_file_byte_for_byte(world, tmp_path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    with sftp_server(tmp_path) as server:
        _point_at(world.clearinghouse, server)
        send_batch(batch.id, actor=SYSTEM)
    assert (tmp_path / "inbound" / batch.file_name).read_bytes() == batch.content.encode("ascii")
    assert not list((tmp_path / "inbound").glob("*.part"))
    assert claim.status is ClaimStatus.SUBMITTED
    assert batch.sent_how is SendMethod.SFTP


def test_a_wrong_host_key_is_refused_before_logging_in(world, tmp_path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    with sftp_server(tmp_path) as server:
        _point_at(world.clearinghouse, server, sftp_host_key=other_host_key_line())
        with pytest.raises(SendFailed, match="different host key"):
            send_batch(batch.id, actor=SYSTEM)
        assert server.state.logins == []  # the password never left
    assert list((tmp_path / "inbound").iterdir()) == []
    assert claim.status is ClaimStatus.READY
    assert batch.status is BatchStatus.GENERATED


def test_a_refused_connection_leaves_every_claim_ready(world):
    claims = [world.ready_claim()]
    batch = create_batches(actor=SYSTEM)[0]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world.clearinghouse.sftp_host, world.clearinghouse.sftp_port = "127.0.0.1", port
    with pytest.raises(SendFailed, match="Could not connect"):
        send_batch(batch.id, actor=SYSTEM)
    assert {c.status for c in claims} == {ClaimStatus.READY}
    assert batch.status is BatchStatus.GENERATED


def test_bad_credentials_are_named_without_the_password(world, tmp_path):
    world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    with sftp_server(tmp_path) as server:
        _point_at(world.clearinghouse, server, sftp_password="wrong-horse")
        with pytest.raises(SendFailed, match="refused the login") as refused:
            send_batch(batch.id, actor=SYSTEM)
    assert "wrong-horse" not in refused.value.message
    assert batch.status is BatchStatus.GENERATED


def test_a_full_disk_fails_the_send_and_leaves_no_partial_file(world, tmp_path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    with sftp_server(tmp_path, disk_full=True) as server:
        _point_at(world.clearinghouse, server)
        with pytest.raises(SendFailed, match="disk full"):
            send_batch(batch.id, actor=SYSTEM)
    assert list((tmp_path / "inbound").iterdir()) == []
    assert claim.status is ClaimStatus.READY


def test_responses_are_downloaded_once(tmp_path):
    with sftp_server(tmp_path) as server:
        (tmp_path / "outbound" / "ack1.999").write_bytes(b"ISA*...~")
        first = download_new(_settings(server), known=set())
        again = download_new(_settings(server), known={f.name for f in first})
    assert [(f.name, f.content) for f in first] == [("ack1.999", b"ISA*...~")]
    assert again == []


def test_upload_to_a_missing_folder_says_so(tmp_path):
    with sftp_server(tmp_path) as server, pytest.raises(SendFailed, match="missing"):
        upload(_settings(server, inbound_folder="nowhere"), "x.x12", b"data")


@pytest.mark.parametrize("line", ["", "not a key", "ssh-ed25519 !!!notbase64"])
def test_a_malformed_stored_host_key_is_refused(line):
    with pytest.raises(BillingError, match="OpenSSH public key"):
        parse_host_key(line)


def test_a_file_in_the_inbound_folder_is_found_with_its_size(tmp_path):
    with sftp_server(tmp_path) as server:
        upload(_settings(server), "B-000001_000000001.x12", b"ISA*...~")
        found = find_uploaded(_settings(server), "B-000001_000000001.x12")
        missing = find_uploaded(_settings(server), "B-000002_000000002.x12")
    assert found == RemoteStat(len(b"ISA*...~"))
    assert missing is None


def test_a_retry_of_a_send_left_sending_finds_the_file_on_the_server_and_does_not_upload_it_again(world, tmp_path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    with sftp_server(tmp_path) as server:
        _point_at(world.clearinghouse, server)
        with unit_of_work():  # the first attempt uploaded, then its process died before completing
            operations._start_sending(batch.id, SYSTEM)
        upload(_settings(server), batch.file_name, batch.content.encode("ascii"))
        stamp = (tmp_path / "inbound" / batch.file_name).stat().st_mtime_ns
        send_batch(batch.id, actor=SYSTEM)
    assert (tmp_path / "inbound" / batch.file_name).stat().st_mtime_ns == stamp  # not written again
    assert claim.status is ClaimStatus.SUBMITTED
    assert batch.status is BatchStatus.SENT
