"""One entry point from a ``TOPO`` argument to a validated fabric graph.

``TOPO`` is a preset name (with ``--set`` overrides), a TOML spec file, or a
fabric file written by ``fabric build``/``fabric export`` (JSON, ``.json.gz``, GraphML).
A JSON file whose checksum (written by fabric) matches is not validated again. With
``tables=True`` a build returns its validated lists (:class:`fabric.io.Tables`) instead of
a graph: ``fabric build`` writes JSON from them without building or importing networkx.
"""

import contextlib
import os
import time

from fabric._gc import gc_paused
from fabric.exceptions import ParameterError
from topologies._common import as_tables
from topologies.registry import TOPOLOGIES, build_preset, parse_overrides

__all__ = ["load"]


def _quiet(message):
    pass


def load(topo, overrides=(), catalog=None, *, progress=None, tables=False):
    """Build or read the fabric ``topo`` names.

    Parameters
    ----------
    topo : str
        A preset name (see :data:`~topologies.registry.TOPOLOGIES`), a ``.toml``
        spec file, or a fabric file (``.json``, ``.json.gz``, ``.graphml``).
    overrides : sequence of str or dict
        ``KEY=VALUE`` strings (as ``--set`` gives them) or a dict; presets only.
    catalog : fabric.Catalog, optional
    progress : callable, optional
        Called with one-line progress messages (building, size and time).
    tables : bool
        Return a preset or spec file as its builder's validated lists
        (:class:`fabric.io.Tables`, which :func:`fabric.io.write_json` writes byte for
        byte as the graph) instead of a graph; fabric files are read as graphs anyway.

    Returns
    -------
    networkx.Graph or fabric.io.Tables
        Validated: presets by their builder, files here. Tables are for writing, not
        for changing: their ``attrs`` are the builder's node dicts, and the ``data`` dict
        of an edge without ports is the builder's memoized link dict
        (:func:`topologies._common.link`), shared by many edges and by later builds in
        the same process; they must not be mutated (build a graph to change a fabric).

    Raises
    ------
    ParameterError
        Unknown preset and no such file, or overrides given for a file.

    Examples
    --------
    >>> G = load("gb200-nvl72", ["trays=9"])
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    36
    """
    say = progress or _quiet
    if not isinstance(topo, str) or not topo.strip():
        msg = f"`TOPO` must be a preset name or a file path, got {topo!r}"
        raise ParameterError(msg)
    sets = dict(overrides) if isinstance(overrides, dict) else parse_overrides(overrides)
    start = time.perf_counter()
    if topo in TOPOLOGIES:
        say(f"building {topo} ...")
        with as_tables() if tables else contextlib.nullcontext():
            G = build_preset(topo, sets, catalog=catalog)
    elif topo.lower().endswith(".toml"):
        if sets:
            msg = "`--set` applies to presets only; put parameters in the spec file's [params]"
            raise ParameterError(msg)
        if not os.path.exists(topo):
            msg = f"spec file `{topo}` does not exist"
            raise ParameterError(msg)
        from topologies.spec import fabric_from_spec

        say(f"building {topo} ...")
        with as_tables() if tables else contextlib.nullcontext():
            G = fabric_from_spec(topo, catalog=catalog)
    elif os.path.exists(topo):
        if sets:
            msg = "`--set` applies to presets only, not to a fabric file"
            raise ParameterError(msg)
        from fabric.io import read_fabric_checked
        from fabric.validate import validate_fabric

        with gc_paused():          # as the builders: millions of dicts, no cycles
            G, trusted = read_fabric_checked(topo)
            if not trusted:        # else fabric's own checksum matched: validated when written
                validate_fabric(G)
    else:
        msg = (f"`TOPO` {topo!r} is neither a preset nor an existing file; presets: "
               f"{', '.join(TOPOLOGIES)}")
        raise ParameterError(msg)
    from fabric.io import Tables

    if isinstance(G, Tables):
        edges = G.number_of_edges()
    else:
        from fabric.edges import edge_count
        from fabric.io import note_validated

        note_validated(G)          # so write_json may stamp its checksum
        edges = edge_count(G)
    elapsed = time.perf_counter() - start
    say(f"{topo}: {G.number_of_nodes():,} nodes, {edges:,} edges ({elapsed:.1f} s)")
    return G
