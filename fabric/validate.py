"""Check a fabric graph against the schema and its port budgets.

``validate_fabric(G)`` collects every violation and raises one
:class:`~fabric.exceptions.FabricValidationError` listing them all.
"""

import warnings
from collections import Counter, defaultdict

import networkx as nx

from fabric.exceptions import FabricValidationError
from fabric.schema import (EDGE_ATTRS, MEDIA, MEDIUM_ENDPOINTS, NODE_ATTRS, NODE_KINDS,
                           SCHEMA_VERSION, SWITCH_KINDS)

__all__ = ["validate_fabric", "FabricWarning"]

_GRAPH_KEYS = ("builder", "params", "catalog_version", "schema_version")
_REL_TOL = 1e-9


class FabricWarning(UserWarning):
    """A fabric is usable but something about it is suspicious (strict mode makes it an error)."""


def _type_ok(value, typ):
    if typ is float:
        return isinstance(value, float)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def _check_nodes(G, errors):
    required_by_kind = defaultdict(list)
    for name, (typ, req) in NODE_ATTRS.items():
        if req == "all":
            for kind in NODE_KINDS:
                required_by_kind[kind].append((name, typ))
        elif req:
            for kind in req:
                required_by_kind[kind].append((name, typ))
    known = set(NODE_ATTRS)
    kinds = set(NODE_KINDS)
    for n, d in G.nodes(data=True):
        kind = d.get("kind")
        if kind not in kinds:
            errors.append(f"node {n!r}: `kind` must be one of {', '.join(NODE_KINDS)}, got {kind!r}")
            continue
        for name, typ in required_by_kind[kind]:
            if name not in d:
                errors.append(f"node {n!r} ({kind}): missing `{name}`")
        for name, value in d.items():
            if name in known:
                typ = NODE_ATTRS[name][0]
                if not _type_ok(value, typ):
                    errors.append(f"node {n!r}: `{name}` must be {typ.__name__}, "
                                  f"got {type(value).__name__} {value!r}")
            elif not isinstance(value, (str, int, float, bool)):
                errors.append(f"node {n!r}: extra attribute `{name}` must be a scalar, "
                              f"got {type(value).__name__}")
        if kind in SWITCH_KINDS or kind == "nic":
            ports, speed = d.get("ports"), d.get("port_gbps")
            if isinstance(ports, int) and ports <= 0:
                errors.append(f"node {n!r}: `ports` must be > 0, got {ports}")
            if isinstance(speed, float) and speed <= 0:
                errors.append(f"node {n!r}: `port_gbps` must be > 0, got {speed}")
        if kind in ("gpu", "cpu", "nic"):
            host = d.get("host")
            if host is not None and G.nodes.get(host, {}).get("kind") != "host":
                errors.append(f"node {n!r}: `host` {host!r} is not a host node of this graph")


