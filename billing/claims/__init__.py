"""Claims: built from finalized sessions, moved only by the status machine in statuses.py."""
