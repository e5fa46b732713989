"""Resolve "module:function" references at call time, so billing never imports rules/ or exports/ statically."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apscheduler.util import ref_to_obj

from billing.core.errors import BillingError


class NotWired(BillingError):
    """The function a job calls does not exist (yet): the package that provides it has not landed."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reference} is not available ({reason}).")
        self.reference = reference


def resolve(reference: str) -> Callable[..., Any]:
    try:
        found = ref_to_obj(reference)
    except (LookupError, ImportError, ValueError) as exc:
        raise NotWired(reference, str(exc)) from None
    if not callable(found):
        raise NotWired(reference, "not callable")
    return found


def is_wired(reference: str) -> bool:
    try:
        resolve(reference)
    except NotWired:
        return False
    return True
