"""Money and EDI tables have no generic form in any view: they change only through operations."""

from __future__ import annotations

from flask import Flask

from admin_views.base import RoleModelView
from billing.core.operation_keys import OperationKey
from billing.ledger.models import Adjudication, AdjudicationLine, LedgerEntry
from billing.payments.models import EraFile, ProviderAdjustment, ProviderAdjustmentEntry, Remittance, UnmatchedClaim
from billing.submissions.models import BatchClaim, ClearinghouseResponse, SubmissionBatch

MONEY_AND_EDI = {
    Adjudication, AdjudicationLine, BatchClaim, ClearinghouseResponse, EraFile, LedgerEntry, OperationKey,
    ProviderAdjustment, ProviderAdjustmentEntry, Remittance, SubmissionBatch, UnmatchedClaim,
}


def test_no_model_view_edits_creates_or_deletes_money_or_edi_rows(app: Flask):
    views = [v for v in app.extensions["admin"][0]._views if isinstance(v, RoleModelView)]
    assert views, "the admin registers its grids"
    for view in views:
        if view.model in MONEY_AND_EDI:
            assert (view.allow_edit, view.allow_create, view.allow_delete) == (False, False, False), view.endpoint
