"""Job placement with CP-SAT: where a job's ranks go so that its communication is fastest.

The problem (data -> model -> solve -> frozen result)
-----------------------------------------------------
A job has ``gpus = tp x pp x dp`` ranks. Ranks are numbered like Megatron-LM's
default order (tp fastest, then dp, then pp)::

    rank = tp_idx + tp * (dp_idx + dp * pp_idx)

* a **TP group** (same ``pp_idx``, ``dp_idx``) must sit inside one NVLink
  domain; it runs one allreduce of ``tp_bytes`` per step;
* a **PP pair** (same ``tp_idx``, ``dp_idx``; stages ``s`` and ``s+1``)
  exchanges ``pp_bytes`` per step (send/recv);
* a **DP group** (same ``tp_idx``, ``pp_idx``) runs one allreduce of
  ``dp_bytes`` (or, with ``dp_op="zero"``, a reduce-scatter and an allgather);
* an **EP group** (``ep`` consecutive ``dp_idx`` of one DP group) runs one
  all-to-all of ``ep_bytes``.

The cluster is the fabric plus a set of busy GPUs. Placement decides at the
granularity of NVLink domains, never per GPU: a domain with ``f`` free GPUs
offers ``floor(f / tp)`` **slots** (one TP group each), and the decision is

    z[s, d] = number of stage-``s`` TP groups placed in domain ``d``.

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

CP-SAT proxy
------------
Inside CP-SAT the objective is a linear proxy built from the same engine:
the fabric is described by nested **locality levels** (``domain``;
``leafgroup`` = domains whose NICs reach the same set of leaf switches, a
scalable unit; ``pod`` on 3-tier fabrics; ``site``; above the last level,
``global``).

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
in ``k``. In the model, ``kmin[s]`` is at most every used domain's count and
``t_dp >= t_dp[l][kmin[s]]`` (an element constraint) for every level ``l``
that stage ``s`` is not inside. A PP boundary costs ``t_pp`` of the smallest
level at which *every* pair of the boundary is local. The pairs co-located in
a unit ``g`` can be at most ``min(Z[s, g], Z[s+1, g])``; the expansion below
achieves that maximum at every level at once (hierarchical greedy matching),
so the proxy is exact for the placements it describes, up to the
representative approximation. Times enter CP-SAT as integers: ns (``SCALE =
1000`` per us). Two families of redundant cuts tighten CP-SAT's
bound: at most ``cap_k // dp`` stages can hold >= ``k`` groups in each of
their domains, ``cap_k`` being the slots of the domains with >= ``k`` slots;
and a domain with fewer than ``2k`` slots holds no PP pair of two adjacent
stages that both have ``kmin >= k``. The EP term is not in the proxy (it is
evaluated on the result). CP-SAT is hinted with the best (by proxy) of the baselines and of
greedy "k-block" fills (every stage only in domains holding >= k of it).

``bound_us`` is CP-SAT's best objective bound of the proxy, mapped back to
us (divided by ``SCALE``) plus the constant TP term; ``gap`` is
``(proxy objective - bound) / proxy objective``. Both refer to the proxy;
``objective_us`` is the engine re-evaluation of the chosen placement, and
``proxy_us`` is reported next to it.

Expansion to GPUs
-----------------
Stage 0's data-parallel indices fill its slots in domain (topology) order;
each next stage's indices are matched to the previous stage's positions by
hierarchical greedy matching (same domain first, then same leaf group, pod,
site). Inside a domain the k-th slot takes the free GPUs ``k*tp..(k+1)*tp-1``
in topology order.

Baselines (same engine, same run)
---------------------------------
* ``first_fit``: TP groups in rank order into the slots in topology order;
* ``best_fit_tree`` (Slurm topology/tree-like): the lowest level unit that
  has enough slots, choosing the one with the fewest free slots (best fit),
  filled in topology order; ``global`` when no unit fits;
* ``random``: slots shuffled with the seed.

Traffic from a model size (:func:`job_traffic`)
------------------------------------------------
With ``N`` parameters, hidden size ``h = (128 N / 12)^(1/3)`` and ``L = h /
128`` layers (so ``12 L h^2 = N``), ``T`` tokens per micro-batch (``seq x
micro_batch``), ``m`` micro-batches per step, 2-byte (bf16) values:

* ``dp_bytes = 2 N / (tp pp)`` (gradients of one rank's shard);
* ``tp_bytes = 4 (L / pp) m T h 2`` (2 forward + 2 backward allreduces per
  layer; one call of the summed size);
* ``pp_bytes = 2 m T h 2 / tp`` (activations forward, gradients backward;
  each TP rank sends its 1/tp share);
* ``ep_bytes = 4 (L / pp) m T h 2 / tp`` when ``ep > 1`` (dispatch and
  combine, forward and backward).

Multi-job
---------
:func:`place_queue` places jobs in order, marking each placement busy, and
reports after each job the cluster ``utilization`` (busy GPUs / GPUs) and
``fragmentation``: the share of free GPUs that cannot belong to any TP
group of ``tp_ref`` GPUs (default 8), i.e. the free GPUs beyond the last
whole group of ``tp_ref`` in their NVLink domain.
"""

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from fabric.io import read_json_input
from fabric.exceptions import (FabricError, InfeasibleError, ParameterError,
                               SolverTimeoutError)
from fabric.metrics import gpu_nodes
from fabric.routing import Router
from fabric.schema import NETWORK_MEDIA

__all__ = [
    "Job",
    "Traffic",
    "PlacementProblem",
    "PlacementResult",
    "job_traffic",
    "load_busy_file",
    "random_busy",
    "placement_problem",
    "build_placement_model",
    "solve_placement",
    "evaluate_assignment",
    "place_job",
    "place_queue",
    "load_jobs_file",
    "fragmentation",
    "SCALE",
]

