"""The hardware catalog: real parts with their published numbers and sources.

The catalog ships as ``fabric/data/catalog.toml``. Every numeric field is
stored as ``{value, source, conf, estimate}`` so that every number fabric
prints can be traced to where it came from, and estimates say so. A user
catalog in the same format (TOML or JSON) extends or overrides it field by
field; a plain number in a user file is accepted and sourced as
``"user catalog <path>"``.

Parsing the shipped TOML (70 kB, most of it sources) is most of a small build's catalog
time, so its parse is cached, as Python caches byte code: ``marshal`` data behind a
digest of it, in the user's cache directory (``$XDG_CACHE_HOME/fabric`` when absolute,
else ``~/.cache/fabric``), named by the interpreter and a hash of the TOML's bytes (an
edited catalog is parsed again and its entry replaces the old one), written
atomically; a cache that cannot be read or written is passed over silently, and none
is written when Python writes no byte code (``PYTHONDONTWRITEBYTECODE``).
"""

import copy
import functools
import json
import marshal
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fabric.exceptions import CatalogError

__all__ = ["Catalog", "Part", "Value", "load_catalog", "default_catalog"]

CATEGORIES = ("gpu", "cpu", "nvswitch", "nic", "switch", "cable", "system", "wan", "nccl")

# Fields every part of a category must have (the builders and solvers read them).
REQUIRED = {
    "gpu": ("name", "arch", "nvlink_generation", "nvlink_links", "nvlink_link_gbps",
            "nccl_nvlink_link_GBps", "nvls_efficiency", "host_link", "host_link_gbps",
            "memory_GB", "power_w"),
    "cpu": ("name", "cores", "power_w"),
    "nvswitch": ("name", "nvlink_generation", "ports", "port_gbps", "sharp", "latency_ns",
                 "power_w"),
    "nic": ("name", "protocols", "max_gbps", "ports", "port_gbps", "max_planes",
            "host_link_gbps", "latency_ns", "power_w"),
    "switch": ("name", "protocol", "ports", "port_gbps", "capacity_gbps", "port_modes",
               "sharp_version", "latency_ns", "power_w"),
    "cable": ("name", "type", "rate_gbps", "reach_m", "power_w"),
}


@dataclass(frozen=True)
class Value:
    """One catalog number with its provenance."""

    value: object
    source: str
    conf: str
    estimate: bool


@dataclass(frozen=True)
class Part:
    """One part of the catalog: its category, key and fields.

    ``part["ports"]`` gives the plain value; ``part.field("ports")`` the
    :class:`Value` with its source.
    """

    category: str
    key: str
    fields: dict

    def __getitem__(self, name):
        return self.field(name).value

    def get(self, name, default=None):
        """Return the plain value of ``name``, or ``default`` when the part lacks it."""
        if name not in self.fields:
            return default
        return self.fields[name].value

    def field(self, name):
        """Return the :class:`Value` of ``name`` (raises CatalogError when missing)."""
        try:
            return self.fields[name]
        except KeyError:
            msg = f"catalog part `{self.category}.{self.key}` has no field `{name}`"
            raise CatalogError(msg) from None

    def estimates(self):
        """Names of the fields of this part whose value is an estimate."""
        return sorted(k for k, v in self.fields.items() if v.estimate)


class Catalog:
    """A loaded hardware catalog (shipped data plus optional user overrides).

    Examples
    --------
    >>> cat = default_catalog()
    >>> cat.part("nvswitch", "nvlink5-switch")["ports"]
    72
    >>> cat.part("gpu", "GB200")["nvlink_links"]
    18
    """

    def __init__(self, data, *, version, sources):
        self._data = data
        self.version = version
        self.sources = tuple(sources)

    def part(self, category, key):
        """Return the :class:`Part` ``category.key``.

        Raises
        ------
        CatalogError
            When the category or part is unknown; the message lists the known keys.
        """
        if category not in self._data:
            msg = f"catalog has no category `{category}`; known: {', '.join(sorted(self._data))}"
            raise CatalogError(msg)
        parts = self._data[category]
        if key not in parts:
            msg = (f"catalog has no {category} `{key}`; known {category} parts: "
                   f"{', '.join(sorted(parts))} (add it with --catalog FILE)")
            raise CatalogError(msg)
        return parts[key]

    def keys(self, category):
        """Keys of the parts in ``category`` (empty when the category is absent)."""
        return sorted(self._data.get(category, {}))

    def categories(self):
        """Categories present in this catalog."""
        return sorted(self._data)


