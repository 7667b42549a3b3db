"""Scale-out presets: fat trees, DGX SuperPODs, Azure GB300, Spectrum-X, Fairwater, superfactories.

Every builder places NVLink domains (see :mod:`topologies.nvlink`) and cables
their NICs into a rail-optimized Clos per plane with
:func:`topologies.clos.add_clos_plane`. All accept ``gpus=N``, rounded up to
whole scalable units or racks with a note in ``G.graph["notes"]``.
"""

import math
from itertools import compress
from operator import itemgetter

from fabric.exceptions import ParameterError
from topologies._common import Collector, catalog_or_default, check_int, link
from topologies.clos import add_clos_plane, plan_tiers, switch_radix
from topologies.nvlink import nvlink_domain_maker
from topologies.registry import TOPOLOGIES, P, preset

__all__ = [
    "fat_tree_graph",
    "superpod_h100_graph",
    "superpod_b200_graph",
    "superpod_gb200_graph",
    "azure_gb300_graph",
    "spectrum_x_graph",
    "fairwater_graph",
    "superfactory_graph",
    "SITE_PRESETS",
]

_GPUS_PER_DOMAIN = {"dgx-h100": 8, "hgx-b200": 8, "gb200-nvl72": 72, "gb300-nvl72": 72,
                    "nvl36x2": 72}
_RACK_SYSTEMS = ("gb200-nvl72", "gb300-nvl72", "nvl36x2")


def _medium(cat, switch):
    return cat.part("switch", switch)["protocol"]


def _rails(system):
    return 18 if system in _RACK_SYSTEMS else 8


def _follow(aggregate_planes, aggregate_nvswitch):
    """``aggregate_planes`` as resolved: None follows ``aggregate_nvswitch``."""
    return bool(aggregate_nvswitch) if aggregate_planes is None else bool(aggregate_planes)


def _round_up_note(col, gpus, total, what):
    """Note that the requested ``gpus`` became ``total`` (``what`` says in which units)."""
    if gpus is not None and total != gpus:
        col.note(f"gpus={gpus:,} rounded up to {total:,} ({what})")


class _Site:
    """Lays out the domains of one site and cables its planes (private helper)."""

    def __init__(self, col, cat, *, prefix="", loc=None, first_domain=0, first_rack=0,
                 aggregate=False):
        self.col, self.cat = col, cat
        self.prefix, self.loc = prefix, dict(loc or {})
        self.next_domain, self.next_rack = first_domain, first_rack
        self.aggregate = aggregate
        self.domains = []

    def add_domains(self, system, count, *, nic=None, planes=1, gpu=None):
        """Add ``count`` identical domains of ``system`` (a DGX/HGX board design is checked
        once for all of them: :func:`topologies.nvlink.nvlink_domain_maker`)."""
        if count < 1:
            return self.domains
        make = nvlink_domain_maker(self.col, self.cat, system, aggregate=self.aggregate, nic=nic,
                                   planes=planes, gpu=gpu)
        for _ in range(count):
            parts = make(self.next_domain, rack=self.next_rack, prefix=self.prefix, loc=self.loc)
            self.domains.append(parts)
            self.next_domain += 1
            self.next_rack += 2 if system == "nvl36x2" else 1
        return self.domains

    def rail_groups(self, system, su_domains):
        """Leaf groups: per SU (chunk of domains), per rail, the NICs on that rail."""
        groups = []
        rails = _rails(system)
        for su, start in enumerate(range(0, len(self.domains), su_domains)):
            by_rail = [[] for _ in range(rails)]
            for d in self.domains[start:start + su_domains]:
                for nic, rail, ports in zip(d.nics, d.nic_rails, d.nic_ports):
                    by_rail[rail].append(nic if ports == 1 else (nic, ports))
            groups.extend((nics, {"rail": r, "pod": su}) for r, nics in enumerate(by_rail) if nics)
        return groups

    def cable(self, groups, *, planes, switch, port_gbps, tiers, pod_leaves, leaf_down, leaf_up,
              radix=None, reserve_top=0, aggregate_planes=None):
        """Cable every plane; ``aggregate_planes=None`` follows the site's ``aggregate``."""
        medium = _medium(self.cat, switch)
        out = []
        if _follow(aggregate_planes, self.aggregate) and planes > 1:
            self.col.note(f"planes aggregated: one network of virtual switches stands for the "
                          f"{planes} identical planes (same bandwidth and port budgets)")
            return [add_clos_plane(self.col, self.cat, groups, switch=switch, port_gbps=port_gbps,
                                   medium=medium, plane=0, prefix=self.prefix, loc=self.loc,
                                   tiers=tiers, pod_leaves=pod_leaves, leaf_down=leaf_down,
                                   leaf_up=leaf_up, radix=radix, reserve_top=reserve_top,
                                   copies=planes)]
        for plane in range(planes):
            out.append(add_clos_plane(self.col, self.cat, groups, switch=switch,
                                      port_gbps=port_gbps, medium=medium, plane=plane,
                                      prefix=self.prefix, loc=self.loc, tiers=tiers,
                                      pod_leaves=pod_leaves, leaf_down=leaf_down,
                                      leaf_up=leaf_up, radix=radix, reserve_top=reserve_top))
        return out


# Parameters several presets share (defaults come from each builder's signature).
_AGG = P("aggregated NVLink domains: each domain's switch chips, each host's CPUs and each "
         "tray's NICs become one virtual node (same bandwidth and ports)")