SCALE = 1000
"""Integer units per microsecond in the CP-SAT model (ns)."""

_GLOBAL = "global"


@dataclass(frozen=True)
class Job:
    """A job's parallel layout.

    Attributes
    ----------
    tp, pp, dp, ep : int
        Tensor-, pipeline-, data- and expert-parallel degrees (``ep`` divides ``dp``).
    """

    tp: int
    pp: int
    dp: int
    ep: int = 1

    @property
    def gpus(self):
        """Number of ranks, ``tp * pp * dp``."""
        return self.tp * self.pp * self.dp


@dataclass(frozen=True)
class Traffic:
    """Bytes per step of each communicator (see the module notes).

    Attributes
    ----------
    tp_bytes, pp_bytes, dp_bytes, ep_bytes : int
        Allreduce size of a TP group, send/recv size of a PP pair, allreduce
        size of a DP group, all-to-all size of an EP group.
    dp_op : str
        ``"allreduce"`` or ``"zero"`` (reduce-scatter then allgather).
    """

    tp_bytes: int = 0
    pp_bytes: int = 0
    dp_bytes: int = 0
    ep_bytes: int = 0
    dp_op: str = "allreduce"


@dataclass(frozen=True)
class PlacementResult:
    """A placement and its costs (plain values only).

    Attributes
    ----------
    status : str
        ``"OPTIMAL"`` or ``"FEASIBLE"`` (time limit reached with a placement).
    assignment : dict
        Rank -> GPU name (ranks in Megatron order, see the module notes).
    objective_us : float
        Communication time per step from the collective engine.
    breakdown_us : dict
        ``tp``, ``pp``, ``dp``, ``ep`` parts of ``objective_us``.
    proxy_us, bound_us, gap : float
        The CP-SAT proxy objective, its proven lower bound and the relative gap.
    solve_s : float
        Wall time of the CP-SAT solve; ``total_s`` includes calibration and evaluation.
    baselines : dict
        Name -> ``{"objective_us", "proxy_us", "breakdown_us"}`` or ``{"error"}``.
    domains_used : int
        NVLink domains hosting the job.
    levels : list of str
        The locality levels used by the proxy.
    job : dict
        Layout and bytes per step of the job.
    pattern : dict
        Locality of the placement (see ``_pattern``): per stage ``dp_domains``,
        ``dp_kmin`` (fewest ranks of the DP group in one domain), ``dp_level``;
        per boundary ``pp_level``.
    calibration : dict
        The proxy's engine tables: ``t_dp_us[l][k-1]``, ``t_pp_us[l]``, and
        ``engine_calls`` (distinct groups costed by the engine).
    """

    status: str
    assignment: dict
    objective_us: float
    breakdown_us: dict
    proxy_us: float
    bound_us: float
    gap: float
    solve_s: float
    total_s: float
    baselines: dict
    domains_used: int
    levels: list
    job: dict = field(default_factory=dict)
    pattern: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)

    def to_dict(self):
        """Plain JSON-ready dict (assignment keys are strings)."""
        return {"status": self.status, "objective_us": self.objective_us,
                "breakdown_us": dict(self.breakdown_us), "proxy_us": self.proxy_us,
                "bound_us": self.bound_us, "gap": self.gap, "solve_s": self.solve_s,
                "total_s": self.total_s, "domains_used": self.domains_used,
                "levels": list(self.levels), "job": dict(self.job),
                "baselines": self.baselines, "pattern": dict(self.pattern),
                "calibration": dict(self.calibration),
                "assignment": {str(k): v for k, v in self.assignment.items()}}


# ----------------------------------------------------------------------------- data
def job_traffic(tp, pp, dp, *, ep=1, model_params=None, seq_len=4096, micro_batch=1,
                microbatches=8, tp_bytes=None, pp_bytes=None, dp_bytes=None, ep_bytes=None,
                dp_op="allreduce"):
    """Bytes per step of each communicator: given, or derived from a model size.

    Explicit byte counts win over the ones derived from ``model_params``
    (formulas in the module notes); with neither, a term is 0.

    Parameters
    ----------
    tp, pp, dp, ep
        Parallel degrees.
    model_params
        Number of model parameters.
    seq_len, micro_batch, microbatches
        Tokens per micro-batch are ``seq_len * micro_batch``; ``microbatches`` per step.
    tp_bytes, pp_bytes, dp_bytes, ep_bytes
        Explicit sizes in bytes.
    dp_op
        ``"allreduce"`` or ``"zero"``.

    Returns
    -------
    Traffic

    Raises
    ------
    ParameterError
        Negative sizes, a non-positive model size or an unknown ``dp_op``.

    Examples
    --------
    >>> t = job_traffic(8, 4, 16, model_params=70e9)
    >>> t.dp_bytes == int(2 * 70e9 / 32), t.tp_bytes > t.pp_bytes > 0
    (True, True)
    """
    if dp_op not in ("allreduce", "zero"):
        msg = f"`dp_op` must be allreduce or zero, got {dp_op!r}"
        raise ParameterError(msg)
    derived = {"tp": 0, "pp": 0, "dp": 0, "ep": 0}
    if model_params is not None:
        if model_params <= 0:
            msg = f"`model_params` must be > 0, got {model_params}"
            raise ParameterError(msg)
        h = (128.0 * model_params / 12.0) ** (1.0 / 3.0)
        layers = max(h / 128.0, 1.0)
        tokens = seq_len * micro_batch
        act = microbatches * tokens * h * 2.0
        derived = {"dp": 2.0 * model_params / (tp * pp),
                   "tp": 4.0 * layers / pp * act if tp > 1 else 0.0,
                   "pp": 2.0 * act / tp if pp > 1 else 0.0,
                   "ep": 4.0 * layers / pp * act / tp if ep > 1 else 0.0}
    given = {"tp": tp_bytes, "pp": pp_bytes, "dp": dp_bytes, "ep": ep_bytes}
    out = {}
    for k in derived:
        v = given[k] if given[k] is not None else derived[k]
        if v < 0:
            msg = f"`{k}_bytes` must be >= 0, got {v}"
            raise ParameterError(msg)
        out[k] = int(v)
    return Traffic(tp_bytes=out["tp"], pp_bytes=out["pp"], dp_bytes=out["dp"],
                   ep_bytes=out["ep"], dp_op=dp_op)


