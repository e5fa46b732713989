"""What claims ask of the layers above them (the ledger, submissions); `app.py` registers the answers.

Claims sit below the ledger and submissions, so they cannot import them. These few questions go up through
hooks instead (see billing/core/hooks.py).
"""

from __future__ import annotations

from datetime import date

from billing.claims.models import Claim
from billing.core.audit import Actor
from billing.core.hooks import Hook

#: A bill the payer had is withdrawn (void, retraction): take the charges of its unworked lines out of A/R.
bill_withdrawn: Hook[[Claim, Actor, date, str], None] = Hook(
    "bill_withdrawn", "Reverse the open charges of a claim whose bill was withdrawn (answered by the ledger).")

#: The number of the unsent submission batch a claim waits in, or None: such a claim comes out of it first.
unsent_batch_of: Hook[[int], str | None] = Hook(
    "unsent_batch_of", "The number of the unsent batch holding this claim id (answered by submissions).")

#: Take a claim out of the unsent submission batch it waits in (the batch's file is rebuilt, or the batch cancelled).
take_out_of_batch: Hook[[Claim, Actor], None] = Hook(
    "take_out_of_batch", "Take this claim out of its unsent batch, if it is in one (answered by submissions).")

#: Why a session may not be deleted because of money on its claims, or None (answered by the ledger).
session_money_refusal: Hook[[int], str | None] = Hook(
    "session_money_refusal", "Why money on a session's claims forbids deleting the session (answered by the ledger).")

#: What voiding a claim does to money already received on it, in words, or None when none was (the ledger).
money_received: Hook[[int], str | None] = Hook(
    "money_received", "The money already paid on a claim id and what a void does with it (answered by the ledger).")

#: Self-pay claims just moved to patient billing: post each line's charge onto the patient's balance (the ledger).
patient_billed: Hook[[list[Claim], Actor, date], int] = Hook(
    "patient_billed", "Post the charges of self-pay claims to the patient's balance (answered by the ledger).")
