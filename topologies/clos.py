"""Scale-out fabrics: k-ary fat trees and rail-optimized multi-plane Clos networks.

One generic builder cables any set of NVLink domains into a 2- or 3-tier
folded Clos, one independent network per *plane*. The presets (DGX SuperPOD
H100/B200/GB200, Azure GB300, Spectrum-X, Fairwater) are this builder with
the published parameters.

Cabling rules (they reproduce NVIDIA's reference tables exactly):

* **Leaves** are rail-optimized: a leaf serves one rail (the GPU's index in
  its DGX/HGX host, or the compute-tray index in an NVL72 rack) of one
  scalable unit (SU) of domains, with ``leaf_down`` ports toward NICs and
  ``leaf_up`` toward spines (``leaf_down / leaf_up`` = the oversubscription).
* **Two tiers**: the spine count is the smallest divisor ``s`` of ``leaf_up``
  with ``s * radix >= leaves * leaf_up``; every leaf has ``leaf_up / s``
  cables to every spine. (1 SU of DGX H100: 8 leaves x 32 uplinks -> 4
  spines; 3 SUs: 24 x 32 = 768 -> 16 spines, as published.)
* **Three tiers**: leaves are grouped in pods (one SU, or k/2 leaves in a k-ary
  fat tree); each pod gets the smallest divisor ``s`` of ``leaf_up`` spines
  with ``s * radix / 2 >= pod_leaves * leaf_up``; spine ``j`` of every pod
  cables to core group ``j`` whose size is the smallest divisor ``g`` of the
  spine's uplinks with ``g * radix >= pods * uplinks``. (16 SUs of DGX B200:
  128 leaves, 128 spines, 64 core, as published.)

Node names: ``[s<site>-]p<plane>-leaf<i>``, ``...-spine<j>``, ``...-core<c>``.
"""

import math
from itertools import product

from fabric.exceptions import ParameterError
from topologies._common import FIBER_NS_PER_M, link

__all__ = ["switch_radix", "add_clos_plane", "plan_tiers", "smallest_divisor_at_least"]

# Cable lengths by tier (estimates, recorded in G.graph["notes"]); cable choice by reach.
NIC_LEAF_M = 20.0
LEAF_SPINE_M = 60.0
SPINE_CORE_M = 300.0
_NOTE_CABLES = ("scale-out cable lengths are estimates (NIC-leaf 20 m, leaf-spine 60 m, "
                "spine-core 300 m); latency_ns = 4.9 ns/m x length; optics chosen by reach")


def switch_radix(part, port_gbps):
    """Ports of catalog switch ``part`` when configured at ``port_gbps`` (from its port modes).

    Raises
    ------
    ParameterError
        When the switch has no mode at that speed; the message lists its modes.

    Examples
    --------
    >>> from fabric import default_catalog
    >>> switch_radix(default_catalog().part("switch", "SN5600"), 400.0)
    128
    """
    modes = {float(k): int(v) for k, v in part["port_modes"].items()}
    if float(port_gbps) not in modes:
        listed = ", ".join(f"{n} x {s:g}G" for s, n in sorted(modes.items(), reverse=True))
        msg = (f"switch {part.key} has no {port_gbps:g} Gb/s port mode; its modes: {listed} "
               f"(choose `planes` so the per-plane port speed is one of them)")
        raise ParameterError(msg)
    return modes[float(port_gbps)]


def smallest_divisor_at_least(n, lo):
    """Smallest divisor of ``n`` that is >= ``lo`` (None when ``lo > n``).

    Examples
    --------
    >>> smallest_divisor_at_least(32, 12), smallest_divisor_at_least(32, 33)
    (16, None)
    """
    for d in range(max(1, lo), n + 1):
        if n % d == 0:
            return d
    return None


def _cable(cat, medium, length_m, rate_gbps):
    """Pick the catalog cable/optic for a link of this reach (copper when short)."""
    if length_m <= 2.0:
        return "dac-800g-2m"
    if length_m <= 5.0:
        return "acc-800g-5m"
    if length_m <= 50.0:
        return "osfp-800g-sr8"
    if length_m <= 100.0:
        return "osfp-800g-dr8"
    return "osfp-800g-2fr4"


