"""Throughput: the best rate a traffic matrix can get from a fabric (LP), and under ECMP.

Maximum concurrent flow
-----------------------
Given demands ``D[i, j]`` (Gb/s from GPU ``i`` to GPU ``j``), find the
largest ``lambda`` such that every pair can carry ``lambda * D[i, j]`` at once
with any (fractional, multi-path) routing within the per-direction link rates.
``lambda >= 1`` means the fabric carries the whole matrix.

The LP (built with ``ortools.linear_solver.pywraplp``; GLOP, the simplex
solver, up to :data:`GLOP_MAX_VARS` variables, else PDLP, the first-order
solver, which returns an approximate optimum):

* one commodity per **source domain** (aggregating commodities by source is
  exact for max concurrent flow: a single-source multi-sink flow decomposes
  into per-destination paths);
* an **NVLink domain is collapsed into one node** joined to each of its
  NICs by the NIC's PCIe link. A GPU's traffic may then leave through any
  NIC of its domain (as NCCL's PXN does) and traffic between GPUs of one
  domain is not constrained. The collapse is exact when the NVLink switch
  fabric is non-blocking and each GPU's NVLink rate is at least the traffic
  it sends or relays (true for every preset here: 3.6-14.4 Tb/s of NVLink
  per GPU against 0.4-0.8 Tb/s of NIC); otherwise it is an upper bound.
  Intra-domain demand is reported (``intra_domain_gbps``) but not constrained.
* so the LP needs demand **between** NVLink domains: when every endpoint is
  in one domain (e.g. ``dgx-h100``, one ``gb200-nvl72`` rack, or ``gpus``
  smaller than a domain), nothing bounds ``lambda`` and :func:`throughput`
  refuses with a :class:`~fabric.exceptions.ParameterError` that names
  ``gpus`` (``--gpus``) and the smallest count spanning 2 domains (or says
  the fabric has one domain). NVLink-only throughput is not modelled here;
  ``fabric collective`` prices traffic inside a domain.
* NICs with a single network port are merged in series with their PCIe link
  (capacity ``min``), which is exact.
* hosts and CPUs carry no traffic.
* the LP is **folded by its symmetry** before it is solved (``symmetry=True``):
  colour refinement of the variable-row graph gives an equitable partition,
  and the LP with one variable per class has the same optimum (averaging an
  optimum over the classes keeps it feasible). An alltoall on a
  rail-optimized Clos folds to a few dozen variables; a demand or a fabric
  without symmetry does not fold and the full LP is solved.

Patterns (``inj`` = a GPU's scale-out NIC rate, Gb/s): ``permutation`` (a
seeded random derangement, each GPU sends ``inj`` to its partner),
``alltoall`` (each GPU sends ``inj / (n - 1)`` to every other), ``ring``
(GPU ``i`` sends ``inj`` to ``i + 1``), or a matrix file (absolute Gb/s). So
``lambda = 1`` means every GPU can inject at its full NIC rate. Matrix-file
demands must be finite and non-negative.

ECMP figure
-----------
The same demands routed by :class:`solvers.routing.Router` (each GPU through
its own NIC, ECMP over the up/down paths): ``max_link_utilization`` is the
busiest arc's load over its rate and ``ecmp_fraction = 1 /
max_link_utilization``.

Collective lower bound
----------------------
:func:`collective_lower_bound` is a bandwidth-only **cut bound** (not the
LP): the larger of (a) the bytes a rank must send or receive over its
injection rate (NVLink plus its own NIC) and (b) for every NVLink domain
holding some but not all ranks, the bytes that must cross the domain's
boundary over the domain's total NIC rate. It holds for every algorithm,
including in-network reduction (NVLS, SHARP).
"""

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fabric.io import read_json_input
from fabric.exceptions import FabricError, ParameterError, SolverTimeoutError
from fabric.locality import domain_of, gpu_nodes
from fabric.metrics import per_gpu_bandwidth
from solvers.routing import Router
from fabric.schema import NETWORK_MEDIA

__all__ = [
    "PATTERNS",
    "GLOP_MAX_VARS",
    "ThroughputResult",
    "traffic_matrix",
    "LPSolution",
    "solve_throughput",
    "ecmp_utilization",
    "throughput",
    "collective_lower_bound",
]

PATTERNS = ("permutation", "alltoall", "ring")
"""Built-in traffic patterns (anything else is read as a matrix file)."""

GLOP_MAX_VARS = 400_000
"""Above this many LP variables, ``solver="auto"`` uses PDLP instead of GLOP."""


@dataclass(frozen=True)
class LPSolution:
    """The optimum of the throughput LP (:func:`solve_throughput`).

    Attributes
    ----------
    lam : float
        Largest fraction of every demand that can flow at once.
    link_loads_gbps : dict
        Link label -> Gb/s carried at the optimum (links with load > 1e-9).
    solver, status : str
        LP solver used (GLOP or PDLP) and its status (OPTIMAL or FEASIBLE).
    solve_s : float
        Solve time in seconds.
    lp_vars : int
        Number of LP variables.
    intra_gbps : float
        Demand inside NVLink domains (not part of the LP).
    """

    lam: float
    link_loads_gbps: dict
    solver: str
    status: str
    solve_s: float
    lp_vars: int
    intra_gbps: float


