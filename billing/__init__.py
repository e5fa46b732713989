"""ClaimDesk's domain: the organisation, people, coverage, sessions (and later claims, ledger, EDI).

Each area is a subpackage with `models.py` (tables), `checks.py` (validation that returns problems
as data) and, where it writes, `operations.py` (flush-only; the caller owns the transaction).
Nothing here imports `admin_views` or `exports`.
"""
