"""Clearinghouse settings: what a valid set looks like, and how secrets are stored without being shown.

The admin form calls `clearinghouse_problems` before it writes and `save_secrets` plus
`record_settings_change` after; the history names the fields that changed and never their secret values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Invalid, Problem
from billing.edi.writing import RESERVED, identifier_problem
from billing.submissions import sftp
from billing.submissions.models import Clearinghouse
from billing.submissions.operations import FILE_NAME

#: ISA05/ISA07 interchange id qualifiers of the 005010 envelope.
ID_QUALIFIERS = {
    "01": "01 D-U-N-S number",
    "14": "14 D-U-N-S plus suffix",
    "20": "20 Health industry number (HIN)",
    "27": "27 Carrier id (HCFA)",
    "28": "28 Fiscal intermediary id",
    "29": "29 Medicare provider id",
    "30": "30 U.S. federal tax id",
    "33": "33 NAIC company code",
    "ZZ": "ZZ Mutually defined",
}
SECRET_FIELDS = ("sftp_password", "sftp_private_key")
_SAMPLE = {"batch": "B-000001", "control": "000000001", "date": "20260101", "time": "120000"}

#: (field, label, shortest, longest) for the identities that go into the envelope as typed.
_IDENTITIES = (
    ("isa_sender_id", "ISA sender id", 1, 15),
    ("isa_receiver_id", "ISA receiver id", 1, 15),
    ("gs_sender_code", "GS application sender code", 2, 15),
    ("gs_receiver_code", "GS application receiver code", 2, 15),
    ("submitter_etin", "Submitter ETIN (1000A NM109)", 2, 80),
    ("receiver_id", "Receiver id (1000B NM109)", 2, 80),
)


#: The largest file cap a clearinghouse may set: pyx12 and the upload hold a whole file in memory.
MOST_CLAIMS_PER_FILE = 50_000


def clearinghouse_problems(data: Mapping[str, Any], record: Clearinghouse | None = None) -> list[Problem]:
    """Every reason these settings would make a bad envelope or an unsafe connection."""
    problems = [p for p in (_identity_problem(data, *spec) for spec in _IDENTITIES) if p]
    for field in ("isa_sender_qualifier", "isa_receiver_qualifier"):
        if (data.get(field) or "") not in ID_QUALIFIERS:
            problems.append(Problem(field, "Choose one of the X12 interchange id qualifiers (ZZ when unsure)."))
    if (data.get("usage_indicator") or "") not in ("T", "P"):
        problems.append(Problem("usage_indicator", "Choose T (test) or P (production)."))
    phone = (data.get("submitter_contact_phone") or "").strip()
    if phone and not (phone.isdigit() and len(phone) == 10):
        problems.append(Problem("submitter_contact_phone", "Ten digits, no punctuation (e.g. 2175550100)."))
    problems += _file_name_problems(data.get("file_name_pattern") or "")
    limit = data.get("max_claims_per_file")
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= MOST_CLAIMS_PER_FILE):
        problems.append(Problem("max_claims_per_file", f"A whole number from 1 to {MOST_CLAIMS_PER_FILE:,}."))
    problems += _sftp_problems(data, record)
    return problems


def clearinghouse_payer_id_problem(value: str | None) -> str | None:
    """The payer id goes into 2010BB NM109 as typed, so a delimiter in it would split the segment."""
    if not value:
        return None
    return identifier_problem("The clearinghouse payer id", value)


def _identity_problem(data: Mapping[str, Any], field: str, label: str, shortest: int, longest: int) -> Problem | None:
    value = (data.get(field) or "").strip()
    if not shortest <= len(value) <= longest:
        return Problem(field, f"{label}: {shortest} to {longest} characters.")
    if RESERVED & set(value) or not value.isascii():
        return Problem(field, f"{label} may not contain * : ^ ~ or characters outside plain ASCII.")
    return None


def _file_name_problems(pattern: str) -> list[Problem]:
    try:
        name = pattern.format(**_SAMPLE)
    except (KeyError, IndexError, ValueError):
        return [Problem("file_name_pattern", "Use only the placeholders {batch}, {control}, {date} and {time}.")]
    if not FILE_NAME.fullmatch(name) or ("{control}" not in pattern and "{batch}" not in pattern):
        return [Problem("file_name_pattern", "The name must contain {batch} or {control} (so each file is unique) "
                        "and only letters, digits, '.', '_' and '-'.")]  # fmt: skip
    return []


def _sftp_problems(data: Mapping[str, Any], record: Clearinghouse | None) -> list[Problem]:
    host = (data.get("sftp_host") or "").strip()
    key_line = (data.get("sftp_host_key") or "").strip()
    problems = []
    if key_line:
        try:
            sftp.parse_host_key(key_line)
        except Invalid as exc:
            problems.append(Problem("sftp_host_key", exc.message))
    new_key = (data.get("new_private_key") or "").strip()
    if new_key:
        try:
            sftp.load_private_key(new_key)
        except Invalid as exc:
            problems.append(Problem("new_private_key", exc.message))
    if not host:
        return problems
    if not (data.get("sftp_username") or "").strip():
        problems.append(Problem("sftp_username", "SFTP needs a user name."))
    if not key_line:
        problems.append(Problem("sftp_host_key", "Paste the server's public host key as the clearinghouse "
                                "published it; an unknown server is never trusted."))  # fmt: skip
    if not _has_secret(data, record):
        problems.append(Problem("new_password", "SFTP needs a password or a private key."))
    return problems


def _has_secret(data: Mapping[str, Any], record: Clearinghouse | None) -> bool:
    if (data.get("new_password") or "").strip() or (data.get("new_private_key") or "").strip():
        return True
    kept_password = record is not None and record.sftp_password and not data.get("clear_password")
    kept_key = record is not None and record.sftp_private_key and not data.get("clear_private_key")
    return bool(kept_password or kept_key)


def save_secrets(house: Clearinghouse, data: Mapping[str, Any]) -> list[str]:
    """Store a newly typed password or key; blank keeps the stored one. Returns the secrets that changed."""
    changed = []
    for field, typed, clear in (("sftp_password", "new_password", "clear_password"),
                                ("sftp_private_key", "new_private_key", "clear_private_key")):  # fmt: skip
        value = (data.get(typed) or "").strip()
        if value:
            setattr(house, field, value)
            changed.append(field)
        elif data.get(clear) and getattr(house, field):
            setattr(house, field, None)
            changed.append(field)
    return changed


def record_settings_change(house: Clearinghouse, *, actor: Actor, created: bool, secrets: list[str]) -> None:
    """History names what changed; secret fields appear as 'changed', never with a value."""
    state = inspect(house)
    changed: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in SECRET_FIELDS or attr.key == "last_control_number":
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            changed[attr.key] = _plain(history.added[0] if history.added else None)
    changed.update({field: "changed" for field in secrets})
    if house.id is None:
        db.session.flush()
    record_change("clearinghouse", house.id, AuditAction.CLEARINGHOUSE_CHANGED, actor=actor,
                  reason="created" if created else "settings changed", data=changed)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value if value is None or isinstance(value, str | int | bool) else str(value)
