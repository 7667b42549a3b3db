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

__all__ = ["IMPORT_FORMATS", "GUID_FORMATS", "read_discovered", "parse_discovered", "read_name_map"]

# format -> (module, parser of the file's text)
_PARSERS = {
    "ibnetdiscover": ("fabric.discovery.ibnetdiscover", "parse_ibnetdiscover"),
    "lldp-json": ("fabric.discovery.lldp", "parse_lldp_json"),
    "iblinkinfo": ("fabric.discovery.iblinkinfo", "parse_iblinkinfo"),
}

IMPORT_FORMATS = tuple(_PARSERS)
"""Formats :func:`read_discovered` reads (the choices of ``fabric import``)."""


GUID_FORMATS = ("ibnetdiscover", "iblinkinfo")
"""Formats whose devices carry GUIDs, so ``name_map`` (``--map``) can name them."""


def parse_discovered(fmt, text, *, source="<text>", catalog=None, name_map=None):
    """A fabric graph from the text of a discovery tool's output in format ``fmt``;
    ``name_map`` (``{name: GUID}``) names devices by GUID (:data:`GUID_FORMATS` only)."""
    from fabric.exceptions import ParameterError

    if fmt not in _PARSERS:
        msg = f"unknown discovery format `{fmt}`; formats: {', '.join(IMPORT_FORMATS)}"
        raise ParameterError(msg)
    module, function = _PARSERS[fmt]
    parse = getattr(importlib.import_module(module), function)
    if name_map:
        if fmt not in GUID_FORMATS:
            msg = (f"`--map` names devices by GUID, which `{fmt}` output does not carry; "
                   f"use it with {' or '.join(GUID_FORMATS)}")
            raise ParameterError(msg)
        return parse(text, source=source, catalog=catalog, name_map=name_map)
    return parse(text, source=source, catalog=catalog)


def read_discovered(fmt, path, *, catalog=None, name_map=None):
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
    return parse_discovered(fmt, text, source=str(path), catalog=catalog, name_map=name_map)


def read_name_map(path):
    """Read ``fabric diff --map FILE``: a JSON object ``{"device name": "GUID", ...}``.

    Raises
    ------
    ParameterError
        When the file is not such an object, or a GUID is not 1-16 hex digits (``0x``
        allowed), or two names share a GUID; the message names ``--map`` and the entry.
    """
    from fabric.discovery.ibnetdiscover import normalize_guid
    from fabric.exceptions import ParameterError
    from fabric.io import read_json_input

    fix = 'write a JSON object of device names to GUIDs, e.g. {"leaf0": "0xb83fd20301000001"}'
    data = read_json_input(path, option="--map", fix=fix)
    if not isinstance(data, dict) or not data:
        msg = f"`--map` file `{path}` must be a non-empty JSON object; {fix}"
        raise ParameterError(msg)
    seen = {}
    for name, guid in data.items():
        g = normalize_guid(guid) if isinstance(guid, str) else None
        if not name.strip() or g is None:
            msg = f"`--map` file `{path}`: entry {name!r}: {guid!r} is not a GUID; {fix}"
            raise ParameterError(msg)
        if g in seen:
            msg = (f"`--map` file `{path}`: {name!r} and {seen[g]!r} have the same GUID "
                   f"{guid!r}; each device has its own")
            raise ParameterError(msg)
        seen[g] = name
    return dict(data)