def load_busy_file(path, G):
    """Busy GPUs from a JSON file: a list of GPU names or ``{"busy": [...]}``.

    Raises
    ------
    ParameterError
        Unreadable or malformed file, or a name that is not a GPU of ``G``.

    Examples
    --------
    >>> import json, tempfile, topologies
    >>> G = topologies.dgx_h100_graph()
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump({"busy": ["d0-gpu0"]}, f)
    >>> sorted(load_busy_file(f.name, G))
    ['d0-gpu0']
    """
    data = read_json_input(path, option="--busy", fix='write ["gpu", ...] or {"busy": [...]}')
    if isinstance(data, dict):
        data = data.get("busy")
    if not isinstance(data, list):
        msg = f'busy file `{path}` must hold a list of GPU names or {{"busy": [...]}}'
        raise ParameterError(msg)
    kinds = G.nodes
    bad = [g for g in data if not isinstance(g, str) or g not in kinds
           or kinds[g].get("kind") != "gpu"]
    if bad:
        example = ", ".join(gpu_nodes(G)[:2])
        msg = (f"busy file `{path}` names {len(bad):,} unknown GPU(s), e.g. {bad[0]!r} "
               f"(GPUs of this fabric look like {example})")
        raise ParameterError(msg)
    return frozenset(data)


def random_busy(G, fraction, *, seed=0):
    """Mark a seeded random ``fraction`` of the hosts busy; return their GPUs.

    Raises
    ------
    ParameterError
        When ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> import topologies
    >>> len(random_busy(topologies.build_preset("superpod-h100"), 0.5, seed=1))
    128
    """
    if not 0 <= fraction <= 1:
        msg = f"`busy_fraction` must be between 0 and 1, got {fraction}"
        raise ParameterError(msg)
    by_host = defaultdict(list)
    for g in gpu_nodes(G):
        by_host[G.nodes[g].get("host", g)].append(g)
    hosts = list(by_host)
    k = round(fraction * len(hosts))
    chosen = random.Random(seed).sample(hosts, k)
    return frozenset(g for h in chosen for g in by_host[h])


@dataclass(frozen=True)
class PlacementProblem:
    """Everything the solver needs (plain data plus the engine objects to cost groups).

    Built by :func:`placement_problem`; not meant to be constructed by hand.
    """

    job: Job
    traffic: Traffic
    domains: list            # domain keys (site, domain) in topology order
    free: list               # per domain: free GPU names in topology order
    slots: list              # per domain: floor(free / tp)
    levels: list             # level names above "domain"
    unit: list               # unit[l][d]: unit id of domain d at level l (l = 0 is the domain)
    part: list               # per domain: GPU part
    G: object = None
    router: object = None
    catalog: object = None
    busy: frozenset = frozenset()


def _domain_units(G, domains, dom_gpus):
    """Nested locality levels: leafgroup, pod (3-tier only), site; duplicates dropped."""
    nic_leaves = defaultdict(set)
    dom_of_gpu = {}
    for i, key in enumerate(domains):
        for g in dom_gpus[key]:
            dom_of_gpu[g] = i
    for g, i in dom_of_gpu.items():
        for nic in G.adj[g]:
            if G.nodes[nic]["kind"] != "nic":
                continue
            for sw, d in G.adj[nic].items():
                if d["medium"] in NETWORK_MEDIA:
                    nic_leaves[i].add(sw)
    three_tier = any(k == "core" for _, k in G.nodes(data="kind"))
    raw = {
        "leafgroup": [frozenset(nic_leaves[i]) for i in range(len(domains))],
        "pod": [frozenset(G.nodes[x].get("pod") for x in nic_leaves[i]) if three_tier else 0
                for i in range(len(domains))],
        "site": [key[0] for key in domains],
    }
    levels = []
    unit = [list(range(len(domains)))]
    prev = unit[0]
    for name in ("leafgroup", "pod", "site"):
        # nest: a unit is (parent-independent) key combined with the level above's key
        keys = raw[name]
        if name == "leafgroup":
            combo = [(raw["site"][i], raw["pod"][i], keys[i]) for i in range(len(domains))]
        elif name == "pod":
            combo = [(raw["site"][i], keys[i]) for i in range(len(domains))]
        else:
            combo = keys
        ids = {}
        lab = [ids.setdefault(c, len(ids)) for c in combo]
        n_units = len(ids)
        if n_units <= 1 or n_units == len(set(prev)):
            continue
        levels.append(name)
        unit.append(lab)
        prev = lab
    return levels, unit


