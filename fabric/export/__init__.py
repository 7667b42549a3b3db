"""Exports of a fabric: graph files, diagrams, scheduler files and the report page.

One registry, :func:`export`, writes every format of :data:`FORMATS` (the
choices of ``fabric export --format``):

* graph files: ``json``, ``graphml`` (:mod:`fabric.io`), ``dot`` (:mod:`fabric.export.dot`);
* diagrams: ``svg``, ``png`` (:mod:`fabric.export.diagram`);
* Slurm: ``slurm-tree``, ``slurm-block``, ``slurm-yaml`` (:mod:`fabric.export.slurm`);
* Kubernetes: ``k8s-labels``, ``k8s-script``, ``kueue-topology``
  (:mod:`fabric.export.kubernetes`);
* as built: ``cabling-csv`` (:mod:`fabric.export.cabling`), ``ibnetdiscover``,
  ``iblinkinfo`` and ``lldp-json`` (what those tools would print for the design,
  :mod:`fabric.discovery`).

The scheduler exports share their host naming (:mod:`fabric.export.hosts`) and
the switch hierarchy they describe (:mod:`fabric.export.hierarchy`).
:mod:`fabric.export.report` writes the HTML page of ``fabric report`` from
plain data (the numbers are gathered by :mod:`solvers.study`).

Importing this package is cheap: the writers, and networkx and matplotlib,
are imported when a format is first written. At the :mod:`fabric` package
level the registry is ``fabric.export_fabric`` and its formats
``fabric.EXPORT_FORMATS`` (``fabric.export`` is this package and
``fabric.FORMATS`` the graph formats of :mod:`fabric.io`).

Examples
--------
>>> import os, tempfile, topologies
>>> path = os.path.join(tempfile.mkdtemp(), "topology.conf")
>>> export(topologies.build_preset("fat-tree"), path, "slurm-tree")
>>> sum(line.startswith("SwitchName=") for line in open(path))
41
"""

import importlib
from pathlib import Path

from fabric.exceptions import ParameterError

__all__ = ["EXPORT_FORMATS", "export_fabric", "export_options"]

GRAPH_FORMATS = ("json", "graphml", "dot")
"""Graph file formats (the formats of :func:`fabric.io.write_fabric`)."""

DIAGRAM_FORMATS = ("svg", "png")
"""Diagram formats (:func:`fabric.export.diagram.draw_fabric`)."""

SCHEDULER_FORMATS = ("slurm-tree", "slurm-block", "slurm-yaml", "k8s-labels", "k8s-script",
                     "kueue-topology")
"""Scheduler file formats (Slurm topology files, Kubernetes labels, a Kueue Topology)."""

AS_BUILT_FORMATS = ("cabling-csv", "ibnetdiscover", "iblinkinfo", "lldp-json")
"""As-built formats: the cabling plan (:mod:`fabric.export.cabling`) and what discovery
tools print for the designed fabric (:mod:`fabric.discovery`), for round trips and diffs."""

FORMATS = (*GRAPH_FORMATS, *DIAGRAM_FORMATS, *SCHEDULER_FORMATS, *AS_BUILT_FORMATS)
"""Every format :func:`export` writes."""

_TEXT, _FILE, _DIAGRAM = "text", "file", "diagram"
_SCHED = ("hostname_pattern",)

# format -> (module, function, how it writes, options it takes)
#   text: function(G, **options) returns the file's text, written here atomically;
#   file: function(G, path) writes the file; diagram: function(G, path, fmt=..., **options).
_REGISTRY = {
    "json": ("fabric.io", "write_json", _FILE, ()),
    "graphml": ("fabric.io", "write_graphml", _FILE, ()),
    "dot": ("fabric.export.dot", "write_dot", _FILE, ()),
    "svg": ("fabric.export.diagram", "draw_fabric", _DIAGRAM, ("detail", "title", "domain")),
    "png": ("fabric.export.diagram", "draw_fabric", _DIAGRAM, ("detail", "title", "domain")),
    "slurm-tree": ("fabric.export.slurm", "slurm_topology_tree", _TEXT, _SCHED),
    "slurm-block": ("fabric.export.slurm", "slurm_topology_block", _TEXT, _SCHED),
    "slurm-yaml": ("fabric.export.slurm", "slurm_topology_yaml", _TEXT, (*_SCHED, "default")),
    "k8s-labels": ("fabric.export.kubernetes", "k8s_labels_yaml", _TEXT, _SCHED),
    "k8s-script": ("fabric.export.kubernetes", "k8s_labels_script", _TEXT, _SCHED),
    "kueue-topology": ("fabric.export.kubernetes", "kueue_topology", _TEXT,
                       (*_SCHED, "name", "api_version")),
    "cabling-csv": ("fabric.export.cabling", "write_cabling_csv", _FILE, ()),
    "ibnetdiscover": ("fabric.discovery.ibnetdiscover", "ibnetdiscover_text", _TEXT, ()),
    "iblinkinfo": ("fabric.discovery.iblinkinfo", "iblinkinfo_text", _TEXT, ()),
    "lldp-json": ("fabric.discovery.lldp", "lldp_json_text", _TEXT, ()),
}

