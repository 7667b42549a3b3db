"""NVLink-domain builders: DGX H100, HGX B200, GB200/GB300 NVL72 and NVL36x2.

Each builder returns a validated fabric graph of one NVLink domain with its
hosts, CPUs, GPUs, NVLink switch chips and per-GPU scale-out NICs (the NICs
are not cabled to a network here; the scale-out builders do that).

Node names are ``d<domain>-<kind><index>`` (``d0-gpu17``, ``d0-nvsw3``,
``d0-host4``, ``d0-cpu8``, ``d0-nic17``), prefixed by ``s<site>-`` inside a
multi-site fabric. GPUs are inserted in topology order (host by host), which
is the default rank order of the collective engine.

Modelling choices, stated once (also recorded in ``G.graph["notes"]``):

* a NIC hangs off its GPU by a ``pcie`` edge (the GPUDirect RDMA path through
  the shared PCIe switch); the host's CPUs hang off the host node by
  ``pcie`` edges, which carry no collective traffic.
* in an NVL72 rack the rail of a GPU and of its NIC is its compute tray: the
  scale-out builders cable a tray position's NICs to one leaf per rail.
* ``aggregate=True`` builds the aggregated form of a domain for very large
  fabrics. Identical parallel parts become one virtual node (``part`` is
  ``"virtual"``, ``chips`` says how many parts it stands for, ``chips_part``
  names them). That covers the domain's NVLink switch chips, a host's CPUs and,
  in a rack, a compute tray's NICs, which all sit on the same rail. Per-GPU
  bandwidths, port totals and the part counts of the bill of materials do not
  change. A GPU's ``pcie`` edge to its tray's NIC node is capped at its own
  NIC's network rate, so one GPU cannot borrow a neighbour's ports. What is
  lost is which chip, CPU or NIC a link uses, and with it per-chip failures.
* NVLink cable lengths (board traces, the NVL72 copper spine) are estimates
  (0.3 m in a DGX/HGX, 1 m in an NVL72 rack, 3 m between NVL36x2 racks).
"""

from dataclasses import dataclass, field
from itertools import product

from fabric.exceptions import ParameterError
from topologies._common import Collector, catalog_or_default, check_int, link
from topologies.registry import P, preset

__all__ = [
    "dgx_h100_graph",
    "hgx_b200_graph",
    "gb200_nvl72_graph",
    "gb300_nvl72_graph",
    "nvl36x2_graph",
    "NVLINK_SYSTEMS",
]

NVLINK_SYSTEMS = ("dgx-h100", "hgx-b200", "gb200-nvl72", "gb300-nvl72", "nvl36x2")
"""Names of the NVLink-domain systems the scale-out builders can use as units."""

_NOTE_PCIE = ("NICs attach to their GPU by a pcie edge (GPUDirect path); host-CPU pcie "
              "edges carry no collective traffic")
_NOTE_AGG = ("aggregated form: virtual nodes (part 'virtual', `chips`) stand for a domain's "
             "NVLink switch chips, a host's CPUs and a tray's NICs; bandwidths, budgets and "
             "part counts are unchanged, but failures and ECMP path counts refer to the "
             "virtual nodes")
_NOTE_LEN = ("NVLink edge lengths are estimates (0.3 m on a baseboard, 1 m in an NVL72 "
             "copper spine, 3 m between NVL36x2 racks); latency_ns = 4.5 ns/m x length")


@dataclass
class DomainParts:
    """What one NVLink domain added to a Collector (names in topology order)."""

    gpus: list = field(default_factory=list)
    nics: list = field(default_factory=list)
    hosts: list = field(default_factory=list)
    switches: list = field(default_factory=list)
    nic_rails: list = field(default_factory=list)    # per entry of ``nics``: its rail
    nic_ports: list = field(default_factory=list)    # per entry of ``nics``: ports per plane

    def add_nic(self, name, rail, ports=1):
        self.nics.append(name)
        self.nic_rails.append(rail)
        self.nic_ports.append(ports)


