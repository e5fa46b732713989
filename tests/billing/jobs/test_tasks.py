"""Each job body called directly with a fixed clock: rules run, submission, collecting responses by SFTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import BillingError
from billing.jobs.models import JobRunStatus, ResponseImport, ResponseImportStatus
from billing.jobs.runs import run_job
from billing.jobs.tasks import collect_responses, run_rules, submit_ready_claims
from billing.ledger.models import LedgerEntry
from billing.payments.models import Remittance
from billing.submissions.models import ClearinghouseResponse, SubmissionBatch
from rules.models import BillingRun
from tests.billing.jobs.conftest import NOW
from tests.worlds.claims import walk_to
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import DAY
from tests.worlds.rules import fail, leaf, make_rule
from tests.worlds.sftp_server import sftp_server
from tests.worlds.submissions import build_submission_world

D = Decimal
ACK_999 = ("ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*CLAIMDESK      *260318*1200*^*00501*000000007*0*T*:~"
           "GS*FA*CH*CD*20260318*1200*7*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*123*005010X222A1~"
           "AK9*A*1*1*1~SE*4*0001~GE*1*7~IEA*1*000000007~")


@pytest.fixture
def sw():
    return build_submission_world()


@pytest.fixture
def tmp_path(tmp_path):
    """The SFTP server's root, apart from the instance folder the jobs fixtures put in tmp_path."""
    (tmp_path / "sftp").mkdir()
    return tmp_path


def point_at(house, server):
    house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line


def era_for(sw, claim, check: str, *, paid: str = "58.78", control: int = 1) -> bytes:
    line = claim.lines[0]
    clp = Clp(claim.number, "1", claim.total_charge, D(paid), payer_claim_number=f"ICN-{check}",
              services=[Svc(line.service_code.code, line.charge, D(paid), [("CO", "45", line.charge - D(paid))],
                            service_date=line.service_date)])
    payment = Payment(D(paid), check, sw.base.payer.name.upper(), sw.base.payer.edi_payer_id, [clp])
    return write_835([payment], control=control).encode()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- nightly rules ------------------------------------------------------------------------------------------

SEEN_TODAY = []


def recording_run_rules(*, actor, today, **scope):
    from rules.runs import run_rules as real

    SEEN_TODAY.append(today)
    return real(actor=actor, today=today, **scope)


def test_the_rules_job_runs_every_enabled_rule_and_reports_the_run(sw):
    claim = sw.base.claim(day=DAY, minutes=30)
    make_rule("Short sessions", conditions=leaf("units", "less_than", 3), actions=fail("Under 3 units."))
    summary = run_rules(NOW)
    run = db.session.scalars(select(BillingRun).order_by(BillingRun.id.desc())).first()
    # One company, one unit: its row names it (billing.jobs.recording.run_unit).
    assert summary == f"{sw.base.company.legal_name}: Run {run.id}: 1 claims checked, 1 failing, 0 held, 0 rule errors."
    assert "scheduler" in run.actor
    assert claim.status is ClaimStatus.READY  # a failure blocks submission; it does not hold


def test_the_rules_job_uses_the_practice_date_not_utc(sw, monkeypatch):
    from billing.jobs import tasks

    monkeypatch.setattr(tasks, "run_rules_now", recording_run_rules)
    SEEN_TODAY.clear()
    run_rules(datetime(2026, 3, 19, 4, 30, tzinfo=UTC))  # 23:30 on March 18 in Chicago
    assert [date(2026, 3, 18)] == SEEN_TODAY


# --- submission ---------------------------------------------------------------------------------------------

def test_submission_with_nothing_eligible_sends_no_batch(sw):
    assert submit_ready_claims(NOW) == "No eligible Ready claims; nothing sent."
    assert count(SubmissionBatch) == 0


def test_submission_batches_validates_and_sends_each_clearinghouse(sw, tmp_path):
    claims = [sw.ready_claim(day=DAY + timedelta(days=n)) for n in range(2)]
    with sftp_server(tmp_path / "sftp") as server:
        point_at(sw.clearinghouse, server)
        summary = submit_ready_claims(NOW)
        sent = list((tmp_path / "sftp" / "inbound").iterdir())
    assert "2 claims sent" in summary
    assert len(sent) == 1
    assert [c.status for c in claims] == [ClaimStatus.SUBMITTED, ClaimStatus.SUBMITTED]


