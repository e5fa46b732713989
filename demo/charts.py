"""Demo clients on paper: who they are, what they have and who insures them (no database here).

Everything is drawn from one `random.Random`, so the same seed gives the same practice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from billing.core.identifiers import normalize_icd10
from billing.coverage.models import PolicyRank, SubscriberRelationship
from billing.people.models import Sex
from demo import catalog
from demo.catalog import ProgramSpec

#: Payer mixes (payer key, weight). Medicaid is the payer of last resort, so it is secondary
#: behind a parent's employer plan; adults of 65 and over are on Medicare.
MINOR_PAYERS = (("medicaid", 45), ("bcbs", 25), ("aetna", 13), ("uhc", 12), ("self", 5))
ADULT_PAYERS = (("bcbs", 35), ("uhc", 25), ("aetna", 20), ("medicaid", 12), ("self", 8))
MEDICARE_AGE = 65
#: Share of eligible clients (commercial or Medicare primary) who also have a secondary policy;
#: about 40% of eligible clients makes about a quarter of all clients.
SECONDARY_SHARE = 0.42
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # CMS leaves out S, L, O, I, B and Z


@dataclass
class PolicyPlan:
    payer: str
    rank: PolicyRank
    row: dict[str, Any]


@dataclass
class Chart:
    """One client before insert: the client row plus what hangs off it."""

    program: ProgramSpec
    index: int  # position in the whole demo (account number, authorization number)
    row: dict[str, Any]
    location: str
    diagnoses: list[tuple[str, str]]
    policies: list[PolicyPlan] = field(default_factory=list)
    telehealth: bool = False
    client_id: int = 0  # set once inserted

    @property
    def primary(self) -> PolicyPlan:
        return self.policies[0]


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    sex: Sex
    date_of_birth: date


Subscriber = tuple[Person, SubscriberRelationship] | None  # None: the client is the subscriber


def draw_charts(rng: random.Random, cohort: int, today: date, window_start: date) -> list[Chart]:
    """One cohort of clients, program by program."""
    charts = []
    for program in catalog.PROGRAMS:
        for _ in range(program.clients):
            index = cohort * catalog.CLIENTS_PER_COHORT + len(charts)
            charts.append(_chart(rng, program, index, today, window_start))
    return charts


def _chart(rng: random.Random, program: ProgramSpec, index: int, today: date, window_start: date) -> Chart:
    client = _person(rng, rng.random() < program.male_share, program.ages, today, minor=program.minor)
    city, zip_code = rng.choice(catalog.TOWNS)
    row: dict[str, Any] = {
        "account_number": f"BP-{index + 1:06d}",
        "first_name": client.first_name,
        "last_name": client.last_name,
        "date_of_birth": client.date_of_birth,
        "sex": client.sex,
        "phone": _phone(rng),
        "address_line1": f"{rng.randint(100, 4999)} {rng.choice(catalog.STREETS)}",
        "city": city,
        "state": "IL",
        "zip_code": zip_code,
        "active": True,
        "responsible_party_name": None,
        "responsible_party_relationship": None,
        "responsible_party_phone": None,
    }
    parent = None
    if program.minor:
        parent, relation = _parent(rng, client)
        row |= {
            "responsible_party_name": f"{parent.first_name} {parent.last_name}",
            "responsible_party_relationship": relation,
            "responsible_party_phone": row["phone"],
        }
    chart = Chart(program, index, row, rng.choice(program.locations), _diagnoses(rng, program))
    chart.telehealth = rng.random() < program.telehealth_share
    chart.policies = _policies(rng, client, parent, window_start, today)
    return chart


def _person(rng: random.Random, male: bool, ages: tuple[int, int], today: date, *, minor: bool) -> Person:
    first = rng.choice((catalog.BOY_NAMES if male else catalog.GIRL_NAMES) if minor else
                       (catalog.MEN_NAMES if male else catalog.WOMEN_NAMES))
    born = today - timedelta(days=rng.randint(ages[0] * 365 + 1, ages[1] * 365 + 300))
    return Person(first, rng.choice(catalog.LAST_NAMES), Sex.MALE if male else Sex.FEMALE, born)


def _parent(rng: random.Random, child: Person) -> tuple[Person, str]:
    relation = rng.choice(("Mother", "Mother", "Mother", "Father", "Father", "Grandmother", "Legal guardian"))
    male = relation == "Father" or (relation == "Legal guardian" and rng.random() < 0.4)
    years = rng.randint(45, 60) if relation == "Grandmother" else rng.randint(22, 40)
    born = child.date_of_birth - timedelta(days=years * 365 + rng.randint(0, 364))
    first = rng.choice(catalog.MEN_NAMES if male else catalog.WOMEN_NAMES)
    # Most parents share the child's surname; some do not, as on real intake forms.
    last = child.last_name if rng.random() < 0.85 else rng.choice(catalog.LAST_NAMES)
    return Person(first, last, Sex.MALE if male else Sex.FEMALE, born), relation


def _diagnoses(rng: random.Random, program: ProgramSpec) -> list[tuple[str, str]]:
    primary = rng.choice(program.primary_diagnoses)
    others = [d for d in program.other_diagnoses if d != primary]
    chosen = [primary, *rng.sample(others, rng.choice((0, 0, 1, 1, 2)) if len(others) > 1 else 0)]
    return [(normalize_icd10(code), catalog.DIAGNOSES[code][1]) for code in chosen]


def _phone(rng: random.Random) -> str:
    # 555-0100..0199 are the numbers reserved for fiction.
    return f"{rng.choice(catalog.AREA_CODES)}5550{rng.randint(100, 199)}"


def _weighted(rng: random.Random, mix: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _policies(
    rng: random.Random, client: Person, parent: Person | None, window_start: date, today: date
) -> list[PolicyPlan]:
    adult_age = (today - client.date_of_birth).days // 365
    if parent is None and adult_age >= MEDICARE_AGE:
        payer = "medicare"
    else:
        payer = _weighted(rng, MINOR_PAYERS if parent else ADULT_PAYERS)
    # Medicaid children and self-pay clients are their own subscribers; an employer plan is the parent's.
    own = parent is None or payer in {"medicaid", "self"}
    subscriber = None if own or parent is None else (parent, SubscriberRelationship.CHILD)
    plans = [_policy(rng, payer, PolicyRank.PRIMARY, client, subscriber, window_start)]
    if payer in {"medicaid", "self"} or rng.random() >= SECONDARY_SHARE:
        return plans
    if parent is not None:
        plans.append(_policy(rng, "medicaid", PolicyRank.SECONDARY, client, None, window_start))
    elif payer == "medicare":
        plans.append(_policy(rng, rng.choice(("bcbs", "aetna")), PolicyRank.SECONDARY, client, None, window_start))
    else:
        spouse = (_spouse(rng, client), SubscriberRelationship.SPOUSE)
        other = rng.choice([p for p in ("bcbs", "aetna", "uhc") if p != payer])
        plans.append(_policy(rng, other, PolicyRank.SECONDARY, client, spouse, window_start))
    return plans


def _spouse(rng: random.Random, client: Person) -> Person:
    male = client.sex is Sex.FEMALE
    born = client.date_of_birth + timedelta(days=rng.randint(-2500, 2500))
    return Person(rng.choice(catalog.MEN_NAMES if male else catalog.WOMEN_NAMES), client.last_name,
                  Sex.MALE if male else Sex.FEMALE, born)


def _policy(
    rng: random.Random, payer: str, rank: PolicyRank, client: Person, subscriber: Subscriber, window_start: date
) -> PolicyPlan:
    # In force well before the first session, never before the client was born.
    effective = max(client.date_of_birth, window_start - timedelta(days=rng.randint(30, 1500)))
    row: dict[str, Any] = {
        "rank": rank,
        "member_id": _member_id(rng, payer),
        "group_number": _group_number(rng, payer),
        "relationship_to_subscriber": SubscriberRelationship.SELF,
        "effective_on": effective,
        "ends_on": None,
        # Empty when the client is the subscriber; every row has the keys so the bulk insert batches them.
        "subscriber_first_name": None,
        "subscriber_last_name": None,
        "subscriber_date_of_birth": None,
        "subscriber_sex": None,
    }
    if subscriber is not None:
        person, relation = subscriber
        row |= {
            "relationship_to_subscriber": relation,
            "subscriber_first_name": person.first_name,
            "subscriber_last_name": person.last_name,
            "subscriber_date_of_birth": person.date_of_birth,
            "subscriber_sex": person.sex,
        }
    return PolicyPlan(payer, rank, row)


def _member_id(rng: random.Random, payer: str) -> str:
    digits = f"{rng.randint(0, 999_999_999):09d}"
    if payer == "medicare":
        return _mbi(rng)
    if payer == "self":
        return f"SELF{digits[:6]}"
    return catalog.payer_spec(payer).member_prefix + digits


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier in the CMS 11-character format (e.g. 1EG4TE5MK73)."""
    alnum = MBI_LETTERS + "0123456789"
    pattern = ("123456789", MBI_LETTERS, alnum, "0123456789", MBI_LETTERS, alnum, "0123456789",
               MBI_LETTERS, MBI_LETTERS, "0123456789", "0123456789")
    return "".join(rng.choice(chars) for chars in pattern)


def _group_number(rng: random.Random, payer: str) -> str | None:
    if payer in {"bcbs", "aetna", "uhc"}:
        return f"{'P' if payer == 'bcbs' else ''}{rng.randint(100_000, 999_999)}"
    return None
