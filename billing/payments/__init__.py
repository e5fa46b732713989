"""Payments: the append-only ledger, manual posting, 835 ERA import, denials, secondary claims."""
