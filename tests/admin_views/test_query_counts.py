"""List pages cost the same few queries however many rows the tables hold (no N+1).

Rows are bulk-inserted. Each page shows rows of many different clients and providers, so a
relationship loaded lazily per row would add queries as the page grows from 20 to 100 rows.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from billing.core.db import db
from billing.coverage.models import Authorization, InsurancePolicy, authorization_service_code
from billing.org.models import Location
from billing.people.models import Client, ClientDiagnosis, Provider, Role
from billing.sessions.models import TherapySession
from tests.worlds import factories as f

MAX_SESSION_LIST_QUERIES = 13  # 12 to show the page, and the PHI access log's one INSERT
MAX_LIST_QUERIES = 12
DISTINCT_PEOPLE = 150  # more than the largest page, so each row on a page has its own client


def add_clients(location: Location, n: int, start: int = 0) -> list[int]:
    rows = [
        {"location_id": location.id, "account_number": f"Q-{i:06d}", "first_name": f"Ada{i}",
         "last_name": f"Bulk{i:06d}", "date_of_birth": date(1990, 1, 1), "sex": "F", "active": True}
        for i in range(start, start + n)
    ]
    return list(db.session.scalars(insert(Client).returning(Client.id), rows))


def add_providers(company_id: int, n: int) -> list[int]:
    rows = [
        {"company_id": company_id, "first_name": f"Pro{i}", "last_name": f"Vider{i:04d}",
         "npi": f.valid_npi(80_000 + i), "active": True}
        for i in range(n)
    ]
    return list(db.session.scalars(insert(Provider).returning(Provider.id), rows))


def add_sessions(clients: list[int], providers: list[int], codes: list[int], location_id: int, start: int, n: int
                 ) -> None:
    """Session i has its own (date, start time), so the newest page is a run of consecutive rows."""
    rows = [
        {
            "client_id": clients[i % len(clients)], "provider_id": providers[i % len(providers)],
            "location_id": location_id, "service_code_id": codes[i % len(codes)], "modifiers": "",
            "service_date": date(2020, 1, 1) + timedelta(days=i // 8), "start_time": time(8 + i % 8),
            "end_time": time(9 + i % 8), "place_of_service": "11", "note_status": "draft",
        }
        for i in range(start, start + n)
    ]
    db.session.execute(insert(TherapySession), rows)


def queries_for(client: Any, count_queries: Any, url: str) -> int:
    counter = count_queries()
    response = client.get(url)
    queries = counter.count
    assert response.status_code == 200
    return queries


@pytest.fixture
def practice_world():
    location = f.LocationFactory()
    company = location.practice.company
    clients = add_clients(location, DISTINCT_PEOPLE)
    providers = add_providers(company.id, DISTINCT_PEOPLE)
    codes = [f.ServiceCodeFactory(company=company, code=c).id for c in ("97151", "97153", "97155", "97156")]
    return location, clients, providers, codes


def test_sessions_list_costs_the_same_queries_at_1000_and_10000_sessions(client, login, count_queries,
                                                                           practice_world):
    location, clients, providers, codes = practice_world
    login(Role.OFFICE_MANAGER)
    add_sessions(clients, providers, codes, location.id, 0, 1_000)
    small = [queries_for(client, count_queries, f"/admin/session/?page_size={n}") for n in (20, 100)]
    add_sessions(clients, providers, codes, location.id, 1_000, 9_000)
    large = [queries_for(client, count_queries, f"/admin/session/?page_size={n}") for n in (20, 100)]
    assert small[0] == small[1] == large[0] == large[1]
    assert small[0] <= MAX_SESSION_LIST_QUERIES


def test_sessions_list_page_shows_the_newest_rows(client, login, practice_world):
    """Guards the test above: the page really lists 100 sessions of distinct clients."""
    location, clients, providers, codes = practice_world
    login(Role.OFFICE_MANAGER)
    add_sessions(clients, providers, codes, location.id, 0, 1_000)
    page = client.get("/admin/session/?page_size=100").get_data(as_text=True)
    shown = re.findall(r'class="col-client">\s*(Bulk\d{6}), Ada\d+\s*<', page)
    assert len(shown) == len(set(shown)) == 100


def test_clients_list_query_count_does_not_grow_with_rows(client, login, count_queries):
    location = f.LocationFactory()
    login(Role.ACCOUNTANT)

    def add(start: int, n: int) -> None:
        ids = add_clients(location, n, start)
        db.session.execute(insert(ClientDiagnosis), [{"client_id": i, "position": 1, "code": "F840"} for i in ids])

    add(0, 50)
    small = [queries_for(client, count_queries, f"/admin/client/?page_size={n}") for n in (20, 100)]
    add(50, 350)
    large = [queries_for(client, count_queries, f"/admin/client/?page_size={n}") for n in (20, 100)]
    assert small[0] == small[1] == large[0] == large[1]
    assert small[0] <= MAX_LIST_QUERIES


def _policies(location: Location, payer_id: int, start: int, n: int) -> list[tuple[int, int]]:
    clients = add_clients(location, n, start)
    rows = [{"client_id": c, "payer_id": payer_id, "rank": "primary", "member_id": f"MB{c:08d}",
             "relationship_to_subscriber": "self", "effective_on": date(2026, 1, 1)} for c in clients]
    policies = db.session.scalars(insert(InsurancePolicy).returning(InsurancePolicy.id), rows)
    return list(zip(clients, policies, strict=True))


def test_policies_list_query_count_does_not_grow_with_rows(client, login, count_queries):
    location = f.LocationFactory()
    payers = [f.PayerFactory(company=location.practice.company).id for _ in range(3)]
    login(Role.BILLER)
    _policies(location, payers[0], 0, 60)
    small = [queries_for(client, count_queries, f"/admin/policy/?page_size={n}") for n in (20, 100)]
    for k, payer in enumerate(payers):
        _policies(location, payer, 60 + k * 100, 100)
    large = [queries_for(client, count_queries, f"/admin/policy/?page_size={n}") for n in (20, 100)]
    assert small[0] == small[1] == large[0] == large[1]
    assert small[0] <= MAX_LIST_QUERIES


def test_authorizations_list_query_count_does_not_grow_with_rows(client, login, count_queries):
    location = f.LocationFactory()
    company = location.practice.company
    payer = f.PayerFactory(company=company)
    codes = [f.ServiceCodeFactory(company=company, code=c).id for c in ("97151", "97153", "97155")]
    login(Role.OFFICE_MANAGER)

    def add(start: int, n: int) -> None:
        pairs = _policies(location, payer.id, start, n)
        rows = [{"client_id": c, "policy_id": p, "number": f"AU{p:07d}", "starts_on": date(2026, 1, 1),
                 "ends_on": date(2026, 6, 30), "units_approved": 100} for c, p in pairs]
        auths = list(db.session.scalars(insert(Authorization).returning(Authorization.id), rows))
        links = [{"authorization_id": a, "service_code_id": codes[k % 3]} for k, a in enumerate(auths)]
        links += [{"authorization_id": a, "service_code_id": codes[(k + 1) % 3]} for k, a in enumerate(auths)]
        db.session.execute(insert(authorization_service_code), links)

    add(0, 60)
    small = [queries_for(client, count_queries, f"/admin/authorization/?page_size={n}") for n in (20, 100)]
    add(60, 300)
    large = [queries_for(client, count_queries, f"/admin/authorization/?page_size={n}") for n in (20, 100)]
    assert small[0] == small[1] == large[0] == large[1]
    assert small[0] <= MAX_LIST_QUERIES