def _wrap(value, origin):
    """Turn one raw field into a Value (tables with `value` keep their provenance)."""
    if isinstance(value, dict) and "value" in value:
        return Value(value["value"], str(value.get("source", origin)), str(value.get("conf", "user")),
                     bool(value.get("estimate", False)))
    return Value(value, origin, "user" if origin.startswith("user") else "H", False)


def _merge(base, raw, origin):
    for category, parts in raw.items():
        if category == "catalog":
            continue
        if not isinstance(parts, dict):
            msg = f"{origin}: `{category}` must be a table of parts, got {type(parts).__name__}"
            raise CatalogError(msg)
        bucket = base.setdefault(category, {})
        for key, fields in parts.items():
            if not isinstance(fields, dict):
                msg = f"{origin}: `{category}.{key}` must be a table of fields"
                raise CatalogError(msg)
            merged = dict(bucket[key].fields) if key in bucket else {}
            for name, value in fields.items():
                merged[name] = _wrap(value, origin)
            bucket[key] = Part(category, key, merged)


_POSITIVE_SUFFIXES = ("ports", "links", "planes", "lanes", "cores", "_gbps", "_GBps", "_GB")


def _check(data, origin):
    problems = []
    for category, required in REQUIRED.items():
        for key, part in data.get(category, {}).items():
            missing = [f for f in required if f not in part.fields]
            if missing:
                problems.append(f"`{category}.{key}` lacks {', '.join(missing)}")
    for category, parts in data.items():
        for key, part in parts.items():
            for name, field in part.fields.items():
                v = field.value
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                if not math.isfinite(v) or v < 0:
                    problems.append(f"`{category}.{key}.{name}` must be a finite number >= 0, "
                                    f"got {v}")
                elif v == 0 and name.endswith(_POSITIVE_SUFFIXES):
                    problems.append(f"`{category}.{key}.{name}` must be > 0")
    if problems:
        msg = f"{origin}: incomplete catalog parts: " + "; ".join(problems)
        raise CatalogError(msg)


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list", dict: "a table"}


def _type_name(value):
    for t, name in _TYPE_NAMES.items():
        if isinstance(value, t):
            return name.removeprefix("an ").removeprefix("a ")
    return type(value).__name__


def _fits(value, expected):
    if expected is bool or isinstance(value, bool):
        return expected is bool and isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


@functools.lru_cache(maxsize=1)
def _field_types():
    """(category, field) -> the type every shipped part gives that field."""
    data, _ = _shipped()
    types = {}
    for category, parts in data.items():
        for part in parts.values():
            for name, field in part.fields.items():
                types.setdefault((category, name), type(field.value))
    return types


def _check_types(raw, path):
    """Refuse user fields whose type differs from the shipped catalog's (``ports = "many"``).

    An integral float where the shipped catalog has an integer (``power_w =
    650.0``) is accepted and stored as that integer. Tables that are not
    tables are left for :func:`_merge` to report.
    """
    types = _field_types()
    problems = []
    for category, parts in raw.items():
        if category == "catalog" or not isinstance(parts, dict):
            continue
        for key, fields in parts.items():
            if not isinstance(fields, dict):
                continue
            for name, value in fields.items():
                holder, slot = fields, name
                if isinstance(value, dict) and "value" in value:
                    holder, slot = value, "value"
                    value = value["value"]
                expected = types.get((category, name))
                if (expected is int and isinstance(value, float) and math.isfinite(value)
                        and value.is_integer()):
                    holder[slot] = int(value)
                    continue
                if expected is not None and not _fits(value, expected):
                    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
                    problems.append(f"`{category}.{key}.{name}` must be "
                                    f"{_TYPE_NAMES.get(expected, expected.__name__)}, got "
                                    f"{shown} ({_type_name(value)})")
    if problems:
        msg = f"catalog file `{path}`: wrong type: " + "; ".join(problems)
        raise CatalogError(msg)


def _read(path):
    from fabric.io import read_text_input

    path = Path(path)
    json_file = path.suffix.lower() == ".json"
    kind = "JSON" if json_file else "TOML"
    text = read_text_input(path, what="catalog file", error=CatalogError, kind=kind)
    import tomllib

    try:
        raw = json.loads(text) if json_file else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        msg = f"catalog file `{path}` is not valid {kind}: {exc}"
        raise CatalogError(msg) from None
    if not isinstance(raw, dict):
        msg = (f"catalog file `{path}`: the top level must be a table of categories "
               f"({', '.join(CATEGORIES)}), each a table of parts, got {_type_name(raw)}")
        raise CatalogError(msg)
    if not isinstance(raw.get("catalog", {}), dict):
        msg = (f"catalog file `{path}`: `catalog` must be a table (with `version`), got "
               f"{_type_name(raw['catalog'])}")
        raise CatalogError(msg)
    return raw


