"""`collector_for_bulk_work` keeps the collector off the objects alive before a bulk operation and collects less often
during it, undoes both after it however it ends, and leaves alone a process that froze objects itself; the 835
import posts inside it."""

from __future__ import annotations

import gc

import pytest

from billing.core.gc_pause import BULK_YOUNG_THRESHOLD, collector_for_bulk_work
from billing.payments import remittances


def test_objects_alive_before_are_frozen_for_the_block_and_handed_back_after():
    assert gc.get_freeze_count() == 0
    threshold = gc.get_threshold()
    alive = object()
    with collector_for_bulk_work():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (max(threshold[0], BULK_YOUNG_THRESHOLD), *threshold[1:])
        made_inside = [[]]  # tracked by the collector as usual
        assert gc.is_tracked(made_inside)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
    assert alive is not None


def test_a_block_that_raises_still_hands_the_objects_back():
    threshold = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_for_bulk_work():
        raise RuntimeError("posting failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_a_process_that_froze_objects_itself_is_left_as_it_was():
    gc.freeze()
    try:
        frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
        with collector_for_bulk_work():
            assert gc.get_freeze_count() == frozen
            assert gc.get_threshold() == threshold
        assert gc.get_freeze_count() == frozen  # its own freeze still stands
    finally:
        gc.unfreeze()


def test_the_835_import_posts_with_the_collector_for_bulk_work(monkeypatch):
    seen: list[tuple[int, int]] = []

    def posting(*args, **kwargs):
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))
        raise RuntimeError("stop here")

    monkeypatch.setattr(remittances, "_import_835", posting)
    with pytest.raises(RuntimeError):
        remittances.import_835(b"ISA", filename="x.835", actor=None)
    assert seen[0][0] > 0
    assert seen[0][1] >= BULK_YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
