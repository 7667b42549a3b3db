"""fabric._gc.gc_paused: nesting, threads that interleave, exceptions."""

import gc
import os
import threading

import pytest

from fabric import _gc
from fabric._gc import gc_paused

TIMEOUT_S = 10


@pytest.fixture(params=[True, False], ids=["enabled", "disabled"])
def prior(request):
    """The collector's state before the test (both), restored afterwards."""
    saved = gc.isenabled()
    (gc.enable if request.param else gc.disable)()
    yield request.param
    (gc.enable if saved else gc.disable)()
    assert _gc._depth == 0


def _thread(body):
    """A started thread running ``body``; its exception, if any, in ``errors``."""
    errors = []

    def run():
        try:
            body()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.errors = errors
    t.start()
    return t


def _join(*threads):
    for t in threads:
        t.join(TIMEOUT_S)
        assert not t.is_alive()
        assert not t.errors, t.errors


def test_nested(prior):
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()            # the inner exit leaves the outer pause on
    assert gc.isenabled() is prior


@pytest.mark.parametrize("first_out", ["first_in", "last_in"])
def test_two_threads_interleaved(prior, first_out):
    """A enters, B enters, one leaves: the collector stays off until the other leaves too."""
    a_in, b_in = threading.Event(), threading.Event()
    a_go, b_go = threading.Event(), threading.Event()

    def a():
        with gc_paused():
            a_in.set()
            assert a_go.wait(TIMEOUT_S)

    def b():
        assert a_in.wait(TIMEOUT_S)          # B enters while A is inside
        with gc_paused():
            b_in.set()
            assert b_go.wait(TIMEOUT_S)

    ta, tb = _thread(a), _thread(b)
    assert b_in.wait(TIMEOUT_S)
    assert not gc.isenabled()
    (go, t), (go_last, t_last) = ((a_go, ta), (b_go, tb))[::1 if first_out == "first_in" else -1]
    go.set()
    _join(t)
    assert not gc.isenabled()                # the other thread is still building
    go_last.set()
    _join(t_last)
    assert gc.isenabled() is prior


def test_threads_barrier(prior):
    """Many threads inside at once, leaving one by one: off until the last has left."""
    n = 6
    inside = threading.Barrier(n + 1)
    leave = [threading.Event() for _ in range(n)]
    left = [threading.Event() for _ in range(n)]

    def worker(i):
        with gc_paused():
            inside.wait(TIMEOUT_S)
            assert leave[i].wait(TIMEOUT_S)
        left[i].set()

    threads = [_thread(lambda i=i: worker(i)) for i in range(n)]
    inside.wait(TIMEOUT_S)
    for i in (3, 0, 5, 1, 4):                # all but one leave, out of order
        leave[i].set()
        assert left[i].wait(TIMEOUT_S)
        assert not gc.isenabled()
    leave[2].set()
    _join(*threads)
    assert gc.isenabled() is prior


def test_threads_stress(prior):
    """Threads entering and leaving (nested) in any order end with the collector as it was."""
    n, rounds = 4, 2000
    start = threading.Barrier(n)

    def worker():
        start.wait(TIMEOUT_S)
        for k in range(rounds):
            with gc_paused():
                assert not gc.isenabled()
                if k % 3 == 0:
                    with gc_paused():
                        assert not gc.isenabled()

    _join(*[_thread(worker) for _ in range(n)])
    assert gc.isenabled() is prior


def test_exception_restores(prior):
    with pytest.raises(ZeroDivisionError):
        with gc_paused():
            1 / 0
    assert gc.isenabled() is prior
    with gc_paused():
        with pytest.raises(KeyError):
            with gc_paused():
                raise KeyError("x")
        assert not gc.isenabled()            # the outer pause survives the inner exception
    assert gc.isenabled() is prior


def test_exception_in_other_thread(prior):
    """A thread that fails inside its block ends its pause, not another thread's."""
    b_in, b_go = threading.Event(), threading.Event()
    failed = []

    def b():
        with gc_paused():
            b_in.set()
            assert b_go.wait(TIMEOUT_S)

    def a():
        try:
            with gc_paused():
                raise RuntimeError("build failed")
        except RuntimeError as e:
            failed.append(e)

    tb = _thread(b)
    assert b_in.wait(TIMEOUT_S)
    _join(_thread(a))
    assert failed and not gc.isenabled()
    b_go.set()
    _join(tb)
    assert gc.isenabled() is prior


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_no_pause_open():
    """Forked while another thread holds a pause: the child's collector is back on, and a
    pause in the child opens and closes normally (no inherited count, no held lock)."""
    import gc

    inside, leave = threading.Event(), threading.Event()

    def hold():
        with gc_paused():
            inside.set()
            leave.wait()

    gc.enable()
    t = threading.Thread(target=hold)
    t.start()
    inside.wait()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child
        try:
            ok = gc.isenabled()
            with gc_paused():
                ok = ok and not gc.isenabled()
            ok = ok and gc.isenabled()
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    leave.set()
    t.join()
    assert got == b"1"
    assert gc.isenabled()
