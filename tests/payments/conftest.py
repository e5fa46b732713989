"""Fixtures for payments tests: a fresh claims world per test, rolled back with the test's transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.billing.claims.world import World, build_world
from tests.conftest import shared_dir


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def samples_835() -> Path:
    folder = shared_dir() / "x12-samples" / "835"
    if not folder.is_dir():
        pytest.skip(f"the shared X12 samples are not at {folder}")
    return folder
