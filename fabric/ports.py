"""Port numbers of the network links: every switch's and NIC's ports, deterministically.

:func:`assign_ports` numbers the scale-out and scale-across ports (edges of
:data:`~fabric.schema.NETWORK_MEDIA`) of every device from 1 (:func:`list_ports` gives
a builder's lists the same numbers before they become a graph), following the
reference cabling conventions:

* at every device, **downlinks first** (neighbours of a lower tier), in
  (site, pod, rack, host, rail, plane, name) order, so a rail-optimized leaf
  takes rail ``r`` of host 0, 1, 2 ... on ports 1, 2, 3 ...;
* then **uplinks** (a higher tier) in (plane, name) order, so a leaf's
  uplinks are spread over the spines in spine order and a multi-plane NIC's
  port ``p`` goes to plane ``p - 1``;
* then peers of the same tier (WAN router to WAN router) in name order.

Names sort naturally (``spine2`` before ``spine10``). Tiers: NIC 0, leaf 1,
spine 2, core 3, WAN 4. An edge of ``links = L`` takes ``L`` contiguous ports
at both ends (also on the virtual nodes of the aggregated form).

Edge schema (see :mod:`fabric.schema`): ``a_end`` names one endpoint (the
lower tier one; between peers the first in the order above), ``a_port`` is the
first of its ports, ``b_port`` the first port at the other endpoint. Ports
``a_port .. a_port + links - 1`` at ``a_end`` are cabled one to one to ports
``b_port .. b_port + links - 1`` at the other end.
"""

import re
from collections import deque
from itertools import chain, compress, count, repeat, zip_longest
from operator import itemgetter

import numpy as np

from fabric._gc import gc_paused
from fabric.schema import MEDIUM_CODE, NETWORK_MEDIA

__all__ = ["assign_ports", "PORT_ATTRS", "TIER_OF_KIND", "natural_key", "natural_order",
           "edge_ports", "cable_ends"]

PORT_ATTRS = ("a_end", "a_port", "b_port")
"""The edge attributes :func:`assign_ports` writes."""

TIER_OF_KIND = {"nic": 0, "leaf": 1, "spine": 2, "core": 3, "wan": 4}
"""Tier of each networked node kind (a NIC is tier 0)."""

_DIGITS = re.compile(r"(\d+)")
_NET_MEDIA = frozenset(NETWORK_MEDIA)


def natural_key(name):
    """Sort key that orders the digit runs of ``name`` numerically (``a2`` < ``a10``).

    Examples
    --------
    >>> sorted(["p0-spine10", "p0-spine2", "p1-leaf0"], key=natural_key)
    ['p0-spine2', 'p0-spine10', 'p1-leaf0']
    """
    parts = _DIGITS.split(str(name))          # text, digits, text, digits ... text
    parts[1::2] = map(int, parts[1::2])       # same types at the same positions
    return tuple(parts)


_LAST = 1 << 62          # a missing location key sorts last (management gear after compute)


def _ints(attrs, key):
    """Column ``key`` of the node attribute dicts as int64 (missing or not an int: last)."""
    values = list(map(dict.get, attrs, repeat(key), repeat(_LAST)))
    if set(map(type, values)) == {int}:        # the usual case: no per-node Python
        return np.fromiter(values, np.int64, len(values))
    return np.fromiter((v if type(v) is int else _LAST for v in values), np.int64, len(values))


def natural_order(names):
    """Indices that sort ``names`` by :func:`natural_key`, stably (equal keys keep their
    order): ``sorted(range(len(names)), key=lambda i: natural_key(names[i]))``, as an
    int64 array, computed column by column (no key tuple per name).

    The keys are split into columns, text and number alternately; a key shorter than
    another is padded with -1 in its first missing number column (a shorter key that
    is a prefix sorts first, as tuples do; padding text never decides). Each text
    column is ranked by sorting its distinct values, and ``numpy.lexsort`` orders the
    rows. Names are compared as ``str``.

    Examples
    --------
    >>> natural_order(["p0-spine10", "p0-spine2", "p1-leaf0", "p0"]).tolist()
    [3, 1, 0, 2]
    """
    n = len(names)
    parts = list(map(_DIGITS.split, map(str, names)))
    if n < 2:
        return np.arange(n, dtype=np.int64)
    keys = []
    for j, col in enumerate(zip_longest(*parts, fillvalue="-1")):
        if j % 2:                                   # digit runs (and -1 past a key's end)
            try:
                keys.append(np.fromiter(map(int, col), np.int64, n))
            except OverflowError:                   # beyond int64: the tuple sort
                return np.array(sorted(range(n), key=list(map(natural_key, names)).__getitem__),
                                np.int64)
        else:
            uniq = sorted(set(col))
            if len(uniq) > 1:
                rank = dict(zip(uniq, count()))
                keys.append(np.fromiter(map(rank.__getitem__, col), np.int64, n))
    if not keys:
        return np.arange(n, dtype=np.int64)
    return np.lexsort(keys[::-1])