def _nic_config(cat, nic, planes):
    part = cat.part("nic", nic)
    max_planes = part["max_planes"]
    if planes < 1 or planes > max_planes:
        msg = (f"`planes` must be between 1 and {max_planes} for NIC `{nic}` "
               f"({part['name']}), got {planes}")
        raise ParameterError(msg)
    return part, part["max_gbps"] / planes


def add_nvlink_domain(col, cat, system, *, domain, prefix="", loc=None, aggregate=False,
                      nic=None, planes=1, gpu=None, trays=None, link_split=None,
                      links_per_chip=None, rack=None):
    """Add one NVLink domain of ``system`` to ``col`` and return its :class:`DomainParts`.

    ``loc`` holds location keys (site, pod, ...) set on every node. ``rack``
    is the global rack number of the domain (NVL36x2 uses ``rack`` and
    ``rack + 1``). Parameters left as None take the published design.
    (:func:`nvlink_domain_maker` with these parameters, called once.)
    """
    make = nvlink_domain_maker(col, cat, system, aggregate=aggregate, nic=nic, planes=planes,
                               gpu=gpu, trays=trays, link_split=link_split,
                               links_per_chip=links_per_chip)
    return make(domain, prefix=prefix, loc=loc, rack=rack)


def nvlink_domain_maker(col, cat, system, *, aggregate=False, nic=None, planes=1, gpu=None,
                        trays=None, link_split=None, links_per_chip=None):
    """Check the design of an NVLink domain of ``system`` once and return
    ``make(domain, *, prefix="", loc=None, rack=None)``, which adds one such domain to
    ``col`` and returns its :class:`DomainParts` (as :func:`add_nvlink_domain` does).

    For DGX/HGX baseboards (``dgx-h100``, ``hgx-b200``) a site of thousands of identical
    domains resolves its catalog parts, checks its parameters and makes its shared link
    dicts once, not once a domain; NVL72 and NVL36x2 racks still resolve them per rack.
    """
    col.note(_NOTE_PCIE)
    col.note(_NOTE_LEN)
    if aggregate:
        col.note(_NOTE_AGG)
    if system == "dgx-h100":
        board = _board_plan(cat, aggregate, gpu or "H100", "nvswitch3",
                            [int(x) for x in (link_split or (5, 4, 4, 5))], nic or "cx7", planes,
                            "dgx-h100", "xeon-8480c", "link_split")
    elif system == "hgx-b200":
        per = 9 if links_per_chip is None else links_per_chip
        board = _board_plan(cat, aggregate, gpu or "B200", "nvlink5-switch", [per, per],
                            nic or "cx7", planes, "hgx-b200", "xeon-8570", "links_per_chip")
    elif system in ("gb200-nvl72", "gb300-nvl72", "nvl36x2"):
        board = None
    else:
        msg = f"`system` must be one of {', '.join(NVLINK_SYSTEMS)}, got {system!r}"
        raise ParameterError(msg)

    def make(domain, *, prefix="", loc=None, rack=None):
        loc = dict(loc or {})
        p = f"{prefix}d{domain}-"
        rack = domain if rack is None else rack
        if board is not None:
            return _baseboard(col, board, p, domain, rack, loc)
        if system == "nvl36x2":
            return _nvl36x2(col, cat, p, domain, rack, loc, aggregate, gpu or "GB200",
                            nic or "cx7", planes, 9 if trays is None else trays)
        gb = "GB200" if system == "gb200-nvl72" else "GB300"
        default_nic = "cx7" if gb == "GB200" else "cx8"
        return _nvl72(col, cat, p, domain, rack, loc, aggregate, gpu or gb, nic or default_nic,
                      planes, 18 if trays is None else trays, system)

    return make


_BOARD_GPUS = 8          # GPUs of a DGX/HGX baseboard
_BOARD_CPUS = 2          # its host's CPUs (GPUs 0-3 on the first, 4-7 on the second)
_TRAY_GPUS = 4           # GPUs of an NVL72/NVL36x2 compute tray
_TRAY_CPUS = 2           # its Grace CPUs (GPUs 0-1 on the first, 2-3 on the second)


