"""Fabric metrics: bisection bandwidth, oversubscription, hops, path diversity, BOM, power, cost.

Definitions (the numbers ``fabric info`` prints come from here):

* **Bisection** (``bisection_gbps``): the largest flow, Gb/s per direction,
  from the first half of the NVLink domains (topology order; domains are
  never split, so with an odd count the halves differ by one domain) to the
  second half, with any routing. A fabric of one NVLink domain is bisected
  through NVLink instead (first half of its GPUs vs the rest).

  - *exact*: max-flow/min-cut (scipy's Dinic) on the fabric with each NVLink
    domain collapsed into one node (NVLink inside a domain is far faster than
    its NICs, so a domain's traffic may leave through any of its NICs, as
    NCCL's PXN does).
  - *structural*: the same flow computed from the Clos hierarchy, matching
    traffic at the lowest common switch: flows between halves on one leaf
    switch locally, the excess climbs to its pod's spines (up to the leaf's
    uplinks), then to the core (up to the pod's uplinks), then across the
    WAN. This is exact for the full-mesh tiers our builders produce and runs
    in one pass over the edges.
* **Oversubscription** per tier: the tier's down bandwidth over its up bandwidth.
* **Hops**: shortest GPU-to-GPU paths over the data path (GPUs, NICs,
  switches; never CPUs or hosts), from a seeded sample of source GPUs.
* **ECMP path diversity**: the number of shortest paths between two GPUs.
"""

import math
import random
from collections import Counter, defaultdict
from operator import methodcaller

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow, shortest_path

from fabric._edges import KIND_CODE, EdgeTable
from fabric.catalog import default_catalog
from fabric.exceptions import CatalogError, ParameterError
from fabric.metrics import fabric_summary, per_gpu_bandwidth
from fabric.schema import NETWORK_KINDS, NETWORK_MEDIA, NODE_KINDS

__all__ = [
    "bisection_bandwidth",
    "oversubscription",
    "hop_histogram",
    "path_diversity",
    "bill_of_materials",
    "fail_links",
    "fail_switch",
    "fabric_metrics",
]

EXACT_EDGE_LIMIT = 400_000
"""Above this many network edges, ``method="auto"`` uses the structural formula instead of
max-flow (the two agree on every preset where both run; see tests/test_scaleout.py)."""

_DATA_KINDS = frozenset(("gpu", "nic", "nvswitch", "leaf", "spine", "core", "wan"))


def _domains(G):
    """Domain id of every GPU/NIC, and the domain ids in topology order."""
    dom = {}
    order = []
    seen = set()
    for n, d in G.nodes(data=True):
        if d["kind"] in ("gpu", "nic") and "domain" in d:
            key = (d.get("site"), d["domain"])
            dom[n] = key
            if d["kind"] == "gpu" and key not in seen:
                seen.add(key)
                order.append(key)
    return dom, order


def _halves(order):
    half = len(order) // 2
    return set(order[:half]), set(order[half:])


def _flow_network(G, side, t, dom):
    """Collapsed flow network (node count, arc rows, cols, capacities in Gb/s).

    Node 0 is the source, 1 the sink, then one node per NVLink domain, then
    every NIC and network switch. Arcs: both directions of every network edge,
    domain <-> NIC for each GPU-NIC pcie edge, source -> first-half domains and
    second-half domains -> sink with unbounded capacity. ``dom`` maps GPUs and
    NICs to their domain (from :func:`_domains`).
    """
    keys = list(dict.fromkeys(dom.values()))
    dom_id = {k: 2 + i for i, k in enumerate(keys)}
    n_nodes = len(t.names)
    red = np.full(n_nodes, -1, dtype=np.int64)
    net_nodes = np.flatnonzero(t.kinds_of("nic", *NETWORK_KINDS))
    red[net_nodes] = 2 + len(keys) + np.arange(len(net_nodes))
    gpu_dom = np.full(n_nodes, -1, dtype=np.int64)
    for name, key in dom.items():
        gpu_dom[t.index[name]] = dom_id[key]
    net = t.mask(*NETWORK_MEDIA)
    gpu, nic = t.kinds_of("gpu"), t.kinds_of("nic")
    pcie = t.mask("pcie") & ((gpu[t.u] & nic[t.v]) | (nic[t.u] & gpu[t.v]))
    pu, pv = t.u[pcie], t.v[pcie]
    a = np.concatenate([red[t.u[net]], np.where(gpu[pu], gpu_dom[pu], gpu_dom[pv])])
    b = np.concatenate([red[t.v[net]], np.where(nic[pu], red[pu], red[pv])])
    cap = np.concatenate([t.bw[net], t.bw[pcie]]).round().astype(np.int64)
    big = int(cap.sum()) + 1
    src = np.array([dom_id[k] for k, x in side.items() if x == 0 and k in dom_id], np.int64)
    dst = np.array([dom_id[k] for k, x in side.items() if x == 1 and k in dom_id], np.int64)
    rows = np.concatenate([a, b, np.zeros(len(src), np.int64), dst])
    cols = np.concatenate([b, a, src, np.ones(len(dst), np.int64)])
    data = np.concatenate([cap, cap, np.full(len(src) + len(dst), big, np.int64)])
    return 2 + len(keys) + len(net_nodes), rows, cols, data


