"""Check a fabric graph against the schema and its port budgets.

``validate_fabric(G)`` collects every violation and raises one
:class:`~fabric.exceptions.FabricValidationError` listing them all.
"""

import warnings
from collections import defaultdict
from itertools import chain, compress, count, repeat
from operator import itemgetter

import numpy as np

from fabric.exceptions import FabricValidationError
from fabric.schema import (EDGE_ATTRS, KIND_CODE, MEDIA, MEDIUM_CODE, MEDIUM_ENDPOINTS, NODE_ATTRS,
                           NODE_KINDS, SCHEMA_VERSION, SWITCH_KINDS)

__all__ = ["validate_fabric", "validate_parts", "FabricWarning"]

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


def _none_or_true(x):
    return None if x is None else True


def _all_hashable(values):
    try:
        dict.fromkeys(values)
    except TypeError:
        return False
    return True


def _node_attr_errors(kind, d, required_by_kind):
    """Errors of a node's attribute names and types (cached per kind and type signature)."""
    out = []
    if kind not in NODE_KINDS:
        return [f"`kind` must be one of {', '.join(NODE_KINDS)}, got {kind!r}"]
    for name, typ in required_by_kind[kind]:
        if name not in d:
            out.append(f"missing `{name}`")
    for name, value in d.items():
        spec = NODE_ATTRS.get(name)
        if spec is not None:
            if not _type_ok(value, spec[0]):
                out.append(f"`{name}` must be {spec[0].__name__}, got {type(value).__name__} "
                           f"{value!r}")
        elif not isinstance(value, (str, int, float, bool)):
            out.append(f"extra attribute `{name}` must be a scalar, got {type(value).__name__}")
    return out


def _signature_ok(kind, names, types, required_by_kind):
    """Whether :func:`_node_attr_errors` finds nothing in a node of ``kind`` whose
    attributes are ``names`` with values of ``types``."""
    if kind not in NODE_KINDS:
        return False
    if any(name not in names for name, _ in required_by_kind[kind]):
        return False
    for name, t in zip(names, types):
        typ = NODE_ATTRS[name][0] if name in NODE_ATTRS else (str, int, float, bool)
        if not issubclass(t, typ) or (typ is int and issubclass(t, bool)):
            return False
    return True


_BUDGETED = frozenset(SWITCH_KINDS) | {"nic"}
"""Node kinds whose ``ports`` and ``port_gbps`` must be > 0."""


def _check_nodes(nodes, index, kinds, errors):
    """Attribute, port-budget and host checks of every node; ``index`` maps a name to
    its (last) position in ``nodes``, ``kinds`` holds every node's ``kind``."""
    required_by_kind = defaultdict(list)
    for name, (typ, req) in NODE_ATTRS.items():
        for kind in (NODE_KINDS if req == "all" else req or ()):
            required_by_kind[kind].append((name, typ))
    if _nodes_clean(nodes, index, kinds, required_by_kind):
        return
    kind_of = dict(zip(map(itemgetter(0), nodes), kinds))
    budgeted = _BUDGETED
    hosted = {"gpu", "cpu", "nic"}
    cache = {}
    for n, d in nodes:
        kind = d.get("kind")
        sig = (kind, tuple(d), tuple(map(type, d.values())))
        problems = cache.get(sig)
        if problems is None:
            problems = cache[sig] = _node_attr_errors(kind, d, required_by_kind)
        if problems:
            where = f"node {n!r}" if kind not in NODE_KINDS else f"node {n!r} ({kind})"
            errors.extend(f"{where}: {p}" for p in problems)
            if kind not in NODE_KINDS:
                continue
        if kind in budgeted:
            ports, speed = d.get("ports"), d.get("port_gbps")
            if isinstance(ports, int) and ports <= 0:
                errors.append(f"node {n!r}: `ports` must be > 0, got {ports}")
            if isinstance(speed, float) and speed <= 0:
                errors.append(f"node {n!r}: `port_gbps` must be > 0, got {speed}")
        if kind in hosted:
            host = d.get("host")
            if host is not None and kind_of.get(host) != "host":
                errors.append(f"node {n!r}: `host` {host!r} is not a host node of this graph")