def _net_link(cat, medium, links, rate, length_m, copies=1):
    ns = FIBER_NS_PER_M if length_m > 5.0 else 4.5
    links *= copies
    return link(medium, links, rate, length_m=length_m, cable=_cable(cat, medium, length_m, rate),
                ns_per_m=ns)


def plan_tiers(n_leaves, *, leaf_down, leaf_up, radix, reserve_top=0, tiers=None,
               pod_leaves=None, switch="switch"):
    """Size the tiers above ``n_leaves`` leaves by the rules of this module (no graph built).

    Returns
    -------
    dict
        ``tiers`` and, for 2 tiers, ``spines``; for 3 tiers ``pod_leaves``,
        ``spines_per_pod``, ``spine_up``, ``pods`` and ``core_group``.

    Raises
    ------
    ParameterError
        When ``tiers`` cannot host the leaves with this radix; the message says
        what to change.

    Examples
    --------
    >>> plan_tiers(8, leaf_down=32, leaf_up=32, radix=64)   # 1 SU of DGX H100
    {'tiers': 2, 'spines': 4}
    """
    top_ports = radix - reserve_top
    two_tier = smallest_divisor_at_least(leaf_up, math.ceil(n_leaves * leaf_up / top_ports))
    if tiers is None:
        tiers = 2 if two_tier is not None else 3
    if tiers == 2:
        if two_tier is None:
            most = top_ports
            msg = (f"two tiers cannot host {n_leaves} leaves per plane: {n_leaves} x {leaf_up} "
                   f"uplinks need more than the {leaf_up} spines x {top_ports} ports a leaf can "
                   f"reach (at most {most} leaves, i.e. {most * leaf_down:,} NIC ports per "
                   f"plane, with a {switch}); use fewer GPUs, more planes, a larger switch, or "
                   f"`tiers`=3 where the preset has it")
            raise ParameterError(msg)
        return {"tiers": 2, "spines": two_tier}
    if tiers != 3:
        msg = f"`tiers` must be 2 or 3, got {tiers}"
        raise ParameterError(msg)
    pod_leaves = pod_leaves or n_leaves
    spine_down = radix // 2
    per_pod = smallest_divisor_at_least(leaf_up, math.ceil(pod_leaves * leaf_up / spine_down))
    if per_pod is None:
        msg = (f"a pod of {pod_leaves} leaves x {leaf_up} uplinks does not fit {switch} spines "
               f"of {spine_down} down ports; use smaller scalable units or a larger switch")
        raise ParameterError(msg)
    spine_up = pod_leaves * leaf_up // per_pod          # non-blocking: up = down
    pods = math.ceil(n_leaves / pod_leaves)
    group = smallest_divisor_at_least(spine_up, math.ceil(pods * spine_up / top_ports))
    if group is None:
        msg = (f"three tiers cannot host {pods} pods: core switches of {top_ports} ports reach "
               f"at most {top_ports} pods of this size with a {switch}; use fewer GPUs or a "
               f"larger switch")
        raise ParameterError(msg)
    return {"tiers": 3, "pod_leaves": pod_leaves, "spines_per_pod": per_pod,
            "spine_up": spine_up, "pods": pods, "core_group": group}