def _ranks(nodes, attrs):
    """(down rank, up rank) of every node: positions in the (site, pod, rack, host, rail,
    plane, name) and (plane, name) orders, names and hosts in natural order (hosts whose
    names differ but sort equal, ``h01`` and ``h1``, in string order)."""
    n = len(nodes)
    name_rank = np.empty(n, np.int64)
    name_rank[natural_order(nodes)] = np.arange(n)
    hosts = list(map(str, map(dict.get, attrs, repeat("host"), repeat(""))))
    distinct = sorted(set(hosts))
    host_pos = dict(zip(map(distinct.__getitem__, natural_order(distinct).tolist()), count()))
    host_rank = np.fromiter(map(host_pos.__getitem__, hosts), np.int64, n)
    plane = _ints(attrs, "plane")
    down = np.empty(n, np.int64)
    down[np.lexsort((name_rank, plane, _ints(attrs, "rail"), host_rank, _ints(attrs, "rack"),
                     _ints(attrs, "pod"), _ints(attrs, "site")))] = np.arange(n)
    up = np.empty(n, np.int64)
    up[np.lexsort((name_rank, plane))] = np.arange(n)
    return down, up


def _network_edges(G):
    """Network nodes and edges: (names, index, u, v, edge dicts), each edge once (u < v).

    C-speed passes over the adjacency of the network nodes (network media join network
    kinds only, so both ends of a network edge are among them)."""
    node = G._node
    nodes = list(compress(node, map(TIER_OF_KIND.__contains__,
                                    map(dict.get, node.values(), repeat("kind")))))
    index = dict(zip(nodes, count()))
    adj = G._adj
    rows = list(map(adj.__getitem__, nodes))
    deg = np.fromiter(map(len, rows), np.int64, len(rows))
    total = int(deg.sum())
    j = np.fromiter(map(index.get, chain.from_iterable(rows), repeat(-1)), np.int64, total)
    i = np.repeat(np.arange(len(nodes), dtype=np.int64), deg)
    keep = np.flatnonzero(j > i)
    mask = np.zeros(total, bool)
    mask[keep] = True
    ds = list(compress(chain.from_iterable(map(dict.values, rows)), mask.tolist()))
    del mask
    net = np.fromiter(map(_NET_MEDIA.__contains__, map(dict.get, ds, repeat("medium"))), bool,
                      len(ds))
    if not net.all():
        keep = keep[net]
        ds = [d for d, ok in zip(ds, net.tolist()) if ok]
    return nodes, index, i[keep], j[keep], ds


def assign_ports(G):
    """Number the network ports of every device of ``G`` (in place) and return ``G``.

    Sets ``a_end``, ``a_port`` and ``b_port`` on every edge whose medium is a
    network medium (see the module docstring for the order); other edges are
    untouched. Deterministic: the result depends only on the graph's nodes,
    their attributes and its edges, not on insertion order. Existing port
    attributes are overwritten.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("fat-tree", {"k": 4})
    >>> d = G.edges["h0-nic", "p0-leaf0"]
    >>> d["a_end"], d["a_port"], d["b_port"]
    ('h0-nic', 1, 1)
    >>> d = G.edges["h1-nic", "p0-leaf0"]
    >>> d["a_end"], d["a_port"], d["b_port"]
    ('h1-nic', 1, 2)
    """
    # Millions of edge dicts get three attributes each: pause the cyclic GC (nothing here
    # makes cycles), as the builders do while inserting.
    with gc_paused():
        _assign(G)
    return G


def _assign(G):
    nodes, _, u, v, ds = _network_edges(G)
    if not ds:
        return
    attrs = list(map(G._node.__getitem__, nodes))
    links = np.fromiter(map(dict.get, ds, repeat("links"), repeat(1)), np.int64, len(ds))
    a_end, a_port, b_port = _numbers(nodes, attrs, u, v, links)
    write_ports(ds, list(map(nodes.__getitem__, a_end.tolist())), a_port.tolist(),
                b_port.tolist())


def list_ports(names, attrs, u, v, medium, links):
    """Port numbers of the network edges of a builder's validated node and edge lists,
    as :func:`assign_ports` numbers the graph they make, from the edge arrays of
    :func:`fabric.validate.index_parts` (no walk over an adjacency).

    Parameters
    ----------
    names, attrs : list
        Node names and attribute dicts, in list order.
    u, v, medium, links : numpy.ndarray
        Every edge's endpoint positions in ``names``, medium code and ``links``.

    Returns
    -------
    rows : numpy.ndarray
        Positions of the network edges in the edge list, ascending.
    a_end, a_port, b_port : list
        Their port attributes (see :func:`write_ports`).
    """
    rows = np.flatnonzero(np.isin(medium, [MEDIUM_CODE[m] for m in NETWORK_MEDIA]))
    if not len(rows):
        return rows, [], [], []
    # network media join network kinds only (validated): the network nodes are those kinds
    net = np.flatnonzero(np.fromiter(map(TIER_OF_KIND.__contains__,
                                         map(dict.get, attrs, repeat("kind"))), bool, len(attrs)))
    local = np.empty(len(attrs), np.int64)
    local[net] = np.arange(len(net))
    nodes = list(map(names.__getitem__, net.tolist()))
    a_end, a_port, b_port = _numbers(nodes, list(map(attrs.__getitem__, net.tolist())),
                                     local[u[rows]], local[v[rows]], links[rows])
    return rows, list(map(nodes.__getitem__, a_end.tolist())), a_port.tolist(), b_port.tolist()


