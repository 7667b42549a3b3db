"""Simple placements: the three baselines, and the greedy block fills that hint CP-SAT.

Baselines (costed by the same engine, in the same run)
------------------------------------------------------
* ``first_fit``: TP groups in rank order into the slots in topology order;
* ``best_fit_tree`` (Slurm topology/tree-like): the lowest level unit that
  has enough slots, choosing the one with the fewest free slots (best fit),
  filled in topology order; ``global`` when no unit fits;
* ``random``: slots shuffled with the seed.

Baselines are returned as ``dom_of[s][j]`` (domain of every TP group).

Block fills
-----------
:func:`_block_fill` is the greedy "k-block" fill: every stage only in
domains holding >= ``k`` of its TP groups. It is returned as ``counts[(s, d)]``.
"""

import random

from solvers.placement.problem import _units_at

__all__ = []


def _slot_order_placement(problem, slot_list):
    """Assign TP groups in rank order (dp fastest, then pp) to ``slot_list`` (domains)."""
    job = problem.job
    need = job.pp * job.dp
    doms = slot_list[:need]
    return [[doms[j + job.dp * s] for j in range(job.dp)] for s in range(job.pp)]


def _all_slots(problem, doms=None):
    """One entry per slot: the domain index, for ``doms`` (default all) in topology order."""
    doms = range(len(problem.domains)) if doms is None else doms
    return [d for d in doms for _ in range(problem.slots[d])]


def _baselines(problem, seed):
    """The three baselines (see the module notes): name -> ``dom_of``."""
    job = problem.job
    need = job.pp * job.dp
    out = {"first_fit": _slot_order_placement(problem, _all_slots(problem))}
    # Slurm topology/tree-like best fit: lowest level, fewest free slots that fit.
    n_lv = len(problem.unit) + 1
    chosen = None
    for li in range(n_lv):
        units = _units_at(problem, li)
        fits = [(sum(problem.slots[d] for d in ds), ds) for ds in units.values()]
        fits = [x for x in fits if x[0] >= need]
        if fits:
            chosen = min(fits, key=lambda x: (x[0], x[1][0]))[1]
            break
    out["best_fit_tree"] = _slot_order_placement(problem, _all_slots(problem, chosen))
    sl = _all_slots(problem)
    random.Random(seed).shuffle(sl)
    out["random"] = _slot_order_placement(problem, sl)
    return out


def _block_fill(problem, k):
    """A placement whose every stage uses only domains holding >= ``k`` of its groups.

    Each stage in turn takes the next domains in topology order that have at
    least ``k`` free slots, until they can hold its ``dp`` groups; each gets
    ``k`` groups and the rest fills the first ones up. Returns
    ``counts[(s, d)]``, or ``None`` when the greedy fails. Used as a CP-SAT hint.
    """
    job = problem.job
    left = list(problem.slots)
    counts = {}
    for s in range(job.pp):
        chosen, cap = [], 0
        for d in range(len(left)):
            if cap >= job.dp:
                break
            if left[d] >= k:
                chosen.append(d)
                cap += left[d]
        extra = job.dp - k * len(chosen)
        if cap < job.dp or extra < 0:
            return None
        for d in chosen:
            c = k + min(left[d] - k, extra)
            extra -= c - k
            counts[s, d] = c
            left[d] -= c
    return counts
