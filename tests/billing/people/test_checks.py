"""People checks behind the admin forms (provider, client, diagnoses), called directly with form data."""

from __future__ import annotations

from datetime import timedelta

from billing.core.errors import Problem
from billing.core.time import practice_today
from billing.people.checks import client_problems, diagnosis_problems, provider_problems


def test_provider_checks():
    assert provider_problems({"npi": "1234567893", "taxonomy_code": "103K00000X"}) == []
    assert provider_problems({"npi": "1234567890", "taxonomy_code": "103K"}) == [
        Problem("npi", "1234567890 fails the NPI check digit; check for a typo."),
        Problem("taxonomy_code",
                "'103K' is not a provider taxonomy code (10 characters ending in X, e.g. 103K00000X)."),
    ]


def test_a_minor_client_needs_a_responsible_party():
    child = practice_today().replace(year=practice_today().year - 8)
    message = "A minor needs a responsible party (who receives statements)."
    assert client_problems({"date_of_birth": child, "responsible_party_name": "",
                            "responsible_party_relationship": None}) == [
        Problem("responsible_party_name", message), Problem("responsible_party_relationship", message)
    ]
    assert client_problems({"date_of_birth": child, "responsible_party_name": "Jo Parent",
                            "responsible_party_relationship": "mother"}) == []


def test_client_born_in_the_future_is_refused():
    tomorrow = practice_today() + timedelta(days=1)
    assert Problem("date_of_birth", "The date of birth is in the future.") in client_problems(
        {"date_of_birth": tomorrow, "responsible_party_name": "x", "responsible_party_relationship": "x"}
    )


def test_diagnosis_rows():
    assert diagnosis_problems([{"position": 1, "code": "F840"}, {"position": 2, "code": "R48.8"}]) == []
    assert diagnosis_problems([{"position": 1, "code": ""}]) == []  # an empty inline row is ignored
    assert diagnosis_problems([{"position": 1, "code": "F840"}, {"position": 1, "code": "F84.0"}]) == [
        Problem("diagnoses", "A diagnosis code is listed twice."),
        Problem("diagnoses", "Two diagnoses share a position; number them 1, 2, 3..."),
    ]
    thirteen = [{"position": i, "code": f"F8{i % 10}.{i}"} for i in range(1, 14)]
    assert diagnosis_problems(thirteen) == [Problem("diagnoses", "A claim carries at most 12 diagnoses.")]