def _check_edges(G, errors):
    media = set(MEDIA)
    kind = nx.get_node_attributes(G, "kind")
    load = Counter()          # (node) -> physical links counted against its port budget
    nvlinks = Counter()       # gpu -> nvlink links
    port_gbps = nx.get_node_attributes(G, "port_gbps")
    for u, v, d in G.edges(data=True):
        where = f"edge ({u!r}, {v!r})"
        medium = d.get("medium")
        if medium not in media:
            errors.append(f"{where}: `medium` must be one of {', '.join(MEDIA)}, got {medium!r}")
            continue
        for name, (typ, required) in EDGE_ATTRS.items():
            if name not in d:
                if required:
                    errors.append(f"{where}: missing `{name}`")
                continue
            if not _type_ok(d[name], typ):
                errors.append(f"{where}: `{name}` must be {typ.__name__}, "
                              f"got {type(d[name]).__name__} {d[name]!r}")
        links = d.get("links")
        bw = d.get("bandwidth_gbps")
        if not isinstance(links, int) or not isinstance(bw, float):
            continue
        if links < 1:
            errors.append(f"{where}: `links` must be >= 1, got {links}")
            continue
        if not bw > 0:
            errors.append(f"{where}: `bandwidth_gbps` must be > 0, got {bw}")
        lat = d.get("latency_ns")
        if isinstance(lat, float) and not lat >= 0:
            errors.append(f"{where}: `latency_ns` must be >= 0, got {lat}")
        ku, kv = kind.get(u), kind.get(v)
        if frozenset((ku, kv)) not in MEDIUM_ENDPOINTS[medium]:
            errors.append(f"{where}: medium {medium!r} cannot join a {ku} and a {kv}")
            continue
        per_link = bw / links
        for n, k in ((u, ku), (v, kv)):
            if k in SWITCH_KINDS or (k == "nic" and medium != "pcie"):
                load[n] += links
                cap = port_gbps.get(n)
                if isinstance(cap, float) and per_link > cap * (1 + _REL_TOL):
                    errors.append(f"{where}: {per_link:g} Gb/s per link exceeds the "
                                  f"{cap:g} Gb/s ports of {n!r}")
            elif k == "gpu" and medium == "nvlink":
                nvlinks[n] += links
    ports = nx.get_node_attributes(G, "ports")
    for n, used in load.items():
        budget = ports.get(n)
        if isinstance(budget, int) and used > budget:
            errors.append(f"node {n!r} ({kind[n]}): {used} links exceed its port budget of "
                          f"{budget} ports at {port_gbps.get(n, 0):g} Gb/s")
    budget = nx.get_node_attributes(G, "nvlink_links")
    for n, used in nvlinks.items():
        if isinstance(budget.get(n), int) and used > budget[n]:
            errors.append(f"node {n!r} (gpu): {used} NVLink links exceed the GPU's "
                          f"{budget[n]} NVLink links")


def validate_fabric(G, *, strict=True):
    """Check every attribute, port budget and the connectivity of a fabric graph.

    Parameters
    ----------
    G : networkx.Graph
        The fabric.
    strict : bool
        When true, suspicious but usable features (see Notes) are errors;
        otherwise they are issued as :class:`FabricWarning`.

    Returns
    -------
    networkx.Graph
        ``G`` itself, so calls can be chained.

    Raises
    ------
    FabricValidationError
        Listing every violation: wrong graph class, missing provenance, unknown
        kinds or media, missing or mistyped attributes, a link faster than a
        port, a switch, NIC or GPU with more links than ports, a medium between
        kinds it cannot join, and a disconnected graph.

    Notes
    -----
    Warnings (errors when ``strict``): a graph without GPUs; nodes no edge
    touches are always errors (they make the graph disconnected).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph(builder="demo", params={}, catalog_version="x", schema_version=1)
    >>> try:
    ...     validate_fabric(G)
    ... except FabricValidationError as exc:
    ...     print(len(exc.errors))
    1
    """
    errors = []
    if not isinstance(G, nx.Graph) or G.is_directed() or G.is_multigraph():
        raise FabricValidationError([f"a fabric must be an undirected networkx.Graph, "
                                     f"got {type(G).__name__}"])
    for key in _GRAPH_KEYS:
        if key not in G.graph:
            errors.append(f"G.graph lacks provenance key `{key}`")
    if G.graph.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        errors.append(f"schema_version {G.graph['schema_version']!r} is not {SCHEMA_VERSION}")
    if "params" in G.graph and not isinstance(G.graph["params"], dict):
        errors.append("G.graph `params` must be a dict")
    if G.number_of_nodes() == 0:
        errors.append("the graph has no nodes")
        raise FabricValidationError(errors)
    _check_nodes(G, errors)
    _check_edges(G, errors)
    if not nx.is_connected(G):
        parts = nx.number_connected_components(G)
        isolated = [n for n, deg in G.degree() if deg == 0][:5]
        hint = f"; isolated nodes include {isolated}" if isolated else ""
        errors.append(f"the fabric is not connected: {parts} components{hint}")
    soft = []
    if not any(k == "gpu" for k in nx.get_node_attributes(G, "kind").values()):
        soft.append("the fabric has no GPUs")
    if strict:
        errors.extend(soft)
    else:
        for message in soft:
            warnings.warn(message, FabricWarning, stacklevel=2)
    if errors:
        raise FabricValidationError(errors)
    return G
