"""Billing > Submissions and the clearinghouse settings through the Flask test client: roles, CSRF, the flow."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing.claims.operations import hold_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.time import practice_today
from billing.ledger.models import EntryKind, LedgerEntry
from billing.people.models import Role
from billing.submissions.models import BatchStatus, Clearinghouse, SendMethod, SubmissionBatch
from billing.submissions.operations import create_batches
from billing.submissions.queries import subject_history
from tests.conftest import csrf_token
from tests.worlds.practice import SYSTEM
from tests.worlds.sftp_server import sftp_server
from tests.worlds.submissions import SubmissionWorld, build_submission_world

BASE = "/admin/submissions/"
HOUSES = "/admin/clearinghouse/"
EDITORS = (Role.ADMIN, Role.BILLER)
FORBIDDEN = [Role.OFFICE_MANAGER]


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()


def post(client, path, data=None, *, token=True):
    data = dict(data or {})
    if token:
        data["csrf_token"] = _token(client)
    return client.post(path, data=data)


def _token(client) -> str:
    """The session's CSRF token, read from a page this user may open (ours, or the clients grid)."""
    readable = client.get(BASE).status_code == 200
    return csrf_token(client, BASE if readable else "/admin/client/")


def page(response) -> str:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    return body


def fresh(model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id)


# --- who may open what --------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_submission_pages_are_for_billers_admins_and_reading_accountants(client, login, world, role):
    world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(role)
    urls = [BASE, f"{BASE}new/", f"{BASE}batch/{batch.id}/"]
    if role is Role.OFFICE_MANAGER:
        assert all(client.get(u).status_code == 403 for u in urls)
        return
    if role not in EDITORS:  # New submission is a page of Generate buttons: not offered to readers at all
        assert client.get(f"{BASE}new/").status_code == 403
        urls.remove(f"{BASE}new/")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert ("read-only for your role" in page(response)) is (role not in EDITORS), url
        assert ("data-generate" in page(response) or "data-mark-sent" in page(response)) is (
            role in EDITORS and not url.endswith(BASE)
        ), url


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = client.get(BASE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_accountant_reads_the_file_but_cannot_generate_send_mark_or_download(client, login, world):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.ACCOUNTANT)
    preview = page(client.get(f"{BASE}batch/{batch.id}/"))
    assert f"CLM*{claim.number}*" in preview
    assert "data-mark-sent" not in preview
    assert "data-send" not in preview
    for path in (f"{BASE}batch/{batch.id}/mark-sent/", f"{BASE}batch/{batch.id}/send/", f"{BASE}generate/",
                 f"{BASE}batch/{batch.id}/remove/", f"{BASE}batch/{batch.id}/rebuild/"):  # fmt: skip
        response = post(client, path, {"claim": claim.number, "claim_id": claim.id})
        assert response.status_code == 302
        assert "cannot change submissions" in page(client.get(response.headers["Location"]))
    download = client.get(f"{BASE}batch/{batch.id}/download/")
    assert download.status_code == 302
    assert fresh(SubmissionBatch, batch.id).status is BatchStatus.GENERATED
    assert fresh(type(claim), claim.id).status is ClaimStatus.READY


