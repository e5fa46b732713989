"""Shared test worlds: the builders more than one test folder uses, in one place.

- `factories`: factory_boy factories, one per model a test builds by hand (flushed, never committed).
- `practice`: the small insured, priced practice most tests start from (`build_world()`), and `SYSTEM`.
- `claims`: claims moved to a status, submitted claims with their charges, bulk Ready claims.
- `submissions`: the practice with a clearinghouse and addresses, ready to send 837Ps.
- `payments`: payer answers: `ClaimPosting`s and 835 files (the writer shares its segments with the demo's).
- `money`: a spring of money in the ledger that every money report reads.
- `rules`: rule documents saved through the editor's operation.
- `sheets`: produced workbooks read back as a spreadsheet app would.
- `sftp_server`: a paramiko SFTP server on a free loopback port.

Helpers used by one folder only stay in that folder (tests/admin_views/grids.py, tests/billing/edi/loops.py...).
"""