@dataclass(frozen=True)
class ThroughputResult:
    """Maximum concurrent flow of a traffic matrix, optimal and under ECMP.

    Attributes
    ----------
    pattern : str
    endpoints : int
        GPUs in the traffic matrix.
    demand_gbps : float
        Total demand, Gb/s.
    intra_domain_gbps : float
        Demand between GPUs of one NVLink domain (carried by NVLink, unconstrained).
    optimal_fraction : float
        LP optimum ``lambda``.
    ecmp_fraction : float
        ``1 / max_link_utilization`` under the fabric's ECMP routing.
    max_link_utilization : float
        Busiest arc's ECMP load over its rate (at the full demand).
    ecmp_bottleneck : str
        That arc, ``"u -> v"``.
    link_loads_gbps : dict
        ``"u -> v"`` -> LP load (Gb/s) at the optimum, for arcs that carry any.
    solver, status : str
        ``GLOP`` or ``PDLP``; ``OPTIMAL`` or ``FEASIBLE`` (approximate / time limit).
    solve_s, lp_vars : float, int
    """

    pattern: str
    endpoints: int
    demand_gbps: float
    intra_domain_gbps: float
    optimal_fraction: float
    ecmp_fraction: float
    max_link_utilization: float
    ecmp_bottleneck: str
    link_loads_gbps: dict
    solver: str
    status: str
    solve_s: float
    lp_vars: int

    def to_dict(self, *, top_links=10):
        """JSON-ready dict with the ``top_links`` busiest LP links.

        Loads are rounded to 1e-6 Gb/s (below the LP's tolerance) and ordered
        by load, ties by link name, so the list does not depend on
        ``PYTHONHASHSEED`` or on the order the solver listed the links in.
        """
        loads = ((name, round(gbps, 6)) for name, gbps in self.link_loads_gbps.items())
        top = sorted(loads, key=lambda kv: (-kv[1], kv[0]))[:top_links]
        return {"pattern": self.pattern, "endpoints": self.endpoints,
                "demand_gbps": self.demand_gbps, "intra_domain_gbps": self.intra_domain_gbps,
                "optimal_fraction": self.optimal_fraction, "ecmp_fraction": self.ecmp_fraction,
                "max_link_utilization": self.max_link_utilization,
                "ecmp_bottleneck": self.ecmp_bottleneck, "solver": self.solver,
                "status": self.status, "solve_s": self.solve_s, "lp_vars": self.lp_vars,
                "top_links_gbps": dict(top)}


# ----------------------------------------------------------------------------- data
def _injection(G, gpus):
    bw = per_gpu_bandwidth(G)
    return {g: bw[g][1] for g in gpus}


def traffic_matrix(G, pattern, *, gpus=None, seed=0):
    """The demands of a pattern or a matrix file among the chosen GPUs.

    Parameters
    ----------
    G
        A fabric graph.
    pattern
        One of :data:`PATTERNS`, or a JSON file: ``{"gpus": [...], "matrix":
        [[Gb/s, ...], ...]}`` or a list of ``{"src", "dst", "gbps"}``.
    gpus
        Number of GPUs (the first ``gpus`` in topology order; default all).
        Ignored for a matrix file.
    seed
        Seed of the permutation.

    Returns
    -------
    tuple
        ``(endpoint GPU names, list of (src, dst, Gb/s))``.

    Raises
    ------
    ParameterError
        Unknown pattern, unreadable or non-UTF-8 file, unknown GPU names,
        fewer than 2 endpoints, a negative or non-finite demand (the message
        names the entry).

    Examples
    --------
    >>> import topologies
    >>> eps, dem = traffic_matrix(topologies.fat_tree_graph(4), "permutation", seed=1)
    >>> len(eps), len(dem), {d for *_, d in dem}
    (16, 16, {400.0})
    """
    all_gpus = gpu_nodes(G)
    if pattern in PATTERNS:
        n = len(all_gpus) if gpus is None else int(gpus)
        if n < 2 or n > len(all_gpus):
            msg = (f"`gpus` (--gpus) must be between 2 and {len(all_gpus)} for this fabric, "
                   f"got {n}")
            raise ParameterError(msg)
        eps = all_gpus[:n]
        inj = _injection(G, eps)
        if pattern == "permutation":
            perm = list(range(n))
            rng = random.Random(seed)
            while True:
                rng.shuffle(perm)
                if all(perm[i] != i for i in range(n)):
                    break
            dem = [(eps[i], eps[perm[i]], inj[eps[i]]) for i in range(n)]
        elif pattern == "ring":
            dem = [(eps[i], eps[(i + 1) % n], inj[eps[i]]) for i in range(n)]
        else:
            dem = [(a, b, inj[a] / (n - 1)) for a in eps for b in eps if a != b]
        return eps, dem
    path = Path(pattern)
    if not path.is_file():
        msg = (f"`pattern` (--pattern) {pattern!r} is neither one of {', '.join(PATTERNS)} nor a "
               "readable matrix file")
        raise ParameterError(msg)
    data = read_json_input(path, option="--pattern",
                           fix=f"give {', '.join(PATTERNS)} or a JSON matrix file")
    dem = []            # (src, dst, Gb/s, the entry's name in the file)
    try:
        if isinstance(data, dict):
            names, mat = list(data["gpus"]), data["matrix"]
            if len(mat) != len(names) or any(len(row) != len(names) for row in mat):
                msg = f"matrix file `{pattern}`: `matrix` must be {len(names)} x {len(names)}"
                raise ParameterError(msg)
            dem = [(names[i], names[j], _gbps(x), f"matrix[{i}][{j}]")
                   for i, row in enumerate(mat) for j, x in enumerate(row) if i != j]
        else:
            dem = [(e["src"], e["dst"], _gbps(e["gbps"]), f"entry {k}") for k, e in enumerate(data)]
    except ParameterError:
        raise
    except (KeyError, TypeError, ValueError):
        msg = (f'matrix file `{pattern}` must hold {{"gpus": [...], "matrix": [[...]]}} or a '
               'list of {"src", "dst", "gbps"}')
        raise ParameterError(msg) from None
    known = set(all_gpus)
    eps = []
    seen = set()
    for a, b, x, entry in dem:
        if not (math.isfinite(x) and x >= 0):
            msg = (f"matrix file `{pattern}`: {entry} ({a} -> {b}) is {x!r} Gb/s; demands must be "
                   "finite numbers >= 0")
            raise ParameterError(msg)
        for g in (a, b):
            if not isinstance(g, str) or g not in known:
                msg = (f"matrix file `{pattern}`: {entry} names {g!r}, which is not a GPU of this "
                       "fabric")
                raise ParameterError(msg)
            if x and g not in seen:
                seen.add(g)
                eps.append(g)
    dem = [(a, b, x) for a, b, x, _ in dem if x]
    if len(eps) < 2:
        msg = f"matrix file `{pattern}` has fewer than 2 endpoints with demand"
        raise ParameterError(msg)
    return eps, dem


