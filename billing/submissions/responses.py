"""Files the clearinghouse leaves in its outbound folder (999, 277CA, ...): collected once, kept verbatim.

A 999 is matched to the batch it acknowledges (AK1's group control number is the batch's GS06) and
its verdict (AK9: accepted, accepted with errors, partially accepted, rejected) is stamped on the batch.
Reading claim-level outcomes from 277CA files is left to whoever builds claim acknowledgements.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.edi.segments import NotX12, split_segments
from billing.submissions import sftp
from billing.submissions.models import Clearinghouse, ClearinghouseResponse, SubmissionBatch
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
        if response.transaction_type == "999":
            _acknowledge(house, response, text)
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


def _acknowledge(house: Clearinghouse, response: ClearinghouseResponse, text: str) -> None:
    segments = _segments(text)
    ak1 = next((s for s in segments if s[0] == "AK1" and len(s) > 2), None)
    ak9 = next((s for s in segments if s[0] == "AK9" and len(s) > 1), None)
    if ak1 is None or not ak1[2].isdigit():
        return
    batch = db.session.scalar(select(SubmissionBatch).where(
        SubmissionBatch.clearinghouse_id == house.id, SubmissionBatch.control_number == int(ak1[2])))  # fmt: skip
    if batch is not None:
        response.batch_id = batch.id
        batch.ack_code = ak9[1][:1] if ak9 is not None else None
