"""Read and write fabric graphs: JSON (node and edge tables; ``.json.gz`` compressed) and
GraphML, and the atomic file writer.

:func:`write_fabric` also writes DOT, through :func:`fabric.export.dot.write_dot`;
every other export (diagrams, scheduler files) is in :mod:`fabric.export`.

Every writer copies nothing it does not need, never mutates its input, and
writes to a temporary file in the target directory that is renamed into
place only when complete, so a failed export leaves no partial file.
"""

import json
import os
import tempfile
from collections import deque
from contextlib import contextmanager
from itertools import chain, count, islice
from operator import itemgetter
from pathlib import Path

from fabric._gc import gc_paused
from fabric.exceptions import FabricError, FabricFormatError, ParameterError
from fabric.schema import EDGE_ATTRS, NODE_ATTRS, SCHEMA_VERSION

__all__ = [
    "write_json", "read_json", "write_graphml", "read_graphml",
    "read_fabric", "write_fabric", "atomic_write", "read_json_input", "FORMATS",
]

FORMATS = ("json", "graphml", "dot")
"""Formats :func:`write_fabric` writes (``dot`` has no reader)."""

_MAGIC = "fabric-topology"
_GRAPH_KEY = "fabric_graph_json"


@contextmanager
def atomic_write(path, mode="w"):
    """Open a temporary file next to ``path``; rename it to ``path`` on success.

    A symbolic link is followed (its target is replaced, the link kept). A
    path that exists and is not a regular file (a directory, device or FIFO)
    is refused rather than replaced.

    The temporary file (``.NAME.XXXXXXXX.tmp``) is removed on any exception,
    including ``KeyboardInterrupt`` and ``SystemExit``; the ``fabric`` command
    turns SIGINT and SIGTERM into those, so an interrupted write leaves neither
    a partial file nor a temporary one. SIGKILL (``kill -9``, the OOM killer)
    cannot be handled: it can leave the hidden temporary file, never a partial
    ``path``.

    Raises
    ------
    FabricError
        When the path is empty or not a regular file, or its directory does
        not exist or is not writable, or the write fails.
    """
    if not str(path):
        msg = "cannot write to an empty path; give a file name"
        raise FabricError(msg)
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file (device, FIFO or socket)"
        msg = f"cannot write `{path}`: it is {what}; give a regular file path"
        raise FabricError(msg)
    directory = path.parent
    if not directory.is_dir():
        msg = f"cannot write `{path}`: directory `{directory}` does not exist"
        raise FabricError(msg)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        msg = f"cannot write `{path}`: {exc.strerror or exc}"
        raise FabricError(msg) from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes 0600; give a normal file mode
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            msg = f"cannot write `{path}`: {exc.strerror or exc}"
            raise FabricError(msg) from None
        raise


_BOM = b"\xef\xbb\xbf"