def _nodes_clean(nodes, index, kinds, required_by_kind):
    """True when the loop of :func:`_check_nodes` would find nothing, decided at C speed:
    attributes checked once per distinct (kind, names, types) signature, then every
    switch's and NIC's ``ports`` and ``port_gbps`` > 0 and every GPU's, CPU's and NIC's
    ``host`` a host node.
    False when anything may be wrong (the loop then words the errors)."""
    attrs = list(map(itemgetter(1), nodes))
    types = map(tuple, map(map, repeat(type), map(dict.values, attrs)))
    sigs = zip(kinds, map(tuple, attrs), types)
    try:
        distinct = dict.fromkeys(sigs)
    except TypeError:                          # an unhashable `kind`
        return False
    if not all(_signature_ok(*sig, required_by_kind) for sig in distinct):
        return False
    # budgets are checked on switches and NICs only (as the loop does)
    budgeted = list(compress(attrs, map(_BUDGETED.__contains__, kinds)))
    try:
        ports = np.fromiter(map(dict.get, budgeted, repeat("ports"), repeat(1)), np.int64,
                            len(budgeted))
        speed = np.fromiter(map(dict.get, budgeted, repeat("port_gbps"), repeat(1.0)),
                            np.float64, len(budgeted))
    except (TypeError, ValueError, OverflowError):
        return False
    if (ports <= 0).any() or (speed <= 0).any():
        return False
    owned = compress(attrs, map(("gpu", "cpu", "nic").__contains__, kinds))
    try:
        hosts = map(index.__getitem__, map(dict.get, owned, repeat("host")))
        return set(map(kinds.__getitem__, hosts)) <= {"host"}
    except (KeyError, TypeError):              # a `host` that is no node, or unhashable
        return False


def _edge_attr_errors(d):
    """Errors of one edge's attributes alone (cached per distinct attribute tuple)."""
    out = []
    medium = d.get("medium")
    if medium not in MEDIA:
        return [f"`medium` must be one of {', '.join(MEDIA)}, got {medium!r}"], None
    for name, (typ, required) in EDGE_ATTRS.items():
        if name in _PORT_KEYS:
            continue                           # checked per edge by _check_ports
        if name not in d:
            if required:
                out.append(f"missing `{name}`")
            continue
        if not _type_ok(d[name], typ):
            out.append(f"`{name}` must be {typ.__name__}, got {type(d[name]).__name__} "
                       f"{d[name]!r}")
    for name, value in d.items():
        if name not in EDGE_ATTRS and not isinstance(value, (str, int, float, bool)):
            out.append(f"extra attribute `{name}` must be a scalar, got {type(value).__name__}")
    links, bw, lat = d.get("links"), d.get("bandwidth_gbps"), d.get("latency_ns")
    if not isinstance(links, int) or not isinstance(bw, float):
        return out, None
    if links < 1:
        out.append(f"`links` must be >= 1, got {links}")
        return out, None
    if not bw > 0:
        out.append(f"`bandwidth_gbps` must be > 0, got {bw}")
    if isinstance(lat, float) and not lat >= 0:
        out.append(f"`latency_ns` must be >= 0, got {lat}")
    return out, (medium, links, bw / links)


_PORT_KEYS = frozenset(("a_end", "a_port", "b_port"))


def _graph_signatures(dicts):
    """Signature index of every edge dict of a graph: equal attributes, port numbers aside
    (they make every network edge distinct and are checked per edge by _check_ports), give
    equal indices. C-speed maps: edges are grouped by their tuple of attribute names, and
    each group keyed by an itemgetter of its non-port attributes."""
    m = len(dicts)
    layouts = list(map(tuple, dicts))
    layout_of = dict.fromkeys(layouts)
    for j, key in enumerate(layout_of):
        layout_of[key] = j
    lay = np.fromiter(map(layout_of.__getitem__, layouts), np.int64, m)
    del layouts
    s_idx = np.empty(m, np.int64)
    offset = 0
    try:
        for layout, j in layout_of.items():
            rows = np.flatnonzero(lay == j) if len(layout_of) > 1 else np.arange(m)
            keep = tuple(k for k in layout if k not in _PORT_KEYS)
            sub = list(map(dicts.__getitem__, rows.tolist())) if len(layout_of) > 1 else dicts
            values = list(map(itemgetter(*keep), sub)) if keep else [()] * len(sub)
            sig = dict.fromkeys(values)
            for t, key in enumerate(sig):
                sig[key] = t
            s_idx[rows] = offset + np.fromiter(map(sig.__getitem__, values), np.int64, len(sub))
            offset += len(sig)
    except TypeError:                          # an unhashable attribute value somewhere
        return np.arange(m, dtype=np.int64)
    return s_idx