_SUFFIXES = {".json": "json", ".json.gz": "json", ".graphml": "graphml", ".dot": "dot",
             ".gv": "dot", ".svg": "svg", ".png": "png"}
"""File suffix -> the format :func:`export` writes when none is given."""

_OWNED_SUFFIXES = {"json": (".json", ".json.gz"), "lldp-json": (".json",),
                   "graphml": (".graphml",), "dot": (".dot", ".gv"), "svg": (".svg",),
                   "png": (".png",), "cabling-csv": (".csv",)}
"""Format -> the suffixes it owns. :func:`export` refuses to write a format under a suffix
another format owns (``svg`` to ``x.png``, ``json`` to ``x.graphml``); a suffix no format
owns (``.conf``, ``.yaml``, ``.txt``) takes any format."""


def _suffix(path):
    """The file's suffix, ``.json.gz`` counted as one."""
    name = Path(path).name.lower()
    return ".json.gz" if name.endswith(".json.gz") else Path(path).suffix.lower()


def _format(fmt):
    if fmt not in _REGISTRY:
        msg = f"unknown export format `{fmt}`; formats: {', '.join(FORMATS)}"
        raise ParameterError(msg)
    return _REGISTRY[fmt]


def _check_suffix(path, fmt):
    suffix = _suffix(path)
    owners = [f for f, suffixes in _OWNED_SUFFIXES.items() if suffix in suffixes]
    if not owners or fmt in owners:
        return
    own = _OWNED_SUFFIXES.get(fmt)
    rename = f"name the file {Path(path).with_suffix(own[0]).name}" if own else \
        "give the file another suffix"
    msg = (f"format `{fmt}` does not match the file suffix {suffix} of `{path}` (a "
           f"{' or '.join(owners)} suffix); {rename}, or give `--format {owners[0]}`")
    raise ParameterError(msg)


def export_options(fmt):
    """The keyword options :func:`export` accepts for ``fmt``.

    Parameters
    ----------
    fmt : str
        A format of :data:`FORMATS`.

    Returns
    -------
    tuple of str

    Raises
    ------
    ParameterError
        When ``fmt`` is not a format of :data:`FORMATS`.

    Examples
    --------
    >>> export_options("svg"), export_options("slurm-tree"), export_options("json")
    (('detail', 'title', 'domain'), ('hostname_pattern',), ())
    """
    return _format(fmt)[3]


def export(G, path, fmt=None, **options):
    """Write ``G`` to ``path`` in any export format, atomically.

    Parameters
    ----------
    G : networkx.Graph
        A fabric graph; not modified.
    path : str or Path
        The file to write (a temporary file renamed into place when complete;
        a failed export leaves no file).
    fmt : str, optional
        A format of :data:`FORMATS` (default: from the suffix of ``path``:
        .json, .graphml, .dot or .gv, .svg, .png).
    **options
        Passed to the format's writer; :func:`export_options` lists them:
        ``hostname_pattern`` (scheduler formats, see
        :func:`fabric.export.hosts.host_names`), ``detail``, ``title``,
        ``domain`` (diagrams, see :func:`fabric.export.diagram.fabric_diagram`),
        ``default`` (slurm-yaml), ``name`` and ``api_version`` (kueue-topology).

    Raises
    ------
    ParameterError
        When the format is unknown or cannot be told from the suffix, the
        suffix belongs to another format (``svg`` to ``x.png``, ``json`` to
        ``x.graphml``), an option is one the format does not take, or an
        option's value is not accepted.
    FabricError
        When the file cannot be written, or the graph lacks what the format
        needs (hosts with GPUs for scheduler files, anything to draw).

    Examples
    --------
    >>> import os, tempfile, topologies
    >>> G = topologies.dgx_h100_graph()
    >>> d = tempfile.mkdtemp()
    >>> export(G, os.path.join(d, "f.dot"))
    >>> export(G, os.path.join(d, "f.conf"), "slurm-tree", detail="rack")
    Traceback (most recent call last):
    ...
    fabric.exceptions.ParameterError: format `slurm-tree` takes no option `detail`; options: hostname_pattern
    """
    if fmt is None:
        suffix = _suffix(path)
        if suffix not in _SUFFIXES:
            msg = (f"cannot tell the export format from the file name `{path}`; give a format: "
                   f"{', '.join(FORMATS)}")
            raise ParameterError(msg)
        fmt = _SUFFIXES[suffix]
    module, function, kind, accepted = _format(fmt)
    _check_suffix(path, fmt)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        msg = (f"format `{fmt}` takes no option `{unknown[0]}`; options: "
               f"{', '.join(accepted) or 'none'}")
        raise ParameterError(msg)
    writer = getattr(importlib.import_module(module), function)
    if kind == _FILE:
        writer(G, path)
    elif kind == _DIAGRAM:
        writer(G, path, fmt=fmt, **options)
    else:
        from fabric.io import atomic_write

        text = writer(G, **options)             # before opening: no partial file on error
        with atomic_write(path) as fh:
            fh.write(text)


EXPORT_FORMATS = FORMATS
""":data:`FORMATS` under its :mod:`fabric` package-level name."""

export_fabric = export
""":func:`export` under its :mod:`fabric` package-level name (``fabric.export_fabric``)."""
