"""The cyclic garbage collector paused around bulk work on a large fabric.

After ``fabric info`` loads a fabric it freezes it out of the collector's scans, but the
analysis then allocates arrays' worth of lists and dicts (edge tables, per-GPU lists,
routing caches) that are young, tracked and huge: every full collection triggered while
they live walks them all (on a million GPUs, ~0.5 s each, several per run). The metrics,
the edge table, the router and the collective engine make no reference cycles worth
collecting mid-way, so they pause the collector (as the builders do) and leave it as it was.
The builders' own lists and dicts make no cycles either: they pause it with the same function.

The collector's switch is one per process, not per thread, so the pauses are counted: with
several threads inside :func:`gc_paused` at once (Dask's threaded workers building or
analysing fabrics side by side), the collector stays off until the last of them leaves.
A process forked meanwhile (multiprocessing, Dask's process workers) starts with no
pause open: its lock and count are fresh and its collector is back as it was before the
first pause (the blocks open in the parent are not open in the child).
"""

import contextlib
import gc
import os
import threading

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0                 # gc_paused blocks open now, in every thread
_was_enabled = False       # the collector's state when the first of them opened


def _after_fork_in_child():
    """A forked child runs only the forking thread: no pause of the parent is open in it."""
    global _lock, _depth
    if _depth and _was_enabled:
        gc.enable()
    _lock = threading.Lock()
    _depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector inside the block, for the whole process.

    The pause is process-wide (``gc.disable``): it holds in every thread until the last
    ``gc_paused`` block open in any thread has left, however the blocks of the threads
    interleave, and nested blocks in one thread are counted the same way. The first block
    to open remembers whether the collector was enabled, and the last to leave (by an
    exception too) enables it again only if it was; a collector disabled beforehand stays
    disabled.

    Examples
    --------
    >>> import gc
    >>> before = gc.isenabled()
    >>> with gc_paused():
    ...     with gc_paused():
    ...         inner = gc.isenabled()
    ...     outer = gc.isenabled()
    >>> inner, outer, gc.isenabled() == before
    (False, False, True)
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
