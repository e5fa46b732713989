"""Fixtures for the EDI tests: the 837P files are generated from a practice ready to send them."""

from __future__ import annotations

import pytest

from tests.worlds.submissions import SubmissionWorld, build_submission_world


@pytest.fixture
def world() -> SubmissionWorld:
    return build_submission_world()
