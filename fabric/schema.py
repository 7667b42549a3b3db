"""The fabric graph schema: node kinds, link media and every attribute with its unit.

A fabric is a plain :class:`networkx.Graph`. Nodes and edges carry only scalar
attributes (``str``, ``int``, ``float``, ``bool``) so that JSON and GraphML
round-trip them with their types. Units are part of every numeric name:

* link rates in Gb/s **per direction** (``bandwidth_gbps``, ``port_gbps``),
* latency in ns (``latency_ns``), lengths in m (``length_m``).

Node attributes
---------------
kind : str
    One of :data:`NODE_KINDS`.
part : str
    The hardware catalog key of the part (``"GB200"``, ``"nvlink5-switch"``,
    ``"QM9700"``...); ``"virtual"`` for nodes that stand for several
    identical parts (the aggregated form), which name that part in ``chips_part``.
site, pod, rack, domain, plane, rail, tier : int
    Location keys that apply to the node. ``domain`` numbers NVLink domains
    across the whole fabric; ``rack`` numbers racks across the whole fabric.
    ``tier`` is 0 for NVLink switches, 1 for leaf, 2 for spine, 3 for core,
    4 for WAN routers.
host : str
    The name of the host node the GPU, CPU or NIC belongs to (on host nodes:
    their own name).
nvlink_links : int
    GPUs only: the number of NVLink links the GPU has.
ports : int
    Switches, NICs and WAN routers: the port budget at the configured port
    speed ``port_gbps``. NVLink switches count NVLink ports.
port_gbps : float
    Configured per-port rate, Gb/s per direction.
chips : int
    Virtual (aggregated) nodes only: how many identical parts it stands for:
    NVLink switch chips, CPUs of a host, NICs of a compute tray (each GPU's
    ``pcie`` edge to such a NIC node is capped at its own NIC's rate), or the
    switches of identical planes (scale-out and WAN). Counts, budgets, power
    and the bill of materials multiply by it.
chips_part : str
    Virtual nodes only: the catalog key of the parts it stands for.

Edge attributes
---------------
medium : str
    One of :data:`MEDIA`.
links : int
    Number of parallel physical links the edge stands for (>= 1).
bandwidth_gbps : float
    Aggregate rate of those links, Gb/s per direction.
latency_ns : float
    One-way latency of the link (propagation plus serialization of the
    cable; switch latency is a node property in the catalog).
length_m : float, optional
    Cable or fiber length in m.
cable : str, optional
    Catalog key of the cable or optic.
a_end, a_port, b_port : str, int, int, optional
    Network links only (set by :func:`fabric.ports.assign_ports`): ``a_end``
    names one endpoint, ``a_port`` is the first of the edge's ``links``
    contiguous ports there (numbered from 1), ``b_port`` the first at the
    other endpoint; port ``a_port + i`` is cabled to port ``b_port + i``.

``G.graph`` holds the provenance: ``builder``, ``params`` (dict),
``catalog_version``, ``schema_version`` and ``notes`` (list of str).
"""

__all__ = [
    "SCHEMA_VERSION",
    "NODE_KINDS",
    "SWITCH_KINDS",
    "NETWORK_KINDS",
    "MEDIA",
    "NETWORK_MEDIA",
    "NODE_ATTRS",
    "EDGE_ATTRS",
    "MEDIUM_ENDPOINTS",
    "KIND_CODE",
    "MEDIUM_CODE",
]

SCHEMA_VERSION = 1

NODE_KINDS = ("gpu", "cpu", "host", "nic", "nvswitch", "leaf", "spine", "core", "wan")
"""Every node kind a fabric graph may hold."""

SWITCH_KINDS = ("nvswitch", "leaf", "spine", "core", "wan")
"""Kinds that have a port budget (``ports`` at ``port_gbps``)."""

NETWORK_KINDS = ("leaf", "spine", "core", "wan")
"""Scale-out switch kinds (tiers 1-4)."""

MEDIA = ("nvlink", "c2c", "pcie", "infiniband", "ethernet", "wan")
"""Every link medium."""

NETWORK_MEDIA = ("infiniband", "ethernet", "wan")
"""Media of the scale-out and scale-across networks."""

KIND_CODE = {k: i for i, k in enumerate(NODE_KINDS)}
"""Node kind -> the integer code numpy tables store (the one table; position in NODE_KINDS)."""

MEDIUM_CODE = {m: i for i, m in enumerate(MEDIA)}
"""Medium -> the integer code numpy tables store (the one table; position in MEDIA)."""

# name -> (type, required-for-kinds or None for optional everywhere)
NODE_ATTRS = {
    "kind": (str, "all"),
    "part": (str, "all"),
    "site": (int, None),
    "pod": (int, None),
    "rack": (int, None),
    "domain": (int, None),
    "plane": (int, None),
    "rail": (int, None),
    "tier": (int, None),
    "host": (str, ("gpu", "cpu", "nic", "host")),
    "nvlink_links": (int, ("gpu",)),
    "ports": (int, ("nvswitch", "leaf", "spine", "core", "wan", "nic")),
    "port_gbps": (float, ("nvswitch", "leaf", "spine", "core", "wan", "nic")),
    "chips": (int, None),
    "chips_part": (str, None),
}
"""Node attribute name -> (type, kinds that must carry it; ``"all"`` or ``None`` = optional)."""

EDGE_ATTRS = {
    "medium": (str, True),
    "links": (int, True),
    "bandwidth_gbps": (float, True),
    "latency_ns": (float, True),
    "length_m": (float, False),
    "cable": (str, False),
    "a_end": (str, False),
    "a_port": (int, False),
    "b_port": (int, False),
}
"""Edge attribute name -> (type, required)."""

MEDIUM_ENDPOINTS = {
    "nvlink": {frozenset(("gpu", "nvswitch")), frozenset(("nvswitch",)), frozenset(("gpu",))},
    "c2c": {frozenset(("gpu", "cpu"))},
    "pcie": {frozenset(("gpu", "nic")), frozenset(("gpu", "cpu")), frozenset(("cpu", "nic")),
             frozenset(("cpu", "host"))},
    "infiniband": {frozenset(p) for p in (("nic", "leaf"), ("leaf", "spine"), ("spine", "core"),
                                          ("nic", "spine"), ("leaf", "wan"), ("spine", "wan"),
                                          ("core", "wan"))},
    "ethernet": {frozenset(p) for p in (("nic", "leaf"), ("leaf", "spine"), ("spine", "core"),
                                        ("nic", "spine"), ("leaf", "wan"), ("spine", "wan"),
                                        ("core", "wan"))},
    "wan": {frozenset(("wan",))},
}
"""Medium -> the allowed pairs of endpoint kinds."""
