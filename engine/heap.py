"""The garbage collector during a pass: the heap the pass starts with left out of it.

A full collection walks every object the process holds: in an Odoo process, the registry's
(hundreds of thousands), about 160 ms each on 2 cores. A pass allocates enough to trigger one
every few thousand records, each time to find nothing to free among the objects that were
there before it. Frozen (``gc.freeze``), those are skipped; they are collectable again once
the pass ends.
"""

import contextlib
import gc


@contextlib.contextmanager
def frozen_heap():
    if gc.get_freeze_count():  # frozen by whoever called (a pass within a pass, a server)
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
