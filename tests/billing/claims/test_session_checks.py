"""Session checks behind the admin form (billing.claims.sessions.session_problems), called with form data."""

from __future__ import annotations

from datetime import date, time

from billing.claims.sessions import finalize_session, session_problems
from billing.core.audit import Actor
from billing.core.errors import Problem
from billing.sessions.models import NoteStatus
from tests.worlds import factories as f

JAN_1, JUN_30 = date(2026, 1, 1), date(2026, 6, 30)


def _session_data(visit, **changes):
    return {"client": visit.client, "provider": visit.provider, "service_code": visit.service_code,
            "service_date": visit.service_date, "start_time": visit.start_time, "end_time": visit.end_time,
            "modifiers": visit.modifiers, "place_of_service": "11", "authorization": None,
            "note_text": visit.note_text, **changes}


def test_session_times_place_and_modifiers():
    visit = f.TherapySessionFactory()
    assert session_problems(_session_data(visit)) == []
    assert session_problems(_session_data(visit, start_time=time(10), end_time=time(10), place_of_service="XX",
                                          modifiers="GP:GP")) == [
        Problem("modifiers", "A modifier is listed twice."),
        Problem("end_time", "The session ends (10:00) before it starts (10:00)."),
        Problem("place_of_service", "Choose a place of service from the list."),
    ]


def test_session_with_inactive_provider_or_code():
    visit = f.TherapySessionFactory()
    provider = f.ProviderFactory(active=False)
    code = f.ServiceCodeFactory(active=False, code="97155")
    assert session_problems(_session_data(visit, provider=provider, service_code=code)) == [
        Problem("provider", f"{provider} is inactive; choose an active rendering provider."),
        Problem("service_code", "97155 is inactive."),
    ]


def test_session_authorization_must_fit():
    visit = f.TherapySessionFactory(service_date=date(2026, 3, 10))
    auth = f.AuthorizationFactory(client=visit.client, starts_on=JAN_1, ends_on=JUN_30)
    auth.service_codes.append(visit.service_code)
    assert session_problems(_session_data(visit, authorization=auth)) == []
    late = _session_data(visit, authorization=auth, service_date=date(2026, 7, 1))
    assert session_problems(late) == [
        Problem("authorization", f"Authorization {auth.number} does not cover 07/01/2026.")
    ]
    other_code = f.ServiceCodeFactory(code="97156")
    assert session_problems(_session_data(visit, authorization=auth, service_code=other_code)) == [
        Problem("authorization", f"Authorization {auth.number} does not cover 97156.")
    ]
    assert session_problems(_session_data(visit, authorization=auth, client=f.ClientFactory())) == [
        Problem("authorization", "This authorization belongs to another client.")
    ]


def test_a_billed_session_keeps_what_was_billed_and_its_final_note():
    visit = f.TherapySessionFactory(note_text="Mand training.")
    f.DiagnosisFactory(client=visit.client)
    f.PolicyFactory(client=visit.client, payer=f.PayerFactory(company=visit.provider.company))
    claim = finalize_session(visit, actor=Actor.system("test")).created[0]
    assert visit.note_status is NoteStatus.FINALIZED
    assert session_problems(_session_data(visit), visit) == []
    changed = _session_data(visit, end_time=time(11), note_text="Rewritten.")
    assert session_problems(changed, visit) == [
        Problem("end_time", f"Locked by claim {claim.number} ({claim.status.label}): the end time cannot change. "
                "Retract the claim first (or correct it if it was sent)."),
        Problem("note_text", "The note is finalized and can no longer be edited."),
    ]
