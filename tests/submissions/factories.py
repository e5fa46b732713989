"""Factories and a small submission world: an insured client with an address, a payer on a clearinghouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import factory

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.money import sum_money, to_money
from billing.submissions.models import Clearinghouse
from tests import factories as f
from tests.billing.claims.world import RATE, SYSTEM, World, build_world


class ClearinghouseFactory(f.Base):
    class Meta:
        model = Clearinghouse

    name = factory.Sequence(lambda n: f"Clearinghouse {n}")
    isa_sender_qualifier = "ZZ"
    isa_sender_id = "CLAIMDESK"
    isa_receiver_qualifier = "ZZ"
    isa_receiver_id = "OFFALLY"
    gs_sender_code = "CLAIMDESK"
    gs_receiver_code = "OFFALLY"
    submitter_name = "Test Therapy Group"
    submitter_etin = "ETIN0001"
    submitter_contact_name = "Ann Biller"
    submitter_contact_phone = "2175550100"
    receiver_name = "Office Ally"
    receiver_id = "330897513"
    usage_indicator = "T"
    sftp_host = "127.0.0.1"
    sftp_port = 22
    sftp_username = "claimdesk"
    sftp_password = "s3cret-password"
    # Some server's key; tests that talk to the loopback server store that server's key instead.
    sftp_host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5ScX3+fdaUsBPBnHHAs70QrUJojoHJ8rEy9FZuuIXg"
    inbound_folder = "inbound"
    outbound_folder = "outbound"


@dataclass
class SubmissionWorld:
    base: World
    clearinghouse: Clearinghouse

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def ready_claim(self, **visit_fields: Any) -> Claim:
        """A Ready claim from one finalized session."""
        return self.base.claim(**visit_fields)


def give_address(record: Any, line1: str = "12 Elm St", zip_code: str = "62704") -> None:
    record.address_line1, record.city, record.state, record.zip_code = line1, "Springfield", "IL", zip_code


def build_submission_world(**clearinghouse_fields: Any) -> SubmissionWorld:
    base = build_world()
    give_address(base.client)
    house = ClearinghouseFactory(**clearinghouse_fields)
    base.payer.clearinghouse = house
    base.payer.clearinghouse_payer_id = "KEYINS01"
    return SubmissionWorld(base, house)





def bulk_ready_claims(world: World, count: int, *, lines_per_claim: int = 1) -> list[int]:
    """`count` Ready claims for the world's client, added straight to the session (fast enough for 10,000)."""
    claims = []
    for i in range(count):
        day = date(2026, 1, 5) + timedelta(days=i % 150)
        lines = [
            ClaimLine(line_number=n, service_code_id=world.code.id, modifiers="HN" if n % 2 else "", service_date=day,
                      minutes=60, units=4, rate=RATE, charge=to_money(RATE * 4), place_of_service="11",
                      diagnosis_pointers="1:2")
            for n in range(1, lines_per_claim + 1)
        ]  # fmt: skip
        claims.append(Claim(
            status=ClaimStatus.READY, client_id=world.client.id, policy_id=world.policy.id, payer_id=world.payer.id,
            rendering_provider_id=world.provider.id, location_id=world.location.id, service_date=day,
            place_of_service="11", total_charge=sum_money(ln.charge for ln in lines), lines=lines,
            diagnoses=[ClaimDiagnosis(position=1, code="F840"), ClaimDiagnosis(position=2, code="F900")],
        ))  # fmt: skip
    db.session.add_all(claims)
    db.session.flush()
    return [c.id for c in claims]


__all__ = ["SYSTEM", "ClearinghouseFactory", "SubmissionWorld", "build_submission_world", "bulk_ready_claims",
           "give_address"]
