"""Costs of a placement: the engine objective, the proxy's calibration tables, the proxy.

Objective
---------
The job's communication time per step, ``objective_us = t_tp + t_pp + t_dp
+ t_ep``, where communicators of one type run concurrently (the slowest
group sets the time) and the types run one after the other:

* ``t_tp``: the TP allreduce (max over the GPU types hosting TP groups);
* ``t_pp``: the sum over the ``pp - 1`` stage boundaries of the slowest PP
  pair's send/recv;
* ``t_dp``: the slowest DP group's allreduce (or reduce-scatter + allgather);
* ``t_ep``: the slowest EP group's all-to-all.

Every time comes from :class:`solvers.collectives.CollectiveModel` on the
real ranks. To stay within budget at 16k ranks, groups are evaluated once
per distinct **locality pattern** (documented in :func:`evaluate_assignment`):
one TP group per GPU type, one PP pair per locality level per boundary, one
DP group (``tp_idx`` 0) per stage, one EP group per distinct domain-count
signature. Each group is costed alone: contention *between* concurrent
groups of one type is not modelled.

Calibration of the proxy
------------------------
What the engine's DP time depends on: NCCL's ring and tree run ``min(k, 32)``
channels across NVLink domains, ``k`` being the fewest ranks of the group in
one of its domains, so the time is ~``1/k`` (on a 100k-GPU fairwater, 5.5 GB
of DP allreduce over 256 ranks: 115 ms at k = 1, 58 ms at 2, 17 ms at 7), and
barely depends on how many leaf groups it spans on a full-bisection fabric.
The proxy therefore prices a stage's DP group by a table ``t_dp[l][k]``: the
engine time of a representative group confined to one unit of level ``l``
(spread round-robin over its sub-units) with exactly ``k`` ranks in its
smallest domain, calibrated at k = 1..8, 12, 16, ... (``_K_STEPS``; between
steps the smaller k's time), made non-decreasing in ``l`` and non-increasing
in ``k``. A PP boundary costs ``t_pp[l]`` of the smallest level ``l`` at
which *every* pair of the boundary is local.

The proxy in Python (:func:`_proxy_cost`) is the objective of the CP-SAT
model (:mod:`solvers.placement.cpsat`) without the constant TP term; the EP
term is not in the proxy (it is evaluated on the result).
"""

from collections import Counter, defaultdict
from typing import NamedTuple

from solvers.placement.expand import _expand, _slot_gpus
from solvers.placement.problem import _level_names, _level_of, _units_at
from solvers.routing import Router

__all__ = ["Evaluation", "evaluate_assignment"]


class _Coster:
    """Engine evaluation of groups, with a cache keyed by rank tuples.

    Every group gets its own :class:`solvers.collectives.CollectiveModel` on
    one shared router, so the parts that depend on the fabric only (usable
    arc rates, SHARP support, cached on the router) are computed once: on a
    100k-GPU fabric they are ~90% of a model's construction time.
    """

    def __init__(self, problem):
        from solvers.collectives import CollectiveModel

        self.p = problem
        self.router = problem.router or Router(problem.G)
        self.cache = {}
        self.calls = 0
        self.CollectiveModel = CollectiveModel

    def time(self, op, ranks, size):
        """Engine time (us) of collective ``op`` of ``size`` bytes on ``ranks`` (0 if trivial)."""
        if size <= 0 or len(ranks) < 2:
            return 0.0
        key = (op, tuple(ranks), size)
        t = self.cache.get(key)
        if t is None:
            m = self.CollectiveModel(self.p.G, ranks=list(ranks), catalog=self.p.catalog,
                                     router=self.router)
            t = m.evaluate(op, int(size)).time_us
            self.cache[key] = t
            self.calls += 1
        return t

    def dp_time(self, ranks):
        """Engine time (us) of the DP step on ``ranks`` (allreduce, or ZeRO's two halves)."""
        tr = self.p.traffic
        if tr.dp_op == "zero":
            return (self.time("reducescatter", ranks, tr.dp_bytes)
                    + self.time("allgather", ranks, tr.dp_bytes))
        return self.time("allreduce", ranks, tr.dp_bytes)


