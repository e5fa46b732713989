"""Keeping the garbage collector off the objects that were alive before a long bulk operation started."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def earlier_objects_frozen() -> Iterator[None]:
    """Move every object alive now out of the collector's reach until the block ends (`gc.freeze`).

    Python's full collections walk every tracked object of the process: the app, SQLAlchemy's mappers, the loaded
    modules. Importing an 835 allocates hundreds of thousands of objects and so sets off several of them; on a
    10,000-claim file they took 0.85 of the 5.7 CPU seconds of posting. The objects that existed before the import
    are not its garbage, so they are frozen for its length and handed back to the collector (`gc.unfreeze`) at the
    end, whatever happens. When something else has frozen objects already (a pre-fork server may), nothing is done:
    unfreezing would undo its freeze, and leaving ours frozen would keep the garbage of later work forever.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
