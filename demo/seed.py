"""`seed_demo()`: the Bright Path demo practice, built in the caller's transaction (flush only).

The organisation, payers, codes and rates are made once; then each *cohort* adds 8 providers,
60 clients and about 1,000 sessions, so `scale` cohorts give 60 x scale clients. Each cohort draws
from its own seeded `random.Random`: the data is the same on every run (relative to today), and
the scale-1 demo is the first cohort of the scale-100 one. Bulk inserts keep `--scale 100` quick.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from billing.core.db import db, insert_returning_ids
from billing.core.identifiers import npi_check_digit
from billing.core.money import to_money
from billing.core.time import practice_today
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    ServiceCode,
    authorization_service_code,
)
from billing.org.models import Company, Location, Practice
from billing.people.models import Client, ClientDiagnosis, Provider, Role, User
from billing.sessions.models import NoteStatus, SessionClass, TherapySession
from demo import catalog
from demo.billing_history import work_demo_billing
from demo.charts import Chart, draw_charts
from demo.claims import claim_counts, finalize_demo_sessions
from demo.schedule import Calendar, CodeRef, Refs, authorization_row, book_appointments, session_rows

SEED = "claimdesk-demo"
WINDOW_DAYS = 91  # three months of sessions, ending today


@dataclass(frozen=True)
class SeedResult:
    """What `seed_demo` did. `scale` is the demo's scale, which may differ from the one requested."""

    requested_scale: int
    scale: int
    created: bool
    users_created: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    #: Notes finalized through `finalize_sessions` (which bills them), and how long that took.
    finalized: int = 0
    finalize_seconds: float = 0.0

    @property
    def scale_mismatch(self) -> bool:
        return self.scale != self.requested_scale

    @property
    def changed(self) -> bool:
        return self.created or self.users_created > 0

    def summary(self, seconds: float) -> str:
        if self.scale_mismatch:
            return (f"The demo practice ({catalog.LEGAL_NAME}) already exists at scale {self.scale}, not "
                    f"{self.requested_scale}; nothing changed. Seed a fresh database for another scale.")
        if not self.created:
            return f"The demo practice ({catalog.LEGAL_NAME}, scale {self.scale}) is already there; nothing changed."
        parts = ", ".join(f"{n:,} {_label(name, n)}" for name, n in self.counts.items())
        return f"Built the demo practice at scale {self.scale} in {seconds:.1f} s: {parts}."


def _label(name: str, n: int) -> str:
    plural = name.replace("_", " ")
    if n != 1:
        return plural
    return {"companies": "company", "diagnoses": "diagnosis"}.get(name, plural.removesuffix("s"))


def seed_demo(scale: int = 1, *, today: date | None = None, billing_history: bool = True) -> SeedResult:
    """Build the demo practice at this scale, or change nothing when it already exists.

    `billing_history=False` stops at the claims (no rules, submissions or remittances): the tests of the
    records themselves use it, since the history costs seconds of 837P and 835 validation.
    """
    today = today or practice_today()
    company = demo_company()
    if company is not None:
        existing = _scale_of(company)
        if existing != scale:
            return SeedResult(scale, existing, created=False)
        # The logins come with the practice only: a demo login an admin deleted stays deleted.
        return SeedResult(scale, existing, created=False)
    counts: Counter[str] = Counter()
    company_id, refs, payers = _build_fixed_records(today, counts)
    to_finalize: list[int] = []
    for cohort in range(scale):
        _seed_cohort(cohort, company_id, refs, payers, counts, to_finalize)
    started = time.perf_counter()
    finalize_demo_sessions(to_finalize)
    finalize_seconds = time.perf_counter() - started
    if billing_history:
        company = db.session.get(Company, company_id)
        counts.update(work_demo_billing(company, _first_cohort_clients(company_id), today=today))
    counts.update(claim_counts())
    counts["users"] = _create_missing_users()
    return SeedResult(scale, scale, created=True, users_created=counts["users"], counts=dict(counts),
                      finalized=len(to_finalize), finalize_seconds=finalize_seconds)