@pytest.mark.parametrize("path", ["generate/", "batch/{id}/mark-sent/", "batch/{id}/send/", "batch/{id}/remove/"])
def test_every_post_needs_the_csrf_token(client, login, world, path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    response = post(client, BASE + path.format(id=batch.id), {"claim": claim.number, "claim_id": claim.id},
                    token=False)  # fmt: skip
    assert response.status_code == 400
    assert "Traceback" not in page(response)
    assert fresh(SubmissionBatch, batch.id).status is BatchStatus.GENERATED
    assert len(fresh(SubmissionBatch, batch.id).entries) == 1


# --- new submission -----------------------------------------------------------------------------
def test_new_submission_lists_every_ready_claim_selected_and_explains_the_others(client, login, world):
    ready = world.ready_claim()
    held = world.ready_claim(day=date(2026, 3, 3))
    blocked = world.ready_claim(day=date(2026, 3, 4))
    hold_claim(held, reason="paperwork", actor=SYSTEM)
    world.payer.clearinghouse = None  # the payer is on no clearinghouse: listed, not selectable
    login(Role.BILLER)
    body = page(client.get(f"{BASE}new/?payer={world.payer.id}"))
    assert held.number not in body  # Held claims are never batched
    for claim in (ready, blocked):
        row = re.search(rf'data-candidate="{claim.number}".*?</tr>', body, re.S).group(0)
        assert "not linked to an active clearinghouse" in row
        assert 'name="claim_id"' not in row


def test_generate_builds_a_validated_batch_and_opens_its_preview(client, login, world):
    first = world.ready_claim()
    second = world.ready_claim(day=date(2026, 3, 3))
    login(Role.BILLER)
    body = page(client.get(f"{BASE}new/?payer={world.payer.id}"))
    assert body.count('name="claim_id"') == 2
    assert body.count("checked aria-label=\"Include") == 2  # all selected by default
    response = post(client, f"{BASE}generate/", {"payer": str(world.payer.id), "claim_id": [first.id, second.id]})
    assert response.status_code == 302
    preview = page(client.get(response.headers["Location"]))
    assert "validated" in preview
    assert f'data-entry="{first.number}"' in preview
    assert f'data-entry="{second.number}"' in preview
    assert "146.96" in preview  # the total of both claims
    assert re.search(r"<pre[^>]*data-file>ISA\*", preview)
    assert "~\nGS*HC*" in preview  # one segment per line
    assert {c.status for c in (fresh(type(first), first.id), fresh(type(second), second.id))} == {ClaimStatus.READY}


def test_generate_only_the_chosen_claims(client, login, world):
    chosen = world.ready_claim()
    left = world.ready_claim(day=date(2026, 3, 3))
    login(Role.BILLER)
    post(client, f"{BASE}generate/", {"payer": "all", "claim_id": [chosen.id]})
    batch = db.session.scalars(db.select(SubmissionBatch)).one()
    assert [e.claim_id for e in batch.entries] == [chosen.id]
    assert left.number not in batch.content


def test_a_refused_file_shows_each_error_with_its_claim_and_saves_nothing(client, login, world):
    good = world.ready_claim()
    world.policy.member_id = "AB*12"  # a delimiter inside an identifier: refused, never altered
    login(Role.BILLER)
    response = post(client, f"{BASE}generate/", {"payer": "all", "claim_id": [good.id]})
    body = page(response)
    assert response.status_code == 200
    assert "nothing was generated" in body
    assert f'data-error-claim="{good.number}"' in body
    assert "reserves" in body
    assert db.session.scalars(db.select(SubmissionBatch)).all() == []
    assert fresh(Clearinghouse, world.clearinghouse.id).last_control_number == 0


def test_generating_with_nothing_selected_says_so(client, login, world):
    world.ready_claim()
    login(Role.BILLER)
    body = page(post(client, f"{BASE}generate/", {"payer": "all"}))
    assert "Select at least one claim" in body


# --- one batch: download, mark as uploaded, send, take out --------------------------------------
def test_download_then_mark_as_uploaded_submits_every_claim(client, login, world):
    claims = [world.ready_claim(), world.ready_claim(day=date(2026, 3, 3))]
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    download = client.get(f"{BASE}batch/{batch.id}/download/")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="{batch.file_name}"'
    assert download.data == batch.content.encode("ascii")
    assert fresh(SubmissionBatch, batch.id).status is BatchStatus.GENERATED  # downloading is not sending
    response = post(client, f"{BASE}batch/{batch.id}/mark-sent/")
    body = page(client.get(response.headers["Location"]))
    assert "marked as uploaded" in body
    sent = fresh(SubmissionBatch, batch.id)
    assert (sent.status, sent.sent_how) == (BatchStatus.SENT, SendMethod.MANUAL)
    assert {fresh(type(c), c.id).status for c in claims} == {ClaimStatus.SUBMITTED}
    assert 'data-read-only' in body
    assert "data-remove" not in body
    assert "data-mark-sent" not in body
    again = post(client, f"{BASE}batch/{batch.id}/mark-sent/")
    assert "already sent" in page(client.get(again.headers["Location"]))
    assert [h.action for h in subject_history("batch", batch.id)].count(AuditAction.BATCH_SENT) == 1


def test_mark_as_uploaded_takes_the_upload_date_for_the_charges(client, login, world):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    bad = post(client, f"{BASE}batch/{batch.id}/mark-sent/", {"sent_on": "yesterday"})
    assert "is not a date" in page(client.get(bad.headers["Location"]))
    assert fresh(SubmissionBatch, batch.id).status is BatchStatus.GENERATED
    uploaded = practice_today() - timedelta(days=3)
    post(client, f"{BASE}batch/{batch.id}/mark-sent/", {"sent_on": uploaded.isoformat()})
    charges = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id)).all()
    assert [(e.kind, e.posted_on) for e in charges] == [(EntryKind.CHARGE, uploaded)]


