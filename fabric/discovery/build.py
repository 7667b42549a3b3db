"""Devices and port-to-port links from a discovery tool become a fabric graph.

The parsers (:mod:`~fabric.discovery.ibnetdiscover`, :mod:`~fabric.discovery.lldp`) reduce
their input to :class:`Device` records and :class:`Link` tuples; :func:`as_built_graph`
turns them into a graph of the schema of :mod:`fabric.schema`:

* **hosts by node type**: every host adapter (InfiniBand ``Ca``, an LLDP host) is a
  ``nic`` of a ``host`` node, joined through one ``cpu`` node (``<host>-cpu``; the
  schema joins NICs to hosts over PCIe through a CPU). Discovery sees no GPUs; the
  graph has none, which G.graph["notes"] says;
* **switch tiers by BFS distance from the hosts**: 1 = leaf, 2 = spine, 3 and more =
  core; a switch no host reaches is a core switch, with a note;
* **WAN routers by type**: a ``router`` device (LLDP: the ``Router`` capability without
  ``Bridge``) is a ``wan`` node of tier 4, and the BFS does not pass through it (a site's
  tiers do not come from another site's hosts); the links between two routers have
  medium ``wan``. A router with a host adapter on a port is taken for a switch, with a
  note;
* **parts from the catalog**: by a catalog key or device id in the description, else by
  the port count at the links' rate (switches) or the rate (NICs); when no part or
  several parts fit, ``part = "unknown"`` and a note names the device.

Network edges join each pair of devices once: ``links`` physical links, their summed
``bandwidth_gbps``, ``latency_ns = 0.0`` (discovery measures none), and the port
numbers: ``port_map`` lists every link as ``"<port at port_map_a>=<port at the other
end>@<Gb/s>"`` joined by ``;`` (sorted by the first port); when the links are
contiguous (port ``p + i`` to ``q + i``) the edge also carries the schema's ``a_end``,
``a_port``, ``b_port``.
"""

import warnings
from dataclasses import dataclass

__all__ = ["Device", "Link", "as_built_graph", "IB_LANE_GBPS", "ib_rate", "ib_label",
           "DEVICE_IDS"]

IB_LANE_GBPS = {"SDR": 2.5, "DDR": 5.0, "QDR": 10.0, "FDR10": 10.0, "FDR": 14.0, "EDR": 25.0,
                "HDR": 50.0, "NDR": 100.0, "XDR": 200.0}
"""InfiniBand data rate per lane, Gb/s (IBTA signalling names; FDR is 14.0625 nominal)."""

DEVICE_IDS = {0x1021: "cx7", 0x1023: "cx8", 0xA2DC: "bf3", 0xD2F0: "QM9700", 0xD2F2: "Q3400"}
"""PCI device ids (``devid`` of ibnetdiscover, ``lspci -n``) of catalog parts: ConnectX-7
MT4129, ConnectX-8 MT4131, BlueField-3 MT41692, Quantum-2 MT54000, Quantum-X800 MT54002."""

_TIER_KIND = {1: "leaf", 2: "spine", 3: "core"}


@dataclass
class Device:
    """One device a discovery tool reports."""

    name: str
    type: str                   # "switch", "router" (a WAN router) or "ca" (a host adapter)
    desc: str = ""              # the tool's description (node description, system name)
    ports: int = 0              # physical ports (switch port 0 not counted); 0 = unknown
    host: str = ""              # host adapters: the host's name
    devid: int = 0              # PCI device id when the tool reports it


@dataclass(frozen=True)
class Link:
    """One physical port-to-port link (each link once)."""

    a: str
    a_port: int
    b: str
    b_port: int
    gbps: float                 # the link's rate per direction; 0.0 when unknown


def ib_rate(label):
    """Gb/s of an InfiniBand width/speed label such as ``4xNDR`` (``None`` if not one).

    >>> ib_rate("4xNDR"), ib_rate("2xNDR"), ib_rate("4xHDR"), ib_rate("bogus")
    (400.0, 200.0, 200.0, None)
    """
    width, _, speed = label.partition("x")
    if not width.isdigit() or speed.upper() not in IB_LANE_GBPS:
        return None
    return int(width) * IB_LANE_GBPS[speed.upper()]


def ib_label(gbps):
    """The InfiniBand label of a per-link rate: 4 lanes of the speed that gives it,
    else 2 or 1 lanes (``4xNDR`` for 400, ``4xXDR`` for 800, ``2xNDR`` for 200 ...).

    >>> ib_label(400.0), ib_label(800.0), ib_label(200.0), ib_label(100.0)
    ('4xNDR', '4xXDR', '4xHDR', '4xEDR')
    """
    for width in (4, 2, 1):
        for speed in ("XDR", "NDR", "HDR", "EDR", "FDR", "QDR", "DDR", "SDR"):
            if abs(width * IB_LANE_GBPS[speed] - gbps) < 1e-6:
                return f"{width}x{speed}"
    return "4xNDR"


