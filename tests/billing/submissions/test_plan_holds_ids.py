"""A generation's plan holds claim ids, never a row per claim: at a billing company's million Ready claims a
`Candidate` each (names, amounts, dates) took about a gigabyte before the first batch was built (issue 20)."""

from __future__ import annotations

import gc

import pytest

from billing.core.db import db
from billing.submissions import builds, queries
from billing.submissions.operations import Plan, plan_batches
from billing.submissions.queries import Candidate, Standing
from tests.worlds.bulk_claims import copies_of
from tests.worlds.practice import SYSTEM


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_the_plan_holds_ints_and_nothing_per_claim_is_left_alive(world):
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 4)]
    db.session.commit()
    plan = plan_batches(actor=SYSTEM)
    assert [list(part) for _, part in plan.parts] == [ids[0:2], ids[2:4], ids[4:5]]
    assert all(type(i) is int for _, part in plan.parts for i in part)
    assert all(type(house) is int for house, _ in plan.parts)
    assert (_alive(Candidate), _alive(Standing)) == (0, 0)


def test_no_candidate_is_built_from_the_plan_to_the_last_batch(world, monkeypatch: pytest.MonkeyPatch):
    """`Candidate` (what the New submission page lists of a claim) is the page's: a generation never makes one."""
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    copies_of(original, 2)
    db.session.commit()

    def refused(*_args: object, **_kwargs: object) -> Candidate:
        raise AssertionError("a generation built a Candidate")

    monkeypatch.setattr(queries, "_candidate", refused)
    seen: list[int] = []

    def planned(plan: Plan) -> None:
        seen.append(_alive(Standing))

    done = builds.generate_in_steps(actor=SYSTEM, planned=planned)
    assert (done.claims, len(done.batch_ids), seen) == (3, 2, [0])
