"""Eligibility (270/271): 270 batches written and validated, 271 answers recorded once, history per policy,
the round trip through the loopback SFTP server, and the inbound router."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import BillingError, Invalid, NotAllowed
from billing.core.unit_of_work import unit_of_work
from billing.coverage.eligibility import (
    CheckView,
    EligibilityBenefit,
    EligibilityCheck,
    EligibilityStatus,
    check_history,
    latest_answer,
    latest_check,
)
from billing.coverage.models import SubscriberRelationship
from billing.edi.segments import split_segments
from billing.edi.x12sdk_io import transaction_problems
from billing.submissions import sftp
from billing.submissions.eligibility import (
    CheckRequest,
    import_271,
    policy_requests,
    request_checks,
    upcoming_requests,
)
from billing.submissions.inbound import import_x12
from billing.submissions.responses import collect_responses
from demo.eligibility import PayerSays, write_271
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.sftp_server import sftp_server

SERVICE_DAY = DAY + timedelta(days=3)


class Outbox:
    """A sender that keeps what it was given instead of uploading it."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def __call__(self, house, file_name: str, content: bytes) -> None:
        self.files[file_name] = content.decode("ascii")


def ask(world, *policies, day=SERVICE_DAY):
    outbox = Outbox()
    report = request_checks([CheckRequest(p.id, day) for p in (policies or (world.policy,))], actor=SYSTEM,
                            sender=outbox)  # fmt: skip
    return report, outbox


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the 270 --------------------------------------------------------------------------------------------------


def test_a_270_is_valid_x279a1_for_x12sdk_and_asks_each_policy_with_its_own_trace(world):
    second = f.PolicyFactory(payer=world.payer, client=f.ClientFactory(location=world.location))
    report, outbox = ask(world, world.policy, second)
    [text] = outbox.files.values()
    assert transaction_problems(text, "270") == []
    segments = split_segments(text)[1]
    traces = [s[2] for s in segments if s[0] == "TRN"]
    checks = db.session.scalars(select(EligibilityCheck).order_by(EligibilityCheck.id)).all()
    assert traces == [c.trace_number for c in checks]
    assert len(set(traces)) == 2
    assert [c.status for c in checks] == [EligibilityStatus.PENDING] * 2
    assert ["EQ", "30"] in segments
    assert ["DTP", "291", "D8", SERVICE_DAY.strftime("%Y%m%d")] in segments
    assert report.asked == 2
    assert report.check_ids == [c.id for c in checks]


def test_a_dependent_is_asked_under_its_subscriber(world):
    world.policy.relationship_to_subscriber = SubscriberRelationship.CHILD
    world.policy.subscriber_first_name, world.policy.subscriber_last_name = "Pat", "Parent"
    world.policy.subscriber_date_of_birth = date(1980, 5, 6)
    _, outbox = ask(world)
    [text] = outbox.files.values()
    assert transaction_problems(text, "270") == []
    tags = [s[0] + ("*" + s[3] if s[0] == "HL" else "") for s in split_segments(text)[1]]
    assert tags.index("HL*22") < tags.index("HL*23") < tags.index("TRN")


def test_a_policy_whose_payer_has_no_clearinghouse_is_skipped_with_the_reason(world):
    world.payer.clearinghouse = None
    report = request_checks([CheckRequest(world.policy.id, SERVICE_DAY)], actor=SYSTEM)
    assert report.files == []
    assert "has no clearinghouse" in report.skipped[0]
    assert count(EligibilityCheck) == 0


def test_a_member_id_with_a_delimiter_is_refused_not_altered(world):
    world.policy.member_id = "AB*12"
    report, outbox = ask(world)
    assert outbox.files == {}
    assert "reserves" in report.skipped[0]


def test_asking_twice_the_same_day_leaves_one_pending_check(world):
    ask(world)
    report, _ = ask(world)
    assert report.asked == 0
    assert "already asked" in report.skipped[0]
    assert count(EligibilityCheck) == 1