def _match_part(catalog, category, device, rate, medium, notes):
    """The catalog key of ``device``'s part, or ``"unknown"`` (with a note)."""
    keys = list(catalog.keys(category))
    if device.devid in DEVICE_IDS and DEVICE_IDS[device.devid] in keys:
        return DEVICE_IDS[device.devid]
    text = device.desc.lower().replace("-", "").replace(" ", "")
    named = [k for k in keys if k.lower().replace("-", "") in text]
    if len(named) >= 1:
        return max(named, key=len)
    fits = []
    for k in keys:
        p = catalog.part(category, k)
        protocol = p.get("protocol")
        if protocol and protocol != medium:
            continue
        if category == "nic" and medium == "infiniband" and \
                "infiniband" not in str(p.get("name", "")).lower():
            continue                                   # an Ethernet-only NIC
        if category == "switch":
            modes = p.get("port_modes") or {str(int(p.get("port_gbps", 0))): p.get("ports")}
            if rate and device.ports and modes.get(str(int(rate))) == device.ports:
                fits.append(k)
        elif rate and float(p.get("port_gbps", 0)) == rate:
            fits.append(k)
    if len(fits) == 1:
        return fits[0]
    why = (f"{len(fits)} catalog parts fit ({', '.join(fits)})" if fits else
           "no catalog part matches its description, device id and port count at "
           f"{rate:g} Gb/s")
    notes.append(f"{device.name}: part unknown: {why} (description {device.desc!r})")
    return "unknown"


def _tiers(devices, links):
    """BFS distance of every switch from the host adapters."""
    adj = {n: set() for n in devices}
    for ln in links:
        adj[ln.a].add(ln.b)
        adj[ln.b].add(ln.a)
    dist = {n: 0 for n, d in devices.items() if d.type == "ca"}
    frontier = sorted(dist)
    while frontier:
        nxt = []
        for n in frontier:
            for m in sorted(adj[n]):
                if m not in dist and devices[m].type != "router":
                    dist[m] = dist[n] + 1
                    nxt.append(m)
        frontier = nxt
    return dist


def _unique(name, taken):
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}-{i}"
    return out