def _max_flow(n, rows, cols, data):
    M = csr_matrix((data.astype(np.float64), (rows, cols)), shape=(n, n))
    M.sum_duplicates()
    scale = 1
    top = M.data.max(initial=0)
    if top >= 2 ** 31:
        scale = math.ceil(top / (2 ** 31 - 1))
    M.data = np.floor(M.data / scale).astype(np.int32)
    return float(maximum_flow(M, 0, 1, method="dinic").flow_value) * scale


def _nvlink_bisection(G):
    """One NVLink domain: max-flow from the first half of its GPUs to the rest over NVLink."""
    gpus = [n for n, k in G.nodes(data="kind") if k == "gpu"]
    a, b = gpus[:len(gpus) // 2], gpus[len(gpus) // 2:]
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        if d["medium"] == "nvlink":
            H.add_edge(u, v, capacity=d["bandwidth_gbps"])
            H.add_edge(v, u, capacity=d["bandwidth_gbps"])
    for g in a:
        H.add_edge("__s__", g)
    for g in b:
        H.add_edge(g, "__t__")
    value = nx.maximum_flow_value(H, "__s__", "__t__")
    return value, len(a), len(b)


def _structural(G, side, dom):
    """Hierarchical matching: leaf-local, then pod spines, then site core, then the WAN."""
    kind = nx.get_node_attributes(G, "kind")
    # (site, plane) networks that have a core tier: their pods are the SUs' spines
    three_tier = {(G.nodes[n].get("site"), G.nodes[n].get("plane"))
                  for n, k in kind.items() if k == "core"}
    tier_rank = {"leaf": 1, "spine": 2, "core": 3, "wan": 4}
    leaf_ab = defaultdict(lambda: [0.0, 0.0])     # leaf -> [A Gb/s, B Gb/s] of NIC ports
    up = defaultdict(float)                        # switch -> uplink Gb/s (to a higher tier)
    wan_edges = []
    for u, v, d in G.edges(data=True):
        ku, kv = kind[u], kind[v]
        if d["medium"] == "wan":
            wan_edges.append((u, v, d["bandwidth_gbps"]))
            continue
        if d["medium"] not in NETWORK_MEDIA:
            continue
        if ku == "nic" or kv == "nic":
            nic, sw = (u, v) if ku == "nic" else (v, u)
            if nic in dom:                         # NICs of GPU-less hosts (UFM) carry none
                leaf_ab[sw][side[dom[nic]]] += d["bandwidth_gbps"]
            continue
        lo, hi = (u, v) if tier_rank[ku] < tier_rank[kv] else (v, u)
        up[lo] += d["bandwidth_gbps"]
    nodes = G.nodes
    # matching at the leaves
    total = 0.0
    pod_excess = defaultdict(lambda: [0.0, 0.0])
    for leaf, (a, b) in leaf_ab.items():
        total += min(a, b)
        d = nodes[leaf]
        pod = (d.get("site"), d.get("plane"),
               d.get("pod") if (d.get("site"), d.get("plane")) in three_tier else None)
        pod_excess[pod][0] += min(max(a - b, 0.0), up[leaf])
        pod_excess[pod][1] += min(max(b - a, 0.0), up[leaf])
    # pods: spines of a 3-tier pod have uplinks to the core; 2-tier "pods" are whole planes
    pod_up = defaultdict(float)
    for n, k in kind.items():
        if k == "spine":
            d = nodes[n]
            pod = (d.get("site"), d.get("plane"), d.get("pod"))
            pod_up[pod] += up.get(n, 0.0) if d.get("pod") is not None else 0.0
    site_excess = defaultdict(lambda: [0.0, 0.0])
    for pod, (a, b) in pod_excess.items():
        m = min(a, b)
        total += m
        if pod[2] is None:
            ra, rb = a - m, b - m                   # 2 tiers: the spines face the WAN directly
        else:
            ra, rb = min(a - m, pod_up[pod]), min(b - m, pod_up[pod])
        site_excess[pod[0]][0] += ra
        site_excess[pod[0]][1] += rb
    # core/spine tier of each site: non-blocking; what is left crosses the WAN
    site_up = defaultdict(float)
    for n, k in kind.items():
        if k == "wan":
            site_up[nodes[n].get("site")] += sum(dd["bandwidth_gbps"] for _, _, dd in
                                                 G.edges(n, data=True) if dd["medium"] != "wan")
    a_left = b_left = 0.0
    for site, (a, b) in site_excess.items():
        m = min(a, b)
        total += m
        ra, rb = a - m, b - m
        if site_up:
            ra, rb = min(ra, site_up.get(site, 0.0)), min(rb, site_up.get(site, 0.0))
        a_left += ra
        b_left += rb
    cross = min(a_left, b_left)
    if wan_edges:
        # WAN capacity between sites whose domains are on opposite sides
        sites_a = {key[0] for key, s in side.items() if s == 0}
        sites_b = {key[0] for key, s in side.items() if s == 1}
        wan_cap = sum(bw for u, v, bw in wan_edges
                      if (nodes[u]["site"] in sites_a and nodes[v]["site"] in sites_b)
                      or (nodes[v]["site"] in sites_a and nodes[u]["site"] in sites_b))
        cross = min(cross, wan_cap)
    return total + cross


def bisection_bandwidth(G, *, method="auto", table=None):
    """Bisection bandwidth of a fabric in Gb/s per direction (see the module notes).

    Parameters
    ----------
    G : networkx.Graph
    method : {"auto", "exact", "structural"}
        ``auto`` uses max-flow when the fabric has at most
        :data:`EXACT_EDGE_LIMIT` network edges, else the structural formula.
    table : EdgeTable, optional
        A prebuilt edge table of ``G``.

    Returns
    -------
    dict
        ``bisection_gbps``, ``method``, ``halves_gpus`` (GPUs on each side),
        ``per_gpu_gbps`` (bisection over the smaller half's GPUs).

    Raises
    ------
    ParameterError
        For an unknown method, or ``structural`` on a fabric with one NVLink domain.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.fat_tree_graph(4)
    >>> bisection_bandwidth(G, method="exact")["bisection_gbps"]  # 8 hosts x 400 Gb/s
    3200.0
    """
    if method not in ("auto", "exact", "structural"):
        msg = f"`method` must be auto, exact or structural, got {method!r}"
        raise ParameterError(msg)
    dom, order = _domains(G)
    if len(order) < 2:
        if method == "structural":
            msg = "a single NVLink domain has no scale-out structure; use method='exact'"
            raise ParameterError(msg)
        value, na, nb = _nvlink_bisection(G)
        return {"bisection_gbps": float(value), "method": "exact (NVLink max-flow)",
                "halves_gpus": [na, nb], "per_gpu_gbps": value / max(min(na, nb), 1)}
    a, b = _halves(order)
    side = {k: 0 for k in a}
    side.update({k: 1 for k in b})
    count = Counter(side[dom[n]] for n, k in G.nodes(data="kind") if k == "gpu")
    halves = [count[0], count[1]]
    if method == "auto":
        t = table if table is not None else EdgeTable(G)
        table = t
        network_edges = int(t.mask(*NETWORK_MEDIA).sum())
        method = "exact" if network_edges <= EXACT_EDGE_LIMIT else "structural"
    if method == "exact":
        t = table if table is not None else EdgeTable(G)
        value = _max_flow(*_flow_network(G, side, t, dom))
    else:
        value = _structural(G, side, dom)
    return {"bisection_gbps": float(value), "method": method, "halves_gpus": halves,
            "per_gpu_gbps": value / max(min(halves), 1)}


def oversubscription(G, *, table=None):
    """Down:up bandwidth ratio of each switch tier (and of each site's WAN uplink).

    Parameters
    ----------
    G : networkx.Graph
    table : EdgeTable, optional

    Returns
    -------
    dict
        tier name -> ratio (1.0 = non-blocking), for tiers that have uplinks;
        ``wan``: the largest ratio, over sites, of a site's GPU injection
        bandwidth to the WAN capacity leaving it.

    Examples
    --------
    >>> import topologies
    >>> oversubscription(topologies.fat_tree_graph(4))
    {'leaf': 1.0, 'spine': 1.0}
    """
    t = table if table is not None else EdgeTable(G)
    rank = np.full(len(KIND_CODE) + 1, -1, dtype=np.int64)
    for k, r in (("nic", 0), ("leaf", 1), ("spine", 2), ("core", 3), ("wan", 4)):
        rank[KIND_CODE[k]] = r
    sel = t.mask("infiniband", "ethernet")
    ru, rv = rank[t.kind[t.u[sel]]], rank[t.kind[t.v[sel]]]
    bw = t.bw[sel]
    lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
    up = np.bincount(lo, weights=bw, minlength=5)
    down = np.bincount(hi, weights=bw, minlength=5)
    out = {}
    for tier, r in (("leaf", 1), ("spine", 2), ("core", 3)):
        if up[r]:
            out[tier] = round(float(down[r] / up[r]), 6)
    wan_sel = np.flatnonzero(t.mask("wan"))
    if len(wan_sel):
        site_wan = Counter()            # site -> WAN Gb/s leaving it (edges incident to its router)
        for i in wan_sel.tolist():
            for end in (t.u[i], t.v[i]):
                site_wan[G.nodes[t.names[end]].get("site")] += float(t.bw[i])
        inject = Counter()
        for g, rate in _gpu_network_rate(G, t).items():
            inject[G.nodes[g].get("site")] += rate
        out["wan"] = round(max(inject[s_] / w for s_, w in site_wan.items() if w), 3)
    return out


def _gpu_network_rate(G, table=None):
    return {g: v[1] for g, v in per_gpu_bandwidth(G, table=table).items()}


def _data_csr(G, table=None):
    """Directed CSR adjacency of the data path (GPUs, NICs, switches) and the node index.

    Every edge is usable both ways, except at an aggregated NIC node (``chips``
    > 1, several GPUs of a tray): traffic cannot turn around there, since each
    GPU has its own NIC. Such a NIC gets a twin: GPU -> NIC -> network and
    network -> twin -> GPU, so no path runs GPU -> NIC -> GPU.
    """
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


def _part_field(cat, category, key, field):
    try:
        return cat.part(category, key).field(field)
    except CatalogError:
        return None


_CATEGORY = {"gpu": "gpu", "cpu": "cpu", "nic": "nic", "nvswitch": "nvswitch", "leaf": "switch",
             "spine": "switch", "core": "switch", "wan": "switch"}


def bill_of_materials(G, *, catalog=None, table=None):
    """Parts, cables and optics of a fabric, with power (W) and cost (USD, estimate).

    Counting rules: a virtual (aggregated) node counts as its ``chips`` parts;
    every physical copper link is one cable; every optical link is one fiber
    and occupies its bandwidth at both ends in optics of the edge's ``cable``
    part (a twin-port 800G module serves two 400G links or eight 100G plane
    links: modules = 2 x link Gb/s / module Gb/s); the NVL72 copper spine is
    counted per NVLink link of a rack (as the catalog prices it). Power sums catalog ``power_w`` of GPUs, CPUs, NVLink switch
    chips, NICs, switches and optics; cost sums ``price_usd`` where the catalog
    has one (every price there is an estimate).

    Returns
    -------
    dict
        ``parts`` (category -> part -> count), ``cables`` (part -> count),
        ``optics`` (part -> modules, by bandwidth at both link ends),
        ``links_by_tier`` (``"nic-leaf"``, ``"leaf-spine"``... -> physical links), ``power_w`` (``total``, ``per_gpu``,
        ``by_category``), ``cost_usd`` (``total``, ``per_gpu``, ``estimate``,
        ``unpriced`` parts).

    Examples
    --------
    >>> import topologies
    >>> bom = bill_of_materials(topologies.superpod_h100_graph(1))
    >>> bom["parts"]["switch"]["QM9700"], bom["parts"]["gpu"]["H100"]
    (12, 248)
    """
    cat = catalog or default_catalog()
    parts = defaultdict(Counter)
    racks = set()
    gpus = 0
    for n, d in G.nodes(data=True):
        k = d["kind"]
        if k == "host":
            parts["system"][d["part"]] += 1
            continue
        category = _CATEGORY.get(k)
        if category is None:
            continue
        if d["part"] == "virtual":
            parts[category][d.get("chips_part", "virtual")] += d.get("chips", 1)
        else:
            parts[category][d["part"]] += 1
        if k == "gpu":
            gpus += 1
            if d.get("rack") is not None and G.nodes[d["host"]]["part"].endswith("-tray"):
                racks.add((d.get("site"), d["rack"]))
    cables, optics, tiers = Counter(), Counter(), Counter()
    t = table if table is not None else EdgeTable(G)
    rank = {"nic": 0, "leaf": 1, "spine": 2, "core": 3, "wan": 4}
    sel = np.flatnonzero(t.mask(*NETWORK_MEDIA))
    cab = list(map(methodcaller("get", "cable"), map(t.data.__getitem__, sel.tolist())))
    code = {c: i for i, c in enumerate(dict.fromkeys(cab))}
    names_of = list(code)
    cc = np.fromiter(map(code.__getitem__, cab), np.int64, len(cab))
    nk = len(NODE_KINDS) + 1
    key = (t.kind[t.u[sel]].astype(np.int64) * nk + t.kind[t.v[sel]]) * max(len(code), 1) + cc
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=t.links[sel])
    gbps = np.bincount(inv, weights=t.bw[sel])
    by_key = {}
    for k, n_links, rate in zip(uniq.tolist(), sums.tolist(), gbps.tolist()):
        pair, c = divmod(k, max(len(code), 1))
        by_key[(pair // nk, pair % nk, names_of[c])] = (int(n_links), rate)
    module_gbps = defaultdict(float)
    for (ku, kv, c), (n_links, rate) in by_key.items():
        a, b = sorted((NODE_KINDS[ku], NODE_KINDS[kv]), key=rank.get)
        tiers[f"{a}-{b}"] += n_links
        if c is None:
            continue
        kind = _part_field(cat, "cable", c, "type")
        kind = kind.value if kind else "optic"
        if kind.startswith("copper"):
            cables[c] += n_links
        else:
            module_gbps[c] += 2 * rate                 # both ends of every link
            cables["fiber"] += n_links
    for c, total in module_gbps.items():
        cap = _part_field(cat, "cable", c, "rate_gbps")
        optics[c] += math.ceil(total / float(cap.value) - 1e-9) if cap else 0
    if racks:
        # the NVL72 copper spine is catalogued per NVLink5 link: count the rack NVLink links
        rack_gpu = np.zeros(len(t.names), dtype=bool)
        for i, name in enumerate(t.names):
            d = G.nodes[name]
            if d["kind"] == "gpu" and (d.get("site"), d.get("rack")) in racks:
                rack_gpu[i] = True
        nv = t.mask("nvlink") & (rack_gpu[t.u] | rack_gpu[t.v])
        cables["nvlink-copper-spine"] += int(t.links[nv].sum())
    power = Counter()
    cost = 0.0
    unpriced = set()
    for category, counter in parts.items():
        for part, n in counter.items():
            cat_name = "system" if category == "system" else category
            if category != "system":
                p = _part_field(cat, cat_name, part, "power_w")
                if p is not None:
                    power[category] += float(p.value) * n
            price = _part_field(cat, cat_name, part, "price_usd")
            if price is not None and category != "system":
                cost += float(price.value) * n
            elif category != "system":
                unpriced.add(part)
    for part, n in optics.items():
        p = _part_field(cat, "cable", part, "power_w")
        if p is not None:
            power["optics"] += float(p.value) * n
        price = _part_field(cat, "cable", part, "price_usd")
        if price is not None:
            cost += float(price.value) * n
        else:
            unpriced.add(part)
    for part, n in cables.items():
        if part in ("fiber",):
            continue
        price = _part_field(cat, "cable", part, "price_usd")
        if price is not None:
            cost += float(price.value) * n
        else:
            unpriced.add(part)
    total = sum(power.values())
    return {
        "parts": {c: dict(sorted(v.items())) for c, v in sorted(parts.items())},
        "cables": dict(sorted(cables.items())),
        "optics": dict(sorted(optics.items())),
        "links_by_tier": dict(sorted(tiers.items(), key=lambda kv: kv[0].split("-")[0] and
                                     (rank[kv[0].split("-")[0]], kv[0]))),
        "power_w": {"total": round(total, 1), "per_gpu": round(total / max(gpus, 1), 1),
                    "by_category": {k: round(v, 1) for k, v in sorted(power.items())},
                    "note": "sum of catalog part powers (GPU TDP, CPUs, NVLink chips, NICs, "
                            "switches, optics); excludes cooling, power conversion and storage"},
        "cost_usd": {"total": round(cost), "per_gpu": round(cost / max(gpus, 1)),
                     "estimate": True, "unpriced": sorted(unpriced)},
    }


def fail_links(G, fraction, *, seed=0, media=NETWORK_MEDIA):
    """Copy of ``G`` with a seeded random ``fraction`` of its physical network links failed.

    Each edge loses the failed share of its ``links`` (and bandwidth); edges
    left with no link are removed.

    Raises
    ------
    ParameterError
        When ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> import topologies
    >>> G = topologies.fat_tree_graph(4)
    >>> H = fail_links(G, 0.5, seed=1)
    >>> sum(d["links"] for *_, d in H.edges(data=True) if d["medium"] == "infiniband")
    24
    """
    if not 0 <= fraction <= 1:
        msg = f"`fraction` of failed links must be between 0 and 1, got {fraction}"
        raise ParameterError(msg)
    H = G.copy()
    pool = []
    for u, v, d in H.edges(data=True):
        if d["medium"] in media:
            pool.extend([(u, v)] * d["links"])
    rng = random.Random(seed)
    k = round(fraction * len(pool))
    for u, v in rng.sample(pool, k):
        d = H[u][v]
        per = d["bandwidth_gbps"] / d["links"]
        d["links"] -= 1
        d["bandwidth_gbps"] = float(per * d["links"])
    for u, v in [(u, v) for u, v, d in H.edges(data=True) if d["links"] == 0]:
        H.remove_edge(u, v)
    H.graph["notes"] = [*H.graph.get("notes", []),
                        f"failed {k:,} of {len(pool):,} network links (seed {seed})"]
    return H


def fail_switch(G, name=None, *, kind="spine", seed=0):
    """Copy of ``G`` with one switch removed: ``name``, or a seeded random switch of ``kind``.

    Raises
    ------
    ParameterError
        When the named node is not a switch, or the fabric has no switch of ``kind``.
    """
    if name is None:
        pool = [n for n, k in G.nodes(data="kind") if k == kind]
        if not pool:
            present = sorted({k for _, k in G.nodes(data="kind")
                              if k in ("nvswitch", *NETWORK_KINDS)})
            msg = (f"the fabric has no `{kind}` switch to fail; its switch kinds: "
                   f"{', '.join(present) or 'none'}")
            raise ParameterError(msg)
        name = random.Random(seed).choice(pool)
    elif name not in G or G.nodes[name]["kind"] not in ("nvswitch", *NETWORK_KINDS):
        msg = f"`{name}` is not a switch of this fabric"
        raise ParameterError(msg)
    H = G.copy()
    H.remove_node(name)
    chips = G.nodes[name].get("chips", 1)
    what = (f" (a virtual node of the aggregated form: {chips} x "
            f"{G.nodes[name].get('chips_part', 'switch')} fail together)" if chips > 1 else "")
    H.graph["notes"] = [*H.graph.get("notes", []), f"failed switch {name}{what}"]
    return H


def fabric_metrics(G, *, catalog=None, sources=16, seed=0, bisection="auto"):
    """Everything ``fabric info`` reports: the summary counts plus the metrics (module notes).

    Returns
    -------
    dict
        The keys of :func:`fabric.metrics.fabric_summary`, and ``bisection_gbps``, ``bisection`` (details), ``oversubscription``,
        ``diameter_hops`` (``max`` and ``histogram``), ``ecmp_paths``, ``bom``,
        ``power_w``, ``cost_usd``.
    """
    t = EdgeTable(G)
    out = fabric_summary(G, table=t)
    bis = bisection_bandwidth(G, method=bisection, table=t)
    csr = _data_csr(G, t)
    hops = hop_histogram(G, sources=sources, seed=seed, _csr=csr)
    bom = bill_of_materials(G, catalog=catalog, table=t)
    out.update({
        "bisection_gbps": bis["bisection_gbps"],
        "bisection": bis,
        "oversubscription": oversubscription(G, table=t),
        "diameter_hops": {"max": hops["diameter_hops"], "histogram": hops["histogram"],
                          "sources": hops["sources"], "exact": hops["exact"]},
        "ecmp_paths": path_diversity(G, _csr=csr),
        "bom": {k: bom[k] for k in ("parts", "cables", "optics", "links_by_tier")},
        "power_w": bom["power_w"],
        "cost_usd": bom["cost_usd"],
    })
    return out