def _part_keys(part, chips=None):
    """The ``part`` keys of a node: the catalog part itself, or (``chips`` given, the
    aggregated form) a virtual node standing for ``chips`` of them."""
    if chips is None:
        return {"part": part}
    return {"part": "virtual", "chips": chips, "chips_part": part}


# Node attribute dicts, one function a kind, shared by the baseboard and the rack builders
# (a rack appends its nodes to the collector's lists directly: 72 GPUs, 14k racks in a
# million-GPU build). Key order is part of the written file: keep it.
def _host_attrs(host, part, rack, domain, loc):
    return {"kind": "host", "part": part, "host": host, "rack": rack, "domain": domain, **loc}


def _cpu_attrs(cpu_part, host, rack, domain, loc, chips=None):
    return {"kind": "cpu", **_part_keys(cpu_part, chips), "host": host, "rack": rack,
            "domain": domain, **loc}


def _gpu_attrs(gpu_key, nvlink_links, host, rack, domain, rail, loc):
    return {"kind": "gpu", "part": gpu_key, "host": host, "rack": rack, "domain": domain,
            "rail": rail, "nvlink_links": nvlink_links, **loc}


def _nic_attrs(nic, ports, port_gbps, host, rack, domain, rail, loc, chips=None):
    return {"kind": "nic", **_part_keys(nic, chips), "host": host, "rack": rack,
            "domain": domain, "rail": rail, "ports": ports, "port_gbps": port_gbps, **loc}


def _host(col, p, h, part, loc, rack, domain, n_cpus, cpu_part, cpu_pcie, aggregate=False):
    """A host node and its ``n_cpus`` CPUs (``cpu_pcie`` Gb/s each to the host); returns
    ``(host, names)`` with one CPU name per CPU (all the same virtual node when
    ``aggregate``)."""
    host = col.node(f"{p}host{h}", _host_attrs(f"{p}host{h}", part, rack, domain, loc))
    if aggregate and n_cpus > 1:
        name = col.node(f"{p}cpus{h}", _cpu_attrs(cpu_part, host, rack, domain, loc, n_cpus))
        col.edge(host, name, link("pcie", n_cpus, cpu_pcie, length_m=0.2))
        return host, [name] * n_cpus
    attrs = link("pcie", 1, cpu_pcie, length_m=0.2)
    names = []
    for c in range(h * n_cpus, (h + 1) * n_cpus):
        name = col.node(f"{p}cpu{c}", _cpu_attrs(cpu_part, host, rack, domain, loc))
        col.edge(host, name, attrs)
        names.append(name)
    return host, names


def _switch_chip(col, p, s, chip, chip_part, rack, domain, loc, aggregate_chips=0):
    attrs = {"kind": "nvswitch", "part": chip, "rack": rack, "domain": domain, "tier": 0,
             "ports": int(chip_part["ports"]) * max(1, aggregate_chips),
             "port_gbps": float(chip_part["port_gbps"]), **loc}
    if aggregate_chips:
        attrs.update(part="virtual", chips=int(aggregate_chips), chips_part=chip)
        return col.node(f"{p}nvsw", attrs) if s is None else col.node(f"{p}nvsw{s}", attrs)
    attrs["switch_tray"] = s // 2
    return col.node(f"{p}nvsw{s}", attrs)