def as_built_graph(devices, links, *, medium, builder, source, catalog=None, notes=()):
    """A fabric graph from discovered ``devices`` (list of :class:`Device`) and ``links``
    (iterable of :class:`Link`; a link reported from both ends is kept once).

    Parameters
    ----------
    medium : str
        ``infiniband`` or ``ethernet``.
    builder : str
        Provenance (``G.graph["builder"]``), e.g. ``discovery:ibnetdiscover``.
    source : str
        The file read (``G.graph["params"]["source"]``).
    notes : iterable of str
        The parser's own notes, kept first.

    Returns
    -------
    networkx.Graph
        Validated (without the no-GPU check, which a discovered fabric fails by nature).
    """
    import networkx as nx

    from fabric.catalog import default_catalog
    from fabric.exceptions import FabricValidationError
    from fabric.schema import SCHEMA_VERSION
    from fabric.validate import FabricWarning, validate_fabric

    catalog = catalog or default_catalog()
    notes = list(notes)
    devices = {d.name: d for d in devices}
    # each link once; a port used by two different links is reported and the later dropped
    seen, used, kept = set(), {}, []
    for ln in links:
        for n in (ln.a, ln.b):
            if n not in devices:
                devices[n] = Device(n, "switch")
                notes.append(f"{n}: seen only as a neighbour; taken for a switch")
        key = frozenset(((ln.a, ln.a_port), (ln.b, ln.b_port)))
        if key in seen:
            continue
        seen.add(key)
        clash = [e for e in ((ln.a, ln.a_port), (ln.b, ln.b_port)) if e in used]
        if clash:
            notes.append(f"{clash[0][0]} port {clash[0][1]}: reported with two different "
                         f"peers; kept {used[clash[0]]}")
            continue
        used[(ln.a, ln.a_port)] = used[(ln.b, ln.b_port)] = f"{ln.a}[{ln.a_port}]-{ln.b}[{ln.b_port}]"
        kept.append(ln)
    for ln in kept:
        for x, y in ((ln.a, ln.b), (ln.b, ln.a)):
            if devices[x].type == "router" and devices[y].type == "ca":
                devices[x].type = "switch"
                notes.append(f"{x}: a router with a host adapter ({y}) on a port; taken for "
                             "a switch, not a WAN router")
    dist = _tiers(devices, kept)
    rate_of, top_port = {}, {}
    for ln in kept:
        for n, p in ((ln.a, ln.a_port), (ln.b, ln.b_port)):
            rate_of[n] = max(rate_of.get(n, 0.0), ln.gbps)
            top_port[n] = max(top_port.get(n, 0), p)
    G = nx.Graph()
    G.graph.update(builder=builder, params={"source": source}, catalog_version=catalog.version,
                   schema_version=SCHEMA_VERSION, notes=notes)
    tier = {}
    names = set(devices)
    for name in sorted(devices):
        d = devices[name]
        rate = rate_of.get(name, 0.0)
        ports = max(d.ports, top_port.get(name, 0), 1)
        if d.type == "ca":
            tier[name] = 0
            host = d.host or name
            if host in devices and host != name:
                host = _unique(f"{host}-host", names)
            names.add(host)
            part = _match_part(catalog, "nic", d, rate, medium, notes)
            if not rate and part != "unknown":
                rate = float(catalog.part("nic", part).get("port_gbps", 0.0))
            G.add_node(name, kind="nic", part=part, host=host, ports=ports,
                       port_gbps=float(rate or 1.0))
            if host not in G:
                cpu = _unique(f"{host}-cpu", names)
                names.add(cpu)
                G.add_node(host, kind="host", part="unknown", host=host)
                G.add_node(cpu, kind="cpu", part="unknown", host=host)
                G.add_edge(cpu, host, medium="pcie", links=1, bandwidth_gbps=float(rate or 1.0),
                           latency_ns=0.0)
                G.nodes[host]["_cpu"] = cpu
            cpu = G.nodes[host]["_cpu"]
            G.add_edge(cpu, name, medium="pcie", links=1,
                       bandwidth_gbps=float(ports * (rate or 1.0)), latency_ns=0.0)
        else:
            if d.type == "router":
                t, kind = 4, "wan"
            else:
                t = dist.get(name)
                if t is None:
                    notes.append(f"{name}: no host reaches it; taken for a core switch")
                    t = 3
                t = min(t, 3)
                kind = _TIER_KIND[t]
            tier[name] = t
            part = _match_part(catalog, "switch", d, rate, medium, notes)
            if part != "unknown":
                p = catalog.part("switch", part)
                rate = rate or float(p.get("port_gbps", 0.0))
                modes = p.get("port_modes") or {}
                ports = max(ports, int(modes.get(str(int(rate)), p.get("ports", 0)) or 0))
            G.add_node(name, kind=kind, tier=t, part=part, ports=ports,
                       port_gbps=float(rate or 1.0))
    for n in list(G):
        G.nodes[n].pop("_cpu", None)
    # A link without a reported rate runs at the slower known port of its ends (the
    # catalog's); a device without a part or a rate takes its links' rate.
    known = {n: G.nodes[n]["port_gbps"] for n in devices
             if rate_of.get(n) or G.nodes[n].get("part") != "unknown"}
    effective = []
    for ln in kept:
        ends = [known[n] for n in (ln.a, ln.b) if n in known]
        effective.append(ln.gbps or (min(ends) if ends else 1.0))
    for ln, g in zip(kept, effective):
        for n in (ln.a, ln.b):
            if n not in known:
                G.nodes[n]["port_gbps"] = max(g, G.nodes[n]["port_gbps"] if
                                              G.nodes[n]["port_gbps"] != 1.0 else 0.0)
    groups = {}
    for ln, g in zip(kept, effective):
        a, pa, b, pb = ln.a, ln.a_port, ln.b, ln.b_port
        if (tier[a], a) > (tier[b], b):
            a, pa, b, pb = b, pb, a, pa
        groups.setdefault((a, b), []).append((pa, pb, ln.gbps, g))
    for (a, b), rows in sorted(groups.items()):
        rows.sort()
        total = sum(r[3] for r in rows)
        wan = devices[a].type == devices[b].type == "router"
        attrs = {"medium": "wan" if wan else medium, "links": len(rows),
                 "bandwidth_gbps": float(total),
                 "latency_ns": 0.0, "port_map_a": a,
                 "port_map": ";".join(f"{p}={q}@{g:g}" for p, q, g, _ in rows)}
        if all(p - rows[0][0] == i and q - rows[0][1] == i for i, (p, q, _, _) in enumerate(rows)):
            attrs.update(a_end=a, a_port=rows[0][0], b_port=rows[0][1])
        G.add_edge(a, b, **attrs)
    if not any(d.type == "ca" for d in devices.values()):
        notes.append("no host adapters found: switch tiers are unknown")
    notes.append("discovery sees no GPUs: the graph has hosts, CPUs standing for their "
                 "PCIe roots, NICs and switches only")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FabricWarning)
        try:
            validate_fabric(G, strict=False)
        except FabricValidationError as exc:
            # an as-built fabric may well be partitioned: say so, refuse anything else
            rest = [e for e in exc.errors if not e.startswith("the fabric is not connected")]
            if rest:
                raise FabricValidationError(rest) from None
            notes.extend(f"as built: {e}" for e in exc.errors)
    return G