class Evaluation(NamedTuple):
    """Engine cost of one placement (an immutable, named tuple of plain values).

    Attributes
    ----------
    objective_us : float
        Communication time per step (the sum of ``breakdown_us``).
    breakdown_us : dict
        ``tp``, ``pp``, ``dp``, ``ep`` parts of ``objective_us``.
    ranks : list of str
        The GPU of every rank (Megatron order).
    gpus : list of list of list of str
        ``gpus[s][j]``: the GPUs of the TP group of stage ``s``, data-parallel index ``j``.
    """

    objective_us: float
    breakdown_us: dict
    ranks: list
    gpus: list


def evaluate_assignment(problem, dom_of, coster=None):
    """Engine objective of a placement given as ``dom_of[stage][dp_idx] -> domain index``.

    Representatives (the documented approximation): TP: one group per GPU
    part; PP: per boundary, one pair per locality level present (``tp_idx``
    0); DP: every stage's ``tp_idx`` 0 group; EP: one group per distinct
    (sorted domain counts, level spanned) signature of each stage.

    Parameters
    ----------
    problem : PlacementProblem
    dom_of : list of list of int
        Domain index of every TP group, per stage.
    coster : optional
        The engine cache to reuse (one is made when not given).

    Returns
    -------
    Evaluation
        ``(objective_us, breakdown_us, ranks, gpus)``, a named tuple.
    """
    job, tr = problem.job, problem.traffic
    coster = coster or _Coster(problem)
    ranks, gpus = _expand(problem, dom_of)
    # TP
    t_tp = 0.0
    if job.tp > 1 and tr.tp_bytes > 0:
        seen = {}
        for s in range(job.pp):
            for j in range(job.dp):
                seen.setdefault(problem.part[dom_of[s][j]], gpus[s][j])
        t_tp = max(coster.time("allreduce", g, tr.tp_bytes) for g in seen.values())
    # PP
    t_pp = 0.0
    if job.pp > 1 and tr.pp_bytes > 0:
        for s in range(job.pp - 1):
            reps = {}
            for j in range(job.dp):
                lv = _level_of(problem, dom_of[s][j], dom_of[s + 1][j])
                reps.setdefault(lv, (gpus[s][j][0], gpus[s + 1][j][0]))
            t_pp += max(coster.time("sendrecv", r, tr.pp_bytes) for r in reps.values())
    # DP
    t_dp = 0.0
    if job.dp > 1 and tr.dp_bytes > 0:
        t_dp = max(coster.dp_time([gpus[s][j][0] for j in range(job.dp)]) for s in range(job.pp))
    # EP
    t_ep = 0.0
    if job.ep > 1 and tr.ep_bytes > 0:
        reps = {}
        for s in range(job.pp):
            for c in range(0, job.dp, job.ep):
                ds = [dom_of[s][j] for j in range(c, c + job.ep)]
                lv = max(_level_of(problem, ds[0], x) for x in ds)
                sig = (tuple(sorted(Counter(ds).values())), lv)
                reps.setdefault(sig, [gpus[s][j][0] for j in range(c, c + job.ep)])
        t_ep = max(coster.time("alltoall", r, tr.ep_bytes) for r in reps.values())
    parts = {"tp": t_tp, "pp": t_pp, "dp": t_dp, "ep": t_ep}
    return Evaluation(float(sum(parts.values())), parts, ranks, gpus)


def _pattern(problem, dom_of):
    """Locality summary of a placement: what the engine objective depends on.

    ``dp_domains`` / ``dp_kmin`` / ``dp_level``: per stage, the NVLink
    domains its DP group spans, the fewest of its ranks in one of them, and
    the level name holding it; ``pp_level``: per boundary, the level of its
    least local pair.
    """
    names = _level_names(problem)
    n_lv = len(problem.unit) + 1

    def level(ds):
        for li in range(n_lv - 1):
            if len({problem.unit[li][d] for d in ds}) == 1:
                return li
        return n_lv - 1

    out = {"dp_domains": [], "dp_kmin": [], "dp_level": [], "pp_level": []}
    for row in dom_of:
        c = Counter(row)
        out["dp_domains"].append(len(c))
        out["dp_kmin"].append(min(c.values()))
        out["dp_level"].append(names[level(set(c))])
    for a, b in zip(dom_of[:-1], dom_of[1:]):
        out["pp_level"].append(names[max(_level_of(problem, x, y) for x, y in zip(a, b))])
    return out


