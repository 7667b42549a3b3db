"""The cyclic garbage collector paused around bulk work on a large fabric.

After ``fabric info`` loads a fabric it freezes it out of the collector's scans, but the
analysis then allocates arrays' worth of lists and dicts (edge tables, per-GPU lists,
routing caches) that are young, tracked and huge: every full collection triggered while
they live walks them all (on a million GPUs, ~0.5 s each, several per run). The metrics,
the edge table, the router and the collective engine make no reference cycles worth
collecting mid-way, so they pause the collector (as the builders do) and leave it as it was.
The builders' own lists and dicts make no cycles either: they pause it with the same function.
"""

import contextlib
import gc

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector inside the block (as it was afterwards). Nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

