"""Read and write fabric graphs: JSON (node-link) and GraphML, and the atomic file writer.

:func:`write_fabric` also writes DOT, through :func:`fabric.export.dot.write_dot`;
every other export (diagrams, scheduler files) is in :mod:`fabric.export`.

Every writer copies nothing it does not need, never mutates its input, and
writes to a temporary file in the target directory that is renamed into
place only when complete, so a failed export leaves no partial file.
"""

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import networkx as nx

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


def write_json(G, path):
    """Write ``G`` as node-link JSON with the schema version.

    Examples
    --------
    >>> import tempfile, os, topologies
    >>> G = topologies.dgx_h100_graph()
    >>> path = os.path.join(tempfile.mkdtemp(), "f.json")
    >>> write_json(G, path)
    >>> nx.utils.graphs_equal(read_json(path), G)
    True
    """
    data = nx.node_link_data(G, edges="edges")
    doc = {"format": _MAGIC, "schema_version": SCHEMA_VERSION, "graph": data}
    # json.dumps encodes in C; json.dump to a file runs the pure-Python encoder (4x slower)
    text = json.dumps(doc, separators=(",", ":"))
    with atomic_write(path) as fh:
        fh.write(text)


def _from_json_doc(doc, path):
    if not isinstance(doc, dict) or doc.get("format") != _MAGIC:
        msg = (f"`{path}` is not a fabric JSON file (no \"format\": \"{_MAGIC}\"); write one "
               f"with `fabric build` or `fabric export --format json`")
        raise FabricFormatError(msg)
    if doc.get("schema_version") != SCHEMA_VERSION:
        msg = (f"`{path}` has schema version {doc.get('schema_version')!r}; this fabric reads "
               f"version {SCHEMA_VERSION}")
        raise FabricFormatError(msg)
    try:
        G = nx.node_link_graph(doc["graph"], directed=False, multigraph=False, edges="edges")
    except (KeyError, TypeError, nx.NetworkXError) as exc:
        msg = f"`{path}`: malformed node-link data ({exc})"
        raise FabricFormatError(msg) from None
    return G


def read_json(path):
    """Read a fabric written by :func:`write_json`.

    Raises
    ------
    FabricFormatError
        When the file is unreadable, not JSON, not a fabric file, or of another schema version.
    """
    text = read_text_input(path, what="fabric file", kind="JSON")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"`{path}` is not valid JSON: {exc}"
        raise FabricFormatError(msg) from None
    return _from_json_doc(doc, path)


def write_graphml(G, path):
    """Write ``G`` as GraphML with typed keys; ``G.graph`` is stored as a JSON string.

    Examples
    --------
    >>> import tempfile, os, topologies
    >>> G = topologies.gb200_nvl72_graph(trays=2)
    >>> path = os.path.join(tempfile.mkdtemp(), "f.graphml")
    >>> write_graphml(G, path)
    >>> H = read_graphml(path)
    >>> nx.utils.graphs_equal(H, G), type(H.nodes["d0-gpu0"]["nvlink_links"]).__name__
    (True, 'int')
    """
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

    Raises
    ------
    FabricFormatError
        When the format is unknown.
    """
    fmt = (fmt or Path(path).suffix.lstrip(".") or "json").lower()
    if fmt in ("dot", "gv"):
        from fabric.export.dot import write_dot

        write_dot(G, path)
        return
    writers = {"json": write_json, "graphml": write_graphml}
    if fmt not in writers:
        msg = f"unknown format `{fmt}`; formats: {', '.join(FORMATS)}"
        raise FabricFormatError(msg)
    writers[fmt](G, path)


def read_fabric(path):
    """Read a fabric file written by fabric, detecting JSON or GraphML from its content.

    Raises
    ------
    FabricFormatError
        When the file cannot be read or is not a fabric JSON/GraphML file.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).removeprefix(_BOM).lstrip()
    except OSError as exc:
        msg = f"cannot read `{path}`: {exc.strerror or exc}"
        raise FabricFormatError(msg) from None
    if head.startswith(b"{"):
        return read_json(path)
    if head.startswith(b"<"):
        return read_graphml(path)
    msg = (f"`{path}` is neither fabric JSON nor GraphML; give a preset name or a file "
           f"written by `fabric build`/`fabric export`")
    raise FabricFormatError(msg)