_SHIPPED = Path(__file__).with_name("data") / "catalog.toml"


def _cache_dir():
    """Where parsed catalogs are cached: ``$XDG_CACHE_HOME/fabric`` when that is an absolute
    path (the XDG rule), else ``~/.cache/fabric`` when the home directory exists; None
    (no cache) otherwise."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(base):
        return Path(base, "fabric")
    home = os.path.expanduser("~")
    if os.path.isabs(home) and os.path.isdir(home):
        return Path(home, ".cache", "fabric")
    return None


def _digest(data):
    """The BLAKE2 digest of ``data`` (:func:`fabric.io._hasher`): a cache entry's name part
    (of the TOML bytes) and its seal (of the ``marshal`` payload)."""
    from fabric.io import _hasher

    h = _hasher()
    h.update(data)
    return h.digest()


def _parse_cached(data):
    """``tomllib.loads`` of the TOML bytes ``data``, through the cache of the module
    docstring: a hit reads ``marshal`` data instead of parsing (and never imports
    ``tomllib``); a miss parses and tries to write the cache entry.

    An entry is a BLAKE2 digest of its ``marshal`` payload, then the payload: one whose
    digest does not match (a damaged file) is parsed again and rewritten.
    """
    where = _cache_dir()
    name = f"catalog-{sys.implementation.cache_tag}-{_digest(data).hex()}.marshal"
    path = where and where / name
    raw = None
    if path:
        try:
            entry = path.read_bytes()
            n = len(_digest(b""))                 # the seal's length
            if _digest(entry[n:]) == entry[:n]:
                raw = marshal.loads(entry[n:])
        except (OSError, EOFError, ValueError, TypeError):       # none yet, or unreadable
            raw = None
    if isinstance(raw, dict):
        return raw
    import tomllib

    raw = tomllib.loads(data.decode("utf-8"))
    if path and not sys.dont_write_bytecode:
        _write_cache(path, raw)
    return raw


def _write_cache(path, raw):
    """Write ``raw`` to the cache file ``path`` atomically (digest, then payload) and remove
    the entries of other catalog texts for this interpreter; or do nothing (read-only or
    full cache directory, values marshal cannot write)."""
    from fabric.exceptions import FabricError
    from fabric.io import atomic_write

    try:
        payload = marshal.dumps(raw)
    except ValueError:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as fh:
            fh.write(_digest(payload) + payload)
        for old in path.parent.glob(f"catalog-{sys.implementation.cache_tag}-*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, FabricError):
        pass


@functools.lru_cache(maxsize=1)
def _shipped():
    raw = _parse_cached(_SHIPPED.read_bytes())
    data = {}
    _merge(data, raw, "fabric/data/catalog.toml")
    _check(data, "fabric/data/catalog.toml")
    version = str(raw.get("catalog", {}).get("version", "unknown"))
    return data, version


def load_catalog(path=None):
    """Load the shipped catalog, extended or overridden by the file at ``path``.

    Parameters
    ----------
    path : str or Path, optional
        A user catalog (TOML, or JSON when it ends in ``.json``) in the shipped
        format. Fields it names replace the shipped ones; new parts are added.

    Returns
    -------
    Catalog

    Raises
    ------
    CatalogError
        When the file cannot be read, is not UTF-8 (a UTF-8 byte-order mark is
        accepted) or not TOML/JSON, is not a table of categories of parts,
        gives a field a type other than the shipped catalog's (the message
        names the file, the key and the type), or a part lacks a required field.

    Examples
    --------
    >>> load_catalog().part("switch", "QM9700")["ports"]
    64
    """
    data, version = _shipped()
    if path is None:
        return default_catalog()
    data = copy.copy(data)
    data = {c: dict(p) for c, p in data.items()}
    raw = _read(path)
    _check_types(raw, path)
    _merge(data, raw, f"user catalog {path}")
    _check(data, str(path))
    user_version = raw.get("catalog", {}).get("version")
    if user_version:
        version = f"{version}+{user_version}"
    else:
        version = f"{version}+user"
    return Catalog(data, version=version, sources=("fabric/data/catalog.toml", str(path)))


@functools.lru_cache(maxsize=1)
def default_catalog():
    """Return the shipped catalog (cached).

    Examples
    --------
    >>> default_catalog().part("nic", "cx8")["max_gbps"]
    800.0
    """
    data, version = _shipped()
    return Catalog(data, version=version, sources=("fabric/data/catalog.toml",))
