"""`earlier_objects_frozen` keeps the collector off the objects alive before a bulk operation and hands them back
after it, however it ends, and leaves alone a process that froze objects itself; the 835 import posts inside it."""

from __future__ import annotations

import gc

import pytest

from billing.core.gc_pause import earlier_objects_frozen
from billing.payments import remittances


def test_objects_alive_before_are_frozen_for_the_block_and_handed_back_after():
    assert gc.get_freeze_count() == 0
    alive = object()
    with earlier_objects_frozen():
        assert gc.get_freeze_count() > 0
        made_inside = [[]]  # tracked by the collector as usual
        assert gc.is_tracked(made_inside)
    assert gc.get_freeze_count() == 0
    assert alive is not None


def test_a_block_that_raises_still_hands_the_objects_back():
    with pytest.raises(RuntimeError), earlier_objects_frozen():
        raise RuntimeError("posting failed")
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_is_left_as_it_was():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with earlier_objects_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # its own freeze still stands
    finally:
        gc.unfreeze()


def test_the_835_import_posts_with_the_earlier_objects_frozen(monkeypatch):
    seen: list[int] = []

    def posting(*args, **kwargs):
        seen.append(gc.get_freeze_count())
        raise RuntimeError("stop here")

    monkeypatch.setattr(remittances, "_import_835", posting)
    with pytest.raises(RuntimeError):
        remittances.import_835(b"ISA", filename="x.835", actor=None)
    assert seen[0] > 0
    assert gc.get_freeze_count() == 0
