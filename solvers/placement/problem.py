"""The placement problem: a job's layout and traffic, and the cluster's free slots.

The job (ranks and communicators)
---------------------------------
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

The cluster (domains, slots, locality levels)
---------------------------------------------
The cluster is the fabric plus a set of busy GPUs. Placement decides at the
granularity of NVLink domains, never per GPU: a domain (a key of
:func:`fabric.locality.domains`) with ``f`` free GPUs offers ``floor(f / tp)``
**slots** (one TP group each). Domains are grouped by nested **locality
levels** (``domain``; ``leafgroup`` = domains whose NICs reach the same set
of leaf switches, a scalable unit; ``pod`` on 3-tier fabrics; ``site``;
above the last level, ``global``); a level with a single unit, or with the
same units as the level below it, is dropped.

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
"""

from collections import defaultdict
from dataclasses import dataclass

from fabric.exceptions import InfeasibleError, ParameterError
from fabric.locality import domains as locality_domains
from fabric.schema import NETWORK_MEDIA

__all__ = ["Job", "PlacementProblem", "Traffic", "job_traffic", "placement_problem"]

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
class PlacementProblem:
    """Everything the solver needs (plain data plus the engine objects to cost groups).

    Built by :func:`placement_problem`; not meant to be constructed by hand.
    """

    job: Job
    traffic: Traffic
    domains: list            # domain keys (site, domain) of fabric.locality, topology order
    free: list               # per domain: free GPU names in topology order
    slots: list              # per domain: floor(free / tp)
    levels: list             # level names above "domain"
    unit: list               # unit[l][d]: unit id of domain d at level l (l = 0 is the domain)
    part: list               # per domain: GPU part
    G: object = None
    router: object = None
    catalog: object = None
    busy: frozenset = frozenset()


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


def _make_job(gpus, tp, pp, dp, ep):
    """A :class:`Job` from a request where ``dp`` may be implied by ``gpus``.

    Raises
    ------
    ParameterError
        A degree that is not a positive integer, or ``gpus`` that is not ``tp*pp*dp``.
    """
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


def _domain_units(G, keys, dom_gpus):
    """Nested locality levels: leafgroup, pod (3-tier only), site; duplicates dropped.

    ``keys`` are the domain keys of :mod:`fabric.locality` (``(site, domain)``),
    ``dom_gpus`` maps each to its GPUs. Returns ``(levels, unit)`` as stored
    in :class:`PlacementProblem`.
    """
    nic_leaves = defaultdict(set)
    dom_of_gpu = {}
    for i, key in enumerate(keys):
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
        "leafgroup": [frozenset(nic_leaves[i]) for i in range(len(keys))],
        "pod": [frozenset(G.nodes[x].get("pod") for x in nic_leaves[i]) if three_tier else 0
                for i in range(len(keys))],
        "site": [key[0] for key in keys],          # the site part of the locality key
    }
    levels = []
    unit = [list(range(len(keys)))]
    prev = unit[0]
    for name in ("leafgroup", "pod", "site"):
        # nest: a unit is (parent-independent) key combined with the level above's key
        lvl = raw[name]
        if name == "leafgroup":
            combo = [(raw["site"][i], raw["pod"][i], lvl[i]) for i in range(len(keys))]
        elif name == "pod":
            combo = [(raw["site"][i], lvl[i]) for i in range(len(keys))]
        else:
            combo = lvl
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
    dom_gpus = locality_domains(G)
    keys = list(dom_gpus)
    biggest = max(len(v) for v in dom_gpus.values())
    if job.tp > biggest:
        msg = (f"`tp` = {job.tp} does not fit an NVLink domain: the largest domain of this "
               f"fabric has {biggest} GPUs")
        raise ParameterError(msg)
    busy = frozenset(busy)
    free = [[g for g in dom_gpus[k] if g not in busy] for k in keys]
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
    levels, unit = _domain_units(G, keys, dom_gpus)
    return PlacementProblem(job=job, traffic=traffic, domains=keys, free=free, slots=slots,
                            levels=levels, unit=unit,
                            part=[G.nodes[dom_gpus[k][0]]["part"] for k in keys], G=G,
                            router=router, catalog=catalog, busy=busy)


# ----------------------------------------------------------------------------- locality queries
def _level_names(problem):
    """Names of the locality levels: ``domain``, the problem's levels, ``global``."""
    return ["domain", *problem.levels, _GLOBAL]


def _level_of(problem, d1, d2):
    """Smallest level index at which domains d1 and d2 share a unit (len(levels)+1 = global)."""
    for li, lab in enumerate(problem.unit):
        if lab[d1] == lab[d2]:
            return li
    return len(problem.unit)


def _units_at(problem, li):
    """Unit id -> domain indices (topology order) at level ``li`` (== len(unit): global).

    Only domains with at least one slot are listed.
    """
    out = defaultdict(list)
    for d in range(len(problem.domains)):
        if problem.slots[d] > 0:
            key = 0 if li >= len(problem.unit) else problem.unit[li][d]
            out[key].append(d)
    return out
