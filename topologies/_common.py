"""Private helpers shared by the builders: bulk node/edge collection and provenance."""

import contextlib
import contextvars
import functools
import time
from collections import deque
from itertools import chain, repeat
from operator import itemgetter

from fabric._gc import gc_paused
from fabric.exceptions import ParameterError
from fabric.schema import SCHEMA_VERSION

COPPER_NS_PER_M = 4.5     # hardware-facts §7: passive DAC <= 4.5 ns/m (H)
FIBER_NS_PER_M = 4.9      # hardware-facts §7: 4.9 us/km in fiber (H)


class Collector:
    """Accumulates nodes and edges as lists, then inserts them into a graph at once (or,
    inside :func:`as_tables`, hands them over validated as :class:`fabric.io.Tables`).

    Builders of large fabrics generate millions of edges; building plain lists
    and calling ``add_nodes_from``/``add_edges_from`` once keeps construction
    close to the cost of networkx's own insertion.
    """

    def __init__(self):
        self.nodes = []
        self.edges = []
        self.notes = []
        self.timings = {}

    def node(self, name, attrs):
        self.nodes.append((name, attrs))
        return name

    def edge(self, u, v, attrs):
        self.edges.append((u, v, attrs))

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def graph(self, builder, params, catalog, *, validate=True):
        """Validate the collected lists, then insert them into a new graph and return it
        (inside :func:`as_tables`: return them as :class:`fabric.io.Tables`, no graph).

        Validation yields every edge's endpoint positions, medium and links
        (:func:`fabric.validate.index_parts`); from them
        :func:`fabric.ports.list_ports` numbers the ports of every network link, and
        the edges are inserted with their ports. The lists are emptied as they are
        inserted (their entries are freed chunk by chunk once copied into the
        graph), so the builder's lists and the graph never both hold everything:
        peak memory stays close to the graph's own. Unvalidated lists are inserted
        by networkx and numbered by :func:`fabric.ports.assign_ports`. ``timings``
        receives ``validate_s``, ``ports_s`` (numbering) and ``insert_s`` (for tables:
        copying the edge dicts with their ports). The inserted edges of validated lists
        are kept for :meth:`fabric.edges.EdgeTable.from_build`.
        """
        meta = {"builder": builder, "params": dict(params), "catalog_version": catalog.version,
                "schema_version": SCHEMA_VERSION, "notes": list(self.notes)}
        if validate and _AS_TABLES.get():
            return self._tables(meta)
        import networkx as nx

        from fabric.ports import assign_ports

        G = nx.Graph()
        G.graph.update(meta)
        n_edges = len(self.edges)
        # the benchmark measures its floor with the cyclic GC paused too
        with gc_paused():
            if validate:          # unique node names, every endpoint a listed node: checked
                ends, ports, columns = self._checked(G.graph)[2:]  # names, attrs dropped
                t0 = time.perf_counter()
                data = _insert(G, self.nodes, self.edges, ends, ports)
                self.timings["insert_s"] = time.perf_counter() - t0
            else:
                t0 = time.perf_counter()
                G.add_nodes_from(_drain(self.nodes))
                G.add_edges_from(_drain(self.edges))
                t1 = time.perf_counter()
                assign_ports(G)
                self.timings = {"validate_s": 0.0, "insert_s": t1 - t0,
                                "ports_s": time.perf_counter() - t1}
        from fabric.edges import edge_count, remember_edges

        count = edge_count(G)
        if count != n_edges:
            msg = f"builder {builder} produced {n_edges - count} duplicate edges"
            raise AssertionError(msg)
        if validate:
            remember_edges(G, *ends, data, columns)
        return G

    def _checked(self, meta):
        """Validate the lists (provenance ``meta``) and number their ports: ``(names, attrs,
        ends, ports, columns)``, the node names and attribute dicts, the endpoint positions
        of every edge (two arrays), :func:`fabric.ports.list_ports`' result and the edges'
        medium codes, ``links`` and ``bandwidth_gbps`` as validation read them (for
        :meth:`fabric.edges.EdgeTable.from_build`); ``timings`` receives ``validate_s`` and
        ``ports_s``."""
        from fabric.ports import list_ports
        from fabric.validate import index_parts

        t0 = time.perf_counter()
        u, v, medium, links, bw = index_parts(meta, self.nodes, self.edges)
        t1 = time.perf_counter()
        names = list(map(itemgetter(0), self.nodes))
        attrs = list(map(itemgetter(1), self.nodes))
        ports = list_ports(names, attrs, u, v, medium, links)
        self.timings = {"validate_s": t1 - t0, "ports_s": time.perf_counter() - t1}
        return names, attrs, (u, v), ports, (medium, links, bw)

    def _tables(self, meta):
        """The validated lists with their ports as :class:`fabric.io.Tables` (emptied): the
        network edges get their own dicts with ports, the others keep the builder's."""
        from fabric.io import Tables

        with gc_paused():
            names, attrs, ends, ports, _ = self._checked(meta)
            t0 = time.perf_counter()
            self.nodes.clear()
            data = []
            for _, ds in _numbered(self.edges, ports, own=False):
                data += ds
            self.timings["insert_s"] = time.perf_counter() - t0
        tables = Tables(meta, names, attrs, *ends, data)
        tables._validated = True           # so write_json stamps its checksum
        return tables


_AS_TABLES = contextvars.ContextVar("as_tables", default=False)


@contextlib.contextmanager
def as_tables():
    """Inside the block, :meth:`Collector.graph` of validated lists returns them as
    :class:`fabric.io.Tables` instead of a graph (so builders do; ``topologies.load`` with
    ``tables=True`` builds so): validated and port-numbered exactly as for the graph, but
    networkx is neither imported nor filled."""
    token = _AS_TABLES.set(True)
    try:
        yield
    finally:
        _AS_TABLES.reset(token)


