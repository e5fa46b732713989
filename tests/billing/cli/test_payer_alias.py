"""`flask payers alias add/list/remove` and `flask payments match --remember-as / --confirm-charge`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.coverage.models import PayerAlias
from billing.ledger.balances import claim_balance
from billing.payments.models import UnmatchedClaim
from billing.payments.remittances import import_835
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
PRINTED = "AETNA LIFE INSURANCE COMPANY"


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def aetna(world):
    world.payer.name = "Aetna"
    db.session.flush()
    return world.payer


def test_add_list_remove_with_json(flask, aetna):
    db.session.commit()
    added = flask("payers", "alias", "add", "Aetna Life Insurance Company.", "--payer", "Aetna", "--json")
    assert added.exit_code == 0, added.output
    document = json.loads(added.output)
    assert (document["name"], document["payer"], document["payer_id"]) == (PRINTED, "Aetna", aetna.id)
    assert document["created_by"] == "system:cli"
    listed = json.loads(flask("payers", "alias", "list", "--json").output)
    assert [(d["name"], d["payer"]) for d in listed] == [(PRINTED, "Aetna")]
    assert PRINTED in flask("payers", "alias", "list").output
    removed = flask("payers", "alias", "remove", PRINTED, "--reason", "wrong payer", "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.output)["removed"] is True
    assert db.session.scalars(select(PayerAlias)).all() == []
    history = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_type == "payer")).all()
    assert history == [AuditAction.PAYER_ALIAS_ADDED, AuditAction.PAYER_ALIAS_REMOVED]
    assert flask("payers", "alias", "list").output.strip() == "No names taught yet."


def test_add_by_payer_id_and_refusals(flask, aetna):
    db.session.commit()  # a refused command rolls back to here
    assert flask("payers", "alias", "add", PRINTED, "--payer", str(aetna.id)).exit_code == 0
    again = flask("payers", "alias", "add", PRINTED, "--payer", "Aetna", "--json")
    assert again.exit_code == 1
    assert json.loads(again.output)["kind"] == "conflict"
    own = flask("payers", "alias", "add", "AETNA", "--payer", "Aetna")
    assert own.exit_code == 1
    assert "own name" in own.output
    unknown = flask("payers", "alias", "add", "X", "--payer", "Nobody", "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.output)["kind"] == "not_found"
    missing = flask("payers", "alias", "remove", "NEVER TAUGHT")
    assert missing.exit_code == 1
    assert "No payer is known" in missing.output


def test_payments_match_can_teach_the_name_and_confirm_the_charge(flask, world, aetna):
    claim = submitted_claim(world)
    line = claim.lines[0]
    clp = Clp("PATIENT-ACCT-1", "1", D("80.00"), D("50.00"), D("0"), "ICN1",
              [Svc(line.service_code.code, D("80.00"), D("50.00"), [("CO", "45", D("30.00"))], None,
                   line.service_date)])
    import_835(write_835([Payment(D("50.00"), "CHK-C", PRINTED, "999999999", [clp])]).encode(), filename="c.835",
               actor=SYSTEM)
    db.session.commit()  # a refused command rolls back to here
    item = db.session.scalars(select(UnmatchedClaim)).one()
    refused = flask("payments", "match", str(item.id), claim.number)
    assert refused.exit_code == 1
    assert "not known to be Aetna" in refused.output
    charge = flask("payments", "match", str(item.id), claim.number, "--remember-as", "Aetna", "--reason", "EOB")
    assert charge.exit_code == 1
    assert "Confirm the difference" in charge.output
    assert db.session.scalars(select(PayerAlias)).all() == []  # the refusal rolled the teaching back
    done = flask("payments", "match", str(item.id), claim.number, "--remember-as", "Aetna", "--confirm-charge",
                 "--reason", "the payer bundled two codes")
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.scalars(select(PayerAlias.name)).all() == [PRINTED]
    assert claim_balance(claim.id).paid_by_payer == D("50.00")  # CLP04 of the matched payment
