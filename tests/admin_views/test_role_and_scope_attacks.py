"""Issue 16 item 9, as attacks: an accountant or office manager POSTing every claim action, and an id from a
location outside the user's scope on every action, look-up, match and download.

The claim actions are read from the view classes (Flask-Admin's @action list, the operations the detail buttons,
the reason form and the money buttons dispatch), so a new action is attacked without editing this file.
"""

from __future__ import annotations

import inspect
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from admin_views import claim_payments, claims
from admin_views.claims import ClaimView
from admin_views.sessions import TherapySessionView
from billing.claims.models import Claim
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.operation_keys import new_operation_key
from billing.jobs.models import ExportRun, ExportStatus
from billing.ledger.models import LedgerEntry
from billing.payments.models import EraFile, UnmatchedClaim
from billing.people.models import Role
from billing.submissions.operations import create_batches
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import Payment, era_for, foreign, write_835
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import build_submission_world, give_address


def list_actions(view_class: type) -> list[str]:
    """The names of a grid's list actions (Flask-Admin's @action marks each method)."""
    return sorted(m._action[0] for _, m in inspect.getmembers(view_class) if hasattr(m, "_action"))


def dispatched(function: Any) -> list[str]:
    """The operation names a dispatcher compares against (`if operation == "hold":`)."""
    return sorted(set(re.findall(r'operation == "([\w-]+)"', inspect.getsource(function))))


CLAIM_ACTIONS = list_actions(ClaimView)
SESSION_ACTIONS = list_actions(TherapySessionView)
DETAIL_OPERATIONS = dispatched(claims._run)
REASON_OPERATIONS = sorted(claims.NEEDS_REASON)
MONEY_OPERATIONS = dispatched(claim_payments._money_operation)


def test_the_enumeration_finds_the_actions():
    """A guard on the guard: the lists above really hold the claim actions."""
    assert {"release", "retract", "hold", "void", "resubmit"} <= set(CLAIM_ACTIONS)
    assert {"hold", "void", "retract", "correct", "write_off"} <= set(DETAIL_OPERATIONS)
    assert "retract" in SESSION_ACTIONS
    assert MONEY_OPERATIONS


def attack_form(**extra: Any) -> dict[str, Any]:
    """Everything any claim form reads, filled in, so only the role or the scope can stop it."""
    return {"reason": "attack", "op_key": new_operation_key(), "confirm_money": "y", "payer_claim_number": "ICN-1",
            "posted_on": "2026-03-10", "do": "save", "mode": "new", "amount": "10.00", **extra}


def post(client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/admin/claim/")}, follow_redirects=True)


def footprint(claim_id: int) -> tuple[Any, ...]:
    """Everything a claim action would change: the claim, its history, its ledger, and the number of claims."""
    db.session.expire_all()
    claim = db.session.get(Claim, claim_id)
    history = db.session.scalar(select(func.count()).select_from(StatusChange)
                                .where(StatusChange.subject_type == "claim", StatusChange.subject_id == claim_id))
    ledger = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.claim_id == claim_id))
    count = db.session.scalar(select(func.count()).select_from(Claim))
    return claim.status, claim.hold_reason, claim.total_charge, claim.payer_claim_number, history, ledger, count


