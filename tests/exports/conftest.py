"""Fixtures for report tests: each test's instance folder in tmp, and a helper that builds a report into memory."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import openpyxl
import pytest

from exports.build import build_report
from exports.filters import ReportFilters
from tests.worlds.sheets import open_workbook

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def export() -> Callable[..., openpyxl.Workbook]:
    def _export(name: str, **filters: object) -> openpyxl.Workbook:
        out = io.BytesIO()
        build_report(name, ReportFilters(**filters), out, generated_by="test", now=NOW)  # type: ignore[arg-type]
        out.seek(0)
        return open_workbook(out)

    return _export


@pytest.fixture(autouse=True)
def _instance_in_tmp(instance_in_tmp):
    """Exports and lock files go to instance/; keep each test's in its own folder."""