def _first_cohort_clients(company_id: int) -> list[int]:
    """Clients are inserted cohort by cohort, so the first cohort holds the lowest ids."""
    return list(db.session.scalars(
        select(Client.id).join(Location).join(Practice).where(Practice.company_id == company_id)
        .order_by(Client.id).limit(catalog.CLIENTS_PER_COHORT)
    ))


def demo_company() -> Company | None:
    return db.session.scalar(select(Company).where(Company.legal_name == catalog.LEGAL_NAME))


def demo_scale() -> int | None:
    """The scale the existing demo was built at, or None when there is no demo."""
    company = demo_company()
    return _scale_of(company) if company is not None else None


def _scale_of(company: Company) -> int:
    clients = db.session.scalar(
        select(func.count(Client.id)).join(Location).join(Practice).where(Practice.company_id == company.id)
    )
    return max(1, round((clients or 0) / catalog.CLIENTS_PER_COHORT))


# --- the records every cohort shares -----------------------------------------------------------------


def _build_fixed_records(today: date, counts: Counter[str]) -> tuple[int, Refs, Mapping[str, Payer]]:
    company = Company(**catalog.COMPANY, group_npi=_npi(catalog.GROUP_NPI_BASE))
    db.session.add(company)
    locations = _organisation(company)
    payers = {spec.key: Payer(company=company, **_payer_fields(spec)) for spec in catalog.PAYERS}
    codes = {
        spec.code: ServiceCode(
            company=company, code=spec.code, description=spec.description, default_modifiers=spec.default_modifiers,
            minutes_per_unit=15, rounding_rule=spec.rounding, active=True,
        )
        for spec in catalog.CODES
    }
    window_start = today - timedelta(days=WINDOW_DAYS)
    schedules = _fee_schedules(company, payers, codes, date(window_start.year, 1, 1))
    classes = [
        SessionClass(company=company, name=spec.name, billable=False, description=spec.description)
        for spec in catalog.SESSION_CLASSES
    ]
    db.session.add_all([*payers.values(), *codes.values(), *schedules, *classes])
    db.session.flush()
    counts.update(companies=1, practices=len(catalog.PRACTICES), locations=len(locations), payers=len(payers),
                  service_codes=len(codes), fee_schedules=len(schedules),
                  fee_schedule_rates=sum(len(s.rates) for s in schedules), session_classes=len(classes))
    refs = Refs(
        today=today,
        window_start=window_start,
        location_ids={key: loc.id for key, loc in locations.items()},
        places={key: loc.place_of_service for key, loc in locations.items()},
        codes={c.code: CodeRef(c.id, c.default_modifiers, c.minutes_per_unit, c.rounding_rule) for c in codes.values()},
        session_classes=tuple((c.id, spec) for c, spec in zip(classes, catalog.SESSION_CLASSES, strict=True)),
    )
    return company.id, refs, payers


def _organisation(company: Company) -> dict[str, Location]:
    practices = {name: Practice(company=company, name=name) for name in catalog.PRACTICES}
    locations = {
        spec.key: Location(
            practice=practices[spec.practice], name=spec.name, place_of_service=spec.place_of_service,
            facility_npi=_npi(spec.facility_npi_base) if spec.facility_npi_base else None,
            address_line1=spec.address_line1, city=spec.city, state="IL", zip_code=spec.zip_code, phone=spec.phone,
        )
        for spec in catalog.LOCATIONS
    }
    db.session.add_all([*practices.values(), *locations.values()])
    return locations


def _payer_fields(spec: catalog.PayerSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "payer_type": spec.payer_type, "claim_filing_indicator": spec.claim_filing_indicator,
        "edi_payer_id": spec.edi_payer_id, "edi_enabled": spec.edi_payer_id is not None,
        "requires_authorization": spec.requires_authorization, "active": True,
        "address_line1": spec.address_line1, "city": spec.city, "state": spec.state, "zip_code": spec.zip_code,
    }