# ----------------------------------------------------------------------------- calibration
_K_STEPS = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64)
"""Ranks-per-domain values ``k`` at which the DP table is calibrated (more than 64: as 64)."""


def _kmax(problem):
    """Largest ranks-per-domain value the DP table distinguishes."""
    return max(1, min(problem.job.dp, max(problem.slots), _K_STEPS[-1]))


def _spread_slots(problem, li, doms, n):
    """Pick ``n`` slots of domains ``doms`` spread round-robin over their level li-1 units."""
    if li == 0:
        d = doms[0]
        return [(d, k) for k in range(n)] if problem.slots[d] >= n else None
    child = defaultdict(list)
    for d in doms:
        child[problem.unit[li - 1][d]].append(d)
    queues = []
    for ds in sorted(child.values(), key=lambda ds: -sum(problem.slots[d] for d in ds)):
        queues.append([(d, k) for d in ds for k in range(problem.slots[d])])
    out = []
    i = 0
    while len(out) < n and any(queues):
        q = queues[i % len(queues)]
        if q:
            out.append(q.pop(0))
        i += 1
    return out if len(out) == n else None


def _dp_rep(problem, li, k):
    """Slots of a representative DP group for level ``li`` and ``k`` ranks per domain.

    ``li == 0``: the whole group in one domain. Otherwise the group lies in one
    unit of level ``li``, spread round-robin over at least two of its level
    ``li - 1`` units, ``k`` slots in every domain it uses (the remainder of
    ``dp / k`` on top of the first ones), so its smallest domain holds exactly
    ``k``. ``None`` when no unit allows it.
    """
    dp = problem.job.dp
    slots = problem.slots
    if li == 0:
        doms = [d for d in range(len(problem.domains)) if slots[d] >= dp]
        return [(doms[0], i) for i in range(dp)] if doms else None
    nb, rem0 = divmod(dp, k)
    if nb < 2:
        return None
    cands = []
    for ds in _units_at(problem, li).values():
        child = defaultdict(list)
        for d in ds:
            if slots[d] >= k:
                child[problem.unit[li - 1][d]].append(d)
        if len(child) >= 2 and sum(len(v) for v in child.values()) >= nb:
            cands.append((-sum(slots[d] for v in child.values() for d in v), min(ds), child))
    for _, _, child in sorted(cands, key=lambda c: c[:2]):
        queues = [list(v) for v in sorted(child.values(), key=lambda v: (-len(v), v[0]))]
        order = []
        while len(order) < nb:
            for q in queues:
                if q and len(order) < nb:
                    order.append(q.pop(0))
        take = dict.fromkeys(order, k)
        rem = rem0
        for d in order:
            extra = min(rem, slots[d] - k)
            take[d] += extra
            rem -= extra
        if rem == 0:
            return [(d, i) for d in order for i in range(take[d])]
    return None


