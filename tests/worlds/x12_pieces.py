"""Validating an X12 file the way large files are: cut into pieces, each checked by pyx12, the findings merged back
onto the whole file's lines. The tests of both cuts (835 by loops, 837P by whole transactions) compare this with
pyx12 run on the whole file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing.edi.chunks import split
from billing.edi.pyx12 import Validation, merge_pieces, validate
from billing.edi.segments import split_segments


def in_pieces(text: str, parts: int, cut: Callable[..., Any] = split) -> Validation | None:
    """The merged findings of `text` cut by `cut` into `parts` pieces, or None when `cut` leaves it whole."""
    delims, segments = split_segments(text)
    made = cut(segments, parts)
    if made is None:
        return None
    pieces, envelope = made
    return merge_pieces([validate(p.text(delims)) for p in pieces], [p.origin for p in pieces],
                        [(e.line, e.level, e.code, e.message) for e in envelope])


def findings(validation: Validation) -> list[tuple]:
    return sorted((f.line, f.code, f.message, f.structural) for f in validation.findings)