def _dense_rank(*columns):
    """Rank of every row of the int ``columns`` (the first the most significant) among the
    distinct rows: equal rows equal ranks, ``0 .. k-1`` in sorted order."""
    order = np.lexsort(columns[::-1])
    fresh = np.zeros(len(order), bool)
    fresh[1:] = np.any([c[order[1:]] != c[order[:-1]] for c in columns], axis=0)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.cumsum(fresh)
    return rank


def _numbers(nodes, attrs, u, v, links):
    """``(a_end, a_port, b_port)`` arrays of the network edges ``u[i] -- v[i]`` with
    ``links[i]`` links between the network nodes ``nodes`` (``a_end`` as a position in
    ``nodes``); the edges' order and orientation do not matter.

    A device's neighbours are ordered by their leading integer keys first, (site, pod,
    rack) below it and plane above it; the whole orders of :func:`_ranks`, which sort
    names and hosts naturally, are computed only for the neighbours those keys leave
    tied (and the ends of peer links): the switches, not the hundreds of thousands of
    NICs whose racks already order them. The same numbers as ranking every node.
    """
    m = len(links)
    n = len(nodes)
    tier = np.fromiter(map(TIER_OF_KIND.__getitem__, map(itemgetter("kind"), attrs)), np.int64,
                       n)
    plane = _ints(attrs, "plane")
    coarse_down = _dense_rank(_ints(attrs, "site"), _ints(attrs, "pod"), _ints(attrs, "rack"))
    # Both ends of every edge: (device, neighbour); group 0 down, 1 up, 2 peer.
    dev = np.concatenate([u, v])
    nbr = np.concatenate([v, u])
    lk = np.concatenate([links, links])
    group = np.where(tier[nbr] < tier[dev], 0, np.where(tier[nbr] > tier[dev], 1, 2))
    coarse = np.where(group == 1, plane[nbr], coarse_down[nbr])
    order = np.lexsort((coarse, group, dev))
    sdev, sgroup, scoarse = dev[order], group[order], coarse[order]
    tied = (sdev[1:] == sdev[:-1]) & (sgroup[1:] == sgroup[:-1]) & (scoarse[1:] == scoarse[:-1])
    peer = tier[u] == tier[v]
    # the distinct nodes, ascending (a bincount, not np.unique: numpy 2's unique imports
    # numpy.ma, ~5 ms of a small build's start-up)
    need = np.flatnonzero(np.bincount(np.concatenate([nbr[order[1:][tied]], nbr[order[:-1][tied]],
                                                      u[peer], v[peer]]), minlength=n))
    fine_down = np.zeros(n, np.int64)         # whole orders, among the `need` nodes
    if need.size:
        fine_up = np.zeros(n, np.int64)
        sub = need.tolist()
        fine_down[need], fine_up[need] = _ranks(list(map(nodes.__getitem__, sub)),
                                                list(map(attrs.__getitem__, sub)))
        fine = np.where(group == 1, fine_up[nbr], fine_down[nbr])
        order = np.lexsort((fine, coarse, group, dev))
    sl = lk[order]
    csum = np.cumsum(sl)
    sdev = dev[order]
    seg_first = np.flatnonzero(np.r_[True, sdev[1:] != sdev[:-1]])
    seg_id = np.cumsum(np.r_[True, sdev[1:] != sdev[:-1]]) - 1
    before = (csum[seg_first] - sl[seg_first])[seg_id]
    start = np.empty(2 * m, np.int64)
    start[order] = csum - sl - before + 1
    pu, pv = start[:m], start[m:]
    u_first = (tier[u] < tier[v]) | (peer & (fine_down[u] < fine_down[v]))
    return np.where(u_first, u, v), np.where(u_first, pu, pv), np.where(u_first, pv, pu)


def write_ports(ds, a_end, a_port, b_port):
    """Set ``a_end``, ``a_port`` and ``b_port`` (lists, one value per dict) on the edge
    dicts ``ds``, at C speed, one attribute at a time: every dict gets them in that order."""
    for key, values in zip(PORT_ATTRS, (a_end, a_port, b_port)):
        deque(map(dict.__setitem__, ds, repeat(key), values), maxlen=0)


def edge_ports(u, v, d):
    """``(port at u, port at v)``: the first port of the edge at each end, or ``None``s."""
    a = d.get("a_end")
    if a is None:
        return None, None
    if a == u:
        return d["a_port"], d["b_port"]
    return d["b_port"], d["a_port"]


def cable_ends(u, v, d):
    """``(a, b, a_port, b_port)`` of an edge in its port orientation (``a_end`` first);
    ports ``None`` when the edge has none."""
    a = d.get("a_end")
    if a is None:
        return u, v, None, None
    b = v if a == u else u
    return a, b, d["a_port"], d["b_port"]
