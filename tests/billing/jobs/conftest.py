"""Job tests call job bodies directly with a fixed clock; no scheduler ever starts running jobs here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

#: A Wednesday afternoon in Chicago.
NOW = datetime(2026, 3, 18, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _instance_in_tmp(instance_in_tmp):
    """Run records and lock files go to instance/; keep each test's in its own folder."""
