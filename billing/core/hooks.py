"""Questions a lower layer asks and a higher layer answers, wired once by the app.

The layers only import downwards (see docs/architecture.md). When a lower layer needs a decision that a higher
one owns, for example a claim being voided must take its charges out of the ledger, the lower layer declares a
`Hook` and calls it; `app.py` registers the higher layer's answer when it composes the app. A hook nobody
answered raises instead of silently doing nothing, so a missing wire fails the first test that uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class HookNotWired(RuntimeError):
    """Raised when a hook is asked before the app registered its answer: a programming error, not a refusal."""


class Hook(Generic[P, R]):
    """One question with one or more registered answers, asked in the order they were registered."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._answers: list[Callable[P, R]] = []

    def register(self, *answers: Callable[P, R]) -> None:
        """Set the answers (replacing any earlier ones, so composing the app twice wires it once)."""
        self._answers = list(answers)

    @property
    def wired(self) -> bool:
        return bool(self._answers)

    def ask(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Every registered answer, in order."""
        if not self._answers:
            raise HookNotWired(f"Hook {self.name!r} has no answer; app.create_app() registers it.")
        return [answer(*args, **kwargs) for answer in self._answers]

    def first(self, *args: P.args, **kwargs: P.kwargs) -> R | None:
        """The first answer that is not None (answers after it are not asked)."""
        if not self._answers:
            raise HookNotWired(f"Hook {self.name!r} has no answer; app.create_app() registers it.")
        for answer in self._answers:
            if (found := answer(*args, **kwargs)) is not None:
                return found
        return None
