"""The claim page as a work surface (issue 18, item 3), through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from admin_views.claim_page import icd10, pointer_letters
from billing.claims.models import Claim
from billing.core.audit import Actor, AuditAction, StatusChange, record_change
from billing.core.db import db
from billing.core.time import practice_timezone
from billing.payments.operations import record_manual_payment
from billing.people.models import Role
from rules.fixes import Fix, fix_for
from rules.runs import run_rules
from tests.admin_views.test_denied_tab import post
from tests.billing.payments.test_denials import case_d
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import full_payment
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.rules import fail, leaf, make_rule


def details(client, claim: Claim) -> str:
    response = client.get(f"/admin/claim/details/?id={claim.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_lists_the_failed_rules_with_a_link_to_the_record_to_fix(client, login, world):
    claim = world.claim()
    make_rule("Many units", conditions=leaf("units", "greater_than", 2), actions=fail("Split the long session."))
    make_rule("Too young", conditions=leaf("client_age", "less_than", 200), actions=fail("Check the birth date."))
    run_rules(actor=SYSTEM, today=DAY + timedelta(days=5))
    login(Role.BILLER)
    html = details(client, claim)
    assert "data-failed-rules" in html
    assert "Split the long session." in html
    assert "Check the birth date." in html
    assert f'href="/admin/claim/lines/?id={claim.id}" data-fix-link="claim"' in html
    assert f'href="/admin/client/edit/?id={claim.client_id}" data-fix-link="client"' in html


def test_a_claim_that_passes_its_rules_shows_none(client, login, world):
    claim = world.claim()
    make_rule("Many units", conditions=leaf("units", "greater_than", 100), actions=fail())
    run_rules(actor=SYSTEM, today=DAY + timedelta(days=5))
    login(Role.BILLER)
    assert "data-failed-rules" not in details(client, claim)


@pytest.mark.parametrize(
    ("variable", "fix"),
    [
        ("client_age", Fix.CLIENT),
        ("diagnosis_count", Fix.CLIENT),
        ("policy_active_on_service_date", Fix.POLICY),
        ("subscriber_data_complete", Fix.POLICY),
        ("authorization_present", Fix.AUTHORIZATION),
        ("rendering_npi_present", Fix.PROVIDER),
        ("note_finalized", Fix.SESSION),
        ("units", Fix.CLAIM),
        ("payer_name", Fix.PAYER),
    ],
)
def test_each_rule_variable_points_at_the_record_that_holds_it(variable, fix):
    assert fix_for({"any": [{"all": [{"name": variable, "operator": "equal_to", "value": 1}]}]}) is fix


def test_history_reads_as_sentences_with_the_persons_name_and_the_time_zone(client, login, world):
    claim = world.claim()
    dana = login(Role.BILLER, name="Dana")
    record_change(
        "claim",
        claim.id,
        AuditAction.CLAIM_BATCHED,
        actor=Actor.user(dana),
        before="ready",
        after="ready",
        reason="In batch B-000014",
    )
    db.session.flush()
    html = details(client, claim)
    history = html[html.index("data-history") :]
    assert "Put in batch B-000014 by Dana" in history
    assert "claim.batched" not in history
    assert "claim.created" not in history
    row = db.session.scalar(select(StatusChange).where(StatusChange.action == AuditAction.CLAIM_BATCHED))
    zone = row.at.astimezone(practice_timezone()).strftime("%Z")
    assert zone in ("CST", "CDT")  # the practice's zone (America/Chicago by default)
    assert f"{row.at.astimezone(practice_timezone()):%m/%d/%Y %H:%M} {zone}" in history


def test_icd10_codes_have_their_dot_and_pointers_are_letters(client, login, world):
    claim = world.claim()
    login(Role.BILLER)
    html = details(client, claim)
    diagnoses = html[html.index("data-diagnoses") :]
    diagnoses = diagnoses[: diagnoses.index("</tr>")]
    assert "A. F84.0" in diagnoses
    assert "B. F90.0" in diagnoses
    assert "F840" not in diagnoses
    pointers = claim.lines[0].diagnosis_pointers
    assert f'title="Diagnosis pointers {pointers}">{pointer_letters(pointers)}</td>' in html
    assert re.fullmatch(r"[A-L](, [A-L])*", pointer_letters(pointers))


def test_icd10_and_pointer_formatting():
    assert icd10("F840") == "F84.0"
    assert icd10("f84.0") == "F84.0"
    assert icd10("Z00") == "Z00"
    assert icd10("S72001A") == "S72.001A"
    assert pointer_letters("1:2:3") == "A, B, C"
    assert pointer_letters("4") == "D"
    assert pointer_letters("") == ""


def test_each_action_has_its_own_labelled_form(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    html = details(client, claim)
    for panel, heading in (("void", "Void"), ("correct", "Corrected claim")):
        section = html[html.index(f'data-action-panel="{panel}"') :]
        section = section[: section.index("</section>")]
        assert f">{heading}</h6>" in section
    correct = html[html.index('data-action-panel="correct"') :]
    correct = correct[: correct.index("</section>")]
    assert '<label class="small mb-1" for="cd-correct-reason">Reason: what is corrected</label>' in correct
    assert 'id="cd-correct-reason"' in correct
    assert 'name="reason"' in correct
    assert 'placeholder="Reason"' not in html  # no bare, unlabelled Reason inputs


def test_the_hold_form_is_labelled(client, login, world):
    claim = world.claim()
    login(Role.BILLER)
    html = details(client, claim)
    hold = html[html.index('data-action-panel="hold"') :]
    assert (
        '<label class="small mb-1" for="cd-hold-reason">Reason for the hold</label>' in hold[: hold.index("</section>")]
    )


def test_allowed_shows_only_once_the_payer_answered(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    before = details(client, claim)
    assert "data-not-answered" in before
    assert "data-allowed" not in before
    assert "No remittance (835 or typed EOB) for this claim yet." in before
    posting = full_payment(claim)
    record_manual_payment(claim, posting, actor=SYSTEM)
    db.session.flush()
    after = details(client, claim)
    allowed = sum(line.allowed for line in posting.lines)
    assert "data-not-answered" not in after
    assert f'<tr data-allowed><th>Allowed</th><td class="text-right">${allowed:,.2f}</td></tr>' in after
    assert "data-remittance-trail" in after
    assert "typed from an EOB" in after


def test_billing_the_patient_for_a_co_denial_warns(client, login, world):
    claim = case_d(world, "CO", "50")
    db.session.flush()
    login(Role.BILLER)
    html = details(client, claim)
    assert "data-co-warning" in html
    assert "CO amounts may not be billed to the patient" in html or "may not be billed to the patient" in html


def test_billing_the_patient_for_a_pr_denial_does_not_warn(client, login, world):
    claim = case_d(world, "PR", "204")
    db.session.flush()
    login(Role.BILLER)
    assert "data-co-warning" not in details(client, claim)


def test_voiding_a_claim_with_money_warns_on_the_page(client, login, world):
    claim = submitted_claim(world)
    record_manual_payment(claim, full_payment(claim), actor=SYSTEM)
    db.session.flush()
    login(Role.BILLER)
    html = details(client, claim)
    void = html[html.index('data-action-panel="void"') :]
    void = void[: void.index("</section>")]
    assert "data-void-money-warning" in void
    assert "the payer paid" in void


def test_voiding_a_claim_without_money_does_not_warn(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    assert "data-void-money-warning" not in details(client, claim)


def test_a_corrected_claim_refusal_names_the_field_in_words(client, login, world):
    claim = submitted_claim(world)
    assert not claim.payer_claim_number
    login(Role.BILLER)
    body = post(client, f"/admin/claim/do/correct/?id={claim.id}", {"reason": "wrong units"}).get_data(as_text=True)
    assert str(escape("Payer claim number (ICN): Enter the payer's claim number")) in body
    assert "payer_claim_number:" not in body
    assert db.session.scalar(select(Claim).where(Claim.original_claim_id == claim.id)) is None
