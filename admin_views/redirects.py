"""Where a `next` (or `url`) parameter may send someone: only to a path on this site.

Every view that reads one goes through `safe_next`. Otherwise a link that looks like ours
(`/login?next=https://evil.example/`) would bounce a logged-in biller to a phishing page.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site (`/admin/claim/?page=2`); None for anything else."""
    target = (target or "").strip()
    # Browsers read "\" as "/" and drop tabs and line breaks, so "/\evil" and "/\t/evil" would leave the site.
    if not target or "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