_AGG_PLANES = P("one network of virtual switches standing for the identical planes "
                "(default: follows aggregate_nvswitch)", type=bool)
_TIERS = P("2 or 3 switch tiers (default: 2 when it fits, else 3)", lo=2, hi=3, type=int)


def _ports_split(radix, oversubscription):
    """Leaf ports down and up for ``oversubscription`` (>= 1, checked by the registry)."""
    down = int(round(radix * oversubscription / (1 + oversubscription)))
    up = radix - down
    if up < 1:
        msg = f"`oversubscription` {oversubscription:g} leaves no uplink on a {radix}-port leaf"
        raise ParameterError(msg)
    return down, up


# --------------------------------------------------------------------------- fat tree
@preset("fat-tree",
        summary="k-ary fat tree of single-GPU hosts: k^3/4 hosts, 5k^2/4 switches (3 tiers)",
        family="scale-out",
        params={"k": P("switch ports used (even)", lo=2, hi=144),
                "tiers": P("2 or 3 tiers", lo=2, hi=3),
                "switch": P("catalog switch", choices=("QM9700", "Q3400", "SN5600")),
                "gpus": P("hosts to populate (rounded up to whole pods)", lo=1, hi=746_496,
                          type=int),
                "gpu": P("GPU of each host"),
                "nic": P("NIC of each host", choices=("cx7", "cx8", "bf3"))})
