"""Counts, per-GPU bandwidths and the summary that ``fabric info --counts-only`` prints."""

from collections import Counter

import numpy as np

from fabric.edges import EdgeTable
from fabric.schema import MEDIUM_CODE, NETWORK_MEDIA, NODE_KINDS

__all__ = ["fabric_summary", "per_gpu_bandwidth"]


def per_gpu_bandwidth(G, *, bandwidth="bandwidth_gbps", table=None):
    """Return ``{gpu: (scaleup_gbps, scaleout_gbps)}`` per direction.

    Scale-up is the sum of the GPU's NVLink edges. Scale-out is the network
    rate of the NICs attached to the GPU (their cabled network links, or their
    ports when uncabled), shared equally among the GPUs attached to the same NIC.

    Parameters
    ----------
    G : networkx.Graph
    bandwidth : str
        Edge attribute holding the rate in Gb/s per direction.
    table : EdgeTable, optional
        A prebuilt edge table of ``G`` (built when omitted).

    Examples
    --------
    >>> import topologies
    >>> per_gpu_bandwidth(topologies.gb300_nvl72_graph())["d0-gpu0"]
    (7200.0, 800.0)
    """
    t = table if table is not None else EdgeTable(G)
    idx, up, out = gpu_rates(G, t, bandwidth=bandwidth)
    names = t.names
    return {names[i]: (u, o) for i, u, o in zip(idx.tolist(), up.tolist(), out.tolist())}


def gpu_rates(G, t, *, bandwidth="bandwidth_gbps"):
    """Arrays behind :func:`per_gpu_bandwidth`: (GPU node indices of the edge table ``t``,
    scale-up Gb/s, scale-out Gb/s), GPUs in topology order."""
    n = len(t.names)
    bw = t.bw if bandwidth == "bandwidth_gbps" else np.array([d[bandwidth] for d in t.data])
    gpu, nic = t.kinds_of("gpu"), t.kinds_of("nic")
    up = np.zeros(n)
    net_rate = np.zeros(n)
    users = np.zeros(n)
    nv = t.mask("nvlink")
    net = t.mask(*NETWORK_MEDIA)
    pcie = t.mask("pcie")
    for a, b in ((t.u, t.v), (t.v, t.u)):
        sel = nv & gpu[a]
        up += np.bincount(a[sel], weights=bw[sel], minlength=n)
        sel = net & nic[a]
        net_rate += np.bincount(a[sel], weights=bw[sel], minlength=n)
        sel = pcie & gpu[a] & nic[b]
        users += np.bincount(b[sel], minlength=n)
    uncabled = nic & (net_rate == 0)
    for i in np.flatnonzero(uncabled):
        attrs = G.nodes[t.names[i]]
        net_rate[i] = attrs["ports"] * attrs["port_gbps"]
    share = np.divide(net_rate, users, out=np.zeros(n), where=users > 0)
    out = np.zeros(n)
    for a, b in ((t.u, t.v), (t.v, t.u)):
        sel = pcie & gpu[a] & nic[b]
        out += np.bincount(a[sel], weights=share[b[sel]], minlength=n)
    idx = np.flatnonzero(gpu)
    return idx, up[idx], out[idx]


def _uniform(values):
    if not len(values):
        return 0.0
    lo, hi = float(np.min(values)), float(np.max(values))
    return lo if lo == hi else {"min": lo, "max": hi}


def _parts_by_kind(t):
    """``Counter``: kind -> physical parts, a virtual (aggregated) node counting as the
    ``chips`` it stands for."""
    chips = t.column("chips", 1)
    if set(map(type, chips)) <= {int}:         # the usual case: integer sums in numpy
        total = np.zeros(len(NODE_KINDS), np.int64)
        np.add.at(total, t.kind, np.fromiter(chips, np.int64, len(chips)))
        present = np.bincount(t.kind, minlength=len(NODE_KINDS))
        return Counter({k: int(x) for k, x, n in zip(NODE_KINDS, total.tolist(), present) if n})
    parts = Counter()
    for k, c in zip(t.kind.tolist(), chips):
        parts[NODE_KINDS[k]] += c
    return parts


def fabric_summary(G, *, table=None):
    """Counts and per-GPU bandwidths of a fabric, as ``fabric info --json`` prints them.

    Parameters
    ----------
    G : networkx.Graph
    table : EdgeTable, optional
        A prebuilt edge table of ``G`` (built when omitted).

    Returns
    -------
    dict
        ``gpus``, ``hosts``, ``nodes_by_kind``, ``links_by_medium`` (physical
        links, counting each edge's ``links``), ``edges_by_medium``,
        ``parts_by_kind`` (physical parts per kind, counting the ``chips`` a
        virtual node of the aggregated form stands for), ``nvswitch_chips`` and
        ``network_switches_by_tier`` (physical switches),
        ``gpu_scaleup_gbps`` and ``gpu_scaleout_gbps`` (per GPU per direction;
        a ``{"min", "max"}`` pair when GPUs differ), and the provenance.

    Examples
    --------
    >>> import topologies
    >>> s = fabric_summary(topologies.gb200_nvl72_graph())
    >>> s["gpus"], s["nodes_by_kind"]["nvswitch"], s["links_by_medium"]["nvlink"]
    (72, 18, 1296)
    """
    t = table if table is not None else EdgeTable(G)
    kinds = dict(zip(NODE_KINDS, np.bincount(t.kind, minlength=len(NODE_KINDS)).tolist()))
    link_sum = np.bincount(t.medium, weights=t.links, minlength=len(MEDIUM_CODE))
    edge_sum = np.bincount(t.medium, minlength=len(MEDIUM_CODE))
    links = {m: int(link_sum[c]) for m, c in MEDIUM_CODE.items() if edge_sum[c]}
    edges = {m: int(edge_sum[c]) for m, c in MEDIUM_CODE.items() if edge_sum[c]}
    _, up, out = gpu_rates(G, t)
    parts = _parts_by_kind(t)
    chips = parts.get("nvswitch", 0)
    physical = {k: parts[k] for k in ("leaf", "spine", "core", "wan")}
    return {
        "builder": G.graph.get("builder"),
        "params": G.graph.get("params", {}),
        "catalog_version": G.graph.get("catalog_version"),
        "schema_version": G.graph.get("schema_version"),
        "gpus": kinds.get("gpu", 0),
        "hosts": kinds.get("host", 0),
        "nodes": G.number_of_nodes(),
        "edges": len(t.u),                 # the table has every edge once
        "nodes_by_kind": {k: kinds[k] for k in NODE_KINDS if kinds.get(k)},
        "parts_by_kind": {k: parts[k] for k in NODE_KINDS if parts.get(k)},
        "nvswitch_chips": chips,
        "network_switches_by_tier": {k: physical[k] for k in ("leaf", "spine", "core", "wan")
                                     if physical.get(k)},
        "links_by_medium": dict(sorted(links.items())),
        "edges_by_medium": dict(sorted(edges.items())),
        "gpu_scaleup_gbps": _uniform(up),
        "gpu_scaleout_gbps": _uniform(out),
        "notes": list(G.graph.get("notes", [])),
    }
