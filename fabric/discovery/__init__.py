"""As built vs as designed: read what discovery tools print into a fabric graph, write what
they would print for a designed fabric, and diff the two.

* :mod:`fabric.discovery.ibnetdiscover` -- InfiniBand ``ibnetdiscover`` topology files;
* :mod:`fabric.discovery.lldp` -- Ethernet LLDP neighbours, ``lldpcli -f json show neighbors``;
* :mod:`fabric.discovery.iblinkinfo` -- InfiniBand ``iblinkinfo`` output;
* :mod:`fabric.discovery.build` -- the shared step: devices and port-to-port links become
  a fabric graph (hosts by node type, switch tiers by BFS distance from the hosts,
  parts matched to the catalog);
* :mod:`fabric.discovery.diff` -- :func:`~fabric.discovery.diff.diff_fabrics`, and the
  graph-level part of ``--impact`` (the design with the differences applied, bisection,
  the touched NVLink domains; the collectives are priced in :mod:`solvers.impact`);
* :mod:`fabric.discovery.faults` -- seeded faults written into a design's
  ``ibnetdiscover`` text (tests, ``bench/diff.py``).

:func:`read_discovered` picks the parser of a format; :data:`IMPORT_FORMATS` lists them.
Importing this package imports neither numpy nor networkx.
"""

import importlib

__all__ = ["IMPORT_FORMATS", "read_discovered", "parse_discovered"]

# format -> (module, parser of the file's text)
_PARSERS = {
    "ibnetdiscover": ("fabric.discovery.ibnetdiscover", "parse_ibnetdiscover"),
    "lldp-json": ("fabric.discovery.lldp", "parse_lldp_json"),
    "iblinkinfo": ("fabric.discovery.iblinkinfo", "parse_iblinkinfo"),
}

IMPORT_FORMATS = tuple(_PARSERS)
"""Formats :func:`read_discovered` reads (the choices of ``fabric import``)."""


def parse_discovered(fmt, text, *, source="<text>", catalog=None):
    """A fabric graph from the text of a discovery tool's output in format ``fmt``."""
    from fabric.exceptions import ParameterError

    if fmt not in _PARSERS:
        msg = f"unknown discovery format `{fmt}`; formats: {', '.join(IMPORT_FORMATS)}"
        raise ParameterError(msg)
    module, function = _PARSERS[fmt]
    return getattr(importlib.import_module(module), function)(text, source=source,
                                                              catalog=catalog)


def read_discovered(fmt, path, *, catalog=None):
    """Read the discovery file ``path`` in format ``fmt`` (see :data:`IMPORT_FORMATS`)
    into a fabric graph.

    Raises
    ------
    ParameterError
        When the format is unknown.
    FabricFormatError
        When the file cannot be read or is not in that format.
    """
    from fabric.exceptions import FabricFormatError

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        msg = f"cannot read `{path}`: {exc.strerror or exc}"
        raise FabricFormatError(msg) from None
    return parse_discovered(fmt, text, source=str(path), catalog=catalog)