def add_clos_plane(col, cat, groups, *, switch, port_gbps, medium, plane, prefix="", loc=None,
                   tiers=None, pod_leaves=None, leaf_down, leaf_up, radix=None, reserve_top=0,
                   copies=1):
    """Cable one plane of a Clos: ``groups[i]`` is the list of NIC names leaf ``i`` serves.

    Parameters
    ----------
    col : Collector
    cat : Catalog
    groups : list of (list, dict)
        Per leaf: the NICs it serves and extra node attributes for the leaf
        (``rail``, ``pod``...). A NIC is a name (one link at ``port_gbps``) or
        a ``(name, k)`` pair: an aggregated NIC node with ``k`` links to the leaf.
    switch : str
        Catalog key of the switch used at every tier.
    port_gbps : float
        Configured port speed (one NIC port per plane).
    medium : str
        ``"infiniband"`` or ``"ethernet"``.
    plane : int
    prefix : str
        Node-name prefix (``"s1-"`` inside a superfactory).
    loc : dict
        Location keys set on every switch (``site``).
    tiers : int or None
        2 or 3; None picks 2 when it fits, else 3.
    pod_leaves : int
        Leaves per pod for 3 tiers.
    leaf_down, leaf_up : int
        Ports per leaf toward NICs and toward spines.
    radix : int, optional
        Use only this many ports of each switch (a k-ary fat tree of k ports).
    reserve_top : int
        Ports of every top-tier switch to keep free (for WAN uplinks).
    copies : int
        Build one network standing for ``copies`` identical planes: every switch
        node is virtual (``chips`` = copies) and every edge carries ``copies``
        times the links; each NIC then has one edge carrying all its planes.

    Returns
    -------
    dict
        ``{"leaf": [...], "spine": [...], "core": [...], "tiers": int}``.

    Raises
    ------
    ParameterError
        When a group exceeds ``leaf_down``, or the radix cannot host the tiers.
    """
    loc = dict(loc or {})
    part = cat.part("switch", switch)
    physical = switch_radix(part, port_gbps)
    radix = physical if radix is None else min(radix, physical)
    col.note(_NOTE_CABLES)
    if leaf_down + leaf_up > radix:
        msg = (f"leaf ports {leaf_down} down + {leaf_up} up exceed the {radix} ports of a "
               f"{switch} at {port_gbps:g} Gb/s")
        raise ParameterError(msg)
    n_leaves = len(groups)
    base = {"part": switch, "ports": physical, "port_gbps": float(port_gbps), "plane": plane, **loc}
    if copies > 1:
        base.update(part="virtual", chips=int(copies), chips_part=switch,
                    ports=physical * int(copies))
    p = f"{prefix}p{plane}-"
    leaves = []
    attrs = _net_link(cat, medium, 1, port_gbps, NIC_LEAF_M, copies)
    for i, (nics, extra) in enumerate(groups):
        singles = [x for x in nics if isinstance(x, str)]
        multi = [x for x in nics if not isinstance(x, str)]
        used = len(singles) + sum(k for _, k in multi)
        if used > leaf_down:
            msg = f"leaf {i} would serve {used} NIC ports but has {leaf_down} down ports"
            raise ParameterError(msg)
        name = col.node(f"{p}leaf{i}", {"kind": "leaf", "tier": 1, **base, **extra})
        leaves.append(name)
        col.edges.extend(product(singles, (name,), (attrs,)))
        for nic, k in multi:
            col.edge(nic, name, _net_link(cat, medium, k, port_gbps, NIC_LEAF_M, copies))

    plan = plan_tiers(n_leaves, leaf_down=leaf_down, leaf_up=leaf_up, radix=radix,
                      reserve_top=reserve_top, tiers=tiers, pod_leaves=pod_leaves, switch=switch)
    if plan["tiers"] == 2:
        spines = [col.node(f"{p}spine{j}", {"kind": "spine", "tier": 2, **base})
                  for j in range(plan["spines"])]
        attrs = _net_link(cat, medium, leaf_up // plan["spines"], port_gbps, LEAF_SPINE_M,
                         copies)
        col.edges.extend(product(leaves, spines, (attrs,)))
        return {"leaf": leaves, "spine": spines, "core": [], "tiers": 2}
    pod_leaves, per_pod, spine_up, pods, group = (plan[k] for k in (
        "pod_leaves", "spines_per_pod", "spine_up", "pods", "core_group"))
    cores = [[col.node(f"{p}core{j * group + c}", {"kind": "core", "tier": 3, "rail": j, **base})
              for c in range(group)] for j in range(per_pod)]
    up_attrs = _net_link(cat, medium, leaf_up // per_pod, port_gbps, LEAF_SPINE_M, copies)
    core_attrs = _net_link(cat, medium, spine_up // group, port_gbps, SPINE_CORE_M, copies)
    spines = []
    for pod in range(pods):
        pod_spines = [col.node(f"{p}spine{pod * per_pod + j}",
                               {"kind": "spine", "tier": 2, "pod": pod, **base})
                      for j in range(per_pod)]
        spines.extend(pod_spines)
        for leaf in leaves[pod * pod_leaves:(pod + 1) * pod_leaves]:
            for spine in pod_spines:
                col.edge(leaf, spine, up_attrs)
        for j, spine in enumerate(pod_spines):
            for core in cores[j]:
                col.edge(spine, core, core_attrs)
    return {"leaf": leaves, "spine": spines, "core": [c for g in cores for c in g], "tiers": 3}