def test_a_stale_file_is_not_downloaded(client, login, world):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    hold_claim(claim, reason="wrong auth", actor=SYSTEM)
    login(Role.BILLER)
    response = client.get(f"{BASE}batch/{batch.id}/download/")
    assert response.status_code == 302
    assert "Held now" in page(client.get(response.headers["Location"]))


def test_send_uploads_by_sftp_and_a_refused_connection_changes_nothing(client, login, world, tmp_path):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    house = world.clearinghouse
    login(Role.BILLER)
    house.sftp_port = 1  # nothing listens there
    refused = post(client, f"{BASE}batch/{batch.id}/send/")
    assert "Nothing was changed" in page(client.get(refused.headers["Location"]))
    assert fresh(type(claim), claim.id).status is ClaimStatus.READY
    with sftp_server(tmp_path) as server:
        house = fresh(Clearinghouse, house.id)
        house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line
        db.session.flush()
        sent = post(client, f"{BASE}batch/{batch.id}/send/")
    assert "sent by SFTP" in page(client.get(sent.headers["Location"]))
    stored = fresh(SubmissionBatch, batch.id)
    assert (tmp_path / "inbound" / stored.file_name).read_bytes() == stored.content.encode("ascii")
    assert stored.sent_how is SendMethod.SFTP
    assert fresh(type(claim), claim.id).status is ClaimStatus.SUBMITTED


def test_take_a_claim_out_of_an_unsent_batch(client, login, world):
    first = world.ready_claim()
    second = world.ready_claim(day=date(2026, 3, 3))
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    response = post(client, f"{BASE}batch/{batch.id}/remove/", {"claim": first.number})
    body = page(client.get(response.headers["Location"]))
    assert f"{first.number} taken out" in body
    stored = fresh(SubmissionBatch, batch.id)
    assert [e.claim_id for e in stored.entries] == [second.id]
    assert f"CLM*{first.number}*" not in stored.content


def test_a_sent_batch_refuses_to_lose_a_claim(client, login, world):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    post(client, f"{BASE}batch/{batch.id}/mark-sent/")
    response = post(client, f"{BASE}batch/{batch.id}/remove/", {"claim": claim.number})
    assert "read-only" in page(client.get(response.headers["Location"]))
    assert len(fresh(SubmissionBatch, batch.id).entries) == 1


def test_an_unknown_batch_is_a_message_not_an_error(client, login, world):
    login(Role.BILLER)
    response = client.get(f"{BASE}batch/999999/")
    assert response.status_code == 302
    assert "no batch" in page(client.get(response.headers["Location"]))


def test_the_batch_page_shows_authorization_units_before_and_after_sending(client, login, world):
    from tests.worlds import factories as f

    auth = f.AuthorizationFactory(client=world.client, policy=world.policy, units_approved=40,
                                  service_codes=[world.code], number="AUTH-77")  # fmt: skip
    world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    login(Role.BILLER)
    body = page(client.get(f"{BASE}batch/{batch.id}/"))
    row = re.search(r"<td>AUTH-77</td>.*?</tr>", body, re.S).group(0)
    assert re.findall(r'text-right">(\d+)<', row) == ["40", "0", "4", "36"]
    post(client, f"{BASE}batch/{batch.id}/mark-sent/")
    row = re.search(r"<td>AUTH-77</td>.*?</tr>", page(client.get(f"{BASE}batch/{batch.id}/")), re.S).group(0)
    assert re.findall(r'text-right">(\d+)<', row) == ["40", "4", "4", "36"]
    assert auth.id


# --- clearinghouse settings ---------------------------------------------------------------------
def house_form(**overrides):
    form = {
        "name": "Office Ally", "active": "y", "usage_indicator": "T", "isa_sender_qualifier": "ZZ",
        "isa_sender_id": "CLAIMDESK", "isa_receiver_qualifier": "ZZ", "isa_receiver_id": "OFFALLY",
        "gs_sender_code": "CLAIMDESK", "gs_receiver_code": "OFFALLY", "submitter_name": "Bright Path",
        "submitter_etin": "ETIN01", "submitter_contact_name": "Ann", "submitter_contact_phone": "2175550100",
        "submitter_contact_email": "", "receiver_name": "Office Ally", "receiver_id": "330897513",
        "sftp_host": "sftp.example.test", "sftp_port": "22", "sftp_username": "claimdesk",
        "new_password": "n3w-Secret!", "new_private_key": "",
        "sftp_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5ScX3+fdaUsBPBnHHAs70QrUJojoHJ8rEy9FZuuIXg",
        "inbound_folder": "inbound", "outbound_folder": "outbound", "file_name_pattern": "{batch}_{control}.x12",
    }  # fmt: skip
    form.update(overrides)
    return form


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_open_clearinghouse_settings(client, login, world, role):
    login(role)
    assert client.get(HOUSES).status_code == 403
    assert client.get(f"{HOUSES}details/?id={world.clearinghouse.id}").status_code == 403
    assert post(client, f"{HOUSES}new/", house_form(name="Sneaky")).status_code == 403
    assert db.session.scalars(db.select(Clearinghouse).where(Clearinghouse.name == "Sneaky")).all() == []


