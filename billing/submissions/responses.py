"""Files the clearinghouse leaves in its outbound folder (999, 277CA, 835, ...): collected once, kept verbatim.

Collecting only stores them. The collect-responses job then imports each new 835, 999 and 277CA once, through
the same door as `flask edi import` (`billing.submissions.inbound`): a 999 stamps its batch's verdict and rejects
the claims of a rejected transaction, a 277CA accepts or rejects claim by claim.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.edi.segments import NotX12, split_segments
from billing.submissions import sftp
from billing.submissions.models import Clearinghouse, ClearinghouseResponse
from billing.submissions.operations import sftp_settings

Downloader = Callable[[sftp.SftpSettings, set[str]], list[sftp.RemoteFile]]


def collect_responses(
    house: Clearinghouse, *, actor: Actor, downloader: Downloader = sftp.download_new
) -> list[ClearinghouseResponse]:
    """Download the outbound files not collected before; returns the new ones."""
    known = set(db.session.scalars(select(ClearinghouseResponse.file_name).where(
        ClearinghouseResponse.clearinghouse_id == house.id)))  # fmt: skip
    collected = []
    for remote in downloader(sftp_settings(house), known):
        text = remote.content.decode("ascii", errors="replace")
        response = ClearinghouseResponse(clearinghouse_id=house.id, file_name=remote.name, content=text,
                                         transaction_type=transaction_type(text))  # fmt: skip
        db.session.add(response)
        db.session.flush()
        record_change("clearinghouse", house.id, AuditAction.RESPONSE_COLLECTED, actor=actor, reason=remote.name,
                      data={"type": response.transaction_type, "batch_id": response.batch_id})  # fmt: skip
        collected.append(response)
    return collected


def _segments(text: str) -> list[list[str]]:
    """Split with the file's own delimiters, as every X12 reader does (indentation and line breaks tolerated)."""
    try:
        return split_segments(text)[1]
    except NotX12:
        return []


def transaction_type(text: str) -> str | None:
    segments = _segments(text)
    st = next((s for s in segments if s[0] == "ST"), None)
    if st is not None and len(st) > 1:
        return st[1][:3]
    return "TA1" if any(s[0] == "TA1" for s in segments) else None