def fat_tree_graph(k=8, *, tiers=3, switch="QM9700", gpus=None, gpu="H100", nic="cx7",
                   catalog=None):
    """Return a k-ary fat tree of ``switch``: single-GPU hosts on k-port switches.

    Three tiers: ``k`` pods of ``k/2`` leaf and ``k/2`` spine switches and
    ``(k/2)^2`` core switches: ``k^3/4`` hosts and ``5k^2/4`` switches. Two
    tiers: ``k`` leaves and ``k/2`` spines: ``k^2/2`` hosts. Full bisection.

    Parameters
    ----------
    k
        Switch ports used (even, 2..the switch's radix at the NIC speed).
    tiers
        2 or 3.
    switch
        Catalog key of the switch; links run at the NIC's port speed.
    gpus
        Populate only enough pods (3 tiers) or leaves (2 tiers) for this many
        hosts, rounded up to whole pods/leaves.
    gpu, nic
        Catalog keys of each host's GPU and NIC.
    catalog

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When ``k`` is odd, below 2 or above the switch radix, or ``gpus`` exceeds the tree.

    Examples
    --------
    >>> G = fat_tree_graph(4)
    >>> sum(1 for _, k in G.nodes(data="kind") if k in ("leaf", "spine", "core"))
    20
    """
    cat = catalog_or_default(catalog)
    nic_part = cat.part("nic", nic)
    port = nic_part["port_gbps"]
    sw_part = cat.part("switch", switch)
    if str(int(port)) not in sw_part["port_modes"]:
        speeds = sorted({float(x) for x in sw_part["port_modes"]}, reverse=True)
        fits = [key for key in cat.keys("nic") if cat.part("nic", key)["port_gbps"] in speeds]
        msg = (f"`switch` {switch} has no {port:g} Gb/s ports for NIC `{nic}` (its speeds: "
               f"{', '.join(f'{x:g}G' for x in speeds)}); use `nic`={' or '.join(fits) or '?'} "
               f"or another switch")
        raise ParameterError(msg)
    radix = switch_radix(sw_part, port)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2 or k % 2 or k > radix:
        msg = (f"`k` must be even and between 2 and {radix} (the ports of a {switch} at "
               f"{port:g} Gb/s), got {k!r}")
        raise ParameterError(msg)
    half = k // 2
    full = k ** 3 // 4 if tiers == 3 else k * k // 2
    if gpus is None:
        gpus = full
    check_int("gpus", gpus, lo=1, hi=full, hint=f"a {tiers}-tier fat tree with k={k} holds {full:,}")
    block = half * half if tiers == 3 else half         # hosts per pod / per leaf
    hosts = math.ceil(gpus / block) * block
    col = Collector()
    _round_up_note(col, gpus, hosts, f"{hosts // block:,} {'pods' if tiers == 3 else 'leaves'}")
    gpu_part = cat.part("gpu", gpu)
    nics = []
    for h in range(hosts):
        p = f"h{h}-"
        host = col.node(f"{p}host", {"kind": "host", "part": "server-1gpu", "host": f"{p}host",
                                     "domain": h})
        cpu = col.node(f"{p}cpu", {"kind": "cpu", "part": "xeon-8480c", "host": host, "domain": h})
        g = col.node(f"{p}gpu", {"kind": "gpu", "part": gpu, "host": host, "domain": h, "rail": 0,
                                 "nvlink_links": int(gpu_part["nvlink_links"])})
        n = col.node(f"{p}nic", {"kind": "nic", "part": nic, "host": host, "domain": h, "rail": 0,
                                 "ports": 1, "port_gbps": float(port)})
        col.edge(host, cpu, link("pcie", 1, 504.0, length_m=0.2))
        col.edge(cpu, g, link("pcie", 1, gpu_part["host_link_gbps"], length_m=0.3))
        col.edge(g, n, link("pcie", 1, min(gpu_part["host_link_gbps"],
                                           nic_part["host_link_gbps"]), length_m=0.2))
        nics.append(n)
    groups = [(nics[i:i + half], {"pod": (i // half) // half if tiers == 3 else 0})
              for i in range(0, hosts, half)]
    add_clos_plane(col, cat, groups, switch=switch, port_gbps=port, medium=_medium(cat, switch),
                   plane=0, tiers=tiers, pod_leaves=half, leaf_down=half, leaf_up=half, radix=k)
    params = {"k": k, "tiers": tiers, "switch": switch, "gpus": gpus, "gpu": gpu, "nic": nic}
    return col.graph("fat_tree_graph", params, cat)


# --------------------------------------------------------------------------- SuperPODs
def _superpod(builder, system, sus, *, gpus, nodes_per_su, ufm, switch, aggregate, catalog,
              params, gpu=None, tiers=None):
    cat = catalog_or_default(catalog)
    per_node = _GPUS_PER_DOMAIN[system]
    slots = nodes_per_su
    if gpus is not None:
        nodes = math.ceil(gpus / per_node)
        sus = math.ceil((nodes + (1 if ufm else 0)) / slots)
    check_int("sus", sus, lo=1, hi=128)          # derived from `gpus`: check the result
    nodes = sus * slots - (1 if ufm else 0)
    col = Collector()
    _round_up_note(col, gpus, nodes * per_node,
                   f"{sus} scalable units of {slots} node slots"
                   f"{', one used by the UFM appliance' if ufm else ''}")
    nic = "cx7"
    port = cat.part("nic", nic)["port_gbps"]
    radix = switch_radix(cat.part("switch", switch), port)
    plan_tiers(sus * _rails(system), leaf_down=radix // 2, leaf_up=radix // 2, radix=radix,
               tiers=tiers, pod_leaves=_rails(system), switch=switch)
    site = _Site(col, cat, aggregate=aggregate)
    site.add_domains(system, nodes, nic=nic, gpu=gpu)
    groups = site.rail_groups(system, slots)
    if ufm:
        _add_ufm(col, cat, groups, sus)
    site.cable(groups, planes=1, switch=switch, port_gbps=port, tiers=tiers,
               pod_leaves=_rails(system), leaf_down=radix // 2, leaf_up=radix // 2)
    params = dict(params, sus=sus)
    return col.graph(builder, params, cat)


def _add_ufm(col, cat, groups, sus):
    """The UFM appliance takes the last node slot; 4 cables to rails 0-3 of the last SU."""
    col.note("the UFM appliance occupies one node slot and has 4 cables to leaves "
             "(DGX SuperPOD H100 reference: node-leaf cables = 8 x nodes + 4)")
    host = col.node("ufm-host", {"kind": "host", "part": "ufm-appliance", "host": "ufm-host"})
    cpu = col.node("ufm-cpu", {"kind": "cpu", "part": "xeon-8480c", "host": host})
    col.edge(host, cpu, link("pcie", 1, 504.0, length_m=0.2))
    last = [g for g in groups if g[1]["pod"] == sus - 1]
    for r in range(4):
        nic = col.node(f"ufm-nic{r}", {"kind": "nic", "part": "cx7", "host": host, "rail": r,
                                       "ports": 1, "port_gbps": 400.0})
        col.edge(cpu, nic, link("pcie", 1, 504.0, length_m=0.2))
        last[r][0].append(nic)


_SU_GPUS = P("GPUs (rounded up to whole SUs; overrides sus)", lo=1, hi=128 * 32 * 8, type=int)


@preset("superpod-h100",
        summary="DGX SuperPOD H100: SUs of 32 DGX H100 slots on QM9700 NDR, rail-optimized",
        family="scale-out",
        params={"sus": P("scalable units (1-4 published)", lo=1, hi=128), "gpus": _SU_GPUS,
                "gpu": P("GPU model", choices=("H100", "H200")), "aggregate_nvswitch": _AGG,
                "tiers": _TIERS})
def superpod_h100_graph(sus=1, *, gpus=None, aggregate_nvswitch=False, gpu="H100", tiers=None,
                        catalog=None):
    """Return a DGX SuperPOD H100 compute fabric: ``sus`` scalable units on QM9700 NDR.

    One SU has 32 node slots (one, in the whole POD, holds the UFM appliance),
    8 rails, one leaf per rail per SU (32 down, 32 up), spines sized by the
    two-tier rule of :mod:`topologies.clos`. Reproduces NVIDIA's table: 1 SU =
    31 nodes, 8 leaf, 4 spine, 252 node-leaf and 256 leaf-spine cables; 4 SUs
    = 127 nodes, 32 leaf, 16 spine.

    Parameters
    ----------
    sus
        Scalable units (1-4 is the published 2-tier range).
    gpus
        Alternative to ``sus``: rounded up to whole SUs.
    aggregate_nvswitch, gpu, tiers, catalog
        As for the NVLink builders; ``tiers`` None picks 2 when it fits.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> G = superpod_h100_graph(1)
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "leaf"), sum(1 for _, k in G.nodes(data="kind") if k == "spine")
    (8, 4)
    """
    return _superpod("superpod_h100_graph", "dgx-h100", sus, gpus=gpus, nodes_per_su=32, ufm=True,
                     switch="QM9700", aggregate=aggregate_nvswitch, catalog=catalog, gpu=gpu,
                     tiers=tiers, params={"gpus": gpus, "aggregate_nvswitch": aggregate_nvswitch,
                                          "gpu": gpu, "tiers": tiers})


@preset("superpod-b200",
        summary="DGX SuperPOD B200: SUs of 32 DGX B200 on QM9700, core tier from 16 SUs",
        family="scale-out",
        params={"sus": P("scalable units (2-64 published)", lo=1, hi=128), "gpus": _SU_GPUS,
                "aggregate_nvswitch": _AGG, "tiers": _TIERS})
def superpod_b200_graph(sus=2, *, gpus=None, aggregate_nvswitch=False, tiers=None, catalog=None):
    """Return a DGX SuperPOD B200 compute fabric: 32 DGX B200 per SU on QM9700.

    Two tiers up to 8 SUs; from 16 SUs a core tier (pods = SUs): 16 SUs = 128
    leaf, 128 spine, 64 core, as in NVIDIA's reference table.

    Parameters
    ----------
    sus
        Scalable units (the reference covers 2-64).
    gpus, aggregate_nvswitch, tiers, catalog
        As for :func:`superpod_h100_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> G = superpod_b200_graph(2)
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    512
    """
    return _superpod("superpod_b200_graph", "hgx-b200", sus, gpus=gpus, nodes_per_su=32,
                     ufm=False, switch="QM9700", aggregate=aggregate_nvswitch, catalog=catalog,
                     tiers=tiers, params={"gpus": gpus, "aggregate_nvswitch": aggregate_nvswitch,
                                          "tiers": tiers})


def _rack_fabric(builder, system, racks, *, gpus, nic, planes, switch, oversubscription, tiers,
                 aggregate, catalog, params, col=None, cat=None, prefix="", loc=None,
                 first_domain=0, first_rack=0, wan_reserve=0.0, aggregate_planes=None):
    """NVL72 racks (or DGX nodes) cabled into a rail-optimized Clos per plane."""
    cat = cat or catalog_or_default(catalog)
    per_domain = _GPUS_PER_DOMAIN[system]
    if gpus is not None:
        racks = math.ceil(gpus / per_domain)
    nic_part = cat.part("nic", nic)
    check_int("planes", planes, lo=1, hi=nic_part["max_planes"],
              hint=f"a {nic_part['name']} splits into at most {nic_part['max_planes']} planes")
    port = nic_part["max_gbps"] / planes
    radix = switch_radix(cat.part("switch", switch), port)
    down, up = _ports_split(radix, oversubscription)
    ports_per_rail = 4 if system in _RACK_SYSTEMS else 1     # NICs per rail per domain
    su = max(1, down // ports_per_rail)                       # domains per scalable unit
    # size the tiers before building anything, so an impossible request fails at once
    plan_tiers(math.ceil(racks / su) * _rails(system), leaf_down=down, leaf_up=up, radix=radix,
               reserve_top=int(radix * wan_reserve), tiers=tiers, pod_leaves=_rails(system),
               switch=switch)
    own = col is None
    col = col or Collector()
    _round_up_note(col, gpus, racks * per_domain,
                   f"{racks:,} {'racks' if system in _RACK_SYSTEMS else 'nodes'}")
    site = _Site(col, cat, prefix=prefix, loc=loc, first_domain=first_domain,
                 first_rack=first_rack, aggregate=aggregate)
    site.add_domains(system, racks, nic=nic, planes=planes)
    groups = site.rail_groups(system, su)
    if racks % su:
        col.note(f"the last scalable unit holds {racks % su} of {su} domains; its leaves keep "
                 f"all {up} uplinks (cabled for a full unit, as NVIDIA's reference designs are)")
    planes_out = site.cable(groups, planes=planes, switch=switch, port_gbps=port, tiers=tiers,
                            pod_leaves=_rails(system), leaf_down=down, leaf_up=up,
                            reserve_top=int(radix * wan_reserve),
                            aggregate_planes=aggregate_planes)
    if not own:
        return site, planes_out
    params = dict(params, racks=racks, gpus=gpus)
    return col.graph(builder, params, cat)


def _rack_params():
    return {"racks": P("NVL72 racks", lo=1, hi=20_000),
            "gpus": P("GPUs (rounded up to whole racks; overrides racks)", lo=1,
                      hi=20_000 * 72, type=int, below=">= 1"),
            "aggregate_nvswitch": _AGG, "tiers": _TIERS}


@preset("superpod-gb200",
        summary="DGX SuperPOD GB200: NVL72 racks, SU = 8 racks, CX-7 400G per GPU, QM9700",
        family="scale-out", params=_rack_params())
def superpod_gb200_graph(racks=16, *, gpus=None, aggregate_nvswitch=False, tiers=None,
                         catalog=None, into=None):
    """Return a DGX SuperPOD GB200: NVL72 racks, one ConnectX-7 400G per GPU, QM9700 fat tree.

    A scalable unit is 8 racks (576 GPUs): one leaf per compute-tray position
    (18 rails) serving that tray's 4 NICs in each of the SU's 8 racks (32 down,
    32 up). Per-SU leaf and spine counts are not published; they follow from
    the rules of :mod:`topologies.clos` (derived).

    Parameters
    ----------
    racks
        NVL72 racks.
    gpus, aggregate_nvswitch, tiers, catalog
        As for :func:`superpod_h100_graph` (``gpus`` rounds up to whole racks).
    into
        Internal: build into a superfactory's collector (a dict of placement keywords of
        ``_rack_fabric``) and return the site's layout instead of a graph.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> G = superpod_gb200_graph(8)
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "leaf")
    18
    """
    return _rack_fabric("superpod_gb200_graph", "gb200-nvl72", racks, gpus=gpus, nic="cx7",
                        planes=1, switch="QM9700", oversubscription=1.0, tiers=tiers,
                        aggregate=aggregate_nvswitch, catalog=catalog,
                        params={"aggregate_nvswitch": aggregate_nvswitch, "tiers": tiers},
                        **(into or {}))


@preset("azure-gb300",
        summary="Azure GB300 cluster: 64 GB300 NVL72 racks (4,608 GPUs), Q3400 XDR, "
                "800G per GPU",
        family="scale-out", params=_rack_params())
def azure_gb300_graph(racks=64, *, gpus=None, aggregate_nvswitch=False, tiers=None,
                      catalog=None, into=None):
    """Return Azure's GB300 cluster: 64 NVL72 racks (4,608 GPUs) on Quantum-X800 Q3400.

    ConnectX-8 at 800 Gb/s per GPU, non-blocking fat tree (72 down, 72 up per
    leaf; one leaf per tray position per 18 racks). Switch counts are derived,
    not published.

    Parameters
    ----------
    racks, gpus, aggregate_nvswitch, tiers, catalog, into
        As for :func:`superpod_gb200_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> G = azure_gb300_graph(4)
    >>> G.nodes["d0-nic0"]["port_gbps"]
    800.0
    """
    return _rack_fabric("azure_gb300_graph", "gb300-nvl72", racks, gpus=gpus, nic="cx8",
                        planes=1, switch="Q3400", oversubscription=1.0, tiers=tiers,
                        aggregate=aggregate_nvswitch, catalog=catalog,
                        params={"aggregate_nvswitch": aggregate_nvswitch, "tiers": tiers},
                        **(into or {}))


@preset("spectrum-x",
        summary="Spectrum-X Ethernet, SN5600 + CX-8 SuperNICs, rail-optimized, multi-plane "
                "(default: DGX B300 twin-planar)",
        family="scale-out",
        params={"sus": P("scalable units", lo=1, hi=1024),
                "gpus": P("GPUs (rounded up to whole nodes/racks; overrides sus)", lo=1,
                          hi=1_000_000, type=int),
                "system": P("hgx-b200 (as DGX B300), gb300-nvl72 or gb200-nvl72",
                            choices=("hgx-b200", "gb300-nvl72", "gb200-nvl72")),
                "planes": P("planes per NIC (800G / planes per port)", lo=1, hi=8),
                "oversubscription": P("leaf down:up bandwidth (>= 1)", lo=1.0, hi=64.0,
                                      below=">= 1 (down:up bandwidth at the leaf)",
                                      hint="use 1 for a non-blocking fabric"),
                "tiers": _TIERS, "aggregate_nvswitch": _AGG, "aggregate_planes": _AGG_PLANES})
def spectrum_x_graph(sus=1, *, gpus=None, system="hgx-b200", planes=2, oversubscription=1.0,
                     tiers=None, aggregate_nvswitch=False, aggregate_planes=None, catalog=None):
    """Return a Spectrum-X Ethernet fabric on SN5600 with ConnectX-8 SuperNICs, multi-plane.

    The default is the DGX SuperPOD B300 twin-planar design: each GPU has
    2 x 400GbE into 2 planes; one SU = 64 nodes / 512 GPUs with 16 leaf and
    8 spine (4 SUs: 64/32; 16 SUs: 256/128).

    Parameters
    ----------
    sus
        Scalable units (one SU = as many nodes or racks as a leaf has down ports per rail).
    gpus
        Alternative to ``sus``, rounded up to whole nodes/racks.
    system
        ``hgx-b200`` (with B300 GPUs, a DGX B300) or ``gb300-nvl72``/``gb200-nvl72``.
    planes
        Planes per NIC (the ConnectX-8's 800G split into planes x 800/planes G).
    oversubscription
        Leaf down:up bandwidth ratio (>= 1).
    tiers, aggregate_nvswitch, catalog
        As for :func:`superpod_h100_graph`.
    aggregate_planes
        As for :func:`fairwater_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        Oversubscription below 1, more planes than the NIC supports, a plane
        speed the SN5600 has no port mode for, or a size the tiers cannot hold.

    Examples
    --------
    >>> G = spectrum_x_graph(1)
    >>> [sum(1 for _, k in G.nodes(data="kind") if k == t) for t in ("gpu", "leaf", "spine")]
    [512, 16, 8]
    """
    cat = catalog_or_default(catalog)
    nic = "cx8"
    nic_part = cat.part("nic", nic)
    if planes > nic_part["max_planes"]:
        msg = (f"`planes` must be between 1 and {nic_part['max_planes']} (a ConnectX-8 splits "
               f"its 800G into at most {nic_part['max_planes']} planes), got {planes}")
        raise ParameterError(msg)
    port = nic_part["max_gbps"] / planes
    radix = switch_radix(cat.part("switch", "SN5600"), port)
    down, _ = _ports_split(radix, oversubscription)
    per_domain = _GPUS_PER_DOMAIN[system]
    su_domains = max(1, down // (4 if system in _RACK_SYSTEMS else 1))
    if gpus is None:
        domains = sus * su_domains
    else:
        domains = math.ceil(gpus / per_domain)
    gpu = "B300" if system == "hgx-b200" else None
    params = {"sus": sus if gpus is None else None, "gpus": gpus, "system": system,
              "planes": planes, "oversubscription": oversubscription, "tiers": tiers,
              "aggregate_nvswitch": aggregate_nvswitch,
              "aggregate_planes": _follow(aggregate_planes, aggregate_nvswitch)}
    col = Collector()
    _round_up_note(col, gpus, domains * per_domain, f"{domains:,} domains")
    down, up = _ports_split(radix, oversubscription)
    plan_tiers(math.ceil(domains / su_domains) * _rails(system), leaf_down=down, leaf_up=up,
               radix=radix, tiers=tiers, pod_leaves=_rails(system), switch="SN5600")
    site = _Site(col, cat, aggregate=aggregate_nvswitch)
    site.add_domains(system, domains, nic=nic, planes=planes, gpu=gpu)
    groups = site.rail_groups(system, su_domains)
    site.cable(groups, planes=planes, switch="SN5600", port_gbps=port, tiers=tiers,
               pod_leaves=_rails(system), leaf_down=down, leaf_up=up,
               aggregate_planes=aggregate_planes)
    return col.graph("spectrum_x_graph", params, cat)


@preset("fairwater",
        summary="Fairwater-class site: NVL72 racks, two-tier multi-plane Ethernet, 800G per GPU",
        family="scale-out",
        params={"gpus": P("GPUs (rounded up to whole racks); the builder refuses more than "
                          "two tiers hold: at most 129,024 (1,792 racks) with the default "
                          "SN6810 and 8 planes, fewer with SN5600 or fewer planes",
                          lo=1, hi=1_000_000),
                "system": P("rack type", choices=("gb300-nvl72", "gb200-nvl72")),
                "planes": P("planes per 800G NIC (8 = 8 x 100G)", lo=1, hi=8),
                "switch": P("Ethernet switch", choices=("SN6810", "SN5600")),
                "aggregate_nvswitch": _AGG, "aggregate_planes": _AGG_PLANES})
def fairwater_graph(gpus=9216, *, system="gb300-nvl72", planes=8, switch="SN6810",
                    aggregate_nvswitch=False, aggregate_planes=None, catalog=None, into=None):
    """Return one Fairwater-class site: NVL72 racks on a two-tier multi-plane Ethernet backend.

    800 Gb/s per GPU (a ConnectX-8 split into ``planes`` planes of 800/planes
    Gb/s), each plane a separate two-tier rail-optimized Clos. Microsoft has not
    published pod size, planes or switch models: the defaults (8 x 100G planes
    as in OCP MRC, a 512-port-at-100G Spectrum-6 switch) are the design that
    reaches 100,000+ GPUs in two tiers (at most 131,072 per plane).

    Parameters
    ----------
    gpus
        GPUs, rounded up to whole racks.
    system
        ``gb300-nvl72`` or ``gb200-nvl72``.
    planes
        Planes per NIC (1, 2, 4 or 8).
    switch
        Catalog key of the Ethernet switch (``SN6810`` or ``SN5600``).
    aggregate_nvswitch
        Build the aggregated form of each rack (see :mod:`topologies.nvlink`):
        its 18 NVLink switch chips, each tray's 2 CPUs and each tray's 4 NICs
        become one virtual node each. At 100,000 GPUs: 8x fewer edges and 5x less
        graph memory (``bench/build.py`` measures it).
    aggregate_planes
        Build one network of virtual switches standing for the identical
        planes (same bandwidth, port budgets and bisection). None (default)
        follows ``aggregate_nvswitch``.
    catalog, into
        As for :func:`superpod_gb200_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When two tiers cannot hold ``gpus`` with this switch and plane split.

    Examples
    --------
    >>> G = fairwater_graph(576, planes=2)
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    576
    """
    params = {"gpus": gpus, "system": system, "planes": planes, "switch": switch,
              "aggregate_nvswitch": aggregate_nvswitch,
              "aggregate_planes": _follow(aggregate_planes, aggregate_nvswitch)}
    return _rack_fabric("fairwater_graph", system, None, gpus=gpus, nic="cx8", planes=planes,
                        switch=switch, oversubscription=1.0, tiers=2,
                        aggregate=aggregate_nvswitch, catalog=catalog, params=params,
                        aggregate_planes=aggregate_planes, **(into or {}))


SITE_PRESETS = ("fairwater", "azure-gb300", "superpod-gb200")
WAN_RESERVE = 0.125
"""Share of each top-tier switch's ports a superfactory site keeps free for WAN uplinks
(a design choice of ours: sites' WAN attachment is not published)."""


@preset("superfactory",
        summary="several sites joined by a WAN (default: 2 Fairwater-class sites, "
                "Wisconsin-Atlanta distance)",
        family="superfactory",
        params={"sites": P("number of sites", lo=1, hi=16),
                "site": P("preset of each site", choices=SITE_PRESETS),
                "site_gpus": P("GPUs per site (rounded up to whole racks)", lo=1, hi=1_000_000),
                "distance_km": P("great-circle distance between sites, km", lo=0, hi=40_000,
                                 below="a finite number >= 0"),
                "route_factor": P("fiber route / great-circle distance (default: catalog "
                                  "wan.fiber.route_factor)", lo=1, type=float,
                                  hint="fiber is never shorter than the great circle"),
                "wan_gbps": P("WAN capacity per site pair, Gb/s per direction (estimate; "
                              "rounded up to whole 400ZR links)", lo=400.0, hi=1e8),
                "planes": P("planes per NIC at each site", lo=1, hi=8),
                "aggregate_nvswitch": _AGG, "aggregate_planes": _AGG_PLANES})
def superfactory_graph(sites=2, *, site="fairwater", site_gpus=9216, distance_km=1043.0,
                       route_factor=None, wan_gbps=102400.0, planes=8,
                       aggregate_nvswitch=False, aggregate_planes=None, catalog=None,
                       site_specs=None):
    """Return several sites joined by a WAN: the default is two Fairwater-class sites.

    Each site is a full scale-out fabric (``site`` preset); its top-tier
    switches have uplinks to a site WAN router group (kind ``wan``, one node
    standing for the SN5600s needed at 400G), and every pair of sites is joined
    by ``wan_gbps`` of 400ZR coherent links whose latency is the fiber delay,
    4.9 us/km x ``distance_km`` x ``route_factor``. Each site keeps
    :data:`WAN_RESERVE` (1/8) of its top-tier switch ports free for the WAN
    uplinks when sizing its spines (our design choice; not published).

    Parameters
    ----------
    sites
        Number of sites (>= 1).
    site
        Preset of every site: ``fairwater``, ``azure-gb300`` or ``superpod-gb200``.
    site_gpus
        GPUs per site (rounded up to whole racks).
    distance_km
        Great-circle distance between sites (default: Wisconsin-Atlanta, 1,043 km).
    route_factor
        Fiber route length over great-circle distance (default: the catalog's, 1.3, estimate).
    wan_gbps
        WAN capacity between each pair of sites, Gb/s per direction (default
        102,400 = 256 x 400ZR, an estimate: AI WAN capacities are not published).
    planes, aggregate_nvswitch, aggregate_planes, catalog
        Passed to each site.
    site_specs
        Optional list of ``{"preset": name, **params}`` dicts, one per site,
        overriding ``sites``/``site``/``site_gpus`` (from a spec file). A site
        takes any parameter of its preset (see ``fabric presets``); what it
        leaves out is ``gpus=site_gpus`` (unless it gives ``racks``), this
        call's ``aggregate_nvswitch`` and, where the preset has them, ``planes``
        and ``aggregate_planes``, then the preset's own defaults.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        Negative distance, route factor below 1, non-positive WAN capacity,
        or top-tier switches without free ports for the WAN uplinks.

    Examples
    --------
    >>> G = superfactory_graph(2, site_gpus=576, planes=2)
    >>> sorted({d["site"] for _, d in G.nodes(data=True) if d["kind"] == "gpu"})
    [0, 1]
    """
    cat = catalog_or_default(catalog)
    fiber = cat.part("wan", "fiber")
    if route_factor is None:
        route_factor = float(fiber["route_factor"])
    if not route_factor >= 1:              # the catalog's value (the parameter is checked)
        msg = f"`route_factor` must be >= 1 (fiber is never shorter than the great circle), got {route_factor:g}"
        raise ParameterError(msg)
    if site_specs is None:
        site_specs = [{"preset": site, "gpus": site_gpus} for _ in range(sites)]
    # each site: its preset's registered builder and the checked keywords it gets
    builds = [_site_call(i, spec, site_gpus=site_gpus, planes=planes,
                         aggregate_nvswitch=aggregate_nvswitch)
              for i, spec in enumerate(site_specs)]
    col = Collector()
    tops = []
    # Cross-site routes pair plane p with plane p (or any plane of a 1-plane site), so one
    # network of virtual switches is equivalent only when every site has the same planes.
    site_planes = [kw.get("planes", 1) for _, kw in builds]
    mixed = len(set(map(repr, site_planes))) > 1
    if mixed:
        asked = [aggregate_planes, *(spec.get("aggregate_planes") for spec in site_specs)]
        if any(a is True for a in asked):
            msg = (f"`aggregate_planes` needs every site to have the same number of planes, got "
                   f"{', '.join(map(str, site_planes))}; use aggregate_planes=false")
            raise ParameterError(msg)
        if aggregate_nvswitch or any(spec.get("aggregate_nvswitch") for spec in site_specs):
            col.note("sites have different plane counts, so their planes are kept separate "
                     "(aggregate_planes=false): one virtual plane would change cross-site routes")
        aggregate_planes = False
    domain = rack = 0
    for i, (site_preset, kw) in enumerate(builds):
        if any(p.name == "aggregate_planes" for p in site_preset.params):
            kw["aggregate_planes"] = False if mixed else kw.get("aggregate_planes",
                                                                aggregate_planes)
        else:
            col.note(f"site {i} ({site_preset.name}): `planes` and `aggregate_planes` apply to "
                     f"fairwater sites only; this site has one plane")
        into = dict(col=col, cat=cat, prefix=f"s{i}-", loc={"site": i}, first_domain=domain,
                    first_rack=rack, wan_reserve=WAN_RESERVE)
        first_node, first_edge = len(col.nodes), len(col.edges)
        s, planes_out = site_preset.builder(**kw, into=into)
        domain, rack = s.next_domain, s.next_rack
        tops.append((planes_out, slice(first_node, len(col.nodes)),
                     slice(first_edge, len(col.edges))))
    _add_wan(col, cat, tops, distance_km=distance_km, route_factor=route_factor,
             wan_gbps=wan_gbps, pairs=len(site_specs) - 1)
    params = {"sites": len(site_specs), "site": site, "site_gpus": site_gpus,
              "distance_km": distance_km, "route_factor": route_factor, "wan_gbps": wan_gbps,
              "planes": planes, "aggregate_nvswitch": aggregate_nvswitch,
              "aggregate_planes": _follow(aggregate_planes, aggregate_nvswitch), "site_specs": [dict(s) for s in site_specs] if site_specs else None}
    return col.graph("superfactory_graph", params, cat)


def _site_call(i, spec, *, site_gpus, planes, aggregate_nvswitch):
    """``(Preset, keywords)`` for site ``i``: ``spec`` (``{"preset": name, **params}``) checked
    by the site preset's own parameters, what it leaves out from the superfactory's."""
    spec = dict(spec)
    name = spec.pop("preset", "fairwater")
    if name not in SITE_PRESETS:
        msg = f"`site {i} preset` must be one of {', '.join(SITE_PRESETS)}, got {name!r}"
        raise ParameterError(msg)
    site = TOPOLOGIES[name]
    try:
        kw = {key: site.param(key).check(value) for key, value in spec.items()}
    except ParameterError as exc:
        msg = f"site {i} ({name}): {exc}"
        raise ParameterError(msg) from None
    if "racks" not in kw:
        kw.setdefault("gpus", site_gpus)
    kw.setdefault("aggregate_nvswitch", aggregate_nvswitch)
    if any(p.name == "planes" for p in site.params):
        kw.setdefault("planes", planes)
    return site, kw


def _add_wan(col, cat, tops, *, distance_km, route_factor, wan_gbps, pairs):
    """One WAN router group per site, uplinked from the site's top tier; full mesh of sites.

    ``tops`` holds, per site, the planes :func:`add_clos_plane` returned and the slices of
    ``col.nodes`` and ``col.edges`` the site added."""
    router = cat.part("switch", "SN5600")
    zr = cat.part("cable", "zr-400g")
    zr_rate = float(zr["rate_gbps"])
    col.note(f"WAN: each site's top-tier switches uplink to one router group (SN5600s); "
             f"sites joined pairwise by {wan_gbps:,.0f} Gb/s of 400ZR; latency 4.9 us/km x "
             f"{distance_km:g} km x route factor {route_factor:g}; WAN capacity is an estimate")
    routers = []
    wan_links = math.ceil(wan_gbps / zr_rate) if len(tops) > 1 else 0
    for i, (planes_out, node_span, edge_span) in enumerate(tops):
        top = [n for plane in planes_out for n in (plane["core"] or plane["spine"])]
        top_set = set(top)
        site_nodes = col.nodes[node_span]
        top_attrs = dict(compress(site_nodes, map(top_set.__contains__,
                                                  map(itemgetter(0), site_nodes))))
        del site_nodes
        top_rate = top_attrs[top[0]]["port_gbps"]
        router_port = max(400.0, top_rate)         # SN5600 at 400G, or 800G for 800G spines
        router_radix = switch_radix(router, router_port)
        total_wan = wan_gbps * max(pairs, 1)
        # uplinks per physical top-tier switch (a virtual node of aggregated planes stands
        # for `chips` switches and gets that many times the uplinks)
        chips_of = {n: int(top_attrs[n].get("chips", 1)) for n in top}
        physical = sum(chips_of.values())
        per_top = max(1, math.ceil(total_wan / (physical * top_rate)))
        used = _used_ports(col.edges[edge_span], top_set)
        free = min((top_attrs[n]["ports"] - used.get(n, 0)) // chips_of[n] for n in top)
        if per_top > free:
            msg = (f"site {i}: top-tier switches have {free} free ports but the WAN needs "
                   f"{per_top} uplinks each for {wan_gbps:,.0f} Gb/s; lower `wan_gbps` or the "
                   f"site's GPUs")
            raise ParameterError(msg)
        ports = physical * per_top + wan_links * pairs
        chips = math.ceil(ports / router_radix)
        name = col.node(f"s{i}-wan", {"kind": "wan", "part": "virtual", "chips": chips,
                                      "chips_part": "SN5600", "ports": chips * router_radix,
                                      "port_gbps": router_port, "tier": 4, "site": i})
        for n in top:
            col.edge(n, name, link("ethernet", per_top * chips_of[n], top_rate, length_m=300.0,
                                   cable="osfp-800g-2fr4", ns_per_m=4.9))
        routers.append(name)
    if wan_links and wan_links * zr_rate != wan_gbps:
        col.note(f"wan_gbps={wan_gbps:,.0f} rounded up to {wan_links * zr_rate:,.0f} Gb/s "
                 f"({wan_links} x 400ZR links) per site pair")
    km = distance_km * route_factor
    for a in range(len(routers)):
        for b in range(a + 1, len(routers)):
            col.edge(routers[a], routers[b],
                     {"medium": "wan", "links": wan_links, "bandwidth_gbps": wan_links * zr_rate,
                      "latency_ns": float(round(km * 4900.0, 1)), "length_m": float(km * 1000.0),
                      "cable": "zr-400g"})


def _used_ports(edges, names):
    """``{node: links}``: the links ``edges`` (a builder's ``(u, v, attrs)`` list) have at
    each of the nodes ``names`` (a set); the edges are selected at C speed."""
    used = dict.fromkeys(names, 0)
    for end in (0, 1):
        for e in compress(edges, map(names.__contains__, map(itemgetter(end), edges))):
            used[e[end]] += e[2]["links"]
    return used