def read_text_input(path, *, what, error=FabricFormatError, kind="text", fix=None):
    """Read a user's text file (spec, catalog, JSON input) as UTF-8, the one way fabric does.

    A UTF-8 byte-order mark is accepted and dropped (editors on Windows write
    one; TOML and JSON parsers would otherwise reject the first line). A file
    that is not UTF-8 (Latin-1, UTF-16, a binary file) is refused with the
    byte offset and line of the first bad byte, not a ``UnicodeDecodeError``.

    Parameters
    ----------
    path : str or Path
    what : str
        How messages name the file (``"spec file"``, ``"`--ranks` file"``).
    error : type
        The :class:`~fabric.exceptions.FabricError` subclass to raise.
    kind : str
        What the file should hold (``"TOML"``, ``"JSON"``), used in messages.
    fix : str, optional
        What the user should write instead, appended to every message
        (default: save the file as UTF-8, for encoding errors only).

    Returns
    -------
    str
        The text, without a byte-order mark.

    Raises
    ------
    FabricError
        (``error``) When the file cannot be read, is not UTF-8, or holds NUL bytes.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.toml")
    >>> _ = open(path, "wb").write(b"\\xef\\xbb\\xbfa = 1\\n")
    >>> read_text_input(path, what="spec file")
    'a = 1\\n'
    >>> _ = open(path, "wb").write(b"name = 'caf\\xe9'\\n")
    >>> try:
    ...     read_text_input(path, what="spec file", kind="TOML")
    ... except FabricFormatError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    byte 11 (0xe9, line 1) is invalid (invalid continuation byte); save it as UTF-8 TOML
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"cannot read {what} `{path}`: {exc.strerror or exc}"
        if fix:
            msg += f"; {fix}"
        raise error(msg) from None
    fix = fix or f"save it as UTF-8 {kind}"
    nul = data.find(b"\0")
    if nul >= 0:
        msg = (f"{what} `{path}` is not UTF-8 {kind} but a binary file (NUL byte at byte "
               f"{nul}); {fix}")
        raise error(msg)
    start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        line = data.count(b"\n", 0, at) + 1
        msg = (f"{what} `{path}` is not UTF-8 {kind}: byte {at} (0x{data[at]:02x}, line {line}) "
               f"is invalid ({exc.reason}); {fix}")
        raise error(msg) from None
    return text


def read_json_input(path, *, option, fix):
    """Parse a user's JSON input file (rank, busy, jobs, traffic-matrix files).

    Parameters
    ----------
    path : str or Path
    option : str
        The CLI option that named the file (``"--ranks"``), used in messages.
    fix : str
        What the user should write instead, appended to every message.

    Returns
    -------
    object
        The parsed JSON.

    Raises
    ------
    ParameterError
        When the file cannot be read, is not UTF-8, or is not JSON; the message
        names the option and the file, and says what to write.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.json")
    >>> _ = open(path, "w").write('["d0-gpu0"]')
    >>> read_json_input(path, option="--ranks", fix="write a JSON list")
    ['d0-gpu0']
    """
    text = read_text_input(path, what=f"`{option}` file", error=ParameterError, kind="JSON",
                           fix=fix)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"`{option}` file `{path}` is not JSON ({exc.msg}, line {exc.lineno}); {fix}"
        raise ParameterError(msg) from None


def _graph_meta(G):
    return {k: v for k, v in G.graph.items()}


# ----------------------------------------------------------------------------- JSON
# Layout 2 (written since issue 15): a node table and an edge table of attribute tuples,
# after a header that carries a checksum of everything behind it:
#
#   {"format":"fabric-topology","schema_version":1,"layout":2,"checksum":"<blake2b-128 hex>",
#    "graph":{...},"node_keys":[[key, ...], ...],"nodes":[[key set, name, value, ...], ...],
#    "edges":[[[kind, u, v, port value, ...], ...], ...],
#    "edge_kinds":[[[key, ...], [shared value or null, ...], [port key, ...]], ...]}
#
# ``u`` and ``v`` index ``nodes``; an edge is its kind's shared values (one object per value
# for all its edges, as a builder shares them) plus, in its row, its port attributes
# (``a_end`` as 0 for ``u``, 1 for ``v``); ``edges`` is a list of blocks of EDGE_BLOCK rows, so the
# reader decodes and inserts one block at a time (the decoded document and the graph never
# both exist whole). Nodes and edges keep the graph's order and each dict's key order.
# A file whose checksum matches is exactly what fabric wrote from a validated graph (see
# note_validated; other graphs get "-" x 32): ``read_fabric_checked`` reports it as
# trusted and ``topologies.load`` skips its validation. Layout 1 (node-link,
# no "layout" key) is still read.

LAYOUT = 2
EDGE_BLOCK = 65536
_ROW_KEYS = frozenset(("a_end", "a_port", "b_port"))
"""Edge attributes written in each edge's row; the rest are shared by an edge kind."""
_HEAD = (f'{{"format":"{_MAGIC}","schema_version":{SCHEMA_VERSION},"layout":{LAYOUT},'
         f'"checksum":"').encode()
_SUM_HEX = 32


_VALIDATED = None         # weakref.WeakKeyDictionary: graph -> (nodes, edges) when validated