def claim_posts(claim_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every claim POST: list actions, detail buttons, the reason form, money buttons, payment, reverse, lines."""
    posts = [("/admin/claim/action/", attack_form(action=name, rowid=[str(claim_id)])) for name in CLAIM_ACTIONS]
    posts += [(f"/admin/claim/do/{op}/?id={claim_id}", attack_form()) for op in DETAIL_OPERATIONS]
    posts += [(f"/admin/claim/reason/?operation={op}&ids={claim_id}", attack_form()) for op in REASON_OPERATIONS]
    posts += [(f"/admin/claim/money/{op}/?id={claim_id}", attack_form()) for op in MONEY_OPERATIONS]
    posts += [(f"/admin/claim/{page}/?id={claim_id}", attack_form(**{"line-1-units": "1"}))
              for page in ("payment", "reverse", "lines")]
    return posts


# --- roles --------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
@pytest.mark.parametrize("status", ["ready", "submitted"])
def test_a_reader_posting_every_claim_action_changes_nothing(client, login, world, role, status):
    claim = world.claim() if status == "ready" else submitted_claim(world)
    login(role)
    before = footprint(claim.id)
    for path, data in claim_posts(claim.id):
        response = post(client, path, data)
        assert response.status_code in (200, 403), path
        assert footprint(claim.id) == before, f"{role.value} changed the claim through {path} {data.get('action')}"


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_a_reader_posting_every_session_action_reaches_no_claim(client, login, world, role):
    claim = world.claim()
    visit_id = claim.lines[0].session_id
    login(role)
    before = footprint(claim.id)
    for name in SESSION_ACTIONS:
        if name in ("finalize", "cancel", "delete") and role is Role.OFFICE_MANAGER:
            continue  # the office manager's own session work, refused or not by the session's state
        post(client, "/admin/session/action/", attack_form(action=name, rowid=[str(visit_id)]))
        assert footprint(claim.id) == before, f"{role.value} changed the claim through session action {name}"


def test_the_attack_would_show_a_change(client, login, world):
    """The same POST from a biller does retract: the footprint sees a change when there is one."""
    claim = world.claim()
    login(Role.BILLER)
    before = footprint(claim.id)
    post(client, "/admin/claim/action/", attack_form(action="retract", rowid=[str(claim.id)]))
    assert footprint(claim.id) != before


# --- scope --------------------------------------------------------------------------------------
def choose(client, scope: str) -> None:
    client.post("/scope", data={"scope": scope, "next": "/admin/", "csrf_token": csrf_token(client, "/admin/")})


@pytest.fixture
def elsewhere(world):
    """A second location of the same practice, with nothing in it: the user's scope, outside which `world` lies."""
    return f.LocationFactory(practice=world.location.practice, name="Elsewhere clinic")


@pytest.mark.parametrize("status", ["ready", "submitted"])
def test_an_out_of_scope_claim_is_not_found_by_any_claim_action(client, login, world, elsewhere, status):
    claim = world.claim() if status == "ready" else submitted_claim(world)
    login(Role.BILLER)
    choose(client, f"location:{elsewhere.id}")
    before = footprint(claim.id)
    for path, data in claim_posts(claim.id):
        post(client, path, data)
        assert footprint(claim.id) == before, f"out-of-scope claim changed through {path} {data.get('action')}"


def test_an_out_of_scope_list_action_is_refused_whole(client, login, world, elsewhere):
    """One id from outside the scope among the rows: nothing is done, not even to the in-scope ones."""
    outside = world.claim()
    client_here = f.ClientFactory(location=elsewhere)
    f.DiagnosisFactory(client=client_here)
    f.PolicyFactory(client=client_here, payer=world.payer)
    inside = world.claim(client=client_here, location=elsewhere)
    login(Role.BILLER)
    choose(client, f"location:{elsewhere.id}")
    before = footprint(inside.id), footprint(outside.id)
    body = post(client, "/admin/claim/action/", attack_form(action="retract", rowid=[str(inside.id), str(outside.id)])
                ).get_data(as_text=True)
    assert "does not exist in the chosen scope" in body
    assert (footprint(inside.id), footprint(outside.id)) == before


def test_an_out_of_scope_session_is_not_found_by_any_session_action(client, login, world, elsewhere):
    claim = world.claim()
    visit_id = claim.lines[0].session_id
    login(Role.ADMIN)
    choose(client, f"location:{elsewhere.id}")
    before = footprint(claim.id)
    for name in SESSION_ACTIONS:
        post(client, "/admin/session/action/", attack_form(action=name, rowid=[str(visit_id)]))
    post(client, f"/admin/session/do/bill_again/?id={visit_id}", {})
    assert footprint(claim.id) == before


def test_an_ajax_picker_offers_and_accepts_no_out_of_scope_client(client, login, world, elsewhere):
    login(Role.ADMIN)
    lookup = f"/admin/policy/ajax/lookup/?name=client&query={world.client.last_name}"
    assert str(world.client.id) in client.get(lookup).get_data(as_text=True)  # every company: found
    choose(client, f"location:{elsewhere.id}")
    assert client.get(lookup).get_json() == []
    form = {"client": world.client.id, "payer": world.payer.id, "rank": "primary", "member_id": "ATTACK1",
            "relationship_to_subscriber": "self", "effective_on": "2026-01-01"}
    client.post("/admin/policy/new/", data={**form, "csrf_token": csrf_token(client, "/admin/policy/")})
    assert db.session.scalar(select(func.count()).select_from(type(world.policy))
                             .where(type(world.policy).member_id == "ATTACK1")) == 0


def test_manual_match_refuses_an_out_of_scope_claim(client, login, world, elsewhere):
    claim = submitted_claim(world)
    login(Role.BILLER)
    stranger = Payment(claim.total_charge, "STRANGER", "UNKNOWN PAYER CO", "99999", [foreign("X-77")])
    client.post("/admin/remittance/upload/", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/admin/remittance/"),
        "files": [(io.BytesIO(write_835([stranger], control=9).encode()), "stranger.835")]})
    item = db.session.scalars(select(UnmatchedClaim)).one()
    choose(client, f"location:{elsewhere.id}")
    before = footprint(claim.id)
    body = post(client, f"/admin/unmatched/match/?id={item.id}", {"claim_number": claim.number}
                ).get_data(as_text=True)
    assert "No claim has the number" in body
    assert footprint(claim.id) == before