def _fee_schedules(
    company: Company, payers: Mapping[str, Payer], codes: Mapping[str, ServiceCode], effective_on: date
) -> list[FeeSchedule]:
    """The practice's standard charges, then each insurer's allowed amounts (self-pay pays standard)."""
    year = effective_on.year
    standard = FeeSchedule(company=company, payer=None, name=f"Standard charges {year}", effective_on=effective_on)
    standard.rates = [FeeScheduleRate(service_code=codes[s.code], rate=s.standard_charge) for s in catalog.CODES]
    schedules = [standard]
    for spec in catalog.PAYERS:
        if spec.rate_factor is None:
            continue
        schedule = FeeSchedule(company=company, payer=payers[spec.key], name=f"{spec.name} {year}",
                               effective_on=effective_on)
        schedule.rates = [
            FeeScheduleRate(service_code=codes[c.code], rate=to_money(c.standard_charge * spec.rate_factor))
            for c in catalog.CODES
            if not (spec.key == "medicare" and c.code in catalog.MEDICARE_EXCLUDED)
        ] + [
            FeeScheduleRate(service_code=codes[code], modifiers=mods, rate=rate)
            for payer, code, mods, rate in catalog.MODIFIER_RATES
            if payer == spec.key
        ]
        schedules.append(schedule)
    return schedules


def _npi(base9: str) -> str:
    return f"{base9}{npi_check_digit(base9)}"


# --- one cohort: providers, clients, coverage and sessions -------------------------------------------


def _seed_cohort(
    cohort: int,
    company_id: int,
    refs: Refs,
    payers: Mapping[str, Payer],
    counts: Counter[str],
    to_finalize: list[int],
) -> None:
    rng = random.Random(f"{SEED}-{cohort}")  # string seeds are stable across processes
    staff = _hire(rng, cohort, company_id)
    charts = draw_charts(rng, cohort, refs.today, refs.window_start)
    _insert_clients(charts, refs)
    primary_policy_ids = _insert_coverage(charts, payers)
    calendar = Calendar()
    sessions = [session_rows(rng, chart, book_appointments(rng, chart, staff, calendar), refs) for chart in charts]
    authorizations = _insert_authorizations(charts, sessions, primary_policy_ids, payers, refs)
    rows = [_insertable(row) for client_rows in sessions for row in client_rows]
    planned = [row["note_status"] is NoteStatus.FINALIZED for row in rows]
    for row, finalize in zip(rows, planned, strict=True):
        if finalize:  # written as a draft; `finalize_demo_sessions` finalizes and bills it like a user would
            row |= {"note_status": NoteStatus.DRAFT, "finalized_at": None}
    ids = _insert_returning_ids(TherapySession, rows)
    to_finalize.extend(i for i, finalize in zip(ids, planned, strict=True) if finalize)
    counts.update(providers=sum(len(ids) for ids in staff.values()), clients=len(charts),
                  diagnoses=sum(len(c.diagnoses) for c in charts), policies=sum(len(c.policies) for c in charts),
                  authorizations=authorizations, sessions=len(rows))


def _hire(rng: random.Random, cohort: int, company_id: int) -> dict[str, list[int]]:
    """The cohort's providers, by discipline. NPIs are sequential bases with a valid check digit."""
    rows = []
    for i, spec in enumerate(catalog.PROVIDERS):
        number = cohort * len(catalog.PROVIDERS) + i
        female = rng.random() < 0.75  # therapy professions are mostly women
        rows.append({
            "company_id": company_id,
            "first_name": rng.choice(catalog.WOMEN_NAMES if female else catalog.MEN_NAMES),
            "last_name": rng.choice(catalog.LAST_NAMES),
            "credentials": spec.credentials,
            "npi": _npi(f"{catalog.PROVIDER_NPI_FIRST_BASE + 7 * number:09d}"),
            "taxonomy_code": spec.taxonomy_code,
            "active": True,
        })
    ids = _insert_returning_ids(Provider, rows)
    staff: dict[str, list[int]] = {}
    for spec, provider_id in zip(catalog.PROVIDERS, ids, strict=True):
        staff.setdefault(spec.discipline, []).append(provider_id)
    return staff