def test_an_upload_that_certainly_failed_writes_a_failed_check_with_the_reason(world):
    def broken(house, name, content):
        raise sftp.SendFailed("The clearinghouse's disk is full.")

    report = request_checks([CheckRequest(world.policy.id, SERVICE_DAY)], actor=SYSTEM, sender=broken)
    assert report.failed
    assert report.asked == 0
    latest = latest_check(world.policy.id)
    assert latest.status is EligibilityStatus.FAILED
    assert latest.rejection_reasons == ["The 270 could not be sent: The clearinghouse's disk is full."]


def test_upcoming_requests_ask_each_client_with_sessions_in_the_window_once(world):
    world.visit(day=DAY + timedelta(days=2))
    world.visit(day=DAY + timedelta(days=5), start=time(11, 0))
    other = f.PolicyFactory(payer=world.payer, client=f.ClientFactory(location=world.location))
    world.visit(client=other.client, day=DAY + timedelta(days=20))
    requests = upcoming_requests(7, today=DAY)
    assert requests == [CheckRequest(world.policy.id, DAY + timedelta(days=2))]
    with pytest.raises(Invalid, match="days"):
        upcoming_requests(500, today=DAY)


def test_an_ended_policy_is_not_asked_about(world):
    world.policy.ends_on = DAY
    world.visit(day=DAY + timedelta(days=2))
    assert upcoming_requests(7, today=DAY) == []


def test_policy_requests_name_an_unknown_policy():
    with pytest.raises(BillingError, match="no policy 987654"):
        policy_requests([987654], SERVICE_DAY)


# --- the 271 --------------------------------------------------------------------------------------------------


def answer(world, says=None, **kwargs):
    _, outbox = ask(world, **kwargs)
    [(name, text)] = outbox.files.items()
    return name, write_271(text, (lambda trace, member: says) if says else None)


def test_an_active_answer_records_plan_group_and_benefits_as_sent(world):
    says = PayerSays(copay=Decimal("30"), coinsurance=Decimal("0.15"), deductible_remaining=Decimal("412.34"),
                     out_of_pocket_remaining=Decimal("1500"), visits_limit=24, visits_remaining=5)  # fmt: skip
    _name, text = answer(world, says)
    result = import_271(text, filename="a.271", actor=SYSTEM)
    check = db.session.get(EligibilityCheck, result.recorded[0])
    assert check.status is EligibilityStatus.ACTIVE
    assert (check.plan_name, check.group_number, check.plan_begin) == ("DEMO PPO", "GRP100", date(2026, 1, 1))
    benefits = {b.service_type: b for b in check.benefits}
    assert benefits["PT"].copay == Decimal("30.00")
    assert benefits["PT"].coinsurance_percent == Decimal("15.00")
    assert (benefits["PT"].visits_limit, benefits["PT"].visits_remaining, benefits["PT"].visits_used) == (24, 5, 19)
    assert benefits["30"].deductible_remaining == Decimal("412.34")  # the individual amount, not the family one
    assert benefits["30"].out_of_pocket_remaining == Decimal("1500.00")
    assert "EB*F*IND*PT*HM**29***VS*5" in check.raw_271
    assert check.answers_id == result.recorded[0] - 1
    assert CheckView(check).as_dict()["benefits"][0]["service_type"] in ("30", "PT")


def test_an_inactive_answer_and_its_history(world):
    _name, text = answer(world, PayerSays(status="inactive", plan_end=date(2026, 1, 31)))
    import_271(text, filename="b.271", actor=SYSTEM)
    latest = latest_answer(world.policy.id)
    assert latest.status is EligibilityStatus.INACTIVE
    assert latest.plan_end == date(2026, 1, 31)
    assert [c.status for c in check_history(world.policy.id)] == [EligibilityStatus.INACTIVE,
                                                                   EligibilityStatus.PENDING]  # fmt: skip
    actions = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_type == "policy")).all()
    assert actions == [AuditAction.ELIGIBILITY_REQUESTED, AuditAction.ELIGIBILITY_ANSWERED]