def note_validated(G):
    """Record that ``G`` passed validation as it is now (``topologies.load`` calls this).

    :func:`write_json` writes its checksum only for such a graph (still of the
    same node and edge counts), so a checksummed file is one fabric validated
    and wrote, and reading it back needs no validation. A graph changed in place
    after validation without changing its counts would defeat this; fabric's
    commands never write one.
    """
    global _VALIDATED
    from fabric.edges import edge_count

    if _VALIDATED is None:
        import weakref

        _VALIDATED = weakref.WeakKeyDictionary()
    _VALIDATED[G] = (G.number_of_nodes(), edge_count(G))
    return G


def _was_validated(G):
    if isinstance(G, Tables):        # the collector marks the tables of lists it validated
        return G._validated
    from fabric.edges import edge_count

    return (_VALIDATED is not None
            and _VALIDATED.get(G) == (G.number_of_nodes(), edge_count(G)))


def _hasher():
    """A new BLAKE2b-128 hash object (CPython's own ``_blake2``, which ``hashlib.blake2b`` is:
    importing it alone spares loading OpenSSL's ``_hashlib``)."""
    try:
        from _blake2 import blake2b
    except ImportError:              # another interpreter: hashlib's
        from hashlib import blake2b
    return blake2b(digest_size=_SUM_HEX // 2)


def _checksum(body):
    h = _hasher()
    h.update(body)
    return h.hexdigest()


def _is_gzip(path):
    return str(path).lower().endswith(".gz")


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Tables:
    """A validated fabric as its node and edge lists, without a graph.

    What ``topologies.load(TOPO, tables=True)`` returns for a build (``fabric build``
    writes it): a builder's validated lists, port numbers included, before they would
    become a :class:`networkx.Graph`. :func:`write_json` writes it byte for byte as it
    writes that graph, checksum included; nothing else reads it.

    Attributes
    ----------
    graph : dict
        The provenance (``G.graph`` of the graph).
    names, attrs : list
        Node names and attribute dicts, in the graph's node order.
    u, v : numpy.ndarray
        Every edge's endpoint positions in ``names``, in the builder's order.
    data : list
        Every edge's attribute dict, in the builder's order: a network edge's own, with
        its ports; other edges may share the builder's dicts (read them only).

    Notes
    -----
    :func:`write_json` stamps its checksum (which lets ``topologies.load`` read the file
    back without validating it) only on tables the builders' collector made from lists
    it validated (:meth:`topologies._common.Collector.graph`); tables made by hand are
    written with ``"-"`` x 32, as an unvalidated graph is.
    """

    __slots__ = ("graph", "names", "attrs", "u", "v", "data", "_validated")

    def __init__(self, graph, names, attrs, u, v, data):
        self.graph, self.names, self.attrs = graph, names, attrs
        self.u, self.v, self.data = u, v, data
        self._validated = False      # set by the collector that validated the lists only

    def number_of_nodes(self):
        return len(self.names)

    def number_of_edges(self):
        return len(self.data)


def _tables_of(G):
    """``(names, attrs, src, dst, data)`` as the writer writes them: the nodes in order and
    every edge once, ``src < dst``, in the graph's adjacency-scan order (``G.edges``): by
    lower endpoint, then by insertion, as the builder's edges of :class:`Tables` give it."""
    if isinstance(G, Tables):
        from fabric.edges import adjacency_order

        return (G.names, G.attrs) + adjacency_order(G.u, G.v, G.data, len(G.names))
    from fabric.edges import adjacency_arrays

    names = list(G._node)
    src, dst, data = adjacency_arrays(G, dict(zip(names, count())))     # at C speed
    return names, list(G._node.values()), src, dst, data


def _body_chunks(G):
    """The text of a layout-2 document after its header, in pieces (bytes)."""
    names, attrs, src, dst, data = _tables_of(G)
    layouts = list(map(tuple, attrs))
    node_sets = dict.fromkeys(layouts)         # key sets in order of first appearance
    for k, keys in enumerate(node_sets):
        node_sets[keys] = k
    rows = list(map(tuple, map(chain, zip(map(node_sets.__getitem__, layouts), names),
                               map(dict.values, attrs))))      # [key set, name, value, ...]
    del layouts
    node_keys = list(map(list, node_sets))
    yield (f',"graph":{_dumps(_graph_meta(G))},"node_keys":{_dumps(node_keys)},"nodes":'
           ).encode()
    yield _dumps(rows).encode()
    del rows
    kinds = []
    yield b',"edges":['
    blocks = _EdgeBlocks(names, kinds)
    for lo in range(0, len(data), EDGE_BLOCK):
        hi = lo + EDGE_BLOCK
        block = blocks.rows(lo, src[lo:hi].tolist(), dst[lo:hi].tolist(), data[lo:hi])
        yield (b"," if lo else b"") + _dumps(block).encode()
    yield f'],"edge_kinds":{_dumps(kinds)}}}'.encode()


class _EdgeBlocks:
    """The rows of the edge table, a block at a time, at C speed (a few maps per attribute
    layout, not per edge), filling the ``edge_kinds`` table ``kinds`` as kinds appear.

    An edge's kind is its attribute keys with the values of its shared (non-port) keys,
    numbered in order of first appearance; its row is ``[kind, u, v, port value, ...]``
    with ``a_end`` as 0 for ``u``, 1 for ``v`` (``[a_end]`` if neither). An edge with an
    unhashable shared value has every value in its row (one kind per key tuple).
    """

    def __init__(self, names, kinds):
        self.names, self.kinds = names, kinds
        self.plans = {}     # attribute keys -> (shared keys, row keys, {values: first edge})
        self.kind_at = {}   # a kind's first edge (-1 - it: all values in the row) -> number

    def rows(self, lo, us, vs, ds):
        """The rows of the edges ``us[i] -- vs[i]`` with attribute dicts ``ds``, the edges
        from position ``lo`` on."""
        groups = {}              # attribute keys -> position of the first edge with them
        lay = list(map(groups.setdefault, map(tuple, ds), count()))
        if len(groups) == 1:     # the usual block: one layout, rows in order
            parts = [(next(iter(groups)), None, range(lo, lo + len(ds)), ds, us, vs)]
        else:
            import numpy as np

            lay = np.array(lay)
            parts = []
            for keys, j in groups.items():
                at = np.flatnonzero(lay == j)
                off = at.tolist()
                parts.append((keys, off, (at + lo).tolist(), list(map(ds.__getitem__, off)),
                              list(map(us.__getitem__, off)), list(map(vs.__getitem__, off))))
        del lay
        new = []
        firsts = [self._firsts(keys, pos, sub, new) for keys, _, pos, sub, _, _ in parts]
        for _, key, kind in sorted(new, key=itemgetter(0)):       # by first edge
            self.kind_at[key] = len(self.kinds)
            self.kinds.append(kind)
        if len(parts) == 1:
            keys, _, _, sub, u, v = parts[0]
            return self._rows(keys, sub, firsts[0], u, v)
        out = [None] * len(ds)
        for (keys, off, _, sub, u, v), first in zip(parts, firsts):
            deque(map(out.__setitem__, off, self._rows(keys, sub, first, u, v)), maxlen=0)
        return out

    def _plan(self, keys):
        plan = self.plans.get(keys)
        if plan is None:
            row = tuple(k for k in keys if k in _ROW_KEYS)
            plan = self.plans[keys] = (tuple(k for k in keys if k not in _ROW_KEYS), row, {})
        return plan

    def _firsts(self, keys, pos, sub, new):
        """``(first, mixed)`` of the edges at positions ``pos`` with attribute dicts ``sub``
        (all with the keys ``keys``): the first edge of each one's kind (its position; ``-1
        -`` it for an all-in-row kind), and whether there is any of those; appends
        ``(position, that key, the edge_kinds entry)`` of every kind first seen to ``new``."""
        shared, row_keys, first = self._plan(keys)
        values = _values(sub, shared)
        seen = len(first)
        try:
            out, mixed = list(map(first.setdefault, values, pos)), False
        except TypeError:                  # an unhashable value: that edge's values in its row
            out, mixed = [_first(first, x, p) for x, p in zip(values, pos)], True
        for x, p in islice(first.items(), seen, None):
            if x is _UNHASHABLE:
                new.append((p, -1 - p, [list(keys), [None] * len(keys), list(keys)]))
            else:
                new.append((p, p, [list(keys), _shared_row(keys, x, row_keys), list(row_keys)]))
        return out, mixed

    def _rows(self, keys, sub, first, u, v):
        shared, row_keys, _ = self._plan(keys)
        first, mixed = first
        kind = list(map(self.kind_at.__getitem__, first))
        if mixed:                          # rows of kinds with every value in the row
            return [self._row(k, i, j, d, keys if f < 0 else row_keys)
                    for k, i, j, d, f in zip(kind, u, v, sub, first)]
        cols = [list(map(itemgetter(key), sub)) for key in row_keys]
        if "a_end" in row_keys:
            names = self.names
            at = row_keys.index("a_end")
            cols[at] = list(map(_end_code, cols[at], map(names.__getitem__, u),
                                map(names.__getitem__, v)))
        return list(zip(kind, u, v, *cols))

    def _row(self, k, i, j, d, row_keys):
        row = [k, i, j, *map(d.__getitem__, row_keys)]
        if "a_end" in row_keys:
            at = 3 + row_keys.index("a_end")
            row[at] = _end_code(row[at], self.names[i], self.names[j])
        return row


_UNHASHABLE = object()
"""The key, among an attribute layout's shared values, of its edges with an unhashable one."""


def _first(first, values, p):
    try:
        return first.setdefault(values, p)
    except TypeError:
        return -1 - first.setdefault(_UNHASHABLE, p)


def _values(dicts, keys):
    """The values of ``keys`` of every dict, as tuples."""
    if not keys:
        return [()] * len(dicts)
    if len(keys) == 1:
        return list(zip(map(itemgetter(keys[0]), dicts)))
    return list(map(itemgetter(*keys), dicts))


def _end_code(x, u, v):
    """How a row writes ``a_end`` ``x`` of the edge ``u -- v``."""
    return 0 if x == u else 1 if x == v else [x]


def _shared_row(keys, values, row_keys):
    """An edge kind's shared ``values`` spread over its ``keys``: None where the row carries
    the value."""
    it = iter(values)
    return [None if k in row_keys else next(it) for k in keys]


def write_json(G, path):
    """Write ``G`` (a graph, or a build's :class:`Tables`) as fabric JSON (layout 2: node and
    edge tables, with a checksum).

    A path ending in ``.gz`` (``site.json.gz``) is gzip-compressed.

    Examples
    --------
    >>> import tempfile, os, networkx as nx, topologies
    >>> G = topologies.dgx_h100_graph()
    >>> path = os.path.join(tempfile.mkdtemp(), "f.json")
    >>> write_json(G, path)
    >>> nx.utils.graphs_equal(read_json(path), G)
    True
    """
    h = _hasher()
    with gc_paused():                # a million small row lists: no cycles to find
        chunks = list(_body_chunks(G))
    for c in chunks:
        h.update(c)
    with atomic_write(path, "wb") as raw:
        if _is_gzip(path):
            import gzip

            fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0)
        else:
            fh = raw
        stamp = h.hexdigest() if _was_validated(G) else "-" * _SUM_HEX
        fh.write(_HEAD + stamp.encode() + b'"')
        for c in chunks:
            fh.write(c)
        if fh is not raw:
            fh.close()


