"""The setting the tests of the database-kept summaries share: three claims on three service days, and a second
location and payer to move them to. Hypothesis runs a test's body many times with one world (a function-scoped
fixture), so the setting is made once per world and each example rolls its own statements back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from billing.core.db import db
from tests.worlds import factories as f
from tests.worlds.practice import DAY, World


@dataclass(frozen=True)
class Setting:
    claims: list[int]
    locations: list[int]  # the world's, then another of its practice
    payers: list[int]  # the world's, then another of its company


_MADE: dict[int, Setting] = {}


def summary_setting(world: World) -> Setting:
    if id(world) not in _MADE:
        _MADE.clear()
        claims = [world.claim(day=DAY + timedelta(days=i)).id for i in range(3)]
        other_location = f.LocationFactory(practice=world.location.practice)
        other_payer = f.PayerFactory(company=world.company)
        db.session.flush()
        _MADE[id(world)] = Setting(claims, [world.location.id, other_location.id], [world.payer.id, other_payer.id])
    return _MADE[id(world)]