def placement_problem(G, job, traffic, *, busy=frozenset(), router=None, catalog=None):
    """Check a request against the cluster and collect the solver's data.

    Parameters
    ----------
    G
        A fabric graph.
    job : Job
    traffic : Traffic
    busy
        Names of busy GPUs.
    router, catalog
        Reused engine objects (optional).

    Returns
    -------
    PlacementProblem

    Raises
    ------
    ParameterError
        Non-positive degrees, ``ep`` not dividing ``dp``, ``tp`` larger than every NVLink domain.
    InfeasibleError
        Not enough free GPUs, or not enough TP-group slots inside NVLink domains;
        the message says what is missing.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> p = placement_problem(G, Job(8, 2, 4), Traffic(dp_bytes=2**30))
    >>> sum(p.slots), p.levels
    (31, [])
    """
    for name in ("tp", "pp", "dp", "ep"):
        v = getattr(job, name)
        if not isinstance(v, int) or v < 1:
            msg = f"`{name}` must be a positive integer, got {v!r}"
            raise ParameterError(msg)
    if job.dp % job.ep:
        msg = f"`ep` ({job.ep}) must divide `dp` ({job.dp})"
        raise ParameterError(msg)
    if job.gpus < 2:
        msg = f"a job needs at least 2 GPUs, got tp*pp*dp = {job.gpus}"
        raise ParameterError(msg)
    dom_gpus = defaultdict(list)
    part = {}
    for g, d in G.nodes(data=True):
        if d["kind"] == "gpu":
            key = (d.get("site", 0), d.get("domain", d.get("host", g)))
            dom_gpus[key].append(g)
            part.setdefault(key, d["part"])
    domains = list(dom_gpus)
    biggest = max(len(v) for v in dom_gpus.values())
    if job.tp > biggest:
        msg = (f"`tp` = {job.tp} does not fit an NVLink domain: the largest domain of this "
               f"fabric has {biggest} GPUs")
        raise ParameterError(msg)
    busy = frozenset(busy)
    free = [[g for g in dom_gpus[k] if g not in busy] for k in domains]
    total_free = sum(len(f) for f in free)
    if job.gpus > total_free:
        msg = (f"needs {job.gpus:,} GPUs; only {total_free:,} of "
               f"{sum(len(v) for v in dom_gpus.values()):,} are free")
        raise InfeasibleError(msg)
    slots = [len(f) // job.tp for f in free]
    need = job.pp * job.dp
    if sum(slots) < need:
        usable = sum(1 for s in slots if s > 0)
        msg = (f"needs {need:,} TP groups of {job.tp} inside single NVLink domains; only "
               f"{usable:,} domains have {job.tp} free GPUs, offering {sum(slots):,} groups "
               f"({total_free:,} GPUs are free in total)")
        raise InfeasibleError(msg)
    levels, unit = _domain_units(G, domains, dom_gpus)
    return PlacementProblem(job=job, traffic=traffic, domains=domains, free=free, slots=slots,
                            levels=levels, unit=unit, part=[part[k] for k in domains], G=G,
                            router=router, catalog=catalog, busy=busy)


# ----------------------------------------------------------------------------- engine costing
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
        tr = self.p.traffic
        if tr.dp_op == "zero":
            return (self.time("reducescatter", ranks, tr.dp_bytes)
                    + self.time("allgather", ranks, tr.dp_bytes))
        return self.time("allreduce", ranks, tr.dp_bytes)


def _level_of(problem, d1, d2):
    """Smallest level index at which domains d1 and d2 share a unit (len(levels)+1 = global)."""
    for li, lab in enumerate(problem.unit):
        if lab[d1] == lab[d2]:
            return li
    return len(problem.unit)


def _slot_gpus(problem, d, k):
    tp = problem.job.tp
    return problem.free[d][k * tp:(k + 1) * tp]


def _expand(problem, dom_of):
    """dom_of[s][j] -> domain of TP group (stage s, dp index j); return rank -> GPU list."""
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


def evaluate_assignment(problem, dom_of, coster=None):
    """Engine objective of a placement given as ``dom_of[stage][dp_idx] -> domain index``.

    Representatives (the documented approximation): TP: one group per GPU
    part; PP: per boundary, one pair per locality level present (``tp_idx``
    0); DP: every stage's ``tp_idx`` 0 group; EP: one group per distinct
    (sorted domain counts, level spanned) signature of each stage.

    Returns
    -------
    tuple
        ``(objective_us, breakdown_us dict, ranks list, per-stage GPU lists)``.
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
    return float(sum(parts.values())), parts, ranks, gpus


# ----------------------------------------------------------------------------- calibration
def _units_at(problem, li):
    """Unit id -> domain indices (topology order) at level ``li`` (== len(unit): global)."""
    out = defaultdict(list)
    for d in range(len(problem.domains)):
        if problem.slots[d] > 0:
            key = 0 if li >= len(problem.unit) else problem.unit[li][d]
            out[key].append(d)
    return out


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


_K_STEPS = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64)
"""Ranks-per-domain values ``k`` at which the DP table is calibrated (more than 64: as 64)."""


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


def _kmax(problem):
    """Largest ranks-per-domain value the DP table distinguishes."""
    return max(1, min(problem.job.dp, max(problem.slots), _K_STEPS[-1]))


# ----------------------------------------------------------------------------- model
def build_placement_model(problem, t_dp, t_pp, *, hint=None):
    """The CP-SAT proxy model (see the module notes).

    Parameters
    ----------
    problem : PlacementProblem
    t_dp : list of list of float
        ``t_dp[l][k]``: engine time (us) of a DP group confined to a unit of
        level ``l`` (0 = domain, last = global) whose smallest domain holds
        ``k`` of its ranks (from :func:`_calibrate`).
    t_pp : list of float
        Engine time (us) of a PP pair local at each level.
    hint : dict, optional
        ``{(s, d): count}`` of a known placement, given to CP-SAT as a hint.

    Returns
    -------
    tuple
        ``(CpModel, vars)``; ``vars["z"][s, d]`` is the number of stage-``s``
        TP groups in domain ``d``. Only for use inside :mod:`solvers`.
    """
    job = problem.job
    S, dp = job.pp, job.dp
    cand = [d for d in range(len(problem.domains)) if problem.slots[d] > 0]
    n_lv = len(problem.unit) + 1
    kmax = len(t_dp[0]) - 1
    model = cp_model.CpModel()
    # z[s, d]: number of TP groups of stage s placed in domain d.
    z = {}
    for s in range(S):
        for d in cand:
            z[s, d] = model.new_int_var(0, min(problem.slots[d], dp), f"z_{s}_{d}")
    # Each domain hosts at most its slots.
    for d in cand:
        model.add(sum(z[s, d] for s in range(S)) <= problem.slots[d])
    # Each stage places all its dp TP groups.
    for s in range(S):
        model.add(sum(z[s, d] for d in cand) == dp)
    # units[l][g]: domains of unit g at level l (levels below global).
    units = []
    for li in range(n_lv - 1):
        u = defaultdict(list)
        for d in cand:
            u[problem.unit[li][d]].append(d)
        units.append(u)
    ivars = {"z": z}
    costs = []
    kmin_ge = {}          # (s, k) -> kmin[s] >= k (DP block only)
    # DP: t_dp >= t_dp[level of stage s][smallest domain share of stage s], for every s.
    if dp > 1 and t_dp[-1][1] > 0:
        table = [[int(round(x * SCALE)) for x in row] for row in t_dp]
        top = max(max(row) for row in table)
        t_dp_var = model.new_int_var(0, top, "t_dp")
        inside, used, kmin = {}, {}, {}
        for s in range(S):
            # kmin[s]: every domain used by stage s holds at least kmin[s] of its groups.
            m = model.new_int_var(1, kmax, f"dp_kmin_{s}")
            kmin[s] = m
            for d in cand:
                # used[s, d] is true when stage s has a TP group in domain d.
                u = model.new_bool_var(f"used_{s}_{d}")
                model.add(z[s, d] >= 1).only_enforce_if(u)
                model.add(z[s, d] == 0).only_enforce_if(~u)
                model.add(z[s, d] >= m).only_enforce_if(u)
                used[s, d] = u
            for li in range(n_lv):
                # y = t_dp[li][kmin[s]]
                y = model.new_int_var(0, top, f"dp_t_{s}_{li}")
                model.add_element(m, table[li], y)
                if li == 0:
                    model.add(t_dp_var >= y)
                    continue
                # inside[s, li - 1, g]: all of stage s's groups lie in unit g of level li - 1;
                # only a stage inside some level li - 1 unit escapes the level li time.
                lits = []
                for g, ds in units[li - 1].items():
                    if sum(problem.slots[d] for d in ds) < dp:
                        continue
                    b = model.new_bool_var(f"dp_in_{s}_{li - 1}_{g}")
                    model.add(sum(z[s, d] for d in ds) >= dp).only_enforce_if(b)
                    inside[s, li - 1, g] = b
                    lits.append(b)
                if not lits:
                    model.add(t_dp_var >= y)
                    continue
                model.add_at_most_one(lits)
                within = model.new_bool_var(f"dp_within_{s}_{li - 1}")
                model.add(sum(lits) == within)
                model.add(t_dp_var >= y).only_enforce_if(~within)
        # Capacity cuts: a stage whose every domain holds >= k of its groups uses only
        # domains with >= k slots, so at most cap_k // dp stages can have kmin >= k, where
        # cap_k is the slots of those domains. Redundant for the integer model, but they
        # give CP-SAT's bound what the element constraints alone do not.
        kmin_ge = {}
        for k in range(2, kmax + 1):
            atleast = []
            for s in range(S):
                b = model.new_bool_var(f"dp_kmin_ge_{s}_{k}")
                model.add(kmin[s] <= k - 1).only_enforce_if(~b)
                model.add(kmin[s] >= k).only_enforce_if(b)
                kmin_ge[s, k] = b
                atleast.append(b)
            cap = sum(problem.slots[d] for d in cand if problem.slots[d] >= k)
            if cap < S * dp:
                model.add(sum(atleast) <= cap // dp)
        ivars["dp_kmin_ge"] = kmin_ge
        ivars.update(dp_inside=inside, dp_used=used, dp_kmin=kmin)
        costs.append(t_dp_var)
    # PP: pairs[b, l, g] counts stage b / b+1 pairs both in unit g of level l;
    # local[b, l] is true when all pairs of boundary b are local at level l.
    if S > 1 and t_pp[-1] > 0:
        pairs, local = {}, {}
        for b in range(S - 1):
            terms = []
            for li in range(n_lv - 1):
                delta = int(round((t_pp[li + 1] - t_pp[li]) * SCALE))
                if delta <= 0:
                    continue
                cnt = []
                for g, ds in units[li].items():
                    cap = min(sum(problem.slots[d] for d in ds), dp)
                    if cap < 1 or (li == 0 and problem.slots[ds[0]] < 2):
                        continue
                    m = model.new_int_var(0, cap, f"pp_pairs_{b}_{li}_{g}")
                    model.add(m <= sum(z[b, d] for d in ds))
                    model.add(m <= sum(z[b + 1, d] for d in ds))
                    if li == 0:
                        # a domain shared by stages b and b+1 holds >= kmin of each: when
                        # both kmin are >= k and 2k exceeds its slots, it holds no pair
                        # (implied; stated for CP-SAT's bound)
                        for k in range(2, kmax + 1):
                            if 2 * k > problem.slots[ds[0]] and (b, k) in kmin_ge:
                                model.add(m <= cap * (2 - kmin_ge[b, k] - kmin_ge[b + 1, k]))
                    pairs[b, li, g] = m
                    cnt.append(m)
                if not cnt:
                    continue
                lit = model.new_bool_var(f"pp_local_{b}_{li}")
                model.add(sum(cnt) >= dp * lit)
                local[b, li] = lit
                terms.append(delta * lit)
            costs.append(int(round(t_pp[-1] * SCALE)) - sum(terms))
        ivars["pp_pairs"], ivars["pp_local"] = pairs, local
    model.minimize(sum(costs))
    if hint:
        for (s, d), var in z.items():
            model.add_hint(var, hint.get((s, d), 0))
        for (s, d), var in ivars.get("dp_used", {}).items():
            model.add_hint(var, hint.get((s, d), 0) > 0)
        for s, var in ivars.get("dp_kmin", {}).items():
            mine = [c for (ss, _), c in hint.items() if ss == s and c]
            model.add_hint(var, min(min(mine), kmax) if mine else 1)
    return model, ivars


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
    c = Counter()
    for s, row in enumerate(dom_of):
        for d in row:
            c[s, d] += 1
    return dict(c)


def _pattern(problem, dom_of):
    """Locality summary of a placement: what the engine objective depends on.

    ``dp_domains`` / ``dp_kmin`` / ``dp_level``: per stage, the NVLink
    domains its DP group spans, the fewest of its ranks in one of them, and
    the level name holding it; ``pp_level``: per boundary, the level of its
    least local pair.
    """
    names = ["domain", *problem.levels, _GLOBAL]
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


# ----------------------------------------------------------------------------- baselines
def _slot_order_placement(problem, slot_list):
    """Assign TP groups in rank order (dp fastest, then pp) to ``slot_list`` (domains)."""
    job = problem.job
    need = job.pp * job.dp
    doms = slot_list[:need]
    return [[doms[j + job.dp * s] for j in range(job.dp)] for s in range(job.pp)]


def _all_slots(problem, doms=None):
    doms = range(len(problem.domains)) if doms is None else doms
    return [d for d in doms for _ in range(problem.slots[d])]


def _baselines(problem, seed):
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


# ----------------------------------------------------------------------------- solve
def solve_placement(problem, *, time_limit_s=30.0, seed=0, workers=2, method="cpsat",
                    baselines=True):
    """Place a job with CP-SAT and re-evaluate the result with the collective engine.

    Parameters
    ----------
    problem : PlacementProblem
    time_limit_s
        CP-SAT wall-time limit (calibration and evaluation come on top).
    seed
        CP-SAT ``random_seed`` and the random baseline's seed.
    workers
        CP-SAT ``num_workers``.
    method
        ``"cpsat"`` (the only one today; the default may change).
    baselines
        Also evaluate the three baselines.

    Returns
    -------
    PlacementResult

    Raises
    ------
    ParameterError
        Unknown method or non-positive time limit.
    InfeasibleError
        CP-SAT proved the request infeasible.
    SolverTimeoutError
        The time limit passed without any placement.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> p = placement_problem(G, Job(8, 2, 2), Traffic(pp_bytes=2**26, dp_bytes=2**28))
    >>> r = solve_placement(p, time_limit_s=5, seed=0)
    >>> r.status, len(r.assignment), r.gap
    ('OPTIMAL', 32, 0.0)
    """
    if method != "cpsat":
        msg = f"`method` must be 'cpsat', got {method!r}"
        raise ParameterError(msg)
    if not time_limit_s or time_limit_s <= 0:
        msg = f"`time_limit_s` must be > 0, got {time_limit_s}"
        raise ParameterError(msg)
    t_start = time.perf_counter()
    coster = _Coster(problem)
    t_dp, t_pp = _calibrate(problem, coster)
    base = _baselines(problem, seed) if baselines else {}
    # Hint: the best proxy among the baselines and the k-block greedy fills.
    cands = [_counts_from_dom_of(dom_of) for dom_of in base.values()]
    for k in sorted({k for k in _K_STEPS if k <= _kmax(problem)}, reverse=True):
        c = _block_fill(problem, k)
        if c is not None:
            cands.append(c)
    hint = min(cands, key=lambda c: _proxy_cost(problem, c, t_dp, t_pp), default=None)
    model, ivars = build_placement_model(problem, t_dp, t_pp, hint=hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    t0 = time.perf_counter()
    status = solver.solve(model)
    solve_s = time.perf_counter() - t0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        counts = {k: int(solver.value(v)) for k, v in ivars["z"].items()}
        counts = {k: v for k, v in counts.items() if v}
        proxy = solver.objective_value / SCALE
        bound = solver.best_objective_bound / SCALE
        name = "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE"
    elif status == cp_model.INFEASIBLE:
        msg = (f"CP-SAT proved the job (tp {problem.job.tp}, pp {problem.job.pp}, dp "
               f"{problem.job.dp}) cannot be placed on the free GPUs")
        raise InfeasibleError(msg)
    elif status == cp_model.UNKNOWN:
        msg = (f"CP-SAT found no placement within {time_limit_s:g} s; raise `time_limit_s` "
               "or free more GPUs")
        raise SolverTimeoutError(msg)
    else:
        msg = f"CP-SAT returned {solver.status_name(status)}; check the model"
        raise SolverTimeoutError(msg)
    dom_of = _dom_of_from_counts(problem, counts)
    obj, parts, ranks, _ = evaluate_assignment(problem, dom_of, coster)
    proxy_check = _proxy_cost(problem, counts, t_dp, t_pp)
    const = parts["tp"] + parts["ep"]
    proxy_us = proxy_check + const
    bound_us = min(bound, proxy) + const
    gap = 0.0 if proxy_us <= 0 else max(0.0, (proxy_us - bound_us) / proxy_us)
    if name == "OPTIMAL":
        gap = 0.0
        bound_us = proxy_us
    out_base = {}
    for bname, bdom in base.items():
        bobj, bparts, _, _ = evaluate_assignment(problem, bdom, coster)
        bproxy = _proxy_cost(problem, _counts_from_dom_of(bdom), t_dp, t_pp) + const
        out_base[bname] = {"objective_us": bobj, "proxy_us": bproxy,
                           "breakdown_us": bparts, "pattern": _pattern(problem, bdom),
                           "improvement": (bobj - obj) / bobj if bobj > 0 else 0.0}
    job = problem.job
    return PlacementResult(
        status=name, assignment=dict(enumerate(ranks)), objective_us=obj, breakdown_us=parts,
        proxy_us=proxy_us, bound_us=bound_us, gap=gap, solve_s=solve_s,
        total_s=time.perf_counter() - t_start, baselines=out_base,
        domains_used=len({d for row in dom_of for d in row}),
        levels=["domain", *problem.levels, _GLOBAL], pattern=_pattern(problem, dom_of),
        calibration={"t_dp_us": [list(row[1:]) for row in t_dp], "t_pp_us": list(t_pp),
                     "engine_calls": coster.calls},
        job={"gpus": job.gpus, "tp": job.tp, "pp": job.pp, "dp": job.dp, "ep": job.ep,
             "tp_bytes": problem.traffic.tp_bytes, "pp_bytes": problem.traffic.pp_bytes,
             "dp_bytes": problem.traffic.dp_bytes, "ep_bytes": problem.traffic.ep_bytes,
             "dp_op": problem.traffic.dp_op})


def _make_job(gpus, tp, pp, dp, ep):
    for name, v in (("tp", tp), ("pp", pp), ("ep", ep)):
        if v is None or int(v) != v or v < 1:
            msg = f"`{name}` must be a positive integer, got {v!r}"
            raise ParameterError(msg)
    if dp is None:
        if gpus is None or gpus % (tp * pp):
            msg = (f"`gpus` ({gpus}) must be a multiple of tp*pp = {tp * pp} when `dp` is not "
                   "given")
            raise ParameterError(msg)
        dp = gpus // (tp * pp)
    if gpus is not None and gpus != tp * pp * dp:
        msg = (f"`gpus` must equal tp*pp*dp = {tp}*{pp}*{dp} = {tp * pp * dp}, got {gpus}; "
               "change one of them")
        raise ParameterError(msg)
    return Job(int(tp), int(pp), int(dp), int(ep))


def place_job(G, *, gpus=None, tp=1, pp=1, dp=None, ep=1, traffic=None, model_params=None,
              busy=frozenset(), time_limit_s=30.0, seed=0, workers=2, router=None, catalog=None):
    """Place one job on ``G`` (convenience around :func:`solve_placement`).

    Parameters
    ----------
    G
        A fabric graph.
    gpus, tp, pp, dp, ep
        Job layout; ``dp`` defaults to ``gpus / (tp * pp)``.
    traffic : Traffic, optional
        Bytes per step; default from ``model_params`` (:func:`job_traffic`),
        else 1 GiB of DP allreduce, 64 MiB of PP and 256 MiB of TP traffic.
    busy
        Busy GPU names.
    time_limit_s, seed, workers
        Solver settings.
    router, catalog
        Engine objects to reuse.

    Returns
    -------
    PlacementResult

    Raises
    ------
    ParameterError
        ``gpus != tp*pp*dp`` and other bad parameters.
    InfeasibleError, SolverTimeoutError
        As for :func:`solve_placement`.

    Examples
    --------
    >>> import topologies
    >>> r = place_job(topologies.build_preset("superpod-h100"), gpus=64, tp=8, pp=2,
    ...               time_limit_s=5)
    >>> r.status, r.job["dp"]
    ('OPTIMAL', 4)
    """
    job = _make_job(gpus, tp, pp, dp, ep)
    if traffic is None:
        if model_params is not None:
            traffic = job_traffic(job.tp, job.pp, job.dp, ep=job.ep, model_params=model_params)
        else:
            traffic = job_traffic(job.tp, job.pp, job.dp, ep=job.ep,
                                  tp_bytes=2 ** 28 if job.tp > 1 else 0,
                                  pp_bytes=2 ** 26 if job.pp > 1 else 0,
                                  dp_bytes=2 ** 30 if job.dp > 1 else 0,
                                  ep_bytes=2 ** 28 if job.ep > 1 else 0)
    problem = placement_problem(G, job, traffic, busy=busy, router=router, catalog=catalog)
    return solve_placement(problem, time_limit_s=time_limit_s, seed=seed, workers=workers)


def fragmentation(G, busy, *, tp_ref=8):
    """Utilization and fragmentation of a cluster state (see the module notes).

    Returns
    -------
    dict
        ``utilization`` (busy GPUs / GPUs), ``fragmentation`` (share of free
        GPUs not usable by a TP group of ``tp_ref``), ``free_gpus``.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> fragmentation(G, {"d0-gpu0"})["fragmentation"] == 7 / 247
    True
    """
    dom = defaultdict(int)
    total = 0
    for g, d in G.nodes(data=True):
        if d["kind"] == "gpu":
            total += 1
            if g not in busy:
                dom[(d.get("site", 0), d.get("domain", d.get("host", g)))] += 1
    free = sum(dom.values())
    stranded = sum(f % tp_ref for f in dom.values())
    return {"utilization": (total - free) / total if total else 0.0,
            "fragmentation": stranded / free if free else 0.0, "free_gpus": free}


_JOB_KEYS = {"name": str, "gpus": int, "tp": int, "pp": int, "dp": int, "ep": int,
             "model_params": float}


def load_jobs_file(path):
    """A job queue from a JSON file: a list of ``{"name", "gpus", "tp", "pp", "dp", "ep",
    "model_params"}`` objects.

    ``tp`` is required, and ``gpus`` or ``dp``; ``pp`` and ``ep`` default to
    1, ``name`` to ``job<i>``; ``model_params`` (> 0) derives the traffic.

    Returns
    -------
    list of dict
        Keyword arguments of :func:`place_job` plus ``name``.

    Raises
    ------
    ParameterError
        Unreadable file, not a list, or a job with an unknown key, a missing
        key, a value of the wrong type or out of bounds, or ``gpus != tp*pp*dp``;
        the message names the job (index and name) and the key.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump([{"name": "a", "gpus": 16, "tp": 8}], f)
    >>> load_jobs_file(f.name)
    [{'name': 'a', 'gpus': 16, 'tp': 8, 'pp': 1, 'ep': 1}]
    """
    data = read_json_input(path, option="--jobs", fix="write a list of job objects")
    if not isinstance(data, list) or not data:
        msg = (f'jobs file `{path}` must hold a non-empty list of jobs like {{"name": "a", '
               '"gpus": 64, "tp": 8, "pp": 2}')
        raise ParameterError(msg)
    jobs = []
    for i, spec in enumerate(data):
        where = f"jobs file `{path}`, job {i}"
        if not isinstance(spec, dict):
            msg = f"{where}: must be an object, got {type(spec).__name__}"
            raise ParameterError(msg)
        if isinstance(spec.get("name"), str):
            where += f" ({spec['name']!r})"
        unknown = sorted(set(spec) - set(_JOB_KEYS))
        if unknown:
            msg = f"{where}: unknown key `{unknown[0]}`; keys: {', '.join(_JOB_KEYS)}"
            raise ParameterError(msg)
        job = {"name": spec.get("name", f"job{i}")}
        if not isinstance(job["name"], str) or not job["name"]:
            msg = f"{where}: `name` must be a non-empty string, got {job['name']!r}"
            raise ParameterError(msg)
        for key in ("gpus", "tp", "pp", "dp", "ep"):
            if key not in spec:
                continue
            v = spec[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                msg = f"{where}: `{key}` must be an integer >= 1, got {v!r}"
                raise ParameterError(msg)
            job[key] = v
        if "tp" not in job:
            msg = f"{where}: missing key `tp`"
            raise ParameterError(msg)
        if "gpus" not in job and "dp" not in job:
            msg = f"{where}: give `gpus` or `dp`"
            raise ParameterError(msg)
        job.setdefault("pp", 1)
        job.setdefault("ep", 1)
        if "model_params" in spec:
            v = spec["model_params"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                msg = f"{where}: `model_params` must be a number > 0, got {v!r}"
                raise ParameterError(msg)
            job["model_params"] = float(v)
        try:
            _make_job(job.get("gpus"), job["tp"], job["pp"], job.get("dp"), job["ep"])
        except ParameterError as exc:
            msg = f"{where}: {exc}"
            raise ParameterError(msg) from None
        if job.get("dp", 1) % job["ep"]:
            msg = f"{where}: `ep` ({job['ep']}) must divide `dp` ({job['dp']})"
            raise ParameterError(msg)
        jobs.append(job)
    return jobs


def place_queue(G, jobs, *, busy=frozenset(), time_limit_s=30.0, seed=0, workers=2,
                tp_ref=8, catalog=None, assignments=False):
    """Place ``jobs`` in order on one cluster, each on what the previous ones left free.

    Parameters
    ----------
    G
        A fabric graph.
    jobs
        Dicts of :func:`place_job` keyword arguments (``gpus``, ``tp``, ``pp``...),
        optionally with a ``name`` (see :func:`load_jobs_file`).
    busy
        GPUs busy before the queue starts.
    time_limit_s, seed, workers
        CP-SAT settings of every job.
    tp_ref
        TP group size of the fragmentation measure.
    catalog
        Catalog of the engine.
    assignments
        Add each placed job's ``assignment`` (rank -> GPU) to its row.

    Returns
    -------
    list of dict
        Per job: ``job`` (index), ``name``, ``status`` (``placed``, or
        ``not placed: <reason>``), ``objective_us``, ``gap``, ``gpus`` (placed,
        0 when not placed), ``solve_s`` and ``baseline_us`` (when placed),
        and the cluster after it: ``utilization``, ``fragmentation``, ``free_gpus``.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> rows = place_queue(G, [{"gpus": 64, "tp": 8, "pp": 2}] * 2, time_limit_s=2)
    >>> [round(r["utilization"], 3) for r in rows]
    [0.258, 0.516]
    """
    busy = set(busy)
    router = Router(G)
    rows = []
    for i, spec in enumerate(jobs):
        spec = dict(spec)
        row = {"job": i, "name": spec.pop("name", f"job{i}")}
        try:
            r = place_job(G, busy=frozenset(busy), time_limit_s=time_limit_s, seed=seed,
                          workers=workers, router=router, catalog=catalog, **spec)
            busy.update(r.assignment.values())
            row.update(status="placed", objective_us=r.objective_us, gap=r.gap,
                       solve_s=r.solve_s, gpus=len(r.assignment),
                       baseline_us={k: b["objective_us"] for k, b in r.baselines.items()})
            if assignments:
                row["assignment"] = {str(k): v for k, v in r.assignment.items()}
        except (FabricError, TypeError) as exc:
            if isinstance(exc, TypeError):
                msg = f"job {i}: bad job spec {spec!r}: {exc}"
                raise ParameterError(msg) from None
            if isinstance(exc, ParameterError):
                raise
            row.update(status=f"not placed: {exc}", objective_us=None, gap=None, gpus=0)
        row.update(fragmentation(G, busy, tp_ref=tp_ref))
        rows.append(row)
    return rows