def _read_bytes(path):
    try:
        if _is_gzip(path):
            import gzip

            with gzip.open(path, "rb") as fh:
                return fh.read()
        return Path(path).read_bytes()
    except (OSError, EOFError) as exc:
        msg = f"cannot read fabric file `{path}`: {getattr(exc, 'strerror', None) or exc}"
        raise FabricFormatError(msg) from None


class _Layout2:
    """Walk a layout-2 document written by :func:`write_json`, one value at a time."""

    def __init__(self, text, path):
        self.text, self.pos, self.path = text, 0, path
        self.decode = json.JSONDecoder().raw_decode

    def expect(self, literal):
        if not self.text.startswith(literal, self.pos):
            msg = f"`{self.path}`: malformed fabric JSON near character {self.pos}"
            raise FabricFormatError(msg)
        self.pos += len(literal)

    def value(self):
        try:
            obj, self.pos = self.decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            msg = f"`{self.path}` is not valid JSON: {exc}"
            raise FabricFormatError(msg) from None
        return obj


def _graph_from_tables(path, graph, node_keys, nodes, edge_blocks, edge_kinds):
    """Insert node rows and edge-row blocks (an iterable of lists) into a new graph,
    with the cyclic GC paused."""
    import networkx as nx

    G = nx.Graph()
    G.graph.update(graph)
    node, adj = G._node, G._adj
    with gc_paused():
        try:
            names = []
            for row in nodes:
                n = row[1]
                names.append(n)
                node[n] = dict(zip(node_keys[row[0]], row[2:]))
                adj[n] = {}
            del nodes
            kinds = [(dict(zip(keys, shared)), row_keys, "a_end" in row_keys)
                     for keys, shared, row_keys in edge_kinds]
            for block in edge_blocks:
                for row in block:
                    u, v = names[row[1]], names[row[2]]
                    base, row_keys, has_end = kinds[row[0]]
                    d = base.copy()
                    if row_keys:
                        d.update(zip(row_keys, row[3:]))
                        if has_end:
                            x = d["a_end"]
                            d["a_end"] = u if x == 0 else v if x == 1 else x[0]
                    adj[u][v] = d
                    adj[v][u] = d
        except (IndexError, TypeError, KeyError, ValueError) as exc:
            msg = f"`{path}`: malformed fabric tables ({type(exc).__name__}: {exc})"
            raise FabricFormatError(msg) from None
    return G


