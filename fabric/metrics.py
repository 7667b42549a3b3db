"""Fabric analysis: counts, per-GPU bandwidths and the summary printed by ``fabric info``."""

from collections import Counter

from fabric.schema import NETWORK_MEDIA, NODE_KINDS

__all__ = ["fabric_summary", "gpu_nodes", "per_gpu_bandwidth"]


def gpu_nodes(G):
    """GPU node names in topology (insertion) order.

    Examples
    --------
    >>> import topologies
    >>> gpu_nodes(topologies.dgx_h100_graph())[:2]
    ['d0-gpu0', 'd0-gpu1']
    """
    return [n for n, k in G.nodes(data="kind") if k == "gpu"]


def _nic_rate(G, nic):
    """Network-side rate of a NIC: its cabled network links, or its ports when uncabled."""
    cabled = sum(d["bandwidth_gbps"] for _, _, d in G.edges(nic, data=True)
                 if d["medium"] in NETWORK_MEDIA)
    if cabled:
        return cabled
    attrs = G.nodes[nic]
    return attrs["ports"] * attrs["port_gbps"]


def per_gpu_bandwidth(G, *, bandwidth="bandwidth_gbps"):
    """Return ``{gpu: (scaleup_gbps, scaleout_gbps)}`` per direction.

    Scale-up is the sum of the GPU's NVLink edges. Scale-out is the network
    rate of the NICs attached to the GPU, shared equally among the GPUs that
    attach to the same NIC.

    Examples
    --------
    >>> import topologies
    >>> per_gpu_bandwidth(topologies.gb300_nvl72_graph())["d0-gpu0"]
    (7200.0, 800.0)
    """
    out = {}
    nic_share = {}
    for g in gpu_nodes(G):
        up = 0.0
        scale_out = 0.0
        for nbr, d in G.adj[g].items():
            medium = d["medium"]
            if medium == "nvlink":
                up += d[bandwidth]
            elif medium == "pcie" and G.nodes[nbr]["kind"] == "nic":
                if nbr not in nic_share:
                    users = sum(1 for x in G.adj[nbr] if G.nodes[x]["kind"] == "gpu")
                    nic_share[nbr] = _nic_rate(G, nbr) / max(users, 1)
                scale_out += nic_share[nbr]
        out[g] = (up, scale_out)
    return out


def _uniform(values):
    values = list(values)
    if not values:
        return 0.0
    lo, hi = min(values), max(values)
    return lo if lo == hi else {"min": lo, "max": hi}


def fabric_summary(G):
    """Counts and per-GPU bandwidths of a fabric, as ``fabric info --json`` prints them.

    Returns
    -------
    dict
        ``gpus``, ``hosts``, ``nodes_by_kind``, ``links_by_medium`` (physical
        links, counting each edge's ``links``), ``edges_by_medium``,
        ``gpu_scaleup_gbps`` and ``gpu_scaleout_gbps`` (per GPU per direction;
        a ``{"min", "max"}`` pair when GPUs differ), and the provenance.

    Examples
    --------
    >>> import topologies
    >>> s = fabric_summary(topologies.gb200_nvl72_graph())
    >>> s["gpus"], s["nodes_by_kind"]["nvswitch"], s["links_by_medium"]["nvlink"]
    (72, 18, 1296)
    """
    kinds = Counter(k for _, k in G.nodes(data="kind"))
    links = Counter()
    edges = Counter()
    for _, _, d in G.edges(data=True):
        links[d["medium"]] += d["links"]
        edges[d["medium"]] += 1
    bw = per_gpu_bandwidth(G)
    chips = sum(d.get("chips", 1) for _, d in G.nodes(data=True) if d["kind"] == "nvswitch")
    return {
        "builder": G.graph.get("builder"),
        "params": G.graph.get("params", {}),
        "catalog_version": G.graph.get("catalog_version"),
        "schema_version": G.graph.get("schema_version"),
        "gpus": kinds.get("gpu", 0),
        "hosts": kinds.get("host", 0),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "nodes_by_kind": {k: kinds[k] for k in NODE_KINDS if kinds.get(k)},
        "nvswitch_chips": chips,
        "links_by_medium": dict(sorted(links.items())),
        "edges_by_medium": dict(sorted(edges.items())),
        "gpu_scaleup_gbps": _uniform(v[0] for v in bw.values()),
        "gpu_scaleout_gbps": _uniform(v[1] for v in bw.values()),
        "notes": list(G.graph.get("notes", [])),
    }