def _gbps(x):
    """A demand from a matrix file as a float (bools and non-numbers raise ValueError)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, str)):
        raise ValueError(x)
    return float(x)


def _cross_domain_check(G, dem, pattern, gpus):
    """Refuse demands that never leave an NVLink domain: the LP would be unbounded."""
    if any(x > 0 and domain_of(G, a) != domain_of(G, b) for a, b, x in dem):
        return
    all_gpus = gpu_nodes(G)
    first = domain_of(G, all_gpus[0])
    span = next((i + 1 for i, g in enumerate(all_gpus) if domain_of(G, g) != first), None)
    why = ("the throughput LP models the scale-out network between NVLink domains (a domain is "
           "one node, NVLink unconstrained), so demand inside one domain has no bound")
    if pattern not in PATTERNS:
        msg = (f"matrix file `{pattern}` has no demand between different NVLink domains; {why}; "
               "add demands between GPUs of different domains")
    elif span is None:
        msg = (f"`gpus` (--gpus): all {len(all_gpus)} GPUs of this fabric are in one NVLink "
               f"domain; {why}; use a fabric with at least 2 domains (e.g. a scale-out preset), "
               "or `fabric collective` for traffic inside a domain")
    else:
        msg = (f"`gpus` (--gpus) {gpus if gpus is not None else len(all_gpus)} keeps every "
               f"endpoint in one NVLink domain; {why}; use --gpus {span} or more (the smallest "
               "count spanning 2 domains)")
    raise ParameterError(msg)


# ----------------------------------------------------------------------------- model
def _node_key(G, g, pxn):
    return ("dom", domain_of(G, g)) if pxn else ("dom", ("gpu", g))


def _collapsed_network(G, pxn=True):
    """Arcs (a, b, cap Gb/s, label) of the collapsed network; node ids are names or domain keys."""
    arcs = []
    kind = G.nodes
    nic_ports = defaultdict(list)
    nic_pcie = defaultdict(lambda: defaultdict(float))   # NIC -> node key -> pcie Gb/s
    for u, v, d in G.edges(data=True):
        ku, kv = kind[u]["kind"], kind[v]["kind"]
        if d["medium"] in NETWORK_MEDIA:
            if ku == "nic":
                nic_ports[u].append((v, d["bandwidth_gbps"]))
            elif kv == "nic":
                nic_ports[v].append((u, d["bandwidth_gbps"]))
            else:
                arcs.append((u, v, d["bandwidth_gbps"], f"{u} -> {v}"))
                arcs.append((v, u, d["bandwidth_gbps"], f"{v} -> {u}"))
        elif d["medium"] == "pcie" and {ku, kv} == {"gpu", "nic"}:
            g, nic = (u, v) if ku == "gpu" else (v, u)
            nic_pcie[nic][_node_key(G, g, pxn)] += d["bandwidth_gbps"]
    # An aggregated NIC node serves several GPUs (each capped by its own pcie edge);
    # with the domain collapse their pcie rates add up on one arc.
    for nic, by_key in nic_pcie.items():
        ports = nic_ports.get(nic, [])
        if len(ports) == 1 and len(by_key) == 1:
            (dom, pcie), = by_key.items()
            sw, bw = ports[0]
            cap = min(pcie, bw)
            arcs.append((dom, sw, cap, f"{nic} -> {sw}"))
            arcs.append((sw, dom, cap, f"{sw} -> {nic}"))
        elif ports:
            for dom, pcie in by_key.items():
                arcs.append((dom, nic, pcie, f"{dom[1]} -> {nic}"))
                arcs.append((nic, dom, pcie, f"{nic} -> {dom[1]}"))
            for sw, bw in ports:
                arcs.append((nic, sw, bw, f"{nic} -> {sw}"))
                arcs.append((sw, nic, bw, f"{sw} -> {nic}"))
    return arcs


def _aggregate(G, demands, pxn):
    """Demands summed per (source node, sink node) in first-seen order, and the intra-domain sum.

    The sums are the sequential sums of the demands in their order (numpy's
    ``bincount`` and ``cumsum`` add in input order), so they are the same bits
    as a plain loop's.
    """
    from operator import itemgetter

    gpus = gpu_nodes(G)
    index = {g: i for i, g in enumerate(gpus)}
    try:
        a = np.fromiter(map(index.__getitem__, map(itemgetter(0), demands)), np.int64,
                        len(demands))
        b = np.fromiter(map(index.__getitem__, map(itemgetter(1), demands)), np.int64,
                        len(demands))
    except KeyError:
        return _aggregate_loop(G, demands, pxn)
    x = np.fromiter(map(itemgetter(2), demands), float, len(demands))
    doms, dom_id = {}, np.empty(len(gpus), np.int64)
    keys, key_id = {}, np.empty(len(gpus), np.int64)
    for i, g in enumerate(gpus):
        dom_id[i] = doms.setdefault(domain_of(G, g), len(doms))
        key_id[i] = keys.setdefault(_node_key(G, g, pxn), len(keys))
    key_list = list(keys)
    same = dom_id[a] == dom_id[b]
    intra = float(np.cumsum(x[same])[-1]) if same.any() else 0.0
    cross = ~same & (x > 0)
    agg = defaultdict(lambda: defaultdict(float))     # source node -> sink node -> Gb/s
    if cross.any():
        ka, kb, xc = key_id[a[cross]], key_id[b[cross]], x[cross]
        pair = ka * len(key_list) + kb
        uniq, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
        sums = np.bincount(inverse.reshape(-1), weights=xc, minlength=len(uniq))
        for j in np.argsort(first, kind="stable").tolist():
            s, t = divmod(int(uniq[j]), len(key_list))
            agg[key_list[s]][key_list[t]] = float(sums[j])
    return agg, intra


def _aggregate_loop(G, demands, pxn):
    """:func:`_aggregate` for demands that name nodes other than GPUs."""
    agg = defaultdict(lambda: defaultdict(float))
    intra = 0.0
    for a, b, x in demands:
        if domain_of(G, a) == domain_of(G, b):
            intra += x
        elif x > 0:
            agg[_node_key(G, a, pxn)][_node_key(G, b, pxn)] += x
    return agg, intra


def _build_model(G, demands, *, solver="auto", pxn=True):
    """The maximum-concurrent-flow LP (see the module notes).

    Parameters
    ----------
    G
        A fabric graph.
    demands
        ``(src GPU, dst GPU, Gb/s)`` triples.
    solver
        ``"auto"``, ``"GLOP"`` or ``"PDLP"``.
    pxn
        True: a GPU's traffic may leave through any NIC of its NVLink domain
        (the domain collapse); False: only through its own NIC(s) (rail-bound,
        as the ECMP router does; one commodity per source GPU, a larger LP).

    Returns
    -------
    tuple
        ``(pywraplp.Solver, vars)`` with ``vars["lambda"]``, ``vars["flow"][source, arc]``,
        ``vars["arcs"]`` and ``vars["intra_gbps"]``. Only for use inside :mod:`solvers`.

    Raises
    ------
    ParameterError
        Unknown solver.
    FabricError
        A demand between domains whose NICs are not cabled to a network.
    """
    from ortools.linear_solver import pywraplp

    if solver not in ("auto", "GLOP", "PDLP"):
        msg = f"`solver` must be auto, GLOP or PDLP, got {solver!r}"
        raise ParameterError(msg)
    arcs = _collapsed_network(G, pxn)
    agg, intra = _aggregate(G, demands, pxn)
    nodes = {n for a in arcs for n in a[:2]}
    for s, sinks in agg.items():
        for t in (s, *sinks):
            if t not in nodes:
                msg = (f"NVLink domain {t[1]} has no NIC cabled to a network, so its GPUs cannot "
                       "reach other domains; use a scale-out preset or GPUs in one domain")
                raise FabricError(msg)
    n_vars = len(agg) * len(arcs) + 1
    name = solver if solver != "auto" else ("GLOP" if n_vars <= GLOP_MAX_VARS else "PDLP")
    lp = pywraplp.Solver.CreateSolver(name)
    inf = lp.infinity()
    lam = lp.NumVar(0.0, inf, "lambda")
    out_arcs = defaultdict(list)
    in_arcs = defaultdict(list)
    for k, (a, b, _, _) in enumerate(arcs):
        out_arcs[a].append(k)
        in_arcs[b].append(k)
    # flow[s, k]: Gb/s of source-domain s's traffic on arc k.
    flow = {}
    for si, s in enumerate(agg):
        for k, arc in enumerate(arcs):
            if arc[1] == s:                # never flow back into the source
                continue
            flow[s, k] = lp.NumVar(0.0, inf, f"f_{si}_{k}")
    # Capacity: all commodities on an arc within its rate.
    for k, (_, _, cap, _) in enumerate(arcs):
        c = lp.Constraint(-inf, cap, f"cap_{k}")
        for s in agg:
            v = flow.get((s, k))
            if v is not None:
                c.SetCoefficient(v, 1.0)
    # Conservation: inflow - outflow = lambda * demand at every node but the source.
    for si, (s, sinks) in enumerate(agg.items()):
        for n in nodes:
            if n == s:
                continue
            c = lp.Constraint(0.0, 0.0, f"cons_{si}")
            for k in in_arcs[n]:
                c.SetCoefficient(flow[s, k], 1.0)
            for k in out_arcs[n]:
                v = flow.get((s, k))
                if v is not None:
                    c.SetCoefficient(v, -1.0)
            d = sinks.get(n, 0.0)
            if d:
                c.SetCoefficient(lam, -d)
    lp.Maximize(lam)
    return lp, {"lambda": lam, "flow": flow, "arcs": arcs, "intra_gbps": intra,
                "solver": name, "n_vars": len(flow) + 1, "sources": list(agg)}


# ----------------------------------------------------------------------------- symmetry
SYMMETRY_MIN_RATIO = 4
"""Solve the reduced LP only when it has at least this many times fewer variables."""


def _lp_arrays(G, demands, pxn):
    """The LP of :func:`_build_model` as sparse arrays (the same variables and rows).

    Returns None when there is no cross-domain demand.
    """
    arcs = _collapsed_network(G, pxn)
    agg, intra = _aggregate(G, demands, pxn)
    if not agg:
        return None
    index = {}
    for a, b, _, _ in arcs:
        index.setdefault(a, len(index))
        index.setdefault(b, len(index))
    for s, sinks in agg.items():
        for t in (s, *sinks):
            if t not in index:
                return None            # _build_model raises the error message
    n_nodes, n_arcs = len(index), len(arcs)
    arc_a = np.fromiter((index[a[0]] for a in arcs), np.int64, n_arcs)
    arc_b = np.fromiter((index[a[1]] for a in arcs), np.int64, n_arcs)
    cap = np.fromiter((a[2] for a in arcs), float, n_arcs)
    sources = list(agg)
    src = np.array([index[s] for s in sources], dtype=np.int64)
    # flow variable (s, k) exists unless arc k enters the source s; variable 0 is lambda
    keep = arc_b[None, :] != src[:, None]
    var_s, var_k = np.nonzero(keep)
    n_flow = len(var_s)
    var_id = np.arange(1, n_flow + 1)
    # rows: capacity row k (0 .. n_arcs-1), conservation row (s, n) at n_arcs + s * n_nodes + n
    cons = n_arcs + var_s * n_nodes
    tail = arc_a[var_k]
    out_mask = tail != src[var_s]
    rows = [var_k, cons + arc_b[var_k], (cons + tail)[out_mask]]
    cols = [var_id, var_id, var_id[out_mask]]
    vals = [np.ones(n_flow), np.ones(n_flow), -np.ones(int(out_mask.sum()))]
    lam_rows, lam_vals = [], []
    for si, s in enumerate(sources):
        for t, d in agg[s].items():
            lam_rows.append(n_arcs + si * n_nodes + index[t])
            lam_vals.append(-d)
    rows.append(np.array(lam_rows, dtype=np.int64))
    cols.append(np.zeros(len(lam_rows), dtype=np.int64))
    vals.append(np.array(lam_vals))
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    # drop the source's own (absent) conservation rows and renumber the rest
    n_rows = n_arcs + len(sources) * n_nodes
    used = np.zeros(n_rows, bool)
    used[:n_arcs] = True
    used[n_arcs:] = True
    used[n_arcs + np.arange(len(sources)) * n_nodes + src] = False
    renum = np.cumsum(used) - 1
    rows = renum[rows]
    row_hi = np.concatenate([cap, np.zeros(int(used[n_arcs:].sum()))])
    row_eq = np.concatenate([np.zeros(n_arcs, bool), np.ones(len(row_hi) - n_arcs, bool)])
    return {"arcs": arcs, "var_k": var_k, "rows": rows, "cols": cols, "vals": vals,
            "row_hi": row_hi, "row_eq": row_eq, "n_vars": n_flow + 1, "intra": intra,
            "sources": sources}


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _mix(x):
    """splitmix64 of a uint64 array (a hash of each element)."""
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64) + _MIX
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _relabel(*keys):
    """Dense class ids 0.. of the rows of ``keys`` (equal tuples, equal ids)."""
    order = np.lexsort(keys[::-1])
    step = np.zeros(len(order), bool)
    for k in keys:
        s = k[order]
        step[1:] |= s[1:] != s[:-1]
    ids = np.empty(len(order), np.int64)
    ids[order] = np.cumsum(step)
    return ids


def _equitable_partition(m):
    """Colour refinement of the LP's variable-row graph (coefficients as edge colours).

    Returns ``(variable class, row class)``: each variable of a class meets the
    same multiset of (coefficient, row class), and each row of a class the same
    multiset of (coefficient, variable class). Classes start apart by objective
    (lambda alone), by row bounds and row sense.
    """
    rows, cols, vals = m["rows"], m["cols"], m["vals"]
    n_vars, n_rows = m["n_vars"], len(m["row_hi"])
    coef = np.round(vals * 1e6).astype(np.int64).view(np.uint64)
    vcls = np.zeros(n_vars, np.int64)
    vcls[0] = 1
    rcls = _relabel(np.round(m["row_hi"] * 1e6).astype(np.int64), m["row_eq"].astype(np.int64))
    by_col = np.argsort(cols, kind="stable")
    by_row = np.argsort(rows, kind="stable")
    col_start = np.searchsorted(cols[by_col], np.arange(n_vars))
    row_start = np.searchsorted(rows[by_row], np.arange(n_rows))
    has_col = np.bincount(cols, minlength=n_vars) > 0
    has_row = np.bincount(rows, minlength=n_rows) > 0
    nv, nr = 2, int(rcls.max()) + 1
    while True:
        h = _mix(_mix(rcls[rows].astype(np.uint64)) ^ coef)[by_col]
        sig_v = np.zeros(n_vars, np.uint64)
        sig_v[has_col] = np.add.reduceat(h, col_start[has_col])
        h = _mix(_mix(vcls[cols].astype(np.uint64) + np.uint64(7)) ^ coef)[by_row]
        sig_r = np.zeros(n_rows, np.uint64)
        sig_r[has_row] = np.add.reduceat(h, row_start[has_row])
        vcls = _relabel(vcls, sig_v.view(np.int64))
        rcls = _relabel(rcls, sig_r.view(np.int64))
        new_v, new_r = int(vcls.max()) + 1, int(rcls.max()) + 1
        if (new_v, new_r) == (nv, nr) or new_v * SYMMETRY_MIN_RATIO > n_vars:
            # stable, or already too fine to pay (refinement only splits classes)
            return vcls, rcls
        nv, nr = new_v, new_r


def _block_sums_constant(a_idx, b_cls, vals, a_cls, n_a):
    """Every member of each ``a`` class has the same coefficient sum into each ``b`` class."""
    key = _relabel(a_idx, b_cls)
    sums = np.bincount(key, weights=vals)
    first = np.unique(key, return_index=True)[1]
    k_a, k_b = a_idx[first], b_cls[first]
    size = np.bincount(a_cls, minlength=n_a)
    grp = _relabel(a_cls[k_a], k_b)
    lo = np.full(grp.max() + 1, np.inf)
    hi = np.full(grp.max() + 1, -np.inf)
    np.minimum.at(lo, grp, sums)
    np.maximum.at(hi, grp, sums)
    members = np.bincount(grp)
    g_first = np.unique(grp, return_index=True)[1]
    full = members == size[a_cls[k_a[g_first]]]
    return bool(full.all() and np.all(hi - lo <= 1e-9 * np.maximum(1.0, np.abs(hi))))


def _reduced_model(G, demands, pxn):
    """The throughput LP folded by its symmetry, or None when it has too little.

    Colour refinement finds an *equitable partition* of the LP (variables and
    rows in classes such that every row of a class has the same coefficient sum
    over every variable class, and every variable of a class the same sum over
    every row class). Averaging any solution over the classes keeps it feasible
    with the same lambda (the averaging maps commute with the constraint
    matrix), so an optimum constant on each class exists, and the LP with one
    variable per class and one row per row class has the same optimum
    (Grohe, Kersting, Mladenov, Selman: "Dimension reduction via colour
    refinement", ESA 2014). Rail-optimized Clos fabrics under uniform demand
    (alltoall) fold to a few hundred variables. The partition is checked
    exactly (coefficient sums, 1e-9 relative) before use; any doubt returns
    None and the full LP is solved.
    """
    m = _lp_arrays(G, demands, pxn)
    if m is None:
        return None
    vcls, rcls = _equitable_partition(m)
    n_v, n_r = int(vcls.max()) + 1, int(rcls.max()) + 1
    if n_v * SYMMETRY_MIN_RATIO > m["n_vars"]:
        return None
    rows, cols, vals = m["rows"], m["cols"], m["vals"]
    if not (_block_sums_constant(rows, vcls[cols], vals, rcls, n_r)
            and _block_sums_constant(cols, rcls[rows], vals, vcls, n_v)):
        return None
    # one representative row per row class: its coefficient sum over each variable class
    rep = np.unique(rcls, return_index=True)[1]
    is_rep = np.zeros(len(rcls), bool)
    is_rep[rep] = True
    sel = is_rep[rows]
    key = _relabel(rcls[rows[sel]], vcls[cols[sel]])
    first = np.unique(key, return_index=True)[1]
    coeff = np.bincount(key, weights=vals[sel])
    m.update(vcls=vcls, rcls=rcls, n_vclasses=n_v, rep=rep,
             red=(rcls[rows[sel]][first], vcls[cols[sel]][first], coeff))
    return m


def _solve_reduced(m, solver, time_limit_s, threads):
    """Solve the folded LP; return (status, lambda, per-arc loads, solve s, solver name)."""
    from ortools.linear_solver import pywraplp

    name = "GLOP" if solver == "auto" else solver
    lp = pywraplp.Solver.CreateSolver(name)
    inf = lp.infinity()
    y = [lp.NumVar(0.0, inf, f"y_{i}") for i in range(m["n_vclasses"])]
    cons = []
    for r in m["rep"]:
        hi = float(m["row_hi"][r])
        cons.append(lp.Constraint(hi if m["row_eq"][r] else -inf, hi))
    for rc, vc, c in zip(*m["red"]):
        cons[rc].SetCoefficient(y[vc], float(c))
    lam_class = int(m["vcls"][0])
    lp.Maximize(y[lam_class])
    lp.SetTimeLimit(int(time_limit_s * 1000))
    lp.SetNumThreads(int(threads))
    if name == "PDLP":
        lp.SetSolverSpecificParametersAsString(
            "termination_criteria { simple_optimality_criteria { eps_optimal_relative: 1e-5 "
            "eps_optimal_absolute: 1e-6 } }")
    t0 = time.perf_counter()
    status = lp.Solve()
    solve_s = time.perf_counter() - t0
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return status, None, None, solve_s, name
    value = np.array([v.solution_value() for v in y])
    x = value[m["vcls"][1:]]
    loads = np.bincount(m["var_k"], weights=x, minlength=len(m["arcs"]))
    return status, float(value[lam_class]), loads, solve_s, name


def solve_throughput(G, demands, *, time_limit_s=60.0, solver="auto", threads=2, pxn=True,
                     symmetry=True):
    """Solve the max-concurrent-flow LP of ``demands`` on ``G``.

    With ``symmetry`` (default) the LP is first folded by its symmetry (see
    :func:`_reduced_model`: exact, the same optimum); when it has too little
    (fewer than :data:`SYMMETRY_MIN_RATIO` times fewer variables) or the
    folded LP is not solved, the full LP is. ``lp_vars`` is the full LP's size.

    Returns
    -------
    LPSolution

    Raises
    ------
    ParameterError
        No demand crosses NVLink domains (``lambda`` would be unbounded).
    SolverTimeoutError
        No solution within the time limit.
    FabricError
        The LP is infeasible or unbounded (a modelling error).
    """
    from ortools.linear_solver import pywraplp

    if solver in ("auto", "GLOP", "PDLP") and symmetry:
        m = _reduced_model(G, demands, pxn)
        if m is not None:
            status, lam, arc_loads, solve_s, name = _solve_reduced(m, solver, time_limit_s,
                                                                   threads)
            if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                loads = defaultdict(float)
                for k in np.flatnonzero(arc_loads > 1e-9):
                    loads[m["arcs"][k][3]] += float(arc_loads[k])
                status_name = "OPTIMAL" if status == pywraplp.Solver.OPTIMAL else "FEASIBLE"
                return LPSolution(lam, dict(loads), name, status_name, solve_s, m["n_vars"],
                                  m["intra"])
    lp, v = _build_model(G, demands, solver=solver, pxn=pxn)
    if not v["sources"]:
        msg = ("`demands` has no demand between different NVLink domains, so the throughput LP "
               "(NVLink domains collapsed) is unbounded; give demands between domains")
        raise ParameterError(msg)
    lp.SetTimeLimit(int(time_limit_s * 1000))
    lp.SetNumThreads(int(threads))
    if v["solver"] == "PDLP":
        lp.SetSolverSpecificParametersAsString(
            "termination_criteria { simple_optimality_criteria { eps_optimal_relative: 1e-5 "
            "eps_optimal_absolute: 1e-6 } }")
    t0 = time.perf_counter()
    status = lp.Solve()
    solve_s = time.perf_counter() - t0
    if status == pywraplp.Solver.OPTIMAL:
        name = "OPTIMAL"
    elif status == pywraplp.Solver.FEASIBLE:
        name = "FEASIBLE"
    elif status == pywraplp.Solver.NOT_SOLVED:
        msg = f"the LP found no solution within {time_limit_s:g} s; raise `time_limit_s`"
        raise SolverTimeoutError(msg)
    else:
        msg = f"the throughput LP ended with status {status}; this is a modelling error"
        raise FabricError(msg)
    lam = v["lambda"].solution_value()
    loads = defaultdict(float)
    for (_, k), var in v["flow"].items():
        x = var.solution_value()
        if x > 1e-9:
            loads[v["arcs"][k][3]] += x
    return LPSolution(lam, dict(loads), v["solver"], name, solve_s, v["n_vars"], v["intra_gbps"])


def ecmp_utilization(G, demands, *, router=None):
    """Max link utilization of ``demands`` (Gb/s) under the fabric's ECMP routing.

    Returns
    -------
    tuple
        ``(max utilization, busiest arc "u -> v")``.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.fat_tree_graph(4)
    >>> eps, dem = traffic_matrix(G, "ring")
    >>> round(ecmp_utilization(G, dem)[0], 3)
    1.0
    """
    r = router or Router(G)
    loads = r.new_loads()
    idx = r.gpu_index
    src = np.array([idx[a] for a, _, _ in demands], dtype=np.int64)
    dst = np.array([idx[b] for _, b, _ in demands], dtype=np.int64)
    gbytes = np.array([x / 8.0 for *_, x in demands])          # GB/s
    r.add_flows(loads, src, dst, gbytes)
    util = loads / np.maximum(r.arc_cap_GBps, 1e-12)
    k = r.busiest_arc(util)
    return float(util[k]), f"{r.nodes[r.arc_u[k]]} -> {r.nodes[r.arc_v[k]]}"


def throughput(G, pattern="permutation", *, gpus=None, seed=0, time_limit_s=60.0,
               solver="auto", router=None, pxn=True):
    """Maximum concurrent flow of a pattern on ``G``, optimal (LP) and under ECMP.

    Parameters
    ----------
    G
        A fabric graph.
    pattern, gpus, seed
        As for :func:`traffic_matrix`.
    time_limit_s
        LP time limit.
    solver
        ``"auto"`` (GLOP up to :data:`GLOP_MAX_VARS` variables, else PDLP; the
        default may change), ``"GLOP"`` or ``"PDLP"``.
    router
        A :class:`solvers.routing.Router` of ``G`` to reuse.
    pxn
        See :func:`solve_throughput`.

    Returns
    -------
    ThroughputResult

    Raises
    ------
    ParameterError
        Bad pattern, GPU count, file or solver; no demand between NVLink
        domains (every endpoint in one domain, see the module notes).
    SolverTimeoutError
        No LP solution within the time limit.
    FabricError
        Demands between domains without a network.

    Examples
    --------
    >>> import topologies
    >>> r = throughput(topologies.fat_tree_graph(4), "permutation", seed=3)
    >>> round(r.optimal_fraction, 6), r.solver
    (1.0, 'GLOP')
    """
    eps, dem = traffic_matrix(G, pattern, gpus=gpus, seed=seed)
    _cross_domain_check(G, dem, pattern, gpus)
    sol = solve_throughput(
        G, dem, time_limit_s=time_limit_s, solver=solver, pxn=pxn)
    util, arc = ecmp_utilization(G, dem, router=router)
    total = float(sum(x for *_, x in dem))
    return ThroughputResult(
        pattern=pattern, endpoints=len(eps), demand_gbps=total,
        intra_domain_gbps=float(sol.intra_gbps), optimal_fraction=float(sol.lam),
        ecmp_fraction=float(1.0 / util) if util > 0 else math.inf, max_link_utilization=util,
        ecmp_bottleneck=arc, link_loads_gbps=sol.link_loads_gbps, solver=sol.solver,
        status=sol.status, solve_s=sol.solve_s, lp_vars=sol.lp_vars)


# ----------------------------------------------------------------------------- collectives
def collective_lower_bound(G, op, size, ranks, *, in_network=False):
    """Bandwidth-only lower bound (us) on ``op`` of ``size`` bytes over GPUs ``ranks``.

    The tightest of two cut bounds, at raw link rates:

    * per rank: the bytes a rank must send over its own NVLink and NIC rate;
    * per NVLink domain: the bytes that must cross the domain's boundary over
      the network rate of the NICs of the ranks *in that domain* (a rank's
      traffic leaves through its own NIC or, with PXN, through the NIC of
      another rank of the communicator; idle GPUs' NICs carry none). With
      ``D`` domains an allreduce must move ``2 (D-1)/D x S`` out of (and into)
      every domain (reduce-scatter then allgather among the domains), or ``S``
      with in-network reduction (``in_network=True``: IB SHARP).

    ``size`` is nccl-tests' size (for allgather and reduce-scatter, the full
    buffer; alltoall, the per-rank buffer).

    Parameters
    ----------
    G
        A fabric graph.
    op : str
        A collective of :data:`solvers.collectives.OPS`.
    size : int
        Bytes.
    ranks : list of str
        GPU names, rank 0 first.

    Returns
    -------
    float
        Lower bound in us (latency excluded).

    Raises
    ------
    ParameterError
        Unknown op or fewer than 2 ranks.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.dgx_h100_graph()
    >>> round(collective_lower_bound(G, "allreduce", 2**30, [f"d0-gpu{i}" for i in range(8)]))
    1879
    """
    from solvers.collectives import OPS

    if op not in OPS:
        msg = f"unknown `op` (--op) {op!r}; use one of {', '.join(OPS)}"
        raise ParameterError(msg)
    n = len(ranks)
    if n < 2:
        msg = "`ranks` must name at least 2 GPUs"
        raise ParameterError(msg)
    S = float(size)
    per_rank = {"allreduce": S * (n - 1) / n, "allgather": S * (n - 1) / n,
                "reducescatter": S * (n - 1) / n, "alltoall": S * (n - 1) / n,
                "broadcast": S, "reduce": S, "sendrecv": S}[op]
    bw = per_gpu_bandwidth(G)
    inj = min(bw[g][0] + bw[g][1] for g in ranks)
    bound = per_rank / (inj * 125.0) if inj > 0 else 0.0      # Gb/s -> bytes/us
    by_dom = defaultdict(int)
    for g in ranks:
        by_dom[domain_of(G, g)] += 1
    if len(by_dom) > 1:
        dom_nic = defaultdict(float)
        for g in ranks:
            dom_nic[domain_of(G, g)] += bw[g][1]
        D = len(by_dom)
        reduce_cross = S if in_network else 2.0 * (D - 1) / D * S
        for key, k in by_dom.items():
            cross = {"allreduce": reduce_cross, "allgather": S * (n - k) / n,
                     "reducescatter": S * (n - k) / n, "alltoall": S * k * (n - k) / n,
                     "broadcast": S, "reduce": S, "sendrecv": S}[op]
            if op == "sendrecv" and k == n:
                cross = 0.0
            if dom_nic[key] > 0:
                bound = max(bound, cross / (dom_nic[key] * 125.0))
    return float(bound)