def _waiting_void(sw):
    from billing.claims.operations import void_claim
    from tests.worlds.practice import SYSTEM

    claim = walk_to(sw.ready_claim(day=DAY - timedelta(days=7)), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    return claim


def test_case_o_the_nightly_job_sends_the_two_ready_claims_and_names_the_void_waiting_for_its_icn(sw, tmp_path):
    void = _waiting_void(sw)
    claims = [sw.ready_claim(day=DAY + timedelta(days=n)) for n in range(2)]
    with sftp_server(tmp_path / "sftp") as server:
        point_at(sw.clearinghouse, server)
        summary = submit_ready_claims(NOW)
        [sent] = list((tmp_path / "sftp" / "inbound").iterdir())
    assert "2 claims sent" in summary
    assert f"LEFT OUT {void.number}: void waiting for the payer's claim number (ICN)" in summary
    assert [c.status for c in claims] == [ClaimStatus.SUBMITTED, ClaimStatus.SUBMITTED]
    assert f"CLM*{void.number}*" not in sent.read_text()
    assert void.void_to_send


def test_case_o_with_only_a_waiting_void_the_job_sends_nothing_and_names_it(sw):
    void = _waiting_void(sw)
    summary = submit_ready_claims(NOW)
    assert summary.startswith("No eligible Ready claims; nothing sent.")
    assert f"LEFT OUT {void.number}" in summary
    assert count(SubmissionBatch) == 0


def test_a_submission_error_fails_the_run_and_sends_nothing(sw, tmp_path):
    claim = sw.ready_claim()
    with sftp_server(tmp_path / "sftp", disk_full=True) as server:
        point_at(sw.clearinghouse, server)
        with pytest.raises(BillingError, match="FAILED"):
            submit_ready_claims(NOW)
    assert claim.status is ClaimStatus.READY


# --- collecting responses -----------------------------------------------------------------------------------

def test_collect_imports_a_new_835_once_and_only_once(sw, tmp_path):
    claim = walk_to(sw.ready_claim(), ClaimStatus.SUBMITTED)
    root = tmp_path / "sftp"
    with sftp_server(root) as server:
        point_at(sw.clearinghouse, server)
        (root / "outbound" / "era-0318.835").write_bytes(era_for(sw, claim, "EFT1"))
        (root / "outbound" / "ack-0318.999").write_text(ACK_999)
        first = collect_responses(NOW)
        entries = count(LedgerEntry)
        second = collect_responses(NOW + timedelta(hours=1))
    assert "2 new file(s)" in first
    assert "1 posted" in first
    assert claim.status is ClaimStatus.PAID
    assert count(Remittance) == 1
    assert "0 new file(s)" in second
    assert "nothing new to import" in second
    assert count(LedgerEntry) == entries  # nothing posted twice
    assert count(ClearinghouseResponse) == 2
    # The 999 goes through the acknowledgment import too: it answers no batch of ours, so it is kept unmatched.
    assert "kept unmatched" in first
    assert db.session.scalars(select(ResponseImport.status)).all() == [ResponseImportStatus.IMPORTED] * 2


def test_an_835_already_posted_by_hand_is_recorded_as_a_duplicate(sw, tmp_path):
    from billing.payments.remittances import import_835
    from tests.worlds.practice import SYSTEM

    claim = walk_to(sw.ready_claim(), ClaimStatus.SUBMITTED)
    data = era_for(sw, claim, "EFT2")
    import_835(data, filename="typed-in.835", actor=SYSTEM)
    root = tmp_path / "sftp"
    with sftp_server(root) as server:
        point_at(sw.clearinghouse, server)
        (root / "outbound" / "era.835").write_bytes(data)
        summary = collect_responses(NOW)
    assert "already imported" in summary
    assert db.session.scalars(select(ResponseImport.status)).all() == [ResponseImportStatus.DUPLICATE]
    assert count(Remittance) == 1


def test_a_broken_835_fails_the_run_once_and_is_not_retried(sw, tmp_path):
    root = tmp_path / "sftp"
    broken = ACK_999.replace("ST*999", "ST*835").replace("005010X231A1", "005010X221A1")
    with sftp_server(root) as server:
        point_at(sw.clearinghouse, server)
        (root / "outbound" / "bad.835").write_text(broken)
        with pytest.raises(BillingError, match=r"REFUSED bad\.835"):
            collect_responses(NOW)
        again = collect_responses(NOW)
    assert "REFUSED" not in again
    assert db.session.scalars(select(ResponseImport.status)).all() == [ResponseImportStatus.REFUSED]


def test_an_unreachable_clearinghouse_fails_the_run_and_later_runs_still_happen(sw, monkeypatch):
    from billing.jobs import runs
    from billing.jobs.definitions import job_definition

    sw.clearinghouse.sftp_host, sw.clearinghouse.sftp_port = "127.0.0.1", 1  # nobody listens on port 1
    monkeypatch.setattr(runs, "job_definition", job_definition)
    failed = run_job("collect-responses", now=NOW)
    assert failed.status is JobRunStatus.FAILED
    assert sw.clearinghouse.name in failed.summary
    sw.clearinghouse.active = False
    db.session.commit()
    assert run_job("collect-responses", now=NOW).status is JobRunStatus.SUCCEEDED
