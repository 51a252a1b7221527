"""The local cloud's process: survivors of a full collection are left out of the next ones, and garbage still goes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from infra.local import collector


class Node:
    """An object that can be part of a cycle and be watched."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def freezing() -> Iterator[None]:
    collector.freeze_survivors()
    yield
    gc.callbacks.remove(collector._freeze_after_full)
    gc.unfreeze()


@pytest.mark.usefixtures("freezing")
def test_what_survives_a_full_collection_is_frozen_and_new_cycles_are_still_collected() -> None:
    kept = [Node() for _ in range(1000)]
    frozen = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() >= frozen + len(kept)

    cycle = Node()
    cycle.other = Node()
    cycle.other.other = cycle
    watched = weakref.ref(cycle)
    del cycle
    gc.collect(1)  # a young cycle, made after the freeze, goes as before
    assert watched() is None