def _calibrate(problem, coster):
    """Engine time tables of the proxy (see the module notes).

    Returns
    -------
    tuple
        ``(t_dp, t_pp)``: ``t_dp[l][k]`` is the engine time (us) of a DP
        group confined to a unit of level ``l`` whose smallest domain holds
        ``k`` of its ranks (``k = 1..K``, index 0 repeats ``k = 1``),
        non-decreasing in ``l`` and non-increasing in ``k``; ``t_pp[l]`` the
        time of a PP pair local at level ``l``, non-decreasing.
    """
    job, tr = problem.job, problem.traffic
    n_lv = len(problem.unit) + 1                     # domain, levels..., global
    kmax = _kmax(problem)
    t_pp = [None] * n_lv
    if job.pp > 1 and tr.pp_bytes > 0:
        for li in range(n_lv):
            units = _units_at(problem, li)
            if li == 0:
                best = [ds for ds in units.values() if problem.slots[ds[0]] >= 2]
                best.sort(key=lambda ds: -problem.slots[ds[0]])
            else:
                best = [ds for ds in units.values()
                        if len({problem.unit[li - 1][d] for d in ds}) >= 2]
                best.sort(key=lambda ds: -sum(problem.slots[d] for d in ds))
            if not best:
                continue
            sl = _spread_slots(problem, li, best[0], 2)
            if sl is not None:
                a, b = (_slot_gpus(problem, d, k)[0] for d, k in sl)
                t_pp[li] = coster.time("sendrecv", [a, b], tr.pp_bytes)
        top = max((x for x in t_pp if x is not None), default=0.0)
        for li in range(n_lv - 1, -1, -1):
            if t_pp[li] is None:
                t_pp[li] = t_pp[li + 1] if li + 1 < n_lv else top
            if li + 1 < n_lv:
                t_pp[li] = min(t_pp[li], t_pp[li + 1])
    else:
        t_pp = [0.0] * n_lv
    if job.dp <= 1 or tr.dp_bytes <= 0:
        return [[0.0] * (kmax + 1) for _ in range(n_lv)], t_pp
    ks = sorted({k for k in _K_STEPS if k <= kmax} | {kmax})
    t_dp = [[None] * (kmax + 1) for _ in range(n_lv)]
    for li in range(n_lv):
        for k in ([kmax] if li == 0 else ks):
            sl = _dp_rep(problem, li, k)
            if sl is not None:
                t = coster.dp_time([_slot_gpus(problem, d, i)[0] for d, i in sl])
                if li == 0:
                    t_dp[0][1:] = [t] * kmax     # one domain: the same group for every k
                else:
                    t_dp[li][k] = t
    # k not calibrated: the value of the next smaller calibrated k (a lower k costs more).
    for row in t_dp:
        for k in range(2, kmax + 1):
            if row[k] is None:
                row[k] = row[k - 1]
    # levels without a representative: the level above; none at all: the worst known time.
    known = [x for row in t_dp for x in row if x is not None]
    worst = max(known, default=0.0)
    for li in range(n_lv - 1, -1, -1):
        for k in range(1, kmax + 1):
            if t_dp[li][k] is None:
                t_dp[li][k] = t_dp[li + 1][k] if li + 1 < n_lv else worst
            if li + 1 < n_lv:
                t_dp[li][k] = min(t_dp[li][k], t_dp[li + 1][k])
    for row in t_dp:
        for k in range(2, kmax + 1):
            row[k] = min(row[k], row[k - 1])
        row[0] = row[1]
    return t_dp, t_pp


# ----------------------------------------------------------------------------- proxy
def _proxy_cost(problem, counts, t_dp, t_pp):
    """The proxy objective (us, without the TP constant) of ``counts[(s, d)]`` computed in Python."""
    job = problem.job
    S, dp = job.pp, job.dp
    n_lv = len(problem.unit) + 1
    kmax = len(t_dp[0]) - 1
    by_stage = defaultdict(dict)
    for (s, d), c in counts.items():
        if c:
            by_stage[s][d] = c

    def totals(s, li):
        out = Counter()
        for d, c in by_stage[s].items():
            out[0 if li >= n_lv - 1 else problem.unit[li][d]] += c
        return out

    cost = 0.0
    if dp > 1 and t_dp[-1][1] > 0:
        worst = 0.0
        for s in range(S):
            lv = next(li for li in range(n_lv) if len(totals(s, li)) == 1)
            k = min(min(by_stage[s].values()), kmax)
            worst = max(worst, t_dp[lv][k])
        cost += worst
    if S > 1 and t_pp[-1] > 0:
        for b in range(S - 1):
            for li in range(n_lv):
                a, c = totals(b, li), totals(b + 1, li)
                if li == n_lv - 1 or sum(min(a[g], c[g]) for g in a) >= dp:
                    cost += t_pp[li]
                    break
    return cost