def _layout2_text(data, path):
    """``(text, checksum ok)`` of a file as :func:`write_json` writes it, else None."""
    head = len(_HEAD)
    if not data.startswith(_HEAD) or data[head + _SUM_HEX:head + _SUM_HEX + 1] != b'"':
        return None
    written = data[head:head + _SUM_HEX].decode("ascii", "replace")
    with memoryview(data) as view:
        trusted = _checksum(view[head + _SUM_HEX + 1:]) == written
    try:
        return data.decode("utf-8"), trusted
    except UnicodeDecodeError as exc:
        msg = f"`{path}` is not UTF-8 JSON (byte {exc.start})"
        raise FabricFormatError(msg) from None


def _read_layout2(text, path):
    """The graph of a layout-2 text, decoded one edge block at a time; None if not one."""
    head = len(_HEAD)
    # the edge kinds follow the edge blocks: find them from the end (the last key)
    tail = text.rfind(',"edge_kinds":')
    if tail < 0:
        return None
    try:
        edge_kinds = json.loads(text[tail + len(',"edge_kinds":'):].rstrip()[:-1])
    except json.JSONDecodeError:
        return None
    w = _Layout2(text, path)
    w.pos = head + _SUM_HEX + 1
    w.expect(',"graph":')
    graph = w.value()
    w.expect(',"node_keys":')
    node_keys = w.value()
    w.expect(',"nodes":')
    nodes = w.value()
    w.expect(',"edges":[')

    def blocks():
        if w.text.startswith("]", w.pos):
            w.pos += 1
            return
        while True:
            yield w.value()
            if w.text.startswith(",", w.pos):
                w.pos += 1
                continue
            w.expect("]")
            return

    G = _graph_from_tables(path, graph, node_keys, nodes, blocks(), edge_kinds)
    if w.pos != tail:
        msg = f"`{path}`: malformed fabric JSON near character {w.pos}"
        raise FabricFormatError(msg)
    return G


