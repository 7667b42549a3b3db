"""Bisection bandwidth and oversubscription per tier.

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
"""

import math
from collections import Counter, defaultdict
from itertools import repeat

import networkx as nx
import numpy as np

from fabric.edges import EdgeTable
from fabric.exceptions import ParameterError
from fabric.locality import domain_ids, first_appearance
from fabric.metrics.counts import gpu_rates
from fabric.schema import KIND_CODE, NETWORK_KINDS, NETWORK_MEDIA

__all__ = ["bisection_bandwidth", "oversubscription", "EXACT_EDGE_LIMIT"]

EXACT_EDGE_LIMIT = 400_000
"""Above this many network edges, ``method="auto"`` uses the structural formula instead of
max-flow (the two agree on every preset where both run; see tests/test_scaleout.py)."""



def _domains(G, t):
    """GPU domains of the nodes of the edge table ``t``: ``(dom, keys, gpus)``.

    ``keys`` are the GPUs' domain keys (:func:`fabric.locality.domain_ids`) in topology
    order, ``gpus`` the GPU count of each, and ``dom[i]`` the position in ``keys`` of node
    ``i``'s domain when it is a GPU or a NIC of a GPU domain, else -1 (NICs of
    GPU-less hosts, e.g. UFM servers, belong to no domain).
    """
    # the GPUs, then the NICs: the GPUs' keys are numbered first, 0..len(keys)-1
    gpu, nic = np.flatnonzero(t.kinds_of("gpu")), np.flatnonzero(t.kinds_of("nic"))
    sel = np.concatenate([gpu, nic])
    ids, keys = domain_ids(G, map(t.names.__getitem__, sel.tolist()),
                           attrs=list(map(t.attrs.__getitem__, sel.tolist())), return_keys=True)
    n_keys = int(ids[:len(gpu)].max()) + 1 if len(gpu) else 0
    dom = np.full(len(t.names), -1, dtype=np.int64)
    dom[sel] = np.where(ids < n_keys, ids, -1)
    return dom, keys[:n_keys], np.bincount(ids[:len(gpu)], minlength=n_keys)


def _flow_network(side, t, dom):
    """Collapsed flow network (node count, arc rows, cols, capacities in Gb/s).

    Node 0 is the source, 1 the sink, then one node per NVLink domain, then
    every NIC and network switch. Arcs: both directions of every network edge,
    domain <-> NIC for each GPU-NIC pcie edge, source -> first-half domains and
    second-half domains -> sink with unbounded capacity. ``dom`` gives the domain
    of GPUs and NICs and ``side`` (0 or 1) that of each domain (see :func:`_domains`).
    """
    n_dom = len(side)
    n_nodes = len(t.names)
    red = np.full(n_nodes, -1, dtype=np.int64)
    net_nodes = np.flatnonzero(t.kinds_of("nic", *NETWORK_KINDS))
    red[net_nodes] = 2 + n_dom + np.arange(len(net_nodes))
    gpu_dom = np.where(dom >= 0, 2 + dom, -1)
    net = t.mask(*NETWORK_MEDIA)
    gpu, nic = t.kinds_of("gpu"), t.kinds_of("nic")
    pcie = t.mask("pcie") & ((gpu[t.u] & nic[t.v]) | (nic[t.u] & gpu[t.v]))
    pu, pv = t.u[pcie], t.v[pcie]
    a = np.concatenate([red[t.u[net]], np.where(gpu[pu], gpu_dom[pu], gpu_dom[pv])])
    b = np.concatenate([red[t.v[net]], np.where(nic[pu], red[pu], red[pv])])
    cap = np.concatenate([t.bw[net], t.bw[pcie]]).round().astype(np.int64)
    big = int(cap.sum()) + 1
    src = 2 + np.flatnonzero(side == 0)
    dst = 2 + np.flatnonzero(side == 1)
    rows = np.concatenate([a, b, np.zeros(len(src), np.int64), dst])
    cols = np.concatenate([b, a, src, np.ones(len(dst), np.int64)])
    data = np.concatenate([cap, cap, np.full(len(src) + len(dst), big, np.int64)])
    return 2 + n_dom + len(net_nodes), rows, cols, data


def _max_flow(n, rows, cols, data):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

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


