"""Hops and ECMP path diversity over the data path (GPUs, NICs, switches).

* **Hops**: shortest GPU-to-GPU paths over the data path (never CPUs or
  hosts), from a seeded sample of source GPUs.
* **ECMP path diversity**: the number of shortest paths between two GPUs.
"""

import random
from collections import Counter
from itertools import compress, repeat

import numpy as np

from fabric.edges import EdgeTable
from fabric.locality import domain_ids

__all__ = ["hop_histogram", "path_diversity"]

_DATA_KINDS = frozenset(("gpu", "nic", "nvswitch", "leaf", "spine", "core", "wan"))
"""Kinds on the data path (hosts and CPUs carry no collective traffic)."""


class _DataIndex:
    """Node name -> data-path node id of :func:`_data_csr` (a view of the edge table's
    index; KeyError for a node off the data path)."""

    def __init__(self, t, ids):
        self.t, self.ids = t, ids

    def __getitem__(self, name):
        i = int(self.ids[self.t.index[name]])
        if i < 0:
            raise KeyError(name)
        return i

    def gpu_ids(self):
        """Data-path ids of the GPUs, in topology order."""
        return self.ids[self.t.kinds_of("gpu")]


def _data_csr(G, table=None):
    """Directed CSR adjacency of the data path (GPUs, NICs, switches), its node names and
    the node index (a :class:`_DataIndex`).

    Every edge is usable both ways, except at an aggregated NIC node (``chips``
    > 1, several GPUs of a tray): traffic cannot turn around there, since each
    GPU has its own NIC. Such a NIC gets a twin: GPU -> NIC -> network and
    network -> twin -> GPU, so no path runs GPU -> NIC -> GPU.
    """
    from scipy.sparse import csr_matrix

    t = table if table is not None else EdgeTable(G)
    keep = t.kinds_of(*_DATA_KINDS)
    ids = np.full(len(t.names), -1, dtype=np.int64)
    ids[keep] = np.arange(int(keep.sum()))
    n = int(keep.sum())
    names = list(compress(t.names, keep.tolist()))
    shared = np.zeros(len(t.names), dtype=bool)
    nics = np.flatnonzero(t.kinds_of("nic"))
    shared[nics] = np.fromiter(map(dict.get, map(t.attrs.__getitem__, nics.tolist()),
                                   repeat("chips"), repeat(1)), np.float64, len(nics)) > 1
    twin = np.full(len(t.names), -1, dtype=np.int64)
    twin[shared] = n + np.arange(int(shared.sum()))
    names += compress(t.names, shared.tolist())
    sel = keep[t.u] & keep[t.v]
    u, v = t.u[sel], t.v[sel]
    gpu = t.kinds_of("gpu")
    rows, cols = [], []
    for a, b in ((u, v), (v, u)):
        src, dst = ids[a], ids[b]                 # fancy indexing: fresh arrays
        # into a shared NIC from the network: arrive at its twin; out of a shared NIC
        # towards a GPU: leave from its twin
        into = shared[b] & ~gpu[a]
        dst[into] = twin[b[into]]
        out = shared[a] & gpu[b]
        src[out] = twin[a[out]]
        rows.append(src)
        cols.append(dst)
    r, c = np.concatenate(rows), np.concatenate(cols)
    m = n + int(shared.sum())
    M = csr_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(m, m))
    return M, names, _DataIndex(t, ids)


def _hops_from(M, src):
    """Hops from node ``src`` to every node of the directed graph ``M`` (-1: unreachable).

    One breadth-first search (scipy). Its visiting order is level by level and the
    nodes a node discovers follow its own discoverers', so each level is one contiguous
    run of the order: the run after level ``L`` holds exactly the nodes whose
    predecessor lies in level ``L``, found by one ``searchsorted`` per level.
    """
    from scipy.sparse.csgraph import breadth_first_order

    order, pred = breadth_first_order(M, src, directed=True, return_predecessors=True)
    where = np.empty(M.shape[0], np.int64)           # position of each reached node in order
    where[order] = np.arange(len(order))
    parent = where[pred[order[1:]]]                  # non-decreasing along the order
    ends = [1]                                       # level L: order[ends[L-1]:ends[L]]
    while ends[-1] < len(order):
        ends.append(1 + int(np.searchsorted(parent, ends[-1], side="left")))
    out = np.full(M.shape[0], -1, np.int64)
    out[order] = np.repeat(np.arange(len(ends)), np.diff([0, *ends]))
    return out