def _board_plan(cat, aggregate, gpu_key, chip, split, nic, planes, system, cpu_part, param):
    """What every 8-GPU DGX/HGX baseboard of one design shares (each GPU has ``split[c]``
    links to chip ``c``): its catalog parts and link dicts, its parameters checked."""
    gpu_part = cat.part("gpu", gpu_key)
    chip_part = cat.part("nvswitch", chip)
    nic_part, per_port = _nic_config(cat, nic, planes)
    n_links = gpu_part["nvlink_links"]
    chip_ports = chip_part["ports"]
    for c, k in enumerate(split):
        check_int(f"links to NVSwitch chip {c}", k, lo=0, hi=n_links)
    if sum(split) == 0:
        msg = f"`{param}` gives each GPU no NVLink link; give at least one link to a chip"
        raise ParameterError(msg)
    if sum(split) > n_links:
        msg = (f"`{param}` gives each GPU {sum(split)} NVLink links over {len(split)} chips; "
               f"a {gpu_part['name']} has {n_links}")
        raise ParameterError(msg)
    for c, k in enumerate(split):
        if _BOARD_GPUS * k > chip_ports:
            msg = (f"`{param}`: {k} links from each of {_BOARD_GPUS} GPUs to NVSwitch chip {c} "
                   f"need {_BOARD_GPUS * k} ports; a {chip_part['name']} has {chip_ports} "
                   f"(use at most {chip_ports // _BOARD_GPUS} links per chip)")
            raise ParameterError(msg)
    rate = min(gpu_part["nvlink_link_gbps"], chip_part["port_gbps"])
    if aggregate:
        nvlinks = [(0, link("nvlink", sum(split), rate, length_m=0.3))]
    else:
        nvlinks = [(c, link("nvlink", k, rate, length_m=0.3)) for c, k in enumerate(split) if k]
    host_link = gpu_part["host_link_gbps"]
    return {"aggregate": aggregate, "system": system, "cpu_part": cpu_part,
            "cpu_pcie": cat.part("cpu", cpu_part).get("pcie_gbps", 512.0), "chip": chip,
            "chip_part": chip_part, "chips": len(split), "nvlinks": nvlinks,
            "gpu_key": gpu_key, "nvlink_links": int(n_links), "nic": nic,
            "ports": int(planes), "port_gbps": float(per_port),
            "cpu_attrs": link("pcie", 1, host_link, length_m=0.3),
            "nic_attrs": _nic_link(host_link, nic_part)}


