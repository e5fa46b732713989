"""Failed Charges: the rules' failures with the admin report's filters (run, rule, payer, dates, open only)."""

from __future__ import annotations

from datetime import date, timedelta

from billing.claims.statuses import ClaimStatus
from rules.runs import run_rules
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.rules import fail, leaf, make_rule
from tests.worlds.sheets import sheet

TODAY = date(2026, 3, 20)


def test_failures_are_listed_with_rule_reason_run_and_oldest_failure(world, export):
    small = world.claim(day=DAY, minutes=30)
    world.claim(day=DAY + timedelta(days=1), minutes=120)
    rule = make_rule("Short sessions", conditions=leaf("units", "less_than", 3), actions=fail("Under 3 units."))
    first = run_rules(actor=SYSTEM, today=TODAY)
    second = run_rules(actor=SYSTEM, today=TODAY)
    read = sheet(export("failed-charges", company_id=world.company.id), "Failed charges")
    assert read.header[:3] == ["Charge record", "Client", "Service date"]
    assert read.column("Charge record") == [small.number]
    assert read.column("Rule") == [rule.name]
    assert read.column("Failure reason") == ["Under 3 units."]
    assert read.column("Run number") == [second.run_number]
    assert read.cell(0, "Oldest failure").is_date
    assert read.totals()[read.header.index("Billed")] == float(small.total_charge)
    assert sheet(export("failed-charges", company_id=world.company.id, run=first.run_number),
                 "Failed charges").data_rows() == []  # the open failure now belongs to the later run
    by_rule = sheet(export("failed-charges", company_id=world.company.id), "By rule")
    assert by_rule.data_rows() == [(rule.name, 1)]


def test_fixed_failures_drop_out_with_open_only(world, export):
    claim = world.claim(day=DAY, minutes=30)
    rule = make_rule("Short sessions", conditions=leaf("units", "less_than", 3), actions=fail("Under 3 units."))
    run_rules(actor=SYSTEM, today=TODAY)
    from rules.operations import set_enabled

    set_enabled(rule, False, actor=SYSTEM)
    make_rule("Nothing fails", conditions=leaf("units", "less_than", 0), actions=fail("never"))
    run_rules(actor=SYSTEM, today=TODAY)
    assert claim.status is ClaimStatus.READY
    everything = sheet(export("failed-charges", company_id=world.company.id), "Failed charges")
    still_open = sheet(export("failed-charges", company_id=world.company.id, open_only=True), "Failed charges")
    assert len(everything.data_rows()) == 1
    assert everything.cell(0, "Fixed on").value is not None
    assert still_open.data_rows() == []