def test_secrets_are_write_only(client, login, world):
    login(Role.ADMIN)
    house = world.clearinghouse
    for url in (HOUSES, f"{HOUSES}details/?id={house.id}", f"{HOUSES}edit/?id={house.id}"):
        body = page(client.get(url))
        assert house.sftp_password not in body
    assert "password stored" in page(client.get(f"{HOUSES}details/?id={house.id}"))


def test_create_a_clearinghouse_and_keep_the_secret_when_the_field_is_left_empty(client, login, world):
    login(Role.ADMIN)
    response = post(client, f"{HOUSES}new/", house_form())
    assert response.status_code == 302, page(response)
    house = db.session.scalars(db.select(Clearinghouse).where(Clearinghouse.name == "Office Ally")).one()
    assert house.sftp_password == "n3w-Secret!"
    edit = post(client, f"{HOUSES}edit/?id={house.id}", house_form(new_password="", usage_indicator="P"))
    assert edit.status_code == 302, page(edit)
    house = fresh(Clearinghouse, house.id)
    assert (house.sftp_password, house.usage_indicator) == ("n3w-Secret!", "P")
    history = subject_history("clearinghouse", house.id)
    assert [h.action for h in history] == [AuditAction.CLEARINGHOUSE_CHANGED] * 2
    assert history[0].data["sftp_password"] == "changed"
    assert history[1].data == {"usage_indicator": "P"}
    assert all("n3w-Secret!" not in str(h.data) for h in history)