def _from_json_doc(doc, path):
    if not isinstance(doc, dict) or doc.get("format") != _MAGIC:
        msg = (f"`{path}` is not a fabric JSON file (no \"format\": \"{_MAGIC}\"); write one "
               f"with `fabric build` or `fabric export --format json`")
        raise FabricFormatError(msg)
    if doc.get("schema_version") != SCHEMA_VERSION:
        msg = (f"`{path}` has schema version {doc.get('schema_version')!r}; this fabric reads "
               f"version {SCHEMA_VERSION}")
        raise FabricFormatError(msg)
    layout = doc.get("layout", 1)
    if layout == LAYOUT:
        try:
            return _graph_from_tables(path, doc["graph"], doc["node_keys"], doc["nodes"],
                                      doc["edges"], doc["edge_kinds"])
        except KeyError as exc:
            msg = f"`{path}`: malformed fabric tables (no {exc})"
            raise FabricFormatError(msg) from None
    if layout != 1:
        msg = f"`{path}` has fabric JSON layout {layout!r}; this fabric reads layouts 1 and 2"
        raise FabricFormatError(msg)
    import networkx as nx

    try:
        G = nx.node_link_graph(doc["graph"], directed=False, multigraph=False, edges="edges")
    except (KeyError, TypeError, nx.NetworkXError) as exc:
        msg = f"`{path}`: malformed node-link data ({exc})"
        raise FabricFormatError(msg) from None
    return G


