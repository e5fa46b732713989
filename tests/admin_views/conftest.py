"""Fixtures for the admin grids: the real login form, with a password hash that is quick to check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from billing.people.models import Role, User
from tests.conftest import TEST_PASSWORD

# The role matrix logs in a few hundred times; scrypt (the default) costs ~70 ms per check on purpose.
# One pbkdf2 round still goes through authenticate() and check_password_hash like a real login.
QUICK_HASH = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1")


@pytest.fixture
def login(login: Callable[..., User]) -> Callable[..., User]:
    def _login(role: Role | str = Role.ADMIN, **user_fields: Any) -> User:
        user_fields.setdefault("password_hash", QUICK_HASH)
        return login(role, **user_fields)

    return _login
