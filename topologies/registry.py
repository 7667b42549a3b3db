"""The preset registry: names -> builders, their parameters, types, bounds and defaults.

The CLI reads :data:`TOPOLOGIES`; ``--set KEY=VALUE`` strings are parsed and
checked here, so every front end gets the same errors.
"""

import math
from dataclasses import dataclass

from fabric.exceptions import ParameterError
from topologies import nvlink, scaleout

__all__ = ["Param", "Preset", "TOPOLOGIES", "register", "build_preset", "parse_overrides"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One preset parameter: its type (int, float, bool, str), default, help and bounds."""

    name: str
    type: type
    default: object
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()

    def _fmt(self, bound):
        if bound is None:
            return None
        return f"{int(bound):,}" if self.type is int else f"{bound:g}"

    def parse(self, text):
        """Convert the string ``text`` to this parameter's type and check its bounds."""
        if not isinstance(text, str):
            return self.check(text)
        raw = text.strip()
        try:
            if raw.lower() in ("none", "auto") and self.default is None:
                return None
            if self.type is bool:
                if raw.lower() in _TRUE:
                    value = True
                elif raw.lower() in _FALSE:
                    value = False
                else:
                    raise ValueError(raw)
            elif raw.lower() in ("none", "auto") and self.default is None:
                return None
            elif self.type is int:
                value = int(raw.replace("_", "").replace(",", ""))
            elif self.type is float:
                value = float(raw)
            else:
                value = raw
        except ValueError:
            kind = {bool: "true/false", int: "an integer", float: "a number"}.get(self.type,
                                                                                   "a string")
            if self.default is None:
                kind += " (or none/auto for the default)"
            msg = f"`{self.name}` must be {kind}, got {text!r}"
            raise ParameterError(msg) from None
        return self.check(value)

    def check(self, value):
        """Check a typed value against the bounds and choices (None where the default is None)."""
        if value is None and self.default is None:
            return None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, self.type) and not isinstance(value, bool)
        if not ok:
            msg = f"`{self.name}` must be of type {self.type.__name__}, got {value!r}"
            raise ParameterError(msg)
        if self.type is float and not math.isfinite(value):
            msg = f"`{self.name}` must be a finite number, got {value!r}"
            raise ParameterError(msg)
        if self.choices and value not in self.choices:
            msg = (f"`{self.name}` must be one of {', '.join(map(str, self.choices))}, "
                   f"got {value!r}")
            raise ParameterError(msg)
        lo, hi = self._fmt(self.lo), self._fmt(self.hi)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            if self.lo is not None and self.hi is not None:
                msg = f"`{self.name}` must be between {lo} and {hi}, got {value}"
            elif self.lo is not None:
                msg = f"`{self.name}` must be >= {lo}, got {value}"
            else:
                msg = f"`{self.name}` must be <= {hi}, got {value}"
            raise ParameterError(msg)
        return value


@dataclass(frozen=True)
class Preset:
    """A named fabric: the builder, what it is, and its parameters."""

    name: str
    builder: object
    summary: str
    params: tuple
    family: str = "nvlink"

    def param(self, key):
        for p in self.params:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in self.params) or "(none)"
        msg = f"preset `{self.name}` has no parameter `{key}`; its parameters: {known}"
        raise ParameterError(msg)

    def defaults(self):
        return {p.name: p.default for p in self.params}


TOPOLOGIES = {}
"""Preset name -> :class:`Preset`, in the order presets were registered."""


def register(preset):
    """Add ``preset`` to :data:`TOPOLOGIES` (replacing one of the same name)."""
    TOPOLOGIES[preset.name] = preset
    return preset