def _insert_clients(charts: list[Chart], refs: Refs) -> None:
    rows = [chart.row | {"location_id": refs.location_ids[chart.location]} for chart in charts]
    for chart, client_id in zip(charts, _insert_returning_ids(Client, rows), strict=True):
        chart.client_id = client_id
    db.session.execute(
        _bulk_insert(ClientDiagnosis),
        [
            {"client_id": chart.client_id, "position": position, "code": code, "description": description}
            for chart in charts
            for position, (code, description) in enumerate(chart.diagnoses, start=1)
        ],
    )


def _insert_coverage(charts: list[Chart], payers: Mapping[str, Payer]) -> list[int]:
    """Every chart's policies; returns the primary policy id of each chart, in chart order."""
    rows = [
        plan.row | {"client_id": chart.client_id, "payer_id": payers[plan.payer].id}
        for chart in charts
        for plan in chart.policies
    ]
    ids = iter(_insert_returning_ids(InsurancePolicy, rows))
    primary_ids = []
    for chart in charts:
        chart_ids = [next(ids) for _ in chart.policies]
        primary_ids.append(chart_ids[0])
    return primary_ids


def _insert_authorizations(
    charts: list[Chart],
    sessions: list[list[dict[str, Any]]],
    primary_policy_ids: list[int],
    payers: Mapping[str, Payer],
    refs: Refs,
) -> int:
    """One authorization per client whose primary payer wants one; its sessions point at it."""
    wanted = [
        (chart, rows, policy_id, auth)
        for chart, rows, policy_id in zip(charts, sessions, primary_policy_ids, strict=True)
        if payers[chart.primary.payer].requires_authorization and (auth := authorization_row(chart, rows, refs))
    ]
    if not wanted:
        return 0
    ids = _insert_returning_ids(Authorization, [auth | {"policy_id": policy_id} for _, _, policy_id, auth in wanted])
    links = []
    for (_chart, rows, _policy_id, _auth), auth_id in zip(wanted, ids, strict=True):
        for code_id in sorted({row["service_code_id"] for row in rows}):
            links.append({"authorization_id": auth_id, "service_code_id": code_id})
        for row in rows:
            row["authorization_id"] = auth_id
    db.session.execute(insert(authorization_service_code), links)
    return len(ids)


def _insert_returning_ids(model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert, ids back in the order of `rows`."""
    return insert_returning_ids(model.__table__, rows)


def _bulk_insert(model: type[Any]) -> Any:
    """An ORM bulk INSERT that sends None as NULL.

    By default the ORM leaves None columns out, so rows with different NULL patterns (a draft
    next to a finalized session) go in separate small batches: 10x more round trips on PostgreSQL.
    Every row here carries the same keys, so with `render_nulls` they batch together.
    """
    return insert(model).execution_options(render_nulls=True)


def _insertable(row: dict[str, Any]) -> dict[str, Any]:
    """Drop the planning-only keys (minutes and code, used for authorization units)."""
    row.pop("minutes")
    row.pop("code")
    return row


# --- logins ------------------------------------------------------------------------------------------


def _create_missing_users() -> int:
    """One login per role, password `demo` (CLAIMDESK_DEMO=1 lets an app serve with them); an existing
    account with the same email is left alone."""
    emails = [email for email, _, _ in catalog.DEMO_LOGINS]
    existing = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    missing = [login for login in catalog.DEMO_LOGINS if login[0] not in existing]
    if not missing:
        return 0
    # Not create_user(): the password rule would refuse the documented demo password.
    # Hashed once for all four, since scrypt is slow on purpose.
    password_hash = generate_password_hash(catalog.DEMO_PASSWORD)
    db.session.add_all(
        User(email=email, name=name, role=Role(role), password_hash=password_hash, active=True)
        for email, role, name in missing
    )
    db.session.flush()
    return len(missing)
