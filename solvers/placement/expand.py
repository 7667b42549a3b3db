"""Expansion of a domain-level placement to ranks on GPUs.

A placement is decided per NVLink domain; it has two equivalent forms:
``counts[(s, d)]``, the number of stage-``s`` TP groups in domain ``d`` (what
CP-SAT decides), and ``dom_of[s][j]``, the domain of the TP group of stage
``s`` and data-parallel index ``j``.

From counts to ``dom_of``: stage 0's data-parallel indices fill its slots in
domain (topology) order; each next stage's indices are matched to the
previous stage's positions by hierarchical greedy matching (same domain
first, then same leaf group, pod, site). The pairs co-located in a unit
``g`` can be at most ``min(Z[s, g], Z[s+1, g])``; this matching achieves
that maximum at every level at once.

From ``dom_of`` to GPUs: inside a domain the k-th slot takes the free GPUs
``k*tp..(k+1)*tp-1`` in topology order; ranks follow Megatron order (see
:mod:`solvers.placement.problem`).
"""

from collections import Counter, defaultdict

__all__ = []


def _slot_gpus(problem, d, k):
    """The GPUs of slot ``k`` of domain ``d``: its ``tp`` free GPUs in topology order."""
    tp = problem.job.tp
    return problem.free[d][k * tp:(k + 1) * tp]


def _expand(problem, dom_of):
    """dom_of[s][j] -> domain of TP group (stage s, dp index j); return rank -> GPU list.

    Returns
    -------
    tuple
        ``(ranks, gpus)``: the GPU of every rank, and ``gpus[s][j]`` the GPUs
        of the TP group of stage ``s``, data-parallel index ``j``.
    """
    job = problem.job
    used = defaultdict(int)
    gpus = [[None] * job.dp for _ in range(job.pp)]
    for s in range(job.pp):
        for j in range(job.dp):
            d = dom_of[s][j]
            gpus[s][j] = _slot_gpus(problem, d, used[d])
            used[d] += 1
    ranks = [None] * job.gpus
    for s in range(job.pp):
        for j in range(job.dp):
            base = job.tp * (j + job.dp * s)
            for t, g in enumerate(gpus[s][j]):
                ranks[base + t] = g
    return ranks, gpus


def _dom_of_from_counts(problem, counts):
    """Expand ``counts[(s, d)]`` to ``dom_of[s][j]`` by hierarchical greedy matching."""
    job = problem.job
    S, dp = job.pp, job.dp
    n_lv = len(problem.unit) + 1
    order = range(len(problem.domains))
    dom_of = []
    first = [d for d in order for _ in range(counts.get((0, d), 0))]
    dom_of.append(first)
    for s in range(1, S):
        prev = dom_of[s - 1]
        left = {d: counts.get((s, d), 0) for d in order if counts.get((s, d), 0)}
        cur = [None] * dp
        unmatched = list(range(dp))
        for li in range(n_lv):
            def key(d, li=li):
                return 0 if li >= n_lv - 1 else problem.unit[li][d]
            free_by = defaultdict(list)
            for d, c in left.items():
                if c:
                    free_by[key(d)].append(d)
            rest = []
            for j in unmatched:
                k = key(prev[j])
                ds = free_by.get(k)
                while ds and left[ds[0]] == 0:
                    ds.pop(0)
                if ds:
                    d = ds[0]
                    cur[j] = d
                    left[d] -= 1
                else:
                    rest.append(j)
            unmatched = rest
            if not unmatched:
                break
        dom_of.append(cur)
    return dom_of


def _counts_from_dom_of(dom_of):
    """``counts[(s, d)]`` of a placement given as ``dom_of[s][j]``."""
    c = Counter()
    for s, row in enumerate(dom_of):
        for d in row:
            c[s, d] += 1
    return dict(c)
