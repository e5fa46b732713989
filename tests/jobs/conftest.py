"""Job tests call job bodies directly with a fixed clock; no scheduler ever starts running jobs here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.billing.claims.world import World, build_world

#: A Wednesday afternoon in Chicago.
NOW = datetime(2026, 3, 18, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _instance_in_tmp(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def world() -> World:
    return build_world()