def _check_ports(names, attrs, index, dicts, u_idx, v_idx, links, errors):
    """Port numbers of the edges ``dicts`` (each has ``a_end``, ``a_port`` and ``b_port``):
    types, ``a_end`` an endpoint, every port within ``1..ports`` of its device and no port
    of a device used twice. Vectorized; Python runs a few C-level maps per edge."""
    if not dicts:
        return
    ends = list(map(dict.__getitem__, dicts, repeat("a_end")))
    pa = list(map(dict.__getitem__, dicts, repeat("a_port")))
    pb = list(map(dict.__getitem__, dicts, repeat("b_port")))
    if (set(map(type, pa)) | set(map(type, pb))) - {int}:
        for i, (x, y) in enumerate(zip(pa, pb)):
            for key, z in (("a_port", x), ("b_port", y)):
                if not _type_ok(z, int):
                    errors.append(f"edge ({names[u_idx[i]]!r}, {names[v_idx[i]]!r}): `{key}` "
                                  f"must be int, got {type(z).__name__} {z!r}")
        return
    try:
        a_idx = np.fromiter(map(index.get, ends, repeat(-2)), np.int64, len(ends))
    except TypeError:                          # an unhashable `a_end`
        a_idx = np.array([index.get(x, -2) if isinstance(x, str) else -2 for x in ends],
                         np.int64)
    bad_end = (a_idx != u_idx) & (a_idx != v_idx)
    for k in np.flatnonzero(bad_end)[:20]:
        errors.append(f"edge ({names[u_idx[k]]!r}, {names[v_idx[k]]!r}): `a_end` {ends[k]!r} "
                      "is not one of its endpoints")
    rows = np.flatnonzero(~bad_end)
    u, a_idx = u_idx[rows], a_idx[rows]
    b_idx = np.where(a_idx == u, v_idx[rows], u)
    first_a = _int64(pa)[rows]
    first_b = _int64(pb)[rows]
    lk = links[rows]
    dev = np.concatenate([a_idx, b_idx])
    lo = np.concatenate([first_a, first_b])
    hi = lo + np.concatenate([lk, lk]) - 1
    budget = _int64([d.get("ports") if _type_ok(d.get("ports"), int) else -1 for d in attrs])
    cap = budget[dev]
    out = (lo < 1) | ((cap >= 0) & (hi > cap))
    for k in np.flatnonzero(out)[:20]:
        i = int(dev[k])
        errors.append(f"node {names[i]!r}: ports {lo[k]}-{hi[k]} of a link are outside its "
                      f"ports 1-{budget[i]}")
    order = np.lexsort((lo, dev))
    sd, slo, shi = dev[order], lo[order], hi[order]
    # sorted by first port: any overlap on a device shows up between neighbours
    clash = (sd[1:] == sd[:-1]) & (slo[1:] <= shi[:-1])
    for k in np.flatnonzero(clash)[:20]:
        errors.append(f"node {names[sd[k + 1]]!r}: port {slo[k + 1]} is used by two links")
    if clash.sum() > 20:
        errors.append(f"... {int(clash.sum()) - 20} more ports used twice")


_KIND_INDEX = KIND_CODE
_MEDIUM_INDEX = MEDIUM_CODE
# _PAIR_OK[kind_u, kind_v, medium]: may this medium join these kinds? (-1 = unknown kind)
_PAIR_OK = np.zeros((len(NODE_KINDS) + 1, len(NODE_KINDS) + 1, len(MEDIA)), dtype=bool)
for _m, _pairs in MEDIUM_ENDPOINTS.items():
    for _pair in _pairs:
        _a, _b = (tuple(_pair) * 2)[:2]
        _PAIR_OK[_KIND_INDEX[_a], _KIND_INDEX[_b], _MEDIUM_INDEX[_m]] = True
        _PAIR_OK[_KIND_INDEX[_b], _KIND_INDEX[_a], _MEDIUM_INDEX[_m]] = True