def test_a_refused_form_does_not_echo_the_typed_secrets(client, login, world):
    login(Role.ADMIN)
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----"
    response = post(client, f"{HOUSES}new/", house_form(isa_sender_id="AB*CD", new_private_key=key))
    body = page(response)
    assert response.status_code == 200
    assert "may not contain" in body
    assert "n3w-Secret!" not in body
    assert "not-a-real-key" not in body
    assert "private key could not be read" in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sftp_host_key": ""}, "an unknown server is never trusted"),
        ({"sftp_host_key": "ssh-ed25519 nonsense!"}, "OpenSSH public key"),
        ({"new_password": ""}, "password or a private key"),
        ({"file_name_pattern": "{customer}.x12"}, "placeholders"),
        ({"file_name_pattern": "claims.x12"}, "must contain {batch} or {control}"),
        ({"usage_indicator": "X"}, "Not a valid choice"),
        ({"submitter_contact_phone": "217-555"}, "Ten digits"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(client, login, world, overrides, message):
    login(Role.ADMIN)
    response = post(client, f"{HOUSES}new/", house_form(**overrides))
    assert response.status_code == 200
    assert message in page(response)
    assert db.session.scalars(db.select(Clearinghouse).where(Clearinghouse.name == "Office Ally")).all() == []


def test_the_connection_test_checks_the_host_key(client, login, world, tmp_path):
    from tests.worlds.sftp_server import other_host_key_line

    login(Role.ADMIN)
    house = world.clearinghouse
    with sftp_server(tmp_path) as server:
        house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line
        db.session.flush()
        good = post(client, f"{HOUSES}test/?id={house.id}")
        assert "the host key matches" in page(client.get(good.headers["Location"]))
        offered = page(post(client, f"{HOUSES}offered-key/?id={house.id}"))
        assert "matches the stored key" in offered
        fresh(Clearinghouse, house.id).sftp_host_key = other_host_key_line()
        db.session.flush()
        bad = post(client, f"{HOUSES}test/?id={house.id}")
        assert "different host key" in page(client.get(bad.headers["Location"]))
        assert "different from the stored key" in page(post(client, f"{HOUSES}offered-key/?id={house.id}"))


def test_the_payer_form_links_a_clearinghouse_and_its_payer_id(client, login, world):
    login(Role.BILLER)
    body = page(client.get(f"/admin/payer/edit/?id={world.payer.id}"))
    assert 'name="clearinghouse"' in body
    assert 'name="clearinghouse_payer_id"' in body


def test_a_download_only_clearinghouse_needs_no_sftp_settings(client, login, world):
    login(Role.ADMIN)
    form = house_form(sftp_host="", sftp_username="", new_password="", sftp_host_key="", submitter_contact_phone="")
    response = post(client, f"{HOUSES}new/", form)
    assert response.status_code == 302, page(response)
    house = db.session.scalars(db.select(Clearinghouse).where(Clearinghouse.name == "Office Ally")).one()
    assert (house.sftp_host, house.sftp_username, house.sftp_host_key, house.submitter_contact_phone) == (
        None, None, None, None)


def test_the_batch_list_filters_by_status(client, login, world):
    world.ready_claim()
    sent = create_batches(actor=SYSTEM)[0]
    from billing.submissions.operations import mark_batch_sent

    mark_batch_sent(sent.id, actor=SYSTEM)
    world.ready_claim(day=date(2026, 3, 3))
    waiting = create_batches(actor=SYSTEM)[0]
    login(Role.ACCOUNTANT)
    everything = page(client.get(BASE))
    assert f'data-batch="{sent.number}"' in everything
    assert f'data-batch="{waiting.number}"' in everything
    only_sent = page(client.get(f"{BASE}?status=sent"))
    assert f'data-batch="{sent.number}"' in only_sent
    assert f'data-batch="{waiting.number}"' not in only_sent


def test_the_batch_page_shows_the_999_collected_for_it(client, login, world):
    from billing.jobs.tasks import import_collected_response, pending_responses
    from billing.submissions.models import ClearinghouseResponse
    from billing.submissions.responses import collect_responses
    from billing.submissions.sftp import RemoteFile

    world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    ack = (f"ISA*00*          *00*          *ZZ*OFFALLY        *ZZ*CLAIMDESK      *260310*0900*^*00501*000000777*0*T*:~"
           f"GS*FA*OFFALLY*CLAIMDESK*20260310*0900*777*X*005010X231A1~ST*999*0001*005010X231A1~"
           f"AK1*HC*{batch.control_number}*005010X222A1~AK9*A*1*1*1~SE*4*0001~GE*1*777~IEA*1*000000777~")  # fmt: skip
    collect_responses(world.clearinghouse, actor=SYSTEM,
                      downloader=lambda settings, known: [RemoteFile("ack.999", ack.encode())])  # fmt: skip
    for response_id in pending_responses():  # the collect-responses job imports what it collected
        import_collected_response(response_id)
    assert db.session.scalars(db.select(ClearinghouseResponse.batch_id)).all() == [batch.id]
    login(Role.BILLER)
    body = page(client.get(f"{BASE}batch/{batch.id}/"))
    assert "data-responses" in body
    assert "ack.999" in body
    assert "accepted" in body


@pytest.mark.parametrize("path", ["new/", "test/?id={id}", "offered-key/?id={id}", "edit/?id={id}"])
def test_clearinghouse_posts_need_the_csrf_token(client, login, world, path):
    login(Role.ADMIN)
    house = world.clearinghouse
    response = post(client, HOUSES + path.format(id=house.id), house_form(name="No token", usage_indicator="P"),
                    token=False)  # fmt: skip
    assert response.status_code == 400
    assert "Traceback" not in page(response)
    assert fresh(Clearinghouse, house.id).usage_indicator == "T"
    assert db.session.scalars(db.select(Clearinghouse).where(Clearinghouse.name == "No token")).all() == []


def _payer_form(world, **overrides):
    payer = world.payer
    form = {"company": str(payer.company_id), "name": payer.name, "payer_type": payer.payer_type.value,
            "claim_filing_indicator": "CI", "edi_payer_id": payer.edi_payer_id, "edi_enabled": "y",
            "clearinghouse": str(world.clearinghouse.id), "clearinghouse_payer_id": "OA-77", "active": "y"}  # fmt: skip
    form.update(overrides)
    return form


def test_the_payer_form_saves_the_clearinghouse_payer_id_and_refuses_delimiters(client, login, world):
    from billing.coverage.models import Payer

    login(Role.BILLER)
    url = f"/admin/payer/edit/?id={world.payer.id}"
    refused = post(client, url, _payer_form(world, clearinghouse_payer_id="OA*77"))
    assert refused.status_code == 200
    assert "reserves" in page(refused)
    assert fresh(Payer, world.payer.id).clearinghouse_payer_id == "KEYINS01"
    saved = post(client, url, _payer_form(world, clearinghouse_payer_id=" OA-77 "))
    assert saved.status_code == 302, page(saved)
    assert fresh(Payer, world.payer.id).clearinghouse_payer_id == "OA-77"
