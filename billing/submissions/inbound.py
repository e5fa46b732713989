"""One door for the X12 files that come back: an 835 is posted, a 999 or 277CA is recorded as an acknowledgment,
a 277 claim status response is recorded on each claim's status trail, and anything else is refused with a reason
naming what it is. `flask edi import`, the upload page and the
collect-responses job all come through here.

The kind is read from ST01 and GS08 (`billing.edi.kinds`) before anything else reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.core.audit import Actor
from billing.edi.kinds import kinds_of, not_x12_message, wrong_kind_message
from billing.edi.segments import NotX12, decode, split_segments
from billing.payments.remittances import EraRefused, ImportResult, import_835
from billing.submissions.acknowledgments import AckResult, import_ack
from billing.submissions.claim_status import StatusImport, import_277
from billing.submissions.eligibility import EligibilityImport, import_271
from billing.submissions.models import Clearinghouse

#: What each kind we import is called in a refusal.
IMPORTED = ("835", "999", "277CA", "277", "271")
HINT = ("ClaimDesk imports 835 remittances, 999 and 277CA acknowledgments, 277 claim status responses and 271 "
        "eligibility responses")


class NotImported(EraRefused):
    """An X12 file of a kind ClaimDesk does not import (an 837, a 276, a 271...), or not X12."""


@dataclass
class Imported:
    kind: str
    result: ImportResult | AckResult | StatusImport | EligibilityImport

    def summary(self) -> str:
        return self.result.summary()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.result.as_dict()}


def kind_of(data: bytes, filename: str) -> str:
    """835, 999, 277CA, 277 or 271; anything else raises NotImported saying what the file is."""
    text = decode(data)
    if not text.startswith("ISA"):
        raise NotImported(filename, [not_x12_message(text, "835 remittance")])
    try:
        kinds = kinds_of(split_segments(text)[1])
    except NotX12 as exc:
        raise NotImported(filename, [exc.message]) from None
    codes = [k.code for k in kinds]
    if len(codes) == 1 and codes[0] in IMPORTED:
        return codes[0]
    if not codes:
        raise NotImported(filename, ["The file holds no transaction (no ST segment): there is nothing to import."])
    others = [k for k in kinds if k.code not in IMPORTED]
    if not others:
        mixed = " and ".join(codes)
        raise NotImported(filename, [f"The file mixes {mixed} transactions; import each kind on its own."])
    raise NotImported(filename, [wrong_kind_message(others, "835", hint=HINT)])


def import_x12(data: bytes, *, filename: str, actor: Actor, clearinghouse: Clearinghouse | None = None) -> Imported:
    """Route one file by its kind. Refusals (a broken or foreign file) raise a BillingError and write nothing."""
    kind = kind_of(data, filename)
    if kind == "835":
        return Imported(kind, import_835(data, filename=filename, actor=actor))
    if kind == "277":
        return Imported(kind, import_277(data, filename=filename, actor=actor, clearinghouse=clearinghouse))
    if kind == "271":
        return Imported(kind, import_271(data, filename=filename, actor=actor))
    return Imported(kind, import_ack(data, filename=filename, actor=actor, clearinghouse=clearinghouse))