def _check_edges(nodes, edges, edge_key, errors, *, index=None, kinds=None):
    """Attribute, endpoint-kind and port-budget checks of every edge, vectorized.

    One Python pass maps each edge to (u, v, attribute signature) integers;
    each distinct signature is checked once; the rest is numpy. ``index`` (name ->
    position in ``nodes``) and ``kinds`` (every node's ``kind``) are built when omitted.
    Returns ``(u, v, medium, links, bandwidth)`` of every edge (see :func:`index_parts`),
    meaningful where no error was found.
    """
    edges = edges if isinstance(edges, list) else list(edges)
    m = len(edges)
    if m == 0:
        none = np.zeros(0, np.int64)
        _check_connected(nodes, none, none, errors)
        return none, none, none.astype(np.int8), none, none.astype(np.float64)
    if index is None:
        index = dict(zip(map(itemgetter(0), nodes), count()))
    if kinds is None:
        kinds = list(map(dict.get, map(itemgetter(1), nodes), repeat("kind")))
    n_nodes = len(nodes)
    # C-speed passes (map/itemgetter) over the edge list; Python runs once per distinct
    # attribute signature, not once per edge.
    try:
        u_idx = np.fromiter(map(index.__getitem__, map(itemgetter(0), edges)), np.int64, m)
        v_idx = np.fromiter(map(index.__getitem__, map(itemgetter(1), edges)), np.int64, m)
    except (KeyError, TypeError):              # an endpoint the node list lacks: the slow way
        u_idx = np.array([index.get(x, -1) if _hashable(x) else -1
                          for x in map(itemgetter(0), edges)], np.int64)
        v_idx = np.array([index.get(x, -1) if _hashable(x) else -1
                          for x in map(itemgetter(1), edges)], np.int64)
    dicts = None
    if edge_key is None:
        dicts = list(map(itemgetter(2), edges))
        s_idx = _graph_signatures(dicts)
        _, first = np.unique(s_idx, return_index=True)
    else:
        # signatures are numbered in order of first appearance: one C-speed pass maps each
        # edge to the position of the first edge with its key (no sort)
        at = {}
        try:
            seen = np.fromiter(map(at.setdefault, map(edge_key, map(itemgetter(2), edges)),
                                   count()), np.int64, m)
        except TypeError:                      # an unhashable key
            seen = np.arange(m, dtype=np.int64)
        del at
        first = np.flatnonzero(seen == np.arange(m))
        rank = np.empty(m, np.int64)           # only the first edges' entries are used
        rank[first] = np.arange(len(first))
        s_idx = rank[seen]
        del seen, rank
    sig_dicts = [edges[i][2] for i in first.tolist()]
    # Port numbers: every edge of a signature has the same attribute names (the graph path
    # groups by them; a builder's signature is one shared dict), so which edges carry
    # them is known per signature, without a pass over every edge.
    sig_ports = np.array([len(_PORT_KEYS & d.keys()) for d in sig_dicts], np.int64)
    port_count = sig_ports[s_idx] if sig_ports.any() else None
    if port_count is not None and dicts is None:
        dicts = list(map(itemgetter(2), edges))
    port_dicts = dicts if port_count is not None else None
    del dicts
    known = (u_idx >= 0) & (v_idx >= 0)          # both endpoints are nodes of the list
    pair = np.minimum(u_idx, v_idx) * (n_nodes + 1) + np.maximum(u_idx, v_idx)
    pair = pair[known] if not known.all() else pair
    pair.sort()
    if (pair[1:] == pair[:-1]).any():
        pair = np.minimum(u_idx, v_idx) * (n_nodes + 1) + np.maximum(u_idx, v_idx)
        uniq, counts = np.unique(pair[known], return_counts=True)
        first = {int(x) for x in uniq[counts > 1][:5]}
        shown = [edges[e][:2] for e in np.flatnonzero(known) if int(pair[e]) in first]
        shown = list(dict.fromkeys(shown))[:5]
        errors.append(f"{int(known.sum()) - len(uniq)} duplicate edge(s), e.g. {shown}; join "
                      "two nodes by one edge and count parallel links in `links`")
        del uniq, counts
    del pair
    n_sig = len(sig_dicts)
    sig_ok = np.zeros(n_sig, dtype=bool)
    sig_medium = np.zeros(n_sig, dtype=np.int64)
    sig_links = np.zeros(n_sig, dtype=np.int64)
    sig_rate = np.zeros(n_sig, dtype=np.float64)
    sig_bw = np.zeros(n_sig, dtype=np.float64)
    for i, d in enumerate(sig_dicts):
        problems, ok = _edge_attr_errors(d)
        if problems:
            for e in np.flatnonzero(s_idx == i):
                u, v, _ = edges[e]
                errors.extend(f"edge ({u!r}, {v!r}): {p}" for p in problems)
        if ok is not None:
            medium, links, per_link = ok
            sig_ok[i] = True
            sig_medium[i], sig_links[i], sig_rate[i] = _MEDIUM_INDEX[medium], links, per_link
            sig_bw[i] = d["bandwidth_gbps"]
    for e in np.flatnonzero(~known):
        u, v, _ = edges[e]
        errors.append(f"edge ({u!r}, {v!r}) names a node the graph does not have")
    kind = np.fromiter(chain(map(_KIND_INDEX.get, kinds, repeat(-1)), (-1,)), np.int64,
                       n_nodes + 1)
    ok = sig_ok[s_idx] & known
    med, links, rate = sig_medium[s_idx], sig_links[s_idx], sig_rate[s_idx]
    ku, kv = kind[u_idx], kind[v_idx]
    pair = _PAIR_OK[ku, kv, med]
    for e in np.flatnonzero(ok & ~pair):
        u, v, _ = edges[e]
        errors.append(f"edge ({u!r}, {v!r}): medium {MEDIA[med[e]]!r} cannot join a "
                      f"{NODE_KINDS[ku[e]] if ku[e] >= 0 else None} and a "
                      f"{NODE_KINDS[kv[e]] if kv[e] >= 0 else None}")
    ok &= pair
    switch = np.isin(kind, [_KIND_INDEX[k] for k in SWITCH_KINDS])
    nic = kind == _KIND_INDEX["nic"]
    gpu = kind == _KIND_INDEX["gpu"]
    pcie, nvlink = _MEDIUM_INDEX["pcie"], _MEDIUM_INDEX["nvlink"]
    names = list(map(itemgetter(0), nodes))
    attrs = list(map(itemgetter(1), nodes))
    # port speeds of the switches and NICs (the only ends whose links are counted)
    port_gbps = np.full(n_nodes + 1, np.nan)
    metered = np.flatnonzero(switch[:n_nodes] | nic[:n_nodes])
    speeds = list(map(dict.get, map(attrs.__getitem__, metered.tolist()), repeat("port_gbps")))
    if set(map(type, speeds)) <= {float, type(None)}:
        port_gbps[metered] = np.array(speeds, np.float64)     # None: nan, never exceeded
    else:
        port_gbps[metered] = [x if isinstance(x, float) else np.inf for x in speeds]
    del speeds
    load = np.zeros(n_nodes, dtype=np.int64)
    nvload = np.zeros(n_nodes, dtype=np.int64)
    too_fast = np.zeros(n_nodes, dtype=bool)
    for end in (u_idx, v_idx):
        counted = ok & (switch[end] | (nic[end] & (med != pcie)))
        load += np.bincount(end[counted], weights=links[counted], minlength=n_nodes).astype(np.int64)
        fast = counted & (rate > port_gbps[end] * (1 + _REL_TOL))
        too_fast[end[fast]] = True
        on_gpu = ok & gpu[end] & (med == nvlink)
        nvload += np.bincount(end[on_gpu], weights=links[on_gpu],
                              minlength=n_nodes).astype(np.int64)
    for i in np.flatnonzero(too_fast):
        cap = attrs[i]["port_gbps"]
        worst = max(sig_rate[j] for j in set(s_idx[(u_idx == i) | (v_idx == i)].tolist()))
        errors.append(f"node {names[i]!r}: a link of {worst:g} Gb/s per link exceeds "
                      f"its {cap:g} Gb/s ports")
    busy = np.flatnonzero(load > 0)
    budget = _int_column(list(map(attrs.__getitem__, busy.tolist())), "ports")
    for i in busy[load[busy] > budget]:
        errors.append(f"node {names[i]!r} ({attrs[i]['kind']}): {load[i]} links exceed its "
                      f"port budget of {attrs[i]['ports']} ports at "
                      f"{attrs[i].get('port_gbps', 0):g} Gb/s")
    if port_count is not None:
        for e in np.flatnonzero((port_count > 0) & (port_count < len(_PORT_KEYS)))[:20]:
            u, v, _ = edges[e]
            errors.append(f"edge ({u!r}, {v!r}): `a_end`, `a_port` and `b_port` go together")
        sel = np.flatnonzero(ok & (port_count == len(_PORT_KEYS)))
        _check_ports(names, attrs, index, list(map(port_dicts.__getitem__, sel.tolist())),
                     u_idx[sel], v_idx[sel], links[sel], errors)
    busy = np.flatnonzero(nvload > 0)
    budget = _int_column(list(map(attrs.__getitem__, busy.tolist())), "nvlink_links")
    for i in busy[nvload[busy] > budget]:
        errors.append(f"node {names[i]!r} (gpu): {nvload[i]} NVLink links exceed the GPU's "
                      f"{attrs[i]['nvlink_links']} NVLink links")
    _check_connected(nodes, u_idx[known], v_idx[known], errors)
    return u_idx, v_idx, med, links, sig_bw[s_idx]


