"""Custom fabrics from a TOML spec file, validated with errors that name the key and line.

A spec names a preset and its parameters (the same names and bounds as
``fabric presets`` lists); a superfactory spec may list its sites::

    preset = "superfactory"          # any preset name
    name = "two-site lab"            # optional, recorded in the provenance

    [params]                         # the preset's parameters
    distance_km = 1043
    wan_gbps = 51200

    [[site]]                         # superfactory only: one table per site
    preset = "fairwater"
    gpus = 20000
    planes = 4

    [[site]]
    preset = "azure-gb300"
    gpus = 4608
"""

import re
import tomllib
from pathlib import Path

from fabric.exceptions import FabricFormatError, ParameterError
from fabric.io import read_text_input
from topologies.registry import TOPOLOGIES, build_preset
from topologies.scaleout import SITE_PRESETS

__all__ = ["fabric_from_spec", "SPEC_KEYS"]

SPEC_KEYS = ("preset", "name", "description", "params", "site")
"""Top-level keys a spec file may hold."""


def _site_keys(preset_name):
    """Keys a ``[[site]]`` table of ``preset_name`` may hold: ``preset`` and its parameters."""
    return ("preset", *(p.name for p in TOPOLOGIES[preset_name].params))


def _line_of(text, key, table=None, occurrence=0):
    """1-based line of ``key = ...`` (inside ``[table]`` / the n-th ``[[table]]`` when given)."""
    lines = text.splitlines()
    start, seen = 0, -1
    if table is not None:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
        for i, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == occurrence:
                    start = i + 1
                    break
        else:
            return None
    pat = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if table is not None and i > start and re.match(r"^\s*\[", lines[i]):
            break
        if pat.match(lines[i]):
            return i + 1
    return None


def _where(path, text, key, table=None, occurrence=0):
    line = _line_of(text, key, table, occurrence)
    place = f"{path}:{line}" if line else str(path)
    return f"{place}: " + (f"[{table}] " if table else "") + f"`{key}`"


def fabric_from_spec(path, *, catalog=None):
    """Build the fabric a TOML spec file describes.

    Parameters
    ----------
    path : str or Path
    catalog : fabric.Catalog, optional

    Returns
    -------
    networkx.Graph

    Raises
    ------
    FabricFormatError
        Unreadable file, not UTF-8 (with the byte offset; a UTF-8 byte-order
        mark is accepted), or invalid TOML (with the line).
    ParameterError
        Unknown key, unknown preset, or a value of the wrong type or out of
        bounds; the message gives ``file:line``, the key and the allowed values.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rack.toml")
    >>> _ = open(path, "w").write('preset = "gb300-nvl72"\\n[params]\\ntrays = 9\\n')
    >>> sum(1 for _, k in fabric_from_spec(path).nodes(data="kind") if k == "gpu")
    36
    """
    path = Path(path)
    text = read_text_input(path, what="spec file", kind="TOML")
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"`{path}` is not valid TOML: {exc}"
        raise FabricFormatError(msg) from None
    for key in spec:
        if key not in SPEC_KEYS:
            msg = (f"{_where(path, text, key)} is not a spec key; allowed: "
                   f"{', '.join(SPEC_KEYS)}")
            raise ParameterError(msg)
    if "preset" not in spec:
        msg = f"{path}: `preset` is missing; one of: {', '.join(TOPOLOGIES)}"
        raise ParameterError(msg)
    name = spec["preset"]
    if name not in TOPOLOGIES:
        msg = f"{_where(path, text, 'preset')} = {name!r} is not a preset; one of: {', '.join(TOPOLOGIES)}"
        raise ParameterError(msg)
    preset = TOPOLOGIES[name]
    params = spec.get("params", {})
    if not isinstance(params, dict):
        msg = f"{_where(path, text, 'params')} must be a table"
        raise ParameterError(msg)
    typed = {}
    for key, value in params.items():
        try:
            typed[key] = preset.param(key).check(value)
        except ParameterError as exc:
            msg = f"{_where(path, text, key, 'params')}: {exc}"
            raise ParameterError(msg) from None
    sites = spec.get("site")
    if sites is not None:
        if name != "superfactory":
            msg = f"{_where(path, text, 'site')}: [[site]] tables need preset = \"superfactory\""
            raise ParameterError(msg)
        if not isinstance(sites, list) or not all(isinstance(x, dict) for x in sites):
            msg = (f"{_where(path, text, 'site')} must be [[site]] tables (one per site), "
                   f"got {type(sites).__name__}")
            raise ParameterError(msg)
        specs = []
        for i, site in enumerate(sites):
            preset_name = site.get("preset", "fairwater")
            if preset_name not in SITE_PRESETS:
                msg = (f"{_where(path, text, 'preset', 'site', i)} = {preset_name!r}: a site "
                       f"must be one of {', '.join(SITE_PRESETS)}")
                raise ParameterError(msg)
            allowed = _site_keys(preset_name)
            for key, value in site.items():
                if key not in allowed:
                    msg = (f"{_where(path, text, key, 'site', i)} is not a parameter of a "
                           f"{preset_name} site; allowed: {', '.join(allowed)}")
                    raise ParameterError(msg)
                if key != "preset":
                    try:
                        TOPOLOGIES[preset_name].param(key).check(value)
                    except ParameterError as exc:
                        msg = f"{_where(path, text, key, 'site', i)}: {exc}"
                        raise ParameterError(msg) from None
            specs.append(dict(site))
        kwargs = {k: v for k, v in typed.items() if k not in ("sites", "site", "site_gpus")}
        G = preset.builder(site_specs=specs, catalog=catalog, **kwargs)
    else:
        G = build_preset(name, typed, catalog=catalog)
    G.graph["spec"] = {"path": str(path), "name": spec.get("name", path.stem)}
    return G
