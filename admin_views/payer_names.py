"""Payer names: what payers print on their 835s (N1*PR) that a biller taught us means one of our payers.

Billers and admins add and remove them (the Unmatched queue teaches them too); everyone who sees billing setup
reads the list and its history. Each POST is one service call.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage
from admin_views.operations import run_operation
from admin_views.permissions import Area
from billing.core.audit import AuditAction, StatusChange
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import NotFound
from billing.coverage.models import Payer, PayerAlias
from billing.coverage.options import payer_options
from billing.coverage.payer_names import add_payer_alias, payer_aliases, remove_payer_alias

#: How much of the names' history the page shows.
HISTORY_ROWS = 50


class PayerNamesView(AreaPage):
    area = Area.BILLING_SETUP

    @expose("/")
    def index(self) -> Any:
        return self.render("claimdesk/coverage/payer_names.html", aliases=payer_aliases(), payers=payer_options(),
                           history=_history(), can_edit=self.can_edit)

    @expose("/add/", methods=("POST",))
    def add_view(self) -> Response:
        if not self.can_edit:
            return self._refused("teach payer names")

        def add() -> PayerAlias:
            chosen = request.form.get("payer_id", "")
            payer = db.session.get(Payer, payer_id) if (payer_id := parse_id(chosen)) else None
            if payer is None:
                raise NotFound("Choose which of our payers the name means.")
            return add_payer_alias(payer, request.form.get("name", ""), actor=current_actor())

        return run_operation(add, back=self.get_url(".index"),
                             success=lambda alias: f"“{alias.name}” now means {alias.payer.name}.")

    @expose("/remove/<int:alias_id>/", methods=("POST",))
    def remove_view(self, alias_id: int) -> Response:
        if not self.can_edit:
            return self._refused("remove payer names")

        def remove() -> str:
            alias = db.session.get(PayerAlias, alias_id)
            if alias is None:
                raise NotFound("That name was already removed.")
            said = f"“{alias.name}” no longer means {alias.payer.name}."
            remove_payer_alias(alias, actor=current_actor(), reason=request.form.get("reason"))
            return said

        return run_operation(remove, back=self.get_url(".index"), success=lambda said: said)

    def _refused(self, doing: str) -> Response:
        flash(f"Your role ({current_user.role.label}) cannot {doing}.", "error")
        return redirect(self.get_url(".index"))


def _history() -> list[StatusChange]:
    actions = (AuditAction.PAYER_ALIAS_ADDED, AuditAction.PAYER_ALIAS_REMOVED)
    return list(db.session.scalars(
        select(StatusChange).where(StatusChange.subject_type == "payer", StatusChange.action.in_(actions))
        .order_by(StatusChange.id.desc()).limit(HISTORY_ROWS)
    ))
