"""Clearinghouse settings (admins only): envelope identities and the SFTP drop box.

The password and private key are write-only: the form offers empty fields to replace them and
boxes to clear them, and no page (list, details, edit, or a form shown again after an error)
ever renders a stored or typed secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from markupsafe import Markup, escape
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, TextAreaField
from wtforms.validators import ValidationError

from admin_views.auth import current_actor
from admin_views.base import RoleModelView
from admin_views.operations import run_operation
from admin_views.permissions import Area
from billing.core.errors import Invalid
from billing.submissions import sftp
from billing.submissions.models import Clearinghouse
from billing.submissions.operations import sftp_settings
from billing.submissions.settings import (
    ID_QUALIFIERS,
    clearinghouse_payer_id_problem,
    clearinghouse_problems,
    record_settings_change,
    save_secrets,
)
from billing.submissions.sftp import SendFailed


def problem_validator(check: Callable[[Any], str | None]) -> Callable[[Any, Any], None]:
    """A WTForms validator from a billing check that returns a message or None."""

    def validate(form: Any, field: Any) -> None:
        if message := check(field.data):
            raise ValidationError(message)

    return validate


#: The payer form's clearinghouse payer id (Billing setup > Payers): trimmed, and refused with a delimiter in it.
CLEARINGHOUSE_PAYER_ID_ARGS = {
    "filters": [lambda v: v.strip() or None if v else None],
    "validators": [problem_validator(clearinghouse_payer_id_problem)],
}


class WriteOnlyTextArea(TextAreaField):
    """A textarea that never shows its content back (a private key typed before a form error stays unseen)."""

    def _value(self) -> str:
        return ""


def _secret_state(view: Any, context: Any, model: Clearinghouse, name: str) -> str:
    kinds = [label for label, value in (("password", model.sftp_password), ("private key", model.sftp_private_key))
             if value]  # fmt: skip
    return f"{' and '.join(kinds)} stored" if kinds else "none"


def _host_key(view: Any, context: Any, model: Clearinghouse, name: str) -> Markup | str:
    if not model.sftp_host_key:
        return ""
    try:
        return Markup("<code>{}</code>").format(sftp.fingerprint(model.sftp_host_key))
    except Invalid as exc:
        return escape(exc.message)


class ClearinghouseView(RoleModelView):
    """Admins keep one row per clearinghouse; payers point at it (Billing setup > Payers)."""

    area = Area.CLEARINGHOUSES
    name = "Clearinghouses"
    form_checks = staticmethod(clearinghouse_problems)
    details_template = "claimdesk/submissions/clearinghouse_details.html"
    column_list = ["name", "usage_indicator", "isa_sender_id", "isa_receiver_id", "sftp_host", "secret", "active"]
    column_details_list = [
        "name", "active", "usage_indicator", "isa_sender_qualifier", "isa_sender_id", "isa_receiver_qualifier",
        "isa_receiver_id", "gs_sender_code", "gs_receiver_code", "submitter_name", "submitter_etin",
        "submitter_contact_name", "submitter_contact_phone", "submitter_contact_email", "receiver_name", "receiver_id",
        "sftp_host", "sftp_port", "sftp_username", "secret", "sftp_host_key", "inbound_folder", "outbound_folder",
        "file_name_pattern", "max_claims_per_file", "last_control_number",
    ]
    column_labels = {
        "usage_indicator": "Usage (ISA15)", "isa_sender_qualifier": "ISA sender qualifier (ISA05)",
        "isa_sender_id": "ISA sender id (ISA06)", "isa_receiver_qualifier": "ISA receiver qualifier (ISA07)",
        "isa_receiver_id": "ISA receiver id (ISA08)", "gs_sender_code": "GS sender code (GS02)",
        "gs_receiver_code": "GS receiver code (GS03)", "submitter_name": "Submitter name (1000A)",
        "submitter_etin": "Submitter ETIN (1000A)", "submitter_contact_name": "Contact name",
        "submitter_contact_phone": "Contact phone", "submitter_contact_email": "Contact email",
        "receiver_name": "Receiver name (1000B)", "receiver_id": "Receiver id (1000B)", "sftp_host": "SFTP host",
        "sftp_port": "SFTP port", "sftp_username": "SFTP user", "secret": "SFTP secret",
        "sftp_host_key": "Server host key", "last_control_number": "Last control number (ISA13)",
        "max_claims_per_file": "Most claims per file",
        "new_password": "New SFTP password", "new_private_key": "New private key", "clear_password":
        "Remove the stored password", "clear_private_key": "Remove the stored private key",
    }  # fmt: skip
    column_formatters = {"secret": _secret_state}
    column_formatters_detail = {"secret": _secret_state, "sftp_host_key": _host_key}
    column_searchable_list = ["name", "sftp_host"]
    form_columns = [
        "name", "active", "usage_indicator", "isa_sender_qualifier", "isa_sender_id", "isa_receiver_qualifier",
        "isa_receiver_id", "gs_sender_code", "gs_receiver_code", "submitter_name", "submitter_etin",
        "submitter_contact_name", "submitter_contact_phone", "submitter_contact_email", "receiver_name", "receiver_id",
        "sftp_host", "sftp_port", "sftp_username", "new_password", "clear_password", "new_private_key",
        "clear_private_key", "sftp_host_key", "inbound_folder", "outbound_folder", "file_name_pattern",
        "max_claims_per_file",
    ]
    form_extra_fields = {
        "new_password": PasswordField("New SFTP password"),
        "clear_password": BooleanField("Remove the stored password"),
        "new_private_key": WriteOnlyTextArea("New private key", render_kw={"rows": 4, "autocomplete": "off"}),
        "clear_private_key": BooleanField("Remove the stored private key"),
    }
    form_choices = {
        "usage_indicator": [("T", "T - test (the clearinghouse does not forward to payers)"), ("P", "P - production")],
        "isa_sender_qualifier": list(ID_QUALIFIERS.items()),
        "isa_receiver_qualifier": list(ID_QUALIFIERS.items()),
    }
    form_widget_args = {"sftp_host_key": {"rows": 2}}
    column_descriptions = {
        "sftp_host_key": "The server's public key line as the clearinghouse published it (e.g. 'ssh-ed25519 "
        "AAAA...'). A server presenting any other key is refused before a password or key is sent.",
        "new_password": "Leave empty to keep the stored password. Stored secrets are never shown.",
        "new_private_key": "An unencrypted OpenSSH or PEM key. Leave empty to keep the stored key.",
        "file_name_pattern": "Placeholders: {batch} (B-000012), {control} (ISA13), {date} (YYYYMMDD), {time}.",
        "usage_indicator": "Send T until the clearinghouse confirms your test files, then P.",
        "max_claims_per_file": "The most claims the clearinghouse takes in one file (5,000 unless it says "
        "otherwise); more Ready claims go out in several batches.",
    }

    def on_model_change(self, form: Any, model: Clearinghouse, is_created: bool) -> None:
        # Flask-Admin copied the extra fields onto the model as plain attributes; keep no plaintext there.
        for extra in self.form_extra_fields:
            model.__dict__.pop(extra, None)
        secrets = save_secrets(model, form.data)
        record_settings_change(model, actor=current_actor(), created=is_created, secrets=secrets)

    @expose("/test/", methods=("POST",))
    def test_view(self) -> Response:
        """Connect with the stored settings: host key, login, folders. Nothing is uploaded."""
        house = self.get_one(request.args.get("id", ""))
        back = self.get_url(".details_view", id=request.args.get("id", ""))
        if house is None:
            flash("Record does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        return run_operation(lambda: sftp.check_connection(sftp_settings(house)), success=lambda message: message,
                             back=back)

    @expose("/offered-key/", methods=("POST",))
    def offered_key_view(self) -> Any:
        """Show the key a server offers so an admin can compare its fingerprint with the published one."""
        house = self.get_one(request.args.get("id", ""))
        if house is None or not house.sftp_host:
            flash("Save an SFTP host first.", "error")
            return redirect(self.get_url(".index_view"))
        try:
            line, offered = sftp.offered_host_key(house.sftp_host, house.sftp_port)
        except SendFailed as exc:  # on success a page, so not run_operation's redirect
            flash(exc.message, "error")
            return redirect(self.get_url(".details_view", id=house.id))
        stored = _stored_fingerprint(house)
        return self.render("claimdesk/submissions/offered_key.html", house=house, line=line, offered=offered,
                           stored=stored, return_url=self.get_url(".details_view", id=house.id))  # fmt: skip


def _stored_fingerprint(house: Clearinghouse) -> str | None:
    try:
        return sftp.fingerprint(house.sftp_host_key) if house.sftp_host_key else None
    except Invalid:
        return None
