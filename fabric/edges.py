"""A numpy table of a fabric's edges, built in one pass, shared by the metrics, validation and
the router (:class:`solvers.routing.Router` takes its arcs from it)."""

import weakref
from itertools import chain, compress, count, repeat
from operator import itemgetter

import numpy as np

from fabric._gc import gc_paused
from fabric.schema import KIND_CODE, MEDIUM_CODE

__all__ = ["EdgeTable", "adjacency_arrays", "edge_count", "remember_edges", "stable_argsort"]

_BUILT = weakref.WeakKeyDictionary()
"""Graph -> the edge arrays its builder inserted, for :meth:`EdgeTable.from_build`."""


def remember_edges(G, u, v, data, columns=None):
    """Keep a builder's edges of ``G`` for :meth:`EdgeTable.from_build`: ``u``, ``v`` the
    positions in ``G``'s node order of every edge's endpoints and ``data`` the attribute
    dicts in ``G``, in insertion order (as :meth:`topologies._common.Collector.graph`
    inserts them), and optionally ``columns``, their medium codes, ``links`` and
    ``bandwidth_gbps`` as validation read them. Held until that table is built or ``G``
    is freed."""
    _BUILT[G] = (u, v, data, columns)


def _built_edges(G):
    """The edges :func:`remember_edges` kept for ``G`` in the table's order (each edge once,
    from its lower endpoint, in that endpoint's adjacency order), ``(lo, hi, data,
    columns)``, or None when none were kept or ``G``'s node count or any node's degree has
    changed since."""
    kept = _BUILT.pop(G, None)
    if kept is None:
        return None
    u, v, data, columns = kept
    adj = G._adj
    deg = np.fromiter(map(len, adj.values()), np.int64, len(adj))
    if not np.array_equal(deg, np.bincount(np.concatenate([u, v]), minlength=len(adj))):
        return None
    lo, hi, order = _adjacency_permutation(u, v, len(adj))
    return (lo, hi, list(map(data.__getitem__, order.tolist())),
            columns and tuple(c[order] for c in columns))


def _adjacency_permutation(u, v, n_nodes):
    """``(lo, hi, order)`` of :func:`adjacency_order`: the sorted endpoints and the
    permutation of the insertion order that gives them."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = stable_argsort(lo, n_nodes)
    return lo[order], hi[order], order


def adjacency_order(u, v, data, n_nodes):
    """A builder's edges (endpoint positions ``u``, ``v`` and dicts ``data``, in insertion
    order) as a graph's adjacency scan lists them: each edge once from its lower endpoint
    (``lo < hi``), by lower endpoint, then by insertion (a node's adjacency row keeps
    insertion order). Returns ``(lo, hi, data)``."""
    lo, hi, order = _adjacency_permutation(u, v, n_nodes)
    return lo, hi, list(map(data.__getitem__, order.tolist()))


def stable_argsort(keys, bound):
    """``numpy.argsort(keys, kind="stable")`` of non-negative int keys below ``bound``, as
    the default (unstable, faster) sort of the distinct keys ``keys * len(keys) + position``
    (the same permutation); the stable sort where those could overflow int64."""
    m = len(keys)
    if m and bound * m >= 2 ** 62:
        return np.argsort(keys, kind="stable")
    return np.argsort(keys * m + np.arange(m))


def edge_count(G):
    """``G.number_of_edges()``, at C speed for an undirected simple graph (degrees summed
    by ``map``, each self-loop once); directed graphs and multigraphs ask networkx."""
    if G.is_directed() or G.is_multigraph():
        return G.number_of_edges()
    adj = G._adj
    return (sum(map(len, adj.values())) + sum(map(dict.__contains__, adj.values(), adj))) // 2


def adjacency_arrays(G, index):
    """Every edge once as (u indices, v indices, data dicts), vectorized over the adjacency.

    ``index`` maps node -> position in ``G``'s node order. Each undirected
    edge appears in both adjacency rows; the one with ``u < v`` is kept.
    """
    adj = G._adj
    deg = np.fromiter(map(len, adj.values()), np.int64, len(adj))
    src = np.repeat(np.arange(len(adj), dtype=np.int64), deg)
    # C-speed passes (chain/map) over the adjacency rows
    dst = np.fromiter(map(index.__getitem__, chain.from_iterable(adj.values())),
                      np.int64, int(deg.sum()))
    keep = dst >= src
    data = list(compress(chain.from_iterable(map(dict.values, adj.values())), keep.tolist()))
    return src[keep], dst[keep], data


class EdgeTable:
    """Arrays over the edges of ``G`` (each edge once) and its nodes.

    Attributes
    ----------
    names : list
        Node names; node ``i`` of the arrays is ``names[i]``.
    index : dict
        Node name -> its position in ``names``.
    attrs : list
        The node attribute dicts, in the order of ``names`` (see :meth:`column`).
    kind : numpy.ndarray
        Node kind codes (:data:`KIND_CODE`).
    u, v : numpy.ndarray
        Endpoint indices of every edge.
    medium, links : numpy.ndarray
        Medium codes (:data:`MEDIUM_CODE`) and physical link counts (1 when absent).
    bw : numpy.ndarray
        ``bandwidth_gbps`` of every edge.
    data : list
        The edge attribute dicts (for rarely needed attributes).
    """

    def __init__(self, G, *, _edges=None):
        with gc_paused():
            self._fill(G, _edges)

    def _fill(self, G, _edges):
        self.names = list(G.nodes)
        index = dict(zip(self.names, count()))
        self.index = index
        self.attrs = list(G._node.values())
        self.kind = np.fromiter(map(KIND_CODE.__getitem__, map(itemgetter("kind"), self.attrs)),
                                dtype=np.int8, count=len(self.names))
        columns = None
        if _edges is not None:
            self.u, self.v, self.data, columns = _edges
        else:
            self.u, self.v, self.data = adjacency_arrays(G, index)
        if columns:               # as the build's validation read them
            medium, self.links, self.bw = columns
            self.medium = medium.astype(np.int8)
            return
        m = len(self.data)
        self.medium = np.fromiter(map(MEDIUM_CODE.__getitem__, map(itemgetter("medium"), self.data)),
                                  np.int8, m)
        self.links = np.fromiter(map(dict.get, self.data, repeat("links"), repeat(1)), np.int64, m)
        self.bw = np.fromiter(map(itemgetter("bandwidth_gbps"), self.data), np.float64, m)

    @classmethod
    def from_build(cls, G):
        """The table of a graph a builder has just returned, from the edges it inserted
        and the medium, links and bandwidth its validation read (:func:`remember_edges`)
        instead of a scan of the adjacency and of every edge's dict: the same table, ~3 s
        sooner on a 100k-GPU site.

        The caller vouches that ``G`` has not been changed since its build (as
        ``fabric info`` does, building the table right after loading): a change that
        keeps every node's degree (an edge moved or replaced) is not detected. A
        changed node count or degree, or a graph no builder kept, falls back to the
        adjacency. The kept edges are used once and then released.
        """
        with gc_paused():
            return cls(G, _edges=_built_edges(G))

    def column(self, key, default=None):
        """Node attribute ``key`` of every node (``default`` where absent), as a list in
        node order; read at C speed."""
        return list(map(dict.get, self.attrs, repeat(key), repeat(default)))

    def mask(self, *media):
        """Boolean mask of the edges whose medium is one of ``media``."""
        return np.isin(self.medium, [MEDIUM_CODE[m] for m in media])

    def kinds_of(self, *kinds):
        """Boolean mask over nodes of the given kinds."""
        return np.isin(self.kind, [KIND_CODE[k] for k in kinds])