_BIG_INT = 2 ** 62
"""Ints are clamped to +-this in int64 arrays: beyond any port or link count, with room to
add one to another without overflow."""


def _int64(values):
    """The ints ``values`` as an int64 array, clamped to +-:data:`_BIG_INT` if any is beyond."""
    try:
        return np.fromiter(values, np.int64, len(values))
    except OverflowError:
        return np.array([min(max(x, -_BIG_INT), _BIG_INT) for x in values], np.int64)


def _int_column(attrs, key):
    """Node attribute ``key`` of the dicts ``attrs`` as float64 where it is an ``int`` (a
    bool too, as ``isinstance`` has it), nan elsewhere (every comparison with it false)."""
    values = list(map(dict.get, attrs, repeat(key)))
    if set(map(type, values)) <= {int, bool, type(None)}:   # the usual case: no per-node Python
        try:
            return np.array(values, np.float64)
        except OverflowError:                  # an int beyond floats: clamped below
            pass
    big = float(2 ** 64)                       # beyond any link count
    return np.array([min(max(x, -big), big) if isinstance(x, int) else np.nan for x in values],
                    np.float64)


def _hashable(x):
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _check_connected(nodes, u_idx, v_idx, errors):
    """Connectivity of the nodes joined by the edges ``u_idx[i] -- v_idx[i]``."""
    n = len(nodes)
    if n <= 1:
        return
    parts = _component_count(n, u_idx, v_idx)
    if parts > 1:
        degree = np.bincount(u_idx, minlength=n) + np.bincount(v_idx, minlength=n)
        isolated = [nodes[i][0] for i in np.flatnonzero(degree == 0)[:5]]
        hint = f"; isolated nodes include {isolated}" if isolated else ""
        errors.append(f"the fabric is not connected: {parts} components{hint}")


