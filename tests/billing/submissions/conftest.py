"""Fixtures for submission tests: a fresh submission world per test, rolled back with the test."""

from __future__ import annotations

import pytest

from tests.worlds.submissions import SubmissionWorld, build_submission_world


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()
