"""The statement party kept on each client: the same responsible party's name at the same address (any case and
spacing) is one party, a client alone is none; the ORM's inserts and updates and Core's inserts all keep it, and
`flask ledger check` names a client changed behind the ORM's back."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from billing.core.db import db
from billing.payments.invariants import check_ledger, statement_parties_kept
from billing.people.models import Client, Sex
from billing.people.statement_parties import party_key, statement_name
from tests.worlds import factories as f

RIVERA = {"responsible_party_name": "Dana Rivera", "first_name": "Ana", "last_name": "Rivera",
          "address_line1": "12 Elm St", "address_line2": None, "city": "Springfield", "state": "IL",
          "zip_code": "627011234"}


def _spelled(text: str, data: st.DataObject) -> str:
    """`text` with random case and extra spaces around and between its words."""
    words = [data.draw(st.sampled_from([w, w.lower(), w.upper()])) for w in text.split()]
    gaps = [data.draw(st.sampled_from([" ", "  ", "\t"])) for _ in words]
    return data.draw(st.sampled_from(["", " "])) + "".join(w + g for w, g in zip(words, gaps, strict=True))


@given(st.data())
def test_one_parent_however_spelled_is_one_party(data):
    spelled = {**RIVERA, **{k: _spelled(RIVERA[k], data) for k in ("responsible_party_name", "address_line1",
                                                                       "city")},
               "first_name": data.draw(st.sampled_from(["Ana", "Ben"]))}
    assert party_key(spelled) == party_key(RIVERA)
    assert statement_name(spelled) == "dana rivera"


def test_another_address_or_name_is_another_party_and_a_client_alone_is_none():
    assert party_key({**RIVERA, "address_line1": "99 Oak Ave"}) != party_key(RIVERA)
    assert party_key({**RIVERA, "zip_code": "62702"}) != party_key(RIVERA)
    assert party_key({**RIVERA, "responsible_party_name": "Dan Rivera"}) != party_key(RIVERA)
    assert party_key({**RIVERA, "responsible_party_name": None}) is None
    assert party_key({**RIVERA, "responsible_party_name": ""}) is None
    assert statement_name({**RIVERA, "responsible_party_name": None, "first_name": " Eve ",
                           "last_name": "de  la Cruz"}) == "eve de la cruz"


def test_saving_a_client_keeps_its_party(world):
    client = f.ClientFactory(location=world.location, first_name="Ana", last_name="Rivera",
                             responsible_party_name="Dana  Rivera", address_line1="12 Elm St", city="Springfield",
                             state="IL", zip_code="627011234")
    db.session.flush()
    assert (client.statement_party, client.statement_name) == (party_key(RIVERA), "dana rivera")
    client.address_line1 = "99 Oak Ave"
    db.session.flush()
    assert client.statement_party == party_key({**RIVERA, "address_line1": "99 Oak Ave"})
    client.responsible_party_name = None
    db.session.flush()
    db.session.expire(client)
    assert (client.statement_party, client.statement_name) == (None, "ana rivera")


def test_a_core_insert_keeps_the_party_too(world):
    (ident,) = db.session.scalars(insert(Client).returning(Client.id), [{
        **RIVERA, "location_id": world.location.id, "account_number": "CORE-1", "date_of_birth": date(2018, 1, 2),
        "sex": Sex.FEMALE}])
    stored = db.session.execute(select(Client.statement_party, Client.statement_name).where(Client.id == ident))
    assert stored.one() == (party_key(RIVERA), "dana rivera")


def test_ledger_check_names_a_client_changed_behind_the_orms_back(world):
    client = f.ClientFactory(location=world.location, **{k: v for k, v in RIVERA.items() if v is not None})
    db.session.flush()
    assert statement_parties_kept() == []
    db.session.execute(update(Client).where(Client.id == client.id).values(city="Chicago"))
    (violation,) = statement_parties_kept()
    assert (violation.check, violation.subject) == ("statement-party", f"client {client.id}")
    assert "statement-party" in {v.check for v in check_ledger()}