def _component_count(n, u_idx, v_idx):
    """Number of connected components of ``n`` nodes joined by the edges
    ``u_idx[i] -- v_idx[i]``, in numpy (no scipy to import on the build path).

    Every tree of a forest points at its smallest node: each round hooks the root of every
    edge's larger end onto the smallest root it meets, then jumps pointers until every node
    points at its root; a fabric's short paths take a few rounds.
    """
    parent = np.arange(n)
    while True:
        ru, rv = parent[u_idx], parent[v_idx]
        split = ru != rv
        if not split.any():
            return int(np.count_nonzero(parent == np.arange(n)))
        ru, rv = ru[split], rv[split]
        np.minimum.at(parent, np.maximum(ru, rv), np.minimum(ru, rv))
        while True:
            grand = parent[parent]
            if (grand == parent).all():
                break
            parent = grand


def _check_parts(graph_attrs, nodes, edges, edge_key, *, strict):
    """Every check, over node and edge iterables; returns the errors and the edge arrays of
    :func:`_check_edges` (None without nodes).

    ``edge_key(d)`` keys the per-edge attribute cache: builders share one dict
    among identical edges of their edge list and pass ``id``; a graph gives
    every edge its own dict and uses the attribute tuple.
    """
    errors = []
    for key in _GRAPH_KEYS:
        if key not in graph_attrs:
            errors.append(f"G.graph lacks provenance key `{key}`")
    if graph_attrs.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        errors.append(f"schema_version {graph_attrs['schema_version']!r} is not {SCHEMA_VERSION}")
    if "params" in graph_attrs and not isinstance(graph_attrs["params"], dict):
        errors.append("G.graph `params` must be a dict")
    if not nodes:
        errors.append("the graph has no nodes")
        return errors, None
    kinds = list(map(dict.get, map(itemgetter(1), nodes), repeat("kind")))
    index = dict(zip(map(itemgetter(0), nodes), count()))     # a repeated name: its last
    if len(index) < len(nodes):
        seen, dups = set(), []
        for n, _ in nodes:
            if n in seen and n not in dups:
                dups.append(n)
            seen.add(n)
        errors.append(f"{len(nodes) - len(index)} duplicate node name(s), e.g. "
                      f"{dups[:5]}; every node needs its own name")
    _check_nodes(nodes, index, kinds, errors)
    arrays = _check_edges(nodes, edges, edge_key, errors, index=index, kinds=kinds)
    soft = []
    # every node's kind counts (a repeated name: its last node's)
    if "gpu" not in (kinds if len(index) == len(nodes) else
                     set(map(kinds.__getitem__, index.values()))):
        soft.append("the fabric has no GPUs")
    if strict:
        errors.extend(soft)
    else:
        for message in soft:
            warnings.warn(message, FabricWarning, stacklevel=3)
    return errors, arrays


