"""`matches_regex` on RE2: matching time grows with the text, never exponentially with the pattern.

Python's `re` backtracks, so a biller's `(a+)+$` took seconds on a 24-character payer name and
doubled with every character: one rule could hang the nightly run. RE2 (google-re2) matches in time
linear in the text for any pattern, and refuses the constructs that need backtracking
(backreferences, lookahead and lookbehind); those are refused when the rule is saved, with the reason.

Both evaluators use it: the compiled closures call `searcher()`, and business-rules' own
`StringType.matches_regex` (the reference evaluator) is replaced below, at import, by the same search.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import re2
from business_rules.fields import FIELD_TEXT
from business_rules.operators import StringType, type_operator

#: RE2's default parser; errors come back as exceptions, not also as lines on stderr.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
#: Texts whose answer a compiled pattern remembers: payer, location and practice names repeat across claims.
MEMO_SIZE = 4096

_WHY = (
    (re.compile(r"\\[1-9]|\(\?P="), "backreferences (\\1, (?P=name)) are not supported"),
    (re.compile(r"\(\?<?[=!]"), "lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported"),
)


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The RE2 program for a pattern; raises re2.error for one RE2 cannot run (see `pattern_problem`)."""
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 refuses this pattern, in words, or None when it compiles."""
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        for construct, why in _WHY:
            if construct.search(pattern):
                return f"This pattern cannot be used: {why} (rules match with RE2, which never backtracks)."
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"This pattern does not compile: {detail}."
    return None


def searcher(pattern: str) -> Callable[[str], bool]:
    """Whether the pattern occurs in a text, as `re.search` answers it, remembered per text.

    A call into RE2 costs several microseconds of wrapper overhead (more than Python's `re` on a short
    name), so each distinct text is matched once per compiled rule; the memo is bounded.
    """
    program = compile_pattern(pattern)
    seen: dict[str, bool] = {}

    def search(text: str) -> bool:
        found = seen.get(text)
        if found is None:
            if len(seen) >= MEMO_SIZE:
                seen.clear()
            found = seen[text] = program.search(text) is not None
        return found

    return search


#: The reference evaluator gets a pattern per call, not per run: its remembered searches are kept by pattern.
_shared_searcher = functools.lru_cache(maxsize=256)(searcher)


def regex_search(pattern: str, text: str) -> bool:
    return _shared_searcher(pattern)(text)


# The reference evaluator matches with RE2 too, so both evaluators agree on every pattern.
@type_operator(FIELD_TEXT, label=StringType.matches_regex.label)
def matches_regex(self: StringType, regex: str) -> bool:
    return regex_search(regex, self.value)


StringType.matches_regex = matches_regex  # type: ignore[method-assign]
