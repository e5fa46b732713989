"""Rule JSON as people send it (the editor's text box, a rules file), read within size and nesting limits.

Python's json module parses nested arrays and objects by recursion: text nested about 1,000 deep
raises RecursionError (the editor answered 500 for conditions nested 500 deep), and shallower but
still absurd nesting would reach every recursive walker after it. So the text is measured first,
by a flat scan, and refused with a message before `json.loads` sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from billing.core.errors import Problem, ValidationFailed

#: Brackets deep. A valid rule needs about 15 (the file, its rule list, a rule, 5 nested groups of
#: an object and a list each, a condition, a value list); twice that leaves room for mistakes that the
#: validator then names.
MAX_NESTING = 32
MAX_RULE_CHARS = 100_000  # the editor's JSON box: a rule of the largest allowed size fits with room
MAX_FILE_CHARS = 10_000_000  # a rules file: thousands of rules

# A JSON string (escapes included) or one bracket; text outside strings cannot contain brackets otherwise.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def nesting(text: str) -> int:
    """How deep brackets nest in JSON text, strings skipped, without parsing it."""
    depth = deepest = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()  # or a whole string, which matches neither
        if bracket in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in ("]", "}"):
            depth -= 1
    return deepest


def load_json(text: str, *, field: str, max_chars: int) -> Any:
    """Parse rule JSON, or raise ValidationFailed naming `field` and what is wrong (nothing else escapes)."""
    if len(text) > max_chars:
        raise ValidationFailed(
            [Problem(field, f"The JSON is {len(text):,} characters; at most {max_chars:,} are accepted.")]
        )
    if (deep := nesting(text)) > MAX_NESTING:
        raise ValidationFailed(
            [
                Problem(
                    field,
                    f"The JSON nests {deep} levels deep; at most {MAX_NESTING} are "
                    "accepted (rule groups nest at most 5 deep).",
                )
            ]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed([Problem(field, f"The JSON does not parse: {exc.msg} (line {exc.lineno}).")]) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ValidationFailed([Problem(field, f"The JSON does not parse: {exc}.")]) from None
