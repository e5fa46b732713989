"""The password rule: 12 characters for admins and billers, 8 for the others, and never a common one."""

from __future__ import annotations

import pytest

from billing.people.models import Role
from billing.people.passwords import password_problems


@pytest.mark.parametrize(("password", "role", "refused"), [
    ("eleven char", Role.ADMIN, "at least 12 characters"),
    ("eleven char", Role.BILLER, "at least 12 characters"),
    ("eleven char", Role.ACCOUNTANT, None),
    ("seven c", Role.OFFICE_MANAGER, "at least 8 characters"),
    ("password1234", Role.ADMIN, "too easy to guess"),
    ("Password123!", Role.BILLER, "too easy to guess"),
    ("qwertyuiop", Role.ACCOUNTANT, "too easy to guess"),
    ("quiet harbor lantern", Role.ADMIN, None),
])
def test_length_by_role_and_common_passwords(password, role, refused):
    problems = password_problems(password, role)
    if refused is None:
        assert problems == []
    else:
        assert [p.field for p in problems] == ["password"]
        assert refused in problems[0].message


def test_a_password_made_of_the_users_own_name_is_refused():
    problems = password_problems("jordanwhitaker", Role.OFFICE_MANAGER,
                                 personal=("jordan@example.com", "Jordan Whitaker"))
    assert problems
    assert "too easy to guess" in problems[0].message