def _baseboard(col, b, p, domain, rack, loc):
    """One 8-GPU DGX/HGX baseboard of the design ``b`` (:func:`_board_plan`)."""
    aggregate = b["aggregate"]
    parts = DomainParts()
    host, cpus = _host(col, p, 0, b["system"], loc, rack, domain, _BOARD_CPUS, b["cpu_part"],
                       b["cpu_pcie"], aggregate)
    parts.hosts.append(host)
    chip, chip_part = b["chip"], b["chip_part"]
    if aggregate:
        chips = [_switch_chip(col, p, None, chip, chip_part, rack, domain, loc, b["chips"])]
    else:
        chips = [_switch_chip(col, p, c, chip, chip_part, rack, domain, loc)
                 for c in range(b["chips"])]
    parts.switches.extend(chips)
    nvlinks = [(chips[c], attrs) for c, attrs in b["nvlinks"]]
    gpu_key, nvlink_links, nic = b["gpu_key"], b["nvlink_links"], b["nic"]
    ports, port_gbps = b["ports"], b["port_gbps"]
    cpu_attrs, nic_attrs = b["cpu_attrs"], b["nic_attrs"]
    per_cpu = _BOARD_GPUS // _BOARD_CPUS
    node, edge = col.node, col.edge
    for i in range(_BOARD_GPUS):
        g = node(f"{p}gpu{i}", _gpu_attrs(gpu_key, nvlink_links, host, rack, domain, i, loc))
        parts.gpus.append(g)
        edge(g, cpus[i // per_cpu], cpu_attrs)
        for s, attrs in nvlinks:
            edge(g, s, attrs)
        name = node(f"{p}nic{i}", _nic_attrs(nic, ports, port_gbps, host, rack, domain, i, loc))
        edge(g, name, nic_attrs)
        parts.add_nic(name, rail=i)
    return parts


def _nic_link(pcie, nic_part, cap=None):
    """The ``pcie`` edge from a GPU to its NIC: the GPU's host link, the NIC's and, for a
    GPU of an aggregated NIC group, ``cap`` (its own NIC's network rate), whichever is
    least: the group gives no GPU more than its own NIC."""
    rate = min(pcie, nic_part["host_link_gbps"])
    return link("pcie", 1, rate if cap is None else min(rate, cap), length_m=0.2)


def _rack_gpus(col, cat, p, domain, rack, loc, gpu_key, nic, planes, trays, first_tray, system,
               parts, gpu_part, nic_part, per_port, aggregate=False):
    """Compute trays of one rack: :data:`_TRAY_GPUS` GPUs and :data:`_TRAY_CPUS` Grace CPUs
    each, C2C GPU<->CPU, one NIC per GPU (aggregated: one virtual node a tray).

    The rail of a GPU and its NIC is the tray's position in the domain. A tray's nodes and
    edges are appended to the collector's lists directly (a rack is 72 GPUs, a million-GPU
    build 14k racks), with the node dicts of :func:`_host_attrs`, :func:`_cpu_attrs`,
    :func:`_gpu_attrs` and :func:`_nic_attrs` and each link's dict made once a rack.
    """
    c2c = gpu_part["host_link_gbps"]
    c2c_attrs = link("c2c", 1, c2c, length_m=0.05)
    nvlink_links = int(gpu_part["nvlink_links"])
    part = f"{system}-tray"
    cpu_pcie = cat.part("cpu", "grace").get("pcie_gbps", 512.0)
    ports, port_gbps = int(planes), float(per_port)
    node, edge = col.nodes.append, col.edges.append
    if aggregate:
        cpu_attrs = link("pcie", _TRAY_CPUS, cpu_pcie, length_m=0.2)
        nic_attrs = _nic_link(c2c, nic_part, planes * per_port)
    else:
        cpu_attrs = link("pcie", 1, cpu_pcie, length_m=0.2)
        nic_attrs = _nic_link(c2c, nic_part)
    per_cpu = _TRAY_GPUS // _TRAY_CPUS
    gpus, hosts = parts.gpus, parts.hosts
    rack_gpus = []
    for t in range(first_tray, first_tray + trays):
        host = f"{p}host{t}"
        node((host, _host_attrs(host, part, rack, domain, loc)))
        if aggregate:
            cpu = f"{p}cpus{t}"
            node((cpu, _cpu_attrs("grace", host, rack, domain, loc, _TRAY_CPUS)))
            edge((host, cpu, cpu_attrs))
            cpus = (cpu,) * _TRAY_CPUS
        else:
            cpus = tuple(f"{p}cpu{c}" for c in range(_TRAY_CPUS * t, _TRAY_CPUS * (t + 1)))
            for cpu in cpus:
                node((cpu, _cpu_attrs("grace", host, rack, domain, loc)))
                edge((host, cpu, cpu_attrs))
        hosts.append(host)
        tray = []
        for j in range(_TRAY_GPUS):
            i = _TRAY_GPUS * t + j
            g = f"{p}gpu{i}"
            node((g, _gpu_attrs(gpu_key, nvlink_links, host, rack, domain, t, loc)))
            edge((g, cpus[j // per_cpu], c2c_attrs))
            tray.append(g)
            if not aggregate:
                name = f"{p}nic{i}"
                node((name, _nic_attrs(nic, ports, port_gbps, host, rack, domain, t, loc)))
                edge((g, name, nic_attrs))
                parts.add_nic(name, rail=t)
        gpus += tray
        rack_gpus += tray
        if aggregate:
            name = f"{p}nics{t}"
            node((name, _nic_attrs(nic, ports * _TRAY_GPUS, port_gbps, host, rack, domain, t,
                                   loc, _TRAY_GPUS)))
            for g in tray:
                edge((g, name, nic_attrs))
            parts.add_nic(name, rail=t, ports=_TRAY_GPUS)
    return rack_gpus


def _nvl72(col, cat, p, domain, rack, loc, aggregate, gpu_key, nic, planes, trays, system):
    gpu_part = cat.part("gpu", gpu_key)
    chip_part = cat.part("nvswitch", "nvlink5-switch")
    nic_part, per_port = _nic_config(cat, nic, planes)
    parts = DomainParts()
    gpus = _rack_gpus(col, cat, p, domain, rack, loc, gpu_key, nic, planes, trays, 0, system,
                      parts, gpu_part, nic_part, per_port, aggregate)
    rate = min(gpu_part["nvlink_link_gbps"], chip_part["port_gbps"])
    n_chips = gpu_part["nvlink_links"]          # one link from every GPU to every chip
    if aggregate:
        sw = _switch_chip(col, p, None, "nvlink5-switch", chip_part, rack, domain, loc, n_chips)
        parts.switches.append(sw)
        col.edges.extend(product(gpus, (sw,), (link("nvlink", n_chips, rate, length_m=1.0),)))
        return parts
    chips = [_switch_chip(col, p, s, "nvlink5-switch", chip_part, rack, domain, loc)
             for s in range(n_chips)]
    parts.switches.extend(chips)
    attrs = link("nvlink", 1, rate, length_m=1.0)
    col.edges.extend(product(gpus, chips, (attrs,)))
    return parts


def _nvl36x2(col, cat, p, domain, rack, loc, aggregate, gpu_key, nic, planes, trays):
    gpu_part = cat.part("gpu", gpu_key)
    chip_part = cat.part("nvswitch", "nvlink5-switch")
    nic_part, per_port = _nic_config(cat, nic, planes)
    rate = min(gpu_part["nvlink_link_gbps"], chip_part["port_gbps"])
    n_chips = gpu_part["nvlink_links"]
    cross = 4 * trays                    # each chip: one port per local GPU, as many across
    col.note("NVL36x2: each rack's 18 chips have one link to each local GPU and the same "
             "number of links to the same-numbered chip in the other rack (cross-rack "
             "cabling is not in NVIDIA's docs; design as described by secondary sources)")
    parts = DomainParts()
    per_rack = []
    for r in range(2):
        gpus = _rack_gpus(col, cat, p, domain, rack + r, loc, gpu_key, nic, planes, trays,
                          r * trays, "nvl36x2", parts, gpu_part, nic_part, per_port, aggregate)
        if aggregate:
            chips = [_switch_chip(col, p, f"r{r}", "nvlink5-switch", chip_part, rack + r,
                                  domain, loc, n_chips)]
            attrs = link("nvlink", n_chips, rate, length_m=1.0)
        else:
            chips = [_switch_chip(col, p, r * n_chips + s, "nvlink5-switch", chip_part,
                                  rack + r, domain, loc) for s in range(n_chips)]
            attrs = link("nvlink", 1, rate, length_m=1.0)
        col.edges.extend(product(gpus, chips, (attrs,)))
        parts.switches.extend(chips)
        per_rack.append(chips)
    if aggregate:
        col.edge(per_rack[0][0], per_rack[1][0],
                 link("nvlink", cross * n_chips, rate, length_m=3.0))
    else:
        attrs = link("nvlink", cross, rate, length_m=3.0)
        for a, b in zip(per_rack[0], per_rack[1]):
            col.edge(a, b, attrs)
    return parts


def _common_params():
    """The parameters every NVLink preset shares (the NIC's default is each builder's)."""
    return {
        "aggregate_nvswitch": P("aggregated domain: the NVLink switch chips, each host's CPUs "
                                "and each tray's NICs become one virtual node each (same "
                                "bandwidth and ports)"),
        "nic": P("catalog key of the per-GPU scale-out NIC", choices=("cx7", "cx8", "bf3")),
        "planes": P("network ports each NIC is split into", lo=1, hi=8),
    }


def _link_split(text):
    """``"5,4,4,5"`` -> ``(5, 4, 4, 5)``: links from each GPU to the 4 NVSwitch chips."""
    try:
        split = tuple(int(x) for x in text.split(","))
    except ValueError:
        msg = f"`link_split` must be 4 comma-separated integers like 5,4,4,5, got {text!r}"
        raise ParameterError(msg) from None
    if len(split) != 4:
        msg = f"`link_split` must name 4 chips (a DGX H100 has 4 NVSwitch chips), got {text!r}"
        raise ParameterError(msg)
    return split


def _domain_graph(system, builder, params, catalog, **kw):
    cat = catalog_or_default(catalog)
    col = Collector()
    add_nvlink_domain(col, cat, system, domain=0, **kw)
    return col.graph(builder, params, cat)


@preset("dgx-h100",
        summary="DGX H100: 8 H100, 4 NVSwitch gen3 (5/4/4/5 links), 8 ConnectX-7 400G, 1 host",
        params={"link_split": P("NVLink links from each GPU to NVSwitch chips 0-3", type=str,
                                default="5,4,4,5", convert=_link_split),
                "gpu": P("GPU model (H200 gives a DGX H200)", choices=("H100", "H200")),
                **_common_params()})
def dgx_h100_graph(*, link_split=(5, 4, 4, 5), gpu="H100", aggregate_nvswitch=False, nic="cx7",
                   planes=1, catalog=None):
    """Return a DGX H100: 8 H100, 4 NVSwitch gen3 chips, 8 ConnectX-7, 1 host.

    Parameters
    ----------
    link_split
        NVLink links from each GPU to chips 0..3 (published: 5/4/4/5).
    gpu
        Catalog key of the GPU (``"H200"`` gives a DGX H200, same NVLink design).
    aggregate_nvswitch
        Build the aggregated form (module docstring): the chips become one
        switch node with the same total bandwidth and ports, the host's CPUs
        one CPU node (and in an NVL72 rack each tray's NICs one NIC node).
    nic
        Catalog key of the per-GPU scale-out NIC.
    planes
        Network ports each NIC is split into (1 = one 400G port).
    catalog
        A :class:`fabric.Catalog`; the shipped one by default.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When the split exceeds the GPU's 18 links or a chip's 64 ports, or
        ``planes`` exceeds the NIC's.

    Examples
    --------
    >>> G = dgx_h100_graph()
    >>> sorted(d for n, d in G.degree(weight="links") if G.nodes[n]["kind"] == "nvswitch")
    [32, 32, 40, 40]
    """
    split = tuple(int(x) for x in link_split)
    params = {"link_split": ",".join(map(str, split)), "gpu": gpu,
              "aggregate_nvswitch": aggregate_nvswitch, "nic": nic, "planes": planes}
    return _domain_graph("dgx-h100", "dgx_h100_graph", params, catalog, link_split=split,
                         gpu=gpu, aggregate=aggregate_nvswitch, nic=nic, planes=planes)


@preset("hgx-b200",
        summary="HGX B200: 8 B200, 2 NVLink5 switch chips (9 links per GPU per chip)",
        params={"links_per_chip": P("NVLink links from each GPU to each chip", lo=1, hi=18),
                "gpu": P("GPU model (B300 gives an HGX B300)", choices=("B200", "B300")),
                **_common_params()})
def hgx_b200_graph(*, links_per_chip=9, gpu="B200", aggregate_nvswitch=False, nic="cx7",
                   planes=1, catalog=None):
    """Return an HGX B200: 8 B200, 2 NVLink5 switch chips, 9 links per GPU per chip.

    Parameters
    ----------
    links_per_chip
        NVLink links from each GPU to each of the two chips (published: 9).
    gpu
        Catalog key of the GPU (``"B300"`` for an HGX B300).
    aggregate_nvswitch, nic, planes, catalog
        As for :func:`dgx_h100_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When 2 x ``links_per_chip`` exceeds the GPU's 18 links or 8 x
        ``links_per_chip`` a chip's 72 ports.

    Examples
    --------
    >>> G = hgx_b200_graph()
    >>> sum(d["bandwidth_gbps"] for *_, d in G.edges("d0-gpu0", data=True) if d["medium"] == "nvlink")
    7200.0
    """
    params = {"links_per_chip": links_per_chip, "gpu": gpu,
              "aggregate_nvswitch": aggregate_nvswitch, "nic": nic, "planes": planes}
    return _domain_graph("hgx-b200", "hgx_b200_graph", params, catalog,
                         links_per_chip=links_per_chip, gpu=gpu, aggregate=aggregate_nvswitch,
                         nic=nic, planes=planes)


_TRAYS = P("compute trays (4 GPUs each)", lo=1, hi=18, hint="an NVL72 rack holds 18 compute trays")


@preset("gb200-nvl72",
        summary="GB200 NVL72 rack: 72 GPUs, 36 Grace, 18 trays, 18 NVLink5 switch chips, "
                "CX-7 400G",
        params={"trays": _TRAYS, **_common_params()})
def gb200_nvl72_graph(*, trays=18, aggregate_nvswitch=False, nic="cx7", planes=1, catalog=None):
    """Return a GB200 NVL72 rack: 72 GPUs, 36 Grace, 18 trays, 18 NVLink5 switch chips.

    Every GPU has exactly one NVLink5 link to every chip (1,296 links).

    Parameters
    ----------
    trays
        Compute trays populated (1-18; 4 GPUs each).
    aggregate_nvswitch, nic, planes, catalog
        As for :func:`dgx_h100_graph`; the NIC defaults to ConnectX-7 400G.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When ``trays`` is outside 1-18 or ``planes`` exceeds the NIC's.

    Examples
    --------
    >>> G = gb200_nvl72_graph()
    >>> sum(d["links"] for u, v, d in G.edges(data=True) if d["medium"] == "nvlink")
    1296
    """
    params = {"trays": trays, "aggregate_nvswitch": aggregate_nvswitch, "nic": nic,
              "planes": planes}
    return _domain_graph("gb200-nvl72", "gb200_nvl72_graph", params, catalog, trays=trays,
                         aggregate=aggregate_nvswitch, nic=nic, planes=planes)


@preset("gb300-nvl72",
        summary="GB300 NVL72 rack: 72 GPUs, 36 Grace, 18 trays, 18 NVLink5 switch chips, "
                "CX-8 800G",
        params={"trays": _TRAYS, **_common_params()})
def gb300_nvl72_graph(*, trays=18, aggregate_nvswitch=False, nic="cx8", planes=1, catalog=None):
    """Return a GB300 NVL72 rack: as GB200 NVL72 with GB300 GPUs and ConnectX-8 800G NICs.

    Parameters
    ----------
    trays, aggregate_nvswitch, nic, planes, catalog
        As for :func:`gb200_nvl72_graph`; the NIC defaults to ConnectX-8.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        As for :func:`gb200_nvl72_graph`.

    Examples
    --------
    >>> G = gb300_nvl72_graph()
    >>> G.nodes["d0-nic0"]["port_gbps"]
    800.0
    """
    params = {"trays": trays, "aggregate_nvswitch": aggregate_nvswitch, "nic": nic,
              "planes": planes}
    return _domain_graph("gb300-nvl72", "gb300_nvl72_graph", params, catalog, trays=trays,
                         aggregate=aggregate_nvswitch, nic=nic, planes=planes)


@preset("nvl36x2",
        summary="GB200 NVL36x2: two 36-GPU racks joined into one 72-GPU NVLink domain",
        params={"trays_per_rack": P("compute trays per rack (4 GPUs each)", lo=1, hi=9,
                                    hint="an NVL36 rack holds 9 compute trays"),
                **_common_params()})
def nvl36x2_graph(*, trays_per_rack=9, aggregate_nvswitch=False, nic="cx7", planes=1,
                  catalog=None):
    """Return a GB200 NVL36x2: two 36-GPU racks joined into one 72-GPU NVLink domain.

    Each rack has 9 compute trays (4 GB200 GPUs each) and 18 NVLink5 switch
    chips; every GPU has one link to each chip of its rack, and chip ``i`` of
    one rack has 36 links to chip ``i`` of the other (all 72 ports used).

    Parameters
    ----------
    trays_per_rack
        Compute trays per rack (1-9).
    aggregate_nvswitch, nic, planes, catalog
        As for :func:`dgx_h100_graph`.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ParameterError
        When ``trays_per_rack`` is outside 1-9 or ``planes`` exceeds the NIC's.

    Examples
    --------
    >>> G = nvl36x2_graph()
    >>> G["d0-nvsw0"]["d0-nvsw18"]["links"]
    36
    """
    params = {"trays_per_rack": trays_per_rack, "aggregate_nvswitch": aggregate_nvswitch,
              "nic": nic, "planes": planes}
    return _domain_graph("nvl36x2", "nvl36x2_graph", params, catalog, trays=trays_per_rack,
                         aggregate=aggregate_nvswitch, nic=nic, planes=planes)