def _structural(G, side, keys, dom, t):
    """Hierarchical matching: leaf-local, then pod spines, then site core, then the WAN.

    ``keys``, ``dom`` and ``side`` as for :func:`_flow_network`."""
    names, kc, u, v, bw = t.names, t.kind, t.u, t.v, t.bw
    n_nodes = len(names)
    nodes = G.nodes
    # (site, plane) networks that have a core tier: their pods are the SUs' spines
    three_tier = {(nodes[names[i]].get("site"), nodes[names[i]].get("plane"))
                  for i in np.flatnonzero(kc == KIND_CODE["core"]).tolist()}
    tier_rank = np.zeros(len(KIND_CODE) + 1, np.int64)
    for k, r in (("leaf", 1), ("spine", 2), ("core", 3), ("wan", 4)):
        tier_rank[KIND_CODE[k]] = r
    wan_m = t.mask("wan")
    net = t.mask(*NETWORK_MEDIA) & ~wan_m
    nic = kc == KIND_CODE["nic"]
    nic_u, nic_v = nic[u], nic[v]
    # leaf -> A and B Gb/s of NIC ports (NICs of GPU-less hosts, e.g. UFM, carry none)
    node_side = np.where(dom >= 0, side[dom], -1)
    e = np.flatnonzero(net & (nic_u | nic_v))
    nic_end = np.where(nic_u[e], u[e], v[e])
    sw_end = np.where(nic_u[e], v[e], u[e])
    s_end = node_side[nic_end]
    has_ab = np.zeros(n_nodes, bool)
    has_ab[sw_end[s_end >= 0]] = True
    leaf_a = np.bincount(sw_end[s_end == 0], weights=bw[e][s_end == 0], minlength=n_nodes)
    leaf_b = np.bincount(sw_end[s_end == 1], weights=bw[e][s_end == 1], minlength=n_nodes)
    # switch -> uplink Gb/s (to a higher tier)
    e = np.flatnonzero(net & ~(nic_u | nic_v))
    lo = np.where(tier_rank[kc[u[e]]] < tier_rank[kc[v[e]]], u[e], v[e])
    up = np.bincount(lo, weights=bw[e], minlength=n_nodes).tolist()
    # matching at the leaves
    total = 0.0
    pod_excess = defaultdict(lambda: [0.0, 0.0])
    for i, a, b in zip(np.flatnonzero(has_ab).tolist(), leaf_a[has_ab].tolist(),
                       leaf_b[has_ab].tolist()):
        total += min(a, b)
        d = nodes[names[i]]
        pod = (d.get("site"), d.get("plane"),
               d.get("pod") if (d.get("site"), d.get("plane")) in three_tier else None)
        pod_excess[pod][0] += min(max(a - b, 0.0), up[i])
        pod_excess[pod][1] += min(max(b - a, 0.0), up[i])
    # pods: spines of a 3-tier pod have uplinks to the core; 2-tier "pods" are whole planes
    pod_up = defaultdict(float)
    for i in np.flatnonzero(kc == KIND_CODE["spine"]).tolist():
        d = nodes[names[i]]
        pod = (d.get("site"), d.get("plane"), d.get("pod"))
        pod_up[pod] += up[i] if d.get("pod") is not None else 0.0
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
    for i in np.flatnonzero(kc == KIND_CODE["wan"]).tolist():
        n = names[i]
        site_up[nodes[n].get("site")] += sum(dd["bandwidth_gbps"] for _, _, dd in
                                             G.edges(n, data=True) if dd["medium"] != "wan")
    wan_edges = [(names[i], names[j], w) for i, j, w in
                 zip(u[wan_m].tolist(), v[wan_m].tolist(), bw[wan_m].tolist())]
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
        sites_a = {key[0] for key, s in zip(keys, side.tolist()) if s == 0}
        sites_b = {key[0] for key, s in zip(keys, side.tolist()) if s == 1}
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
    t = table if table is not None else EdgeTable(G)
    dom, order, gpus = _domains(G, t)
    if len(order) < 2:
        if method == "structural":
            msg = "a single NVLink domain has no scale-out structure; use method='exact'"
            raise ParameterError(msg)
        value, na, nb = _nvlink_bisection(G)
        return {"bisection_gbps": float(value), "method": "exact (NVLink max-flow)",
                "halves_gpus": [na, nb], "per_gpu_gbps": value / max(min(na, nb), 1)}
    # the first half of the domains (topology order) against the rest
    side = (np.arange(len(order)) >= len(order) // 2).astype(np.int64)
    halves = [int(gpus[side == 0].sum()), int(gpus[side == 1].sum())]
    if method == "auto":
        network_edges = int(t.mask(*NETWORK_MEDIA).sum())
        method = "exact" if network_edges <= EXACT_EDGE_LIMIT else "structural"
    if method == "exact":
        value = _max_flow(*_flow_network(side, t, dom))
    else:
        value = _structural(G, side, order, dom, t)
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
        idx, _, rate = gpu_rates(G, t)
        site = list(map(dict.get, map(t.attrs.__getitem__, idx.tolist()), repeat("site")))
        sites = first_appearance(site)
        # bincount adds in GPU order, as a running sum per site would
        total = np.bincount(np.fromiter(map(sites.__getitem__, site), np.int64, len(site)),
                            weights=rate, minlength=len(sites))
        inject = Counter(dict(zip(sites, total.tolist())))
        out["wan"] = round(max(inject[s_] / w for s_, w in site_wan.items() if w), 3)
    return out