def parse_overrides(items):
    """Parse ``["KEY=VALUE", ...]`` into a dict of strings.

    Raises
    ------
    ParameterError
        When an item has no ``=`` or an empty key, or a key repeats.

    Examples
    --------
    >>> parse_overrides(["trays=9", "nic=cx8"])
    {'trays': '9', 'nic': 'cx8'}
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            msg = f"`--set` takes KEY=VALUE, got {item!r}"
            raise ParameterError(msg)
        if key in out:
            msg = f"`--set {key}` given twice"
            raise ParameterError(msg)
        out[key] = value
    return out


def build_preset(name, overrides=None, *, catalog=None):
    """Build the preset ``name`` with ``overrides`` (strings or typed values).

    Parameters
    ----------
    name : str
        A key of :data:`TOPOLOGIES`.
    overrides : dict, optional
        Parameter name -> value (a string is parsed to the parameter's type).
    catalog : fabric.Catalog, optional

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        Unknown preset, unknown parameter, or a value of the wrong type or
        outside its bounds.

    Examples
    --------
    >>> G = build_preset("gb200-nvl72", {"trays": "9"})
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    36
    """
    if name not in TOPOLOGIES:
        msg = f"unknown preset `{name}`; presets: {', '.join(TOPOLOGIES)}"
        raise ParameterError(msg)
    preset = TOPOLOGIES[name]
    kwargs = preset.defaults()
    for key, value in (overrides or {}).items():
        kwargs[key] = preset.param(key).parse(value)
    return preset.builder(**kwargs, catalog=catalog)


def _nvlink_common(nic):
    return (
        Param("aggregate_nvswitch", bool, False,
              "aggregated domain: the NVLink switch chips, each host's CPUs and each tray's "
              "NICs become one virtual node each (same bandwidth and ports)"),
        Param("nic", str, nic, "catalog key of the per-GPU scale-out NIC",
              choices=("cx7", "cx8", "bf3")),
        Param("planes", int, 1, "network ports each NIC is split into", lo=1, hi=8),
    )


def _split_builder(*, link_split, **kw):
    try:
        split = tuple(int(x) for x in str(link_split).split(","))
    except ValueError:
        msg = f"`link_split` must be 4 comma-separated integers like 5,4,4,5, got {link_split!r}"
        raise ParameterError(msg) from None
    if len(split) != 4:
        msg = f"`link_split` must name 4 chips (a DGX H100 has 4 NVSwitch chips), got {link_split!r}"
        raise ParameterError(msg)
    return nvlink.dgx_h100_graph(link_split=split, **kw)


register(Preset("dgx-h100", _split_builder,
                "DGX H100: 8 H100, 4 NVSwitch gen3 (5/4/4/5 links), 8 ConnectX-7 400G, 1 host",
                (Param("link_split", str, "5,4,4,5",
                       "NVLink links from each GPU to NVSwitch chips 0-3"),
                 Param("gpu", str, "H100", "GPU model (H200 gives a DGX H200)",
                       choices=("H100", "H200")),
                 *_nvlink_common("cx7"))))
register(Preset("hgx-b200", nvlink.hgx_b200_graph,
                "HGX B200: 8 B200, 2 NVLink5 switch chips (9 links per GPU per chip)",
                (Param("links_per_chip", int, 9, "NVLink links from each GPU to each chip",
                       lo=1, hi=18),
                 Param("gpu", str, "B200", "GPU model (B300 gives an HGX B300)",
                       choices=("B200", "B300")),
                 *_nvlink_common("cx7"))))
register(Preset("gb200-nvl72", nvlink.gb200_nvl72_graph,
                "GB200 NVL72 rack: 72 GPUs, 36 Grace, 18 trays, 18 NVLink5 switch chips, CX-7 400G",
                (Param("trays", int, 18, "compute trays (4 GPUs each)", lo=1, hi=18),
                 *_nvlink_common("cx7"))))
register(Preset("gb300-nvl72", nvlink.gb300_nvl72_graph,
                "GB300 NVL72 rack: 72 GPUs, 36 Grace, 18 trays, 18 NVLink5 switch chips, CX-8 800G",
                (Param("trays", int, 18, "compute trays (4 GPUs each)", lo=1, hi=18),
                 *_nvlink_common("cx8"))))
register(Preset("nvl36x2", nvlink.nvl36x2_graph,
                "GB200 NVL36x2: two 36-GPU racks joined into one 72-GPU NVLink domain",
                (Param("trays_per_rack", int, 9, "compute trays per rack (4 GPUs each)",
                       lo=1, hi=9),
                 *_nvlink_common("cx7"))))


def _agg():
    return Param("aggregate_nvswitch", bool, False,
                 "aggregated NVLink domains: each domain's switch chips, each host's CPUs "
                 "and each tray's NICs become one virtual node (same bandwidth and ports)")


def _agg_planes():
    return Param("aggregate_planes", bool, None,
                 "one network of virtual switches standing for the identical planes "
                 "(default: follows aggregate_nvswitch)")


def _tiers():
    return Param("tiers", int, None, "2 or 3 switch tiers (default: 2 when it fits, else 3)",
                 lo=2, hi=3)


register(Preset("fat-tree", scaleout.fat_tree_graph,
                "k-ary fat tree of single-GPU hosts: k^3/4 hosts, 5k^2/4 switches (3 tiers)",
                (Param("k", int, 8, "switch ports used (even)", lo=2, hi=144),
                 Param("tiers", int, 3, "2 or 3 tiers", lo=2, hi=3),
                 Param("switch", str, "QM9700", "catalog switch", choices=("QM9700", "Q3400",
                                                                           "SN5600")),
                 Param("gpus", int, None, "hosts to populate (rounded up to whole pods)", lo=1,
                       hi=746_496),
                 Param("gpu", str, "H100", "GPU of each host"),
                 Param("nic", str, "cx7", "NIC of each host", choices=("cx7", "cx8", "bf3"))),
                family="scale-out"))
register(Preset("superpod-h100", scaleout.superpod_h100_graph,
                "DGX SuperPOD H100: SUs of 32 DGX H100 slots on QM9700 NDR, rail-optimized",
                (Param("sus", int, 1, "scalable units (1-4 published)", lo=1, hi=128),
                 Param("gpus", int, None, "GPUs (rounded up to whole SUs; overrides sus)", lo=1,
                       hi=128 * 32 * 8),
                 Param("gpu", str, "H100", "GPU model", choices=("H100", "H200")),
                 _agg(), _tiers()),
                family="scale-out"))
register(Preset("superpod-b200", scaleout.superpod_b200_graph,
                "DGX SuperPOD B200: SUs of 32 DGX B200 on QM9700, core tier from 16 SUs",
                (Param("sus", int, 2, "scalable units (2-64 published)", lo=1, hi=128),
                 Param("gpus", int, None, "GPUs (rounded up to whole SUs; overrides sus)", lo=1,
                       hi=128 * 32 * 8),
                 _agg(), _tiers()),
                family="scale-out"))
register(Preset("superpod-gb200", scaleout.superpod_gb200_graph,
                "DGX SuperPOD GB200: NVL72 racks, SU = 8 racks, CX-7 400G per GPU, QM9700",
                (Param("racks", int, 16, "NVL72 racks", lo=1, hi=20_000),
                 Param("gpus", int, None, "GPUs (rounded up to whole racks; overrides racks)",
                       lo=1, hi=20_000 * 72),
                 _agg(), _tiers()),
                family="scale-out"))
register(Preset("azure-gb300", scaleout.azure_gb300_graph,
                "Azure GB300 cluster: 64 GB300 NVL72 racks (4,608 GPUs), Q3400 XDR, 800G per GPU",
                (Param("racks", int, 64, "NVL72 racks", lo=1, hi=20_000),
                 Param("gpus", int, None, "GPUs (rounded up to whole racks; overrides racks)",
                       lo=1, hi=20_000 * 72),
                 _agg(), _tiers()),
                family="scale-out"))
register(Preset("spectrum-x", scaleout.spectrum_x_graph,
                "Spectrum-X Ethernet, SN5600 + CX-8 SuperNICs, rail-optimized, multi-plane "
                "(default: DGX B300 twin-planar)",
                (Param("sus", int, 1, "scalable units", lo=1, hi=1024),
                 Param("gpus", int, None, "GPUs (rounded up to whole nodes/racks; overrides sus)",
                       lo=1, hi=1_000_000),
                 Param("system", str, "hgx-b200", "hgx-b200 (as DGX B300), gb300-nvl72 or "
                       "gb200-nvl72", choices=("hgx-b200", "gb300-nvl72", "gb200-nvl72")),
                 Param("planes", int, 2, "planes per NIC (800G / planes per port)", lo=1, hi=8),
                 Param("oversubscription", float, 1.0, "leaf down:up bandwidth (>= 1)", lo=1.0,
                       hi=64.0),
                 _tiers(), _agg(), _agg_planes()),
                family="scale-out"))
register(Preset("fairwater", scaleout.fairwater_graph,
                "Fairwater-class site: NVL72 racks, two-tier multi-plane Ethernet, 800G per GPU",
                (Param("gpus", int, 9216, "GPUs (rounded up to whole racks; two tiers hold "
                       "at most 131,072 with the default SN6810 and 8 planes)", lo=1, hi=1_000_000),
                 Param("system", str, "gb300-nvl72", "rack type",
                       choices=("gb300-nvl72", "gb200-nvl72")),
                 Param("planes", int, 8, "planes per 800G NIC (8 = 8 x 100G)", lo=1, hi=8),
                 Param("switch", str, "SN6810", "Ethernet switch", choices=("SN6810", "SN5600")),
                 _agg(), _agg_planes()),
                family="scale-out"))
register(Preset("superfactory", scaleout.superfactory_graph,
                "several sites joined by a WAN (default: 2 Fairwater-class sites, "
                "Wisconsin-Atlanta distance)",
                (Param("sites", int, 2, "number of sites", lo=1, hi=16),
                 Param("site", str, "fairwater", "preset of each site",
                       choices=scaleout.SITE_PRESETS),
                 Param("site_gpus", int, 9216, "GPUs per site (rounded up to whole racks)", lo=1,
                       hi=1_000_000),
                 Param("distance_km", float, 1043.0, "great-circle distance between sites, km",
                       lo=0, hi=40_000),
                 Param("route_factor", float, None, "fiber route / great-circle distance "
                       "(default: catalog wan.fiber.route_factor)", lo=1),
                 Param("wan_gbps", float, 102400.0, "WAN capacity per site pair, Gb/s per "
                       "direction (estimate; rounded up to whole 400ZR links)", lo=400.0,
                       hi=1e8),
                 Param("planes", int, 8, "planes per NIC at each site", lo=1, hi=8),
                 _agg(), _agg_planes()),
                family="superfactory"))