def _edge_list(G):
    """Every edge once as (u, v, data), from the adjacency (faster than EdgeDataView)."""
    from fabric.edges import adjacency_arrays

    names = list(G._adj)
    u, v, data = adjacency_arrays(G, {n: i for i, n in enumerate(names)})
    return list(zip(map(names.__getitem__, u.tolist()), map(names.__getitem__, v.tolist()), data))


def validate_parts(graph_attrs, nodes, edges, G=None, *, strict=True):
    """Validate a builder's node and edge lists before they become a graph (the fast
    path of :func:`validate_fabric` for builders; connectivity included).

    The edge list may share one attribute dict among many edges; the per-edge
    attribute check then runs once per distinct dict. Duplicate node names and
    duplicate edges (which a graph would merge silently) are errors. ``G`` is
    accepted for compatibility and returned unchanged.

    Returns
    -------
    networkx.Graph or None
        ``G``.

    Raises
    ------
    FabricValidationError
        As :func:`validate_fabric`.
    """
    index_parts(graph_attrs, nodes, edges, strict=strict)
    return G


def index_parts(graph_attrs, nodes, edges, *, strict=True):
    """:func:`validate_parts`, returning the edge arrays its checks computed, for the steps
    after them (:class:`topologies._common.Collector` numbers the ports from them and
    inserts the edges with their ports, without looking every endpoint up again).

    Returns
    -------
    tuple of numpy.ndarray
        ``(u, v, medium, links, bandwidth)``: the positions in ``nodes`` of every edge's
        endpoints, its medium code (:data:`~fabric.schema.MEDIUM_CODE`), its ``links`` and
        its ``bandwidth_gbps``.

    Raises
    ------
    FabricValidationError
        As :func:`validate_parts`.
    """
    errors, arrays = _check_parts(graph_attrs, nodes, edges, id, strict=strict)
    if errors:
        raise FabricValidationError(errors)
    return arrays


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
        kinds it cannot join, port numbers (``a_end``, ``a_port``, ``b_port``) outside a
        device's ports or on two links, and a disconnected graph.

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
    import networkx as nx

    if not isinstance(G, nx.Graph) or G.is_directed() or G.is_multigraph():
        raise FabricValidationError([f"a fabric must be an undirected networkx.Graph, "
                                     f"got {type(G).__name__}"])
    nodes = list(G.nodes(data=True))
    errors, _ = _check_parts(G.graph, nodes, _edge_list(G), None, strict=strict)
    if errors:
        raise FabricValidationError(errors)
    return G
