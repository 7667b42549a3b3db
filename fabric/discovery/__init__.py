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
* :mod:`fabric.discovery.wan` -- a design's virtual WAN router groups as the individual
  routers discovery sees (one rule for the LLDP writer and the diff);
* :mod:`fabric.discovery.faults` -- seeded faults written into a design's
  ``ibnetdiscover`` text (tests, ``bench/diff.py``).

:func:`read_discovered` picks the parser of a format; :data:`IMPORT_FORMATS` lists them.
Input that is not what the format's tool prints -- an empty file, bytes that are not
UTF-8, a truncated file, another format's output, a port listed twice by its own
device -- is refused with :class:`~fabric.exceptions.FabricFormatError` naming the file,
the line (where one applies) and what was expected. Importing this package imports
neither numpy nor networkx.
"""

import importlib

__all__ = ["IMPORT_FORMATS", "GUID_FORMATS", "read_discovered", "parse_discovered", "read_name_map",
           "sniff_format", "format_hint"]

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


def sniff_format(text):
    """The discovery format ``text`` looks like (from its first lines that are not blank or
    ``#`` comments), or None.

    >>> sniff_format('{"leaf0": {"lldp": {}}}'), sniff_format("vendid=0x2c9\\nSwitch 65 ...")
    ('lldp-json', 'ibnetdiscover')
    >>> sniff_format("Switch: 0xb83fd20300000001 MF0;leaf0:MQM9700/U1:"), sniff_format("hello")
    ('iblinkinfo', None)
    """
    import re

    for line in text.splitlines()[:200]:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(("{", "[")):
            return "lldp-json"
        if re.match(r"^(Switch|CA|Router):", s) or "==(" in s:
            return "iblinkinfo"
        if re.match(r'^(Switch|Ca|Rt)\s+\d+\s+"', s) or re.match(
                r"^(vendid|devid|sysimgguid|switchguid|caguid)=", s):
            return "ibnetdiscover"
    return None


def format_hint(text, expected):
    """``"; it looks like X output: read it with `fabric import X`"`` when ``text`` looks like
    another discovery format than ``expected``, else ``""``."""
    got = sniff_format(text)
    if got is None or got == expected:
        return ""
    what = "`lldpcli -f json show neighbors`" if got == "lldp-json" else f"`{got}`"
    return f"; it looks like {what} output: read it with `fabric import {got}`"


def empty_error(text, source, expected):
    """A :class:`~fabric.exceptions.FabricFormatError` for a text with nothing but blank
    lines and ``#`` comments, else None."""
    from fabric.exceptions import FabricFormatError

    if any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None
    what = "is empty" if not text.strip() else "holds only comments"
    return FabricFormatError(f"`{source}` {what}; expected {expected}")


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
        When the file cannot be read, is not UTF-8 text or is not in that format.
    """
    from fabric.exceptions import FabricFormatError

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        msg = f"cannot read `{path}`: {exc.strerror or exc}"
        raise FabricFormatError(msg) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        msg = (f"`{path}` line {line}: byte 0x{data[exc.start]:02x} (offset {exc.start}) is "
               f"not UTF-8; expected the text `{fmt}` output is (a binary file, or a "
               "capture in another encoding? convert it with iconv)")
        raise FabricFormatError(msg) from None
    if text.startswith("\ufeff"):                           # a byte order mark
        text = text[1:]
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
