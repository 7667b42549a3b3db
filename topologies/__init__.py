"""Builders: pure functions that return validated fabric graphs, and the preset registry.

:func:`load` turns any ``TOPO`` argument (preset, spec file, fabric file) into
a validated graph. Names are loaded on first use (PEP 562).
"""

from fabric._lazy import lazy_names

_PUBLIC = {
    "nvlink": ("dgx_h100_graph", "hgx_b200_graph", "gb200_nvl72_graph", "gb300_nvl72_graph",
               "nvl36x2_graph", "NVLINK_SYSTEMS"),
    "scaleout": ("fat_tree_graph", "superpod_h100_graph", "superpod_b200_graph",
                 "superpod_gb200_graph", "azure_gb300_graph", "spectrum_x_graph",
                 "fairwater_graph", "superfactory_graph", "SITE_PRESETS"),
    "registry": ("Param", "Preset", "TOPOLOGIES", "register", "build_preset", "parse_overrides"),
    "spec": ("fabric_from_spec", "SPEC_KEYS"),
    "loading": ("load",),
}
"""Submodule -> the public names it provides at package level (checked against ``__all__``)."""

_names, __getattr__, __dir__ = lazy_names(__name__, _PUBLIC)

__all__ = _names
