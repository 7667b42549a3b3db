"""Hops and ECMP path diversity over the data path (GPUs, NICs, switches).

* **Hops**: shortest GPU-to-GPU paths over the data path (never CPUs or
  hosts), from a seeded sample of source GPUs.
* **ECMP path diversity**: the number of shortest paths between two GPUs.
"""

import random
from collections import Counter

import numpy as np

from fabric.edges import EdgeTable
__all__ = ["hop_histogram", "path_diversity"]

_DATA_KINDS = frozenset(("gpu", "nic", "nvswitch", "leaf", "spine", "core", "wan"))
"""Kinds on the data path (hosts and CPUs carry no collective traffic)."""

def _data_csr(G, table=None):
    """Directed CSR adjacency of the data path (GPUs, NICs, switches) and the node index.

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
    names = [t.names[i] for i in np.flatnonzero(keep)]
    shared = np.zeros(len(t.names), dtype=bool)
    for i in np.flatnonzero(t.kinds_of("nic")):
        shared[i] = G.nodes[t.names[i]].get("chips", 1) > 1
    twin = np.full(len(t.names), -1, dtype=np.int64)
    twin[shared] = n + np.arange(int(shared.sum()))
    names += [t.names[i] for i in np.flatnonzero(shared)]
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
    return M, names, {name: i for i, name in enumerate(names[:n])}


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
    from scipy.sparse.csgraph import shortest_path

    M, names, index = _csr or _data_csr(G)
    gpus = np.array([index[n] for n, k in G.nodes(data="kind") if k == "gpu"])
    rng = random.Random(seed)
    picks = gpus.tolist() if len(gpus) <= sources else rng.sample(gpus.tolist(), sources)
    dist = shortest_path(M, unweighted=True, directed=True, indices=picks)
    d = dist[:, gpus]
    counts = Counter()
    for row, src in zip(d, picks):
        vals, n = np.unique(row[np.isfinite(row) & (gpus != src)], return_counts=True)
        for h, c in zip(vals.astype(int).tolist(), n.tolist()):
            counts[h] += c
    total = sum(counts.values()) or 1
    return {"diameter_hops": max(counts) if counts else 0,
            "histogram": {h: round(c / total, 6) for h, c in sorted(counts.items())},
            "sources": len(picks), "exact": len(picks) == len(gpus)}


def _count_shortest_paths(M, src, dst):
    """Number of shortest paths from src to dst by BFS layers (sparse matrix-vector products)."""
    n = M.shape[0]
    dist = np.full(n, -1, dtype=np.int64)
    sigma = np.zeros(n, dtype=np.float64)
    dist[src] = 0
    sigma[src] = 1.0
    frontier = np.zeros(n, dtype=bool)
    frontier[src] = True
    Mt = M.T.tocsr().astype(np.float64)        # contrib[j] = sum over arcs i -> j
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
    gpus = [n for n, k in G.nodes(data="kind") if k == "gpu"]
    if len(gpus) < 2:
        return []
    first = gpus[0]
    fd = G.nodes[first]
    same_dom = next((g for g in gpus[1:] if G.nodes[g].get("domain") == fd.get("domain")
                     and G.nodes[g].get("site") == fd.get("site")), None)
    last_dom = (G.nodes[gpus[-1]].get("site"), G.nodes[gpus[-1]].get("domain"))
    last = [g for g in gpus if (G.nodes[g].get("site"), G.nodes[g].get("domain")) == last_dom]
    pairs = []
    if same_dom:
        pairs.append((same_dom, "same NVLink domain"))
    if last_dom != (fd.get("site"), fd.get("domain")):
        rail = [g for g in last if G.nodes[g].get("rail") == fd.get("rail")]
        other = [g for g in last if G.nodes[g].get("rail") != fd.get("rail")]
        if rail:
            pairs.append((rail[0], "same rail, last domain"))
        if other:
            pairs.append((other[-1], "other rail, last domain"))
    out = []
    for dst, relation in pairs:
        hops, paths = _count_shortest_paths(M, index[first], index[dst])
        out.append({"src": first, "dst": dst, "relation": relation, "hops": hops,
                    "paths": int(paths) if paths < 2 ** 53 else paths})
    return out