_CHUNK = 1 << 16


def _chunks(items):
    """Yield consecutive slices of a list, dropping the list's references to each slice's
    items as it goes (so they are freed once used); the list is empty afterwards."""
    for lo in range(0, len(items), _CHUNK):
        part = items[lo:lo + _CHUNK]
        items[lo:lo + _CHUNK] = repeat(None, len(part))
        yield part
    items.clear()


def _numbered(edges, ports, *, own=True):
    """The attribute dicts of the ``(u, v, attrs)`` edges with their port numbers (as
    :func:`fabric.ports.list_ports` returns them), chunk by chunk, emptying the list:
    yields ``(edges, dicts)`` of each chunk, in list order. Every network edge gets its
    own copy of its dict with ``a_end``, ``a_port`` and ``b_port`` added; so does every
    other edge when ``own``, else it keeps the builder's (shared, read-only) dict."""
    import numpy as np

    from fabric.ports import write_ports

    ported, a_end, a_port, b_port = ports      # positions of the network edges, ascending
    lo = 0
    for part in _chunks(edges):
        ds = list(map(itemgetter(2), part))
        if own:
            ds = list(map(dict, ds))
        hi = lo + len(part)
        k, k_end = np.searchsorted(ported, (lo, hi)).tolist()
        at = (ported[k:k_end] - lo).tolist()
        net = list(map(ds.__getitem__, at))
        if not own:
            net = list(map(dict, net))
            deque(map(ds.__setitem__, at, net), maxlen=0)
        write_ports(net, a_end[k:k_end], a_port[k:k_end], b_port[k:k_end])
        lo = hi
        yield part, ds


def _insert(G, nodes, edges, ends, ports):
    """Insert ``(name, attrs)`` nodes and ``(u, v, attrs)`` edges into the empty graph ``G``,
    as ``add_nodes_from``/``add_edges_from`` would, at C speed (maps, no per-item Python),
    with the port numbers ``ports`` (as :func:`fabric.ports.list_ports` returns them);
    ``ends`` holds the positions in ``nodes`` of every edge's endpoints (two arrays, as
    :func:`fabric.validate.index_parts` returns them), so adjacency rows are found by
    position instead of by name.

    The result is the graph networkx builds, dict for dict, then numbered by
    :func:`fabric.ports.assign_ports`: each node and each edge gets its own copy of
    its attribute dict, node and adjacency order follow the lists, and each network
    edge's copy gets ``a_end``, ``a_port`` and ``b_port``. Valid for validated lists
    only: node names are unique and every endpoint is a listed node (a duplicate edge
    would keep the last attributes instead of merging them; :meth:`Collector.graph`
    counts the edges afterwards anyway). The lists are emptied as they are inserted.
    Returns every edge's attribute dict in the graph, in list order.
    """
    import numpy as np

    node, adj = G._node, G._adj
    data = []
    for part in _chunks(nodes):
        names = list(map(itemgetter(0), part))
        adj.update(zip(names, map(dict, repeat((), len(names)))))
        node.update(zip(names, map(dict, map(itemgetter(1), part))))
    rows = list(adj.values())
    lo = 0
    for part, ds in _numbered(edges, ports):
        us = list(map(itemgetter(0), part))
        vs = list(map(itemgetter(1), part))
        del part
        data += ds
        hi = lo + len(ds)
        # adj[u][v] = adj[v][u] = d, edge by edge: each row's neighbours in list order
        arcs = np.empty(2 * (hi - lo), np.int64)
        arcs[0::2], arcs[1::2] = ends[0][lo:hi], ends[1][lo:hi]
        lo = hi
        deque(map(dict.__setitem__, map(rows.__getitem__, arcs.tolist()),
                  chain.from_iterable(zip(vs, us)), chain.from_iterable(zip(ds, ds))), maxlen=0)
    return data


def _drain(items):
    """Yield the items of a list, dropping the list's reference to each as it goes;
    the list is empty afterwards."""
    for i in range(len(items)):
        item = items[i]
        items[i] = None
        yield item
    items.clear()


def catalog_or_default(catalog):
    if catalog is not None:
        return catalog
    from fabric.catalog import default_catalog     # not at import: `fabric presets` needs none

    return default_catalog()


@functools.lru_cache(maxsize=4096)
def link(medium, links, per_link_gbps, *, length_m=None, cable=None, ns_per_m=COPPER_NS_PER_M):
    """Edge attributes for ``links`` parallel links of ``per_link_gbps`` each.

    Memoized: identical links share one (read-only) dict in a builder's edge
    list, so validation checks it once; networkx copies it on insertion.
    """
    attrs = {"medium": medium, "links": int(links), "bandwidth_gbps": float(links * per_link_gbps),
             "latency_ns": float(round((length_m or 0.0) * ns_per_m, 3))}
    if length_m is not None:
        attrs["length_m"] = float(length_m)
    if cable is not None:
        attrs["cable"] = cable
    return attrs


def check_int(name, value, *, lo=1, hi=None, hint=""):
    """Raise ParameterError unless ``value`` is an int within [lo, hi].

    For values a builder derives or that depend on other parameters; a preset's
    own parameters are checked by the registry (:func:`topologies.registry.preset`).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"`{name}` must be an integer, got {value!r}"
        raise ParameterError(msg)
    if value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        msg = f"`{name}` must be {bound}, got {value}" + (f"; {hint}" if hint else "")
        raise ParameterError(msg)
    return value