@pytest.mark.parametrize(("code", "status", "words"), [
    ("75", EligibilityStatus.UNKNOWN, "Subscriber/insured not found (75); please correct and resubmit"),
    ("42", EligibilityStatus.FAILED, "Unable to respond at current time (42); please correct and resubmit"),
])  # fmt: skip
def test_a_rejection_is_kept_in_words(world, code, status, words):
    _, text = answer(world, PayerSays(status=code))
    result = import_271(text, filename="c.271", actor=SYSTEM)
    check = db.session.get(EligibilityCheck, result.recorded[0])
    assert check.status is status
    assert check.rejection_reasons == [words]
    assert check.benefits == []


def test_the_same_271_twice_records_nothing_the_second_time(world):
    _, text = answer(world)
    first = import_271(text, filename="d.271", actor=SYSTEM)
    checks, benefits = count(EligibilityCheck), count(EligibilityBenefit)
    second = import_271(text.encode(), filename="d-again.271", actor=SYSTEM)
    assert len(first.recorded) == 1
    assert not first.duplicate
    assert second.recorded == []
    assert second.duplicate
    assert second.already == 1
    assert (count(EligibilityCheck), count(EligibilityBenefit)) == (checks, benefits)


def test_a_271_for_nothing_we_asked_is_refused_and_records_nothing(world):
    _, text = answer(world)
    foreign = text.replace("TRN*2*", "TRN*2*X")
    with pytest.raises(Invalid, match="answers no inquiry"):
        import_271(foreign, filename="e.271", actor=SYSTEM)
    assert count(EligibilityCheck) == 1  # the pending one


def test_checks_are_append_only(world):
    ask(world)
    check = latest_check(world.policy.id)
    check.status = EligibilityStatus.ACTIVE
    with pytest.raises(NotAllowed, match="never edited"):
        db.session.flush()
    db.session.rollback()


def test_the_inbound_router_takes_a_271(world):
    _, text = answer(world)
    imported = import_x12(text.encode(), filename="f.271", actor=SYSTEM)
    assert imported.kind == "271"
    assert "1 eligibility answer(s) recorded" in imported.summary()
    assert imported.as_dict()["recorded"]


def test_the_library_reads_a_271_without_visit_limits_and_refuses_one_with_them(world):
    """x12sdk 2.2.0 types EB09 as a decimal: why the 271 is read with our own segment reader (README)."""
    _, plain = answer(world, PayerSays(visits_limit=None, visits_remaining=None))
    assert transaction_problems(plain, "271") == []
    _, with_visits = answer(world, PayerSays(), day=SERVICE_DAY + timedelta(days=1))
    problems = transaction_problems(with_visits, "271")
    assert problems
    assert "quantity_qualifier" in problems[0].field


# --- the round trip through the loopback SFTP server -------------------------------------------------------------


def test_round_trip_270_out_271_back_exactly_once(world, tmp_path):
    root = tmp_path / "sftp"
    root.mkdir()
    house = world.clearinghouse
    with sftp_server(root) as server:
        house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line
        report = request_checks([CheckRequest(world.policy.id, SERVICE_DAY)], actor=SYSTEM)
        [sent] = list((root / "inbound").iterdir())
        assert report.files == [sent.name]
        assert report.asked == 1
        (root / "outbound" / sent.name.replace(".270", ".271")).write_text(write_271(sent.read_text()))
        with unit_of_work():
            collected = collect_responses(house, actor=SYSTEM)
        again = collect_responses(house, actor=SYSTEM)
    assert [r.transaction_type for r in collected] == ["271"]
    assert again == []
    first = import_x12(collected[0].content.encode(), filename=collected[0].file_name, actor=SYSTEM)
    second = import_x12(collected[0].content.encode(), filename=collected[0].file_name, actor=SYSTEM)
    assert len(first.result.recorded) == 1
    assert second.result.duplicate
    assert latest_check(world.policy.id).status is EligibilityStatus.ACTIVE
    assert count(EligibilityCheck) == 2  # the pending question and its one answer


def test_the_database_refuses_to_edit_or_delete_a_check(world):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    ask(world)
    for statement in ("UPDATE eligibility_check SET status = 'active'", "DELETE FROM eligibility_check"):
        with pytest.raises(DatabaseError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
