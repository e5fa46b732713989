"""Fixtures for claim tests: a fresh world per test, rolled back with the test's transaction."""

from __future__ import annotations

import pytest

from tests.billing.claims.world import World, build_world


@pytest.fixture
def world() -> World:
    return build_world()