def read_json_checked(path):
    """Read fabric JSON (``.json`` or ``.json.gz``); return ``(G, trusted)``.

    ``trusted`` is true when the file carries fabric's checksum and it matches:
    the file is byte for byte what :func:`write_json` wrote from a graph that
    had passed validation (:func:`note_validated`).

    Raises
    ------
    FabricFormatError
        When the file is unreadable, not JSON, not a fabric file, or of another schema version.
    """
    data = _read_bytes(path).removeprefix(_BOM)
    fast = _layout2_text(data, path)
    if fast is not None:
        del data                     # the text and the graph, never the bytes too
        text, trusted = fast
        del fast
        G = _read_layout2(text, path)
        if G is not None:
            return G, trusted
        data = text.encode("utf-8")
        del text
    if _is_gzip(path):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"`{path}` is not UTF-8 JSON (byte {exc.start} after decompression)"
            raise FabricFormatError(msg) from None
        del data
    else:                            # layout 1 or not fabric's: the messages of any text input
        del data
        text = read_text_input(path, what="fabric file", kind="JSON")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"`{path}` is not valid JSON: {exc}"
        raise FabricFormatError(msg) from None
    del text
    return _from_json_doc(doc, path), False


def read_json(path):
    """Read a fabric written by :func:`write_json` (either layout; ``.gz`` decompressed).

    Raises
    ------
    FabricFormatError
        When the file is unreadable, not JSON, not a fabric file, or of another schema version.
    """
    return read_json_checked(path)[0]


def write_graphml(G, path):
    """Write ``G`` as GraphML with typed keys; ``G.graph`` is stored as a JSON string.

    Examples
    --------
    >>> import tempfile, os, networkx as nx, topologies
    >>> G = topologies.gb200_nvl72_graph(trays=2)
    >>> path = os.path.join(tempfile.mkdtemp(), "f.graphml")
    >>> write_graphml(G, path)
    >>> H = read_graphml(path)
    >>> nx.utils.graphs_equal(H, G), type(H.nodes["d0-gpu0"]["nvlink_links"]).__name__
    (True, 'int')
    """
    import networkx as nx

    H = nx.Graph()
    H.graph["format"] = _MAGIC
    H.graph["schema_version"] = SCHEMA_VERSION
    H.graph[_GRAPH_KEY] = json.dumps(_graph_meta(G))
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(G.edges(data=True))
    with atomic_write(path, "wb") as fh:
        nx.write_graphml(H, fh, named_key_ids=True)


