"""The practice ready to send 837Ps: the client has an address, the payer sits on a clearinghouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.claims.models import Claim
from billing.submissions.models import Clearinghouse
from tests.worlds.factories import ClearinghouseFactory
from tests.worlds.practice import World, build_world


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