def test_an_out_of_scope_835_file_is_not_found(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    files = [(io.BytesIO(era_for(world, claim)), "a.835")]
    client.post("/admin/remittance/upload/", content_type="multipart/form-data",
                data={"csrf_token": csrf_token(client, "/admin/remittance/"), "files": files})
    era_file = db.session.scalars(select(EraFile)).one()
    url = f"/admin/remittance/file/{era_file.id}/"
    assert client.get(url).status_code == 200
    other = f.LocationFactory()  # another company: its scope shows none of this payer's checks
    choose(client, f"location:{other.id}")
    assert client.get(url).status_code == 404


def test_an_out_of_scope_batch_is_not_found_on_any_batch_page(client, login):
    world = build_submission_world()
    world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    elsewhere = f.LocationFactory(practice=world.location.practice)
    login(Role.BILLER)
    choose(client, f"location:{elsewhere.id}")
    base = f"/admin/submissions/batch/{batch.id}/"
    download = client.get(f"{base}download/", follow_redirects=True)
    assert download.mimetype == "text/html"
    assert "in the chosen scope" in download.get_data(as_text=True)
    assert "in the chosen scope" in client.get(base, follow_redirects=True).get_data(as_text=True)
    for action in ("mark-sent", "send", "remove", "rebuild"):
        body = post(client, f"{base}{action}/", {"claim": world.base.client.account_number}).get_data(as_text=True)
        assert "in the chosen scope" in body, action
    db.session.expire_all()
    assert db.session.get(type(batch), batch.id).status is batch.status
    choose(client, "all")
    assert client.get(f"{base}download/").mimetype == "application/edi-x12"


def test_generating_a_batch_refuses_an_out_of_scope_claim(client, login):
    world = build_submission_world()
    claim = world.ready_claim()
    give_address(world.base.client)
    elsewhere = f.LocationFactory(practice=world.location.practice)
    login(Role.BILLER)
    choose(client, f"location:{elsewhere.id}")
    before = footprint(claim.id)
    body = post(client, "/admin/submissions/generate/", {"claim_id": [str(claim.id)], "payer": "all"}
                ).get_data(as_text=True)
    assert "does not exist in the chosen scope" in body
    assert footprint(claim.id) == before


@pytest.mark.usefixtures("instance_in_tmp")
def test_an_export_built_for_another_scope_is_not_handed_out(client, login, world, elsewhere):
    from billing.jobs.export_runs import exports_dir

    path = exports_dir() / "claims-attack.xlsx"
    path.write_bytes(b"PK")
    run = ExportRun(report="claims", filters={"company_id": world.company.id, "location_id": world.location.id},
                    status=ExportStatus.FINISHED, file_name=path.name, requested_by="someone", rows_expected=1)
    db.session.add(run)
    db.session.commit()
    login(Role.ACCOUNTANT)
    choose(client, f"location:{elsewhere.id}")
    refused = client.get(f"/admin/reports/exports/{run.id}", follow_redirects=True)
    assert refused.mimetype == "text/html"
    assert "outside the chosen scope" in refused.get_data(as_text=True)
    choose(client, f"location:{world.location.id}")
    handed = client.get(f"/admin/reports/exports/{run.id}")
    assert handed.status_code == 200
    handed.close()
