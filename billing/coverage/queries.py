"""What coverage applies to a session: the policy, the rate and the authorization on a date.

Bulk claim generation asks these questions 100,000 times, so `CoverageBook` loads the answers for
many clients at once and answers from memory; single finalizations build a book for one client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.identifiers import normalize_modifiers
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    PolicyRank,
    authorization_service_code,
)
from billing.people.models import ClientDiagnosis


@dataclass(frozen=True)
class PricedRate:
    rate: Decimal
    schedule_name: str


@dataclass
class CoverageBook:
    """Policies, diagnoses, authorizations and fee schedules for a set of clients, held in memory."""

    policies: dict[int, list[InsurancePolicy]] = field(default_factory=dict)
    diagnoses: dict[int, list[str]] = field(default_factory=dict)
    authorizations: dict[int, list[Authorization]] = field(default_factory=dict)
    authorization_codes: dict[int, set[int]] = field(default_factory=dict)
    units_used: dict[int, int] = field(default_factory=dict)
    schedules: dict[tuple[int, int | None], list[FeeSchedule]] = field(default_factory=dict)
    rates: dict[int, dict[tuple[int, str], Decimal]] = field(default_factory=dict)

    def primary_policy(self, client_id: int, day: date) -> InsurancePolicy | None:
        return next(
            (p for p in self.policies.get(client_id, []) if p.rank is PolicyRank.PRIMARY and p.is_active_on(day)),
            None,
        )

    def rate(self, company_id: int, payer_id: int | None, code_id: int, modifiers: str, day: date) -> PricedRate | None:
        """The payer's schedules before the practice default; among the schedules covering the day, the latest
        effective start wins; within a schedule the code with the same set of modifiers, then the code alone.

        Modifiers are a set: "59:GO" and "GO:59" price alike. An older open-ended schedule never beats a newer
        one that prices the code, whatever modifiers the older one lists.
        """
        wanted = modifier_set(modifiers)
        for schedule_payer in ([payer_id] if payer_id is not None else []) + [None]:
            for schedule in self._covering(company_id, schedule_payer, day):
                rates = self.rates.get(schedule.id, {})
                for mods in (wanted, ""):
                    if (found := rates.get((code_id, mods))) is not None:
                        return PricedRate(found, schedule.name)
        return None

    def _covering(self, company_id: int, payer_id: int | None, day: date) -> list[FeeSchedule]:
        """Schedules in force on `day`, latest effective start first (ties: the later-created schedule)."""
        covering = [s for s in self.schedules.get((company_id, payer_id), [])
                    if s.effective_on <= day and (s.ends_on is None or day <= s.ends_on)]
        return sorted(covering, key=lambda s: (s.effective_on, s.id), reverse=True)

    def authorization(
        self, client_id: int, policy_id: int, code_id: int, day: date, units: int
    ) -> Authorization | None:
        """The authorization covering the date and code with enough units left (earliest ending first)."""
        for auth in self.authorizations.get(client_id, []):
            if (
                auth.policy_id == policy_id
                and auth.covers(day)
                and code_id in self.authorization_codes.get(auth.id, set())
                and self.remaining_units(auth) >= units
            ):
                return auth
        return None

    def remaining_units(self, auth: Authorization) -> int:
        return auth.units_approved - self.units_used.get(auth.id, 0)

    def use_units(self, authorization_id: int, units: int) -> None:
        self.units_used[authorization_id] = self.units_used.get(authorization_id, 0) + units


def modifier_set(modifiers: str | None) -> str:
    """Modifiers as a set, written one way: sorted and colon-separated ("GO:59" and "59:GO" are both "59:GO")."""
    return ":".join(sorted(p for p in normalize_modifiers(modifiers).split(":") if p))


def load_coverage(client_ids: Iterable[int], company_ids: Iterable[int], *,
                  units_used: Callable[[list[int]], dict[int, int]]) -> CoverageBook:
    """Everything claim building needs for these clients, in a handful of queries.

    `units_used` counts the units claims already drew on each authorization: claims sit above coverage, so the
    claims layer passes its own count in.
    """
    ids = sorted(set(client_ids))
    book = CoverageBook()
    for policy in db.session.scalars(
        select(InsurancePolicy).where(any_of(InsurancePolicy.client_id, ids))
        .options(selectinload(InsurancePolicy.payer))
    ):
        book.policies.setdefault(policy.client_id, []).append(policy)
    for row in db.session.execute(
        select(ClientDiagnosis.client_id, ClientDiagnosis.code)
        .where(any_of(ClientDiagnosis.client_id, ids))
        .order_by(ClientDiagnosis.client_id, ClientDiagnosis.position)
    ):
        book.diagnoses.setdefault(row.client_id, []).append(row.code)
    _load_authorizations(book, ids, units_used)
    _load_fee_schedules(book, set(company_ids))
    return book


def _load_authorizations(book: CoverageBook, client_ids: list[int],
                         units_used: Callable[[list[int]], dict[int, int]]) -> None:
    auths = list(
        db.session.scalars(
            select(Authorization).where(any_of(Authorization.client_id, client_ids)).order_by(Authorization.ends_on)
        )
    )
    for auth in auths:
        book.authorizations.setdefault(auth.client_id, []).append(auth)
    auth_ids = [a.id for a in auths]
    if not auth_ids:
        return
    codes: dict[int, set[int]] = defaultdict(set)
    for row in db.session.execute(
        select(authorization_service_code).where(any_of(authorization_service_code.c.authorization_id, auth_ids))
    ):
        codes[row.authorization_id].add(row.service_code_id)
    book.authorization_codes.update(codes)
    book.units_used.update(units_used(auth_ids))


def _load_fee_schedules(book: CoverageBook, company_ids: set[int]) -> None:
    schedules = list(
        db.session.scalars(
            select(FeeSchedule).where(any_of(FeeSchedule.company_id, company_ids))
            .order_by(FeeSchedule.effective_on.desc())
        )
    )
    for schedule in schedules:
        book.schedules.setdefault((schedule.company_id, schedule.payer_id), []).append(schedule)
    if not schedules:
        return
    for row in db.session.execute(
        select(
            FeeScheduleRate.fee_schedule_id,
            FeeScheduleRate.service_code_id,
            FeeScheduleRate.modifiers,
            FeeScheduleRate.rate,
        ).where(any_of(FeeScheduleRate.fee_schedule_id, [s.id for s in schedules]))
    ):
        book.rates.setdefault(row.fee_schedule_id, {})[(row.service_code_id, modifier_set(row.modifiers))] = row.rate