def read_graphml(path):
    """Read a fabric written by :func:`write_graphml`, restoring every type.

    Raises
    ------
    FabricFormatError
        When the file is unreadable, not GraphML, or not a fabric file.
    """
    import xml.etree.ElementTree as ET

    import networkx as nx

    try:
        H = nx.read_graphml(path, node_type=str, force_multigraph=False)
    except OSError as exc:
        msg = f"cannot read `{path}`: {exc.strerror or exc}"
        raise FabricFormatError(msg) from None
    except (ET.ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
        msg = f"`{path}` is not valid GraphML: {exc}"
        raise FabricFormatError(msg) from None
    if H.graph.get("format") != _MAGIC or _GRAPH_KEY not in H.graph:
        msg = f"`{path}` is GraphML but not a fabric file (write one with `fabric export`)"
        raise FabricFormatError(msg)
    if H.graph.get("schema_version") != SCHEMA_VERSION:
        msg = f"`{path}` has schema version {H.graph.get('schema_version')!r}, not {SCHEMA_VERSION}"
        raise FabricFormatError(msg)
    G = nx.Graph()
    G.graph.update(json.loads(H.graph[_GRAPH_KEY]))
    # GraphML stores one type per key; coerce known attributes to their schema type so a
    # key written as double (e.g. an integral float) reads back as the schema says.
    for n, d in H.nodes(data=True):
        G.add_node(n, **_coerce(d, NODE_ATTRS))
    for u, v, d in H.edges(data=True):
        G.add_edge(u, v, **_coerce(d, EDGE_ATTRS))
    return G


def _coerce(d, schema):
    out = {}
    for k, v in d.items():
        spec = schema.get(k)
        if spec is not None and spec[0] in (int, float) and not isinstance(v, spec[0]):
            v = spec[0](v)
        out[k] = v
    return out


def write_fabric(G, path, fmt=None):
    """Write ``G`` to ``path`` in ``fmt`` (json, graphml or dot; default from the suffix).

    ``G`` is a graph, or for JSON a build's :class:`Tables`.

    Raises
    ------
    FabricFormatError
        When the format is unknown, or ``G`` is :class:`Tables` and the format (``fmt``, or
        the suffix of ``path``) is not JSON.
    """
    if fmt is None and str(path).lower().endswith(".json.gz"):
        fmt = "json"
    given = fmt
    fmt = (fmt or Path(path).suffix.lstrip(".") or "json").lower()
    if isinstance(G, Tables) and fmt != "json":
        where = f"`fmt` {given!r}" if given else f"the suffix of `path` {str(path)!r}"
        msg = (f"a build's tables are written as JSON only, but {where} asks for {fmt}; "
               f"give `fmt`='json' or a .json/.json.gz `path`, or load the fabric as a graph "
               f"(`topologies.load` without `tables=True`) for other formats")
        raise FabricFormatError(msg)
    if fmt in ("dot", "gv"):
        from fabric.export.dot import write_dot

        write_dot(G, path)
        return
    writers = {"json": write_json, "graphml": write_graphml}
    if fmt not in writers:
        msg = f"unknown format `{fmt}`; formats: {', '.join(FORMATS)}"
        raise FabricFormatError(msg)
    writers[fmt](G, path)


def read_fabric_checked(path):
    """Read a fabric file; return ``(G, trusted)`` (see :func:`read_json_checked`).

    JSON (``.json``, gzip-compressed ``.json.gz``) or GraphML, told from the
    content. GraphML files are never ``trusted``.

    Raises
    ------
    FabricFormatError
        When the file cannot be read or is not a fabric JSON/GraphML file.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        msg = f"cannot read `{path}`: {exc.strerror or exc}"
        raise FabricFormatError(msg) from None
    if head.startswith(b"\x1f\x8b"):
        if not _is_gzip(path):
            path_note = f"`{path}` is gzip-compressed; name it with a .json.gz suffix"
            raise FabricFormatError(path_note)
        return read_json_checked(path)
    head = head.removeprefix(_BOM).lstrip()
    if head.startswith(b"{"):
        return read_json_checked(path)
    if head.startswith(b"<"):
        return read_graphml(path), False
    msg = (f"`{path}` is neither fabric JSON nor GraphML; give a preset name or a file "
           f"written by `fabric build`/`fabric export`")
    raise FabricFormatError(msg)


def read_fabric(path):
    """Read a fabric file written by fabric, detecting JSON or GraphML from its content.

    Raises
    ------
    FabricFormatError
        When the file cannot be read or is not a fabric JSON/GraphML file.
    """
    return read_fabric_checked(path)[0]
