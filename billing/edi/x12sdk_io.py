"""The one door to x12sdk (pinned 2.2.0): read 270/271/276/277 transaction sets into its models, and back to text.

Nothing outside `billing.edi` imports x12sdk; everything else calls these functions. x12sdk models cover ST..SE
(no ISA/GS): our own writers build the envelopes, and `billing.edi.segments` reads them.

What the wrapper adds to the library:
- text only: x12sdk's reader also takes a file *path* and opens it; we never hand it anything but X12 text;
- errors are `X12ModelError` (an `Invalid`) whose problems name the transaction, loop and field, and never echo the
  values (pydantic's own messages quote the input, which may be a member's name or id);
- a transaction kind check first, so a 999 given to the 271 reader is refused in one sentence (`billing.edi.kinds`);
- `round_trip_problems`: what changes when the models are written back (the library evaluation's test).

API (kept stable: h-status uses it for 276/277):
    read_transactions(data, kind) -> list[model]        kind in SUPPORTED ("270", "271", "276", "277")
    transaction_problems(data, kind) -> list[Problem]   [] when x12sdk reads every transaction set
    transaction_segments(model) -> list[str]            ST..SE segment texts, "*" ":" "^" delimiters, no "~"
    round_trip_problems(data, kind) -> list[Problem]    [] when reading and writing back gives the same segments
    LIBRARY_VERSION
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from billing.core.errors import Invalid, Problem
from billing.edi.kinds import require_kind
from billing.edi.segments import canonical, decode, segment_texts

LIBRARY_VERSION = "2.2.0"
#: Our kind code -> the implementation guide x12sdk models for it.
SUPPORTED = {"270": "005010X279A1", "271": "005010X279A1", "276": "005010X212", "277": "005010X212"}

# x12sdk's package __init__ calls python-dotenv's load_dotenv(), which reads a .env file from the working
# directory into os.environ. Import it once here with that disabled, so importing billing.edi never changes the
# process environment as a side effect.
_before = os.environ.get("PYTHON_DOTENV_DISABLED")
os.environ["PYTHON_DOTENV_DISABLED"] = "1"
try:
    from pydantic import ValidationError
    from x12sdk.io import X12ModelReader
    from x12sdk.models import X12Delimiters
finally:
    if _before is None:
        os.environ.pop("PYTHON_DOTENV_DISABLED", None)
    else:
        os.environ["PYTHON_DOTENV_DISABLED"] = _before

_DELIMITERS = X12Delimiters(
    element_separator="*", repetition_separator="^", component_separator=":", segment_terminator="~"
)


class X12ModelError(Invalid):
    """x12sdk could not read a transaction set; `problems` name where, never the data."""


def read_transactions(data: bytes | str, kind: str) -> list[Any]:
    """The transaction sets (ST..SE) of an interchange as x12sdk models, in file order.

    Raises NotX12 / WrongX12Kind (billing.edi.kinds) when the file is not X12 or not all of `kind`, and
    X12ModelError naming the transaction set and field when a segment breaks the implementation guide.
    """
    if kind not in SUPPORTED:
        raise ValueError(f"x12sdk_io reads {', '.join(SUPPORTED)}, not {kind}")
    text = decode(data)
    require_kind(text, kind)
    text = canonical(text)
    models: list[Any] = []
    try:
        with X12ModelReader(text) as reader:
            for model in reader.models():
                models.append(model)
    except ValidationError as error:
        problems = _validation_problems(error, kind, len(models) + 1)
        raise X12ModelError(
            f"The {kind} does not follow the {SUPPORTED[kind]} guide: {problems[0]}", problems
        ) from None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as error:
        problem = Problem(f"{kind} transaction {len(models) + 1}", _plain(error))
        raise X12ModelError(f"The {kind} could not be read: {problem}", [problem]) from None
    if not models:
        problem = Problem(kind, "The file holds no transaction set (no ST segment).")
        raise X12ModelError(f"The {kind} could not be read: {problem.message}", [problem])
    return models


def transaction_problems(data: bytes | str, kind: str) -> list[Problem]:
    """[] when x12sdk reads every transaction set of `data` as `kind`; otherwise what it refused."""
    try:
        read_transactions(data, kind)
    except Invalid as error:
        return list(error.problems) or [Problem(kind, error.message)]
    return []


def transaction_segments(model: Any) -> list[str]:
    """A model's segments (ST..SE) as text with our delimiters, without terminators."""
    text = model.x12(use_new_lines=False, custom_delimiters=_DELIMITERS)
    return [piece for piece in text.split("~") if piece]


def round_trip_problems(data: bytes | str, kind: str) -> list[Problem]:
    """[] when reading `data` into models and writing them back gives the same ST..SE segments."""
    original = _transaction_segment_texts(decode(data))
    written: list[str] = []
    for model in read_transactions(data, kind):
        written.extend(transaction_segments(model))
    problems: list[Problem] = []
    for number, (before, after) in enumerate(zip(original, written, strict=False), start=1):
        if before != after:
            problems.append(Problem(f"segment {number}", f"reads {before[:3]}… but writes back differently"))
    if len(original) != len(written):
        problems.append(Problem(kind, f"{len(original)} segments read, {len(written)} written back"))
    return problems


def _transaction_segment_texts(text: str) -> list[str]:
    """The segments between ST and SE (inclusive) of every transaction set, envelopes left out."""
    return [s for s in segment_texts(text) if s[:3] not in ("ISA", "GS*", "GE*", "IEA")]


def _validation_problems(error: ValidationError, kind: str, number: int) -> list[Problem]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item.get("loc", ()) if not isinstance(part, int))
        problems.append(Problem(f"{kind} transaction {number}: {where or 'transaction'}", item.get("msg", "invalid")))
    return problems or [Problem(f"{kind} transaction {number}", "invalid")]


def _plain(error: BaseException) -> str:
    """A library exception's message, cut short; x12sdk's own messages name segments, not member data."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


__all__: Sequence[str] = (
    "LIBRARY_VERSION",
    "SUPPORTED",
    "X12ModelError",
    "read_transactions",
    "round_trip_problems",
    "transaction_problems",
    "transaction_segments",
)