def hop_histogram(G, *, sources=16, seed=0, _csr=None):
    """GPU-to-GPU hop counts over the data path, from ``sources`` sampled GPUs.

    Parameters
    ----------
    sources : int
        Source GPUs sampled (seeded); all GPUs when there are fewer.
    seed : int

    Returns
    -------
    dict
        ``diameter_hops`` (max over the sampled sources), ``histogram``
        (hops -> share of GPU pairs), ``sources``, ``exact`` (every GPU was a source).

    Examples
    --------
    >>> import topologies
    >>> hop_histogram(topologies.gb200_nvl72_graph())["histogram"]  # GPU-switch-GPU
    {2: 1.0}
    """
    M, names, index = _csr or _data_csr(G)
    gpus = index.gpu_ids()
    rng = random.Random(seed)
    picks = gpus.tolist() if len(gpus) <= sources else rng.sample(gpus.tolist(), sources)
    counts = Counter()
    for src in picks:
        row = _hops_from(M, src)[gpus]
        n = np.bincount(row[(row >= 0) & (gpus != src)])
        for h in np.flatnonzero(n).tolist():
            counts[h] += int(n[h])
    total = sum(counts.values()) or 1
    return {"diameter_hops": max(counts) if counts else 0,
            "histogram": {h: round(c / total, 6) for h, c in sorted(counts.items())},
            "sources": len(picks), "exact": len(picks) == len(gpus)}


def _count_shortest_paths(M, src, dst, Mt=None):
    """Number of shortest paths from src to dst by BFS layers (sparse matrix-vector products).

    ``Mt`` is ``M.T`` as float64 CSR (computed when omitted).
    """
    n = M.shape[0]
    dist = np.full(n, -1, dtype=np.int64)
    sigma = np.zeros(n, dtype=np.float64)
    dist[src] = 0
    sigma[src] = 1.0
    frontier = np.zeros(n, dtype=bool)
    frontier[src] = True
    if Mt is None:
        Mt = M.T.tocsr().astype(np.float64)    # contrib[j] = sum over arcs i -> j
    level = 0
    while frontier.any() and dist[dst] < 0:
        contrib = Mt @ np.where(frontier, sigma, 0.0)
        new = (contrib > 0) & (dist < 0)
        level += 1
        dist[new] = level
        sigma[new] = contrib[new]
        frontier = new
    return int(dist[dst]), float(sigma[dst])


def path_diversity(G, *, _csr=None):
    """Shortest-path (ECMP) diversity between representative GPU pairs.

    Pairs: the first GPU and (a) a GPU of its own NVLink domain, (b) the GPU
    on the same rail in the last domain (another pod or site when there is
    one), (c) a GPU on another rail in the last domain.

    Returns
    -------
    list of dict
        ``src``, ``dst``, ``relation``, ``hops``, ``paths``.

    Examples
    --------
    >>> import topologies
    >>> path_diversity(topologies.gb200_nvl72_graph())[0]["paths"]  # one path per chip
    18
    """
    M, names, index = _csr or _data_csr(G)
    t = index.t
    gpu_idx = np.flatnonzero(t.kinds_of("gpu")).tolist()
    if len(gpu_idx) < 2:
        return []
    gpus = list(map(t.names.__getitem__, gpu_idx))
    first = gpus[0]
    fd = G.nodes[first]
    dom = domain_ids(G, gpus, attrs=list(map(t.attrs.__getitem__, gpu_idx)))
    same = np.flatnonzero(dom[1:] == dom[0])
    same_dom = gpus[int(same[0]) + 1] if len(same) else None
    last = list(map(gpus.__getitem__, np.flatnonzero(dom == dom[-1]).tolist()))
    pairs = []
    if same_dom:
        pairs.append((same_dom, "same NVLink domain"))
    if dom[-1] != dom[0]:
        rail = [g for g in last if G.nodes[g].get("rail") == fd.get("rail")]
        other = [g for g in last if G.nodes[g].get("rail") != fd.get("rail")]
        if rail:
            pairs.append((rail[0], "same rail, last domain"))
        if other:
            pairs.append((other[-1], "other rail, last domain"))
    out = []
    Mt = M.T.tocsr().astype(np.float64) if pairs else None
    for dst, relation in pairs:
        hops, paths = _count_shortest_paths(M, index[first], index[dst], Mt)
        out.append({"src": first, "dst": dst, "relation": relation, "hops": hops,
                    "paths": int(paths) if paths < 2 ** 53 else paths})
    return out
