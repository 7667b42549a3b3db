"""InfiniBand ``ibnetdiscover`` topology files: read one into a fabric, write one for a design.

The format (infiniband-diags ``ibnetdiscover(8)``): one block per node, headed by
``vendid=``/``devid=``/``sysimgguid=``/``switchguid=`` or ``caguid=`` lines, then::

    Switch  65 "S-<guid>"   # "MF0;<name>:MQM9700/U1" enhanced port 0 lid 1 lmc 0
    [1]     "H-<guid>"[1](<port guid>)   # "<host> mlx5_0" lid 100 4xNDR
    [33]    "S-<guid>"[1]                # "MF0;<spine>:MQM9700/U1" lid 2 4xNDR

    Ca      1 "H-<guid>"    # "<host> mlx5_0"
    [1](<port guid>)  "S-<guid>"[1]   # lid 100 lmc 0 "MF0;<leaf>:MQM9700/U1" lid 1 4xNDR

A switch's count includes its management port 0 (a 64-port QM9700 prints 65); a
``Ca``'s count is its ports. Every link is printed from both ends; each is kept once.
Blank lines and ``#`` comments are ignored, as are ``Rt`` (router) blocks and any
``key=value`` line; after the first ``Switch``/``Ca`` block, a line of no known shape
(a tool's warning, a record of a newer version) is skipped with a note, before it the
text is refused as not ``ibnetdiscover`` output.

Names: a switch's node description ``MF0;<name>:<model>/U1`` gives ``<name>`` (any
other description is the name itself; ``S-<guid>`` without one); a ``Ca``'s
description ``<host> <device>`` gives the host and the NIC name ``<device>``, or
``<host>-<device>`` when several hosts have a device of that name (``mlx5_0``).
Rates come from the ``<width>x<speed>`` label (``4xNDR`` = 400 Gb/s).

:func:`ibnetdiscover_text` writes what ``ibnetdiscover`` would print for the
InfiniBand part of a designed fabric (GUIDs and LIDs made up deterministically), so
that a design round-trips through :func:`parse_ibnetdiscover`.
"""

import re

from fabric.discovery.build import DEVICE_IDS, Device, Link, as_built_graph, ib_label, ib_rate

__all__ = ["parse_ibnetdiscover", "ibnetdiscover_text"]

_HEAD = re.compile(r'^(Switch|Ca|Rt)\s+(\d+)\s+"([SHR])-([0-9a-fA-F]+)"\s*(?:#\s*"([^"]*)")?')
_PORT = re.compile(r'^\[(\d+)\](?:\(([0-9a-fA-F]+)\))?\s*"([SHR])-([0-9a-fA-F]+)"\[(\d+)\]'
                   r'(?:\(([0-9a-fA-F]+)\))?\s*(?:#(.*))?$')
_RATE = re.compile(r"\b(\d+x[A-Za-z0-9]+)\s*$")
_MF0 = re.compile(r"^MF0;([^:]+):(.*)$")
_QUOTED = re.compile(r'"([^"]*)"')


def _fail(source, lineno, line, why, hint=""):
    from fabric.exceptions import FabricFormatError

    msg = (f"`{source}` line {lineno}: {why}: {line.strip()[:100]!r}; expected "
           "`ibnetdiscover` output (Switch/Ca blocks with [port] \"GUID\"[port] lines)" + hint)
    raise FabricFormatError(msg)


def _skipped_note(skipped, what):
    """The note of the unrecognized lines a parser skipped (``[(lineno, line)]``)."""
    lineno, line = skipped[0]
    return (f"skipped {len(skipped)} line(s) that are not {what} (first at line {lineno}: "
            f"{line.strip()[:80]!r})")


def _parse(text, source):
    """(nodes {guid: (type, count, desc, devid)}, links [(guid, port, guid, port, label)],
    peer descriptions {guid: desc}, notes)."""
    nodes, links, peer_desc, skipped = {}, [], {}, []
    current, devid = None, 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line and not line.startswith("["):
            key, _, value = line.partition("=")
            if key.strip() == "devid":
                try:
                    devid = int(value.strip(), 16)
                except ValueError:
                    devid = 0
            continue
        m = _HEAD.match(line)
        if m:
            typ, count, _, guid, desc = m.groups()
            if typ == "Rt":
                current = None
                continue
            current = guid.lower()
            if current in nodes:
                _fail(source, lineno, raw, f"a second block for GUID {guid} (GUIDs are unique; "
                                           "two outputs concatenated?)")
            nodes[current] = ("switch" if typ == "Switch" else "ca", int(count), desc or "", devid)
            block_ports = set()
            devid = 0
            continue
        m = _PORT.match(line)
        if m:
            if current is None:
                if not nodes:
                    _fail(source, lineno, raw, "a port line before any Switch or Ca line")
                continue                                  # a router's ports
            port, _, _, peer, peer_port, _, comment = m.groups()
            if int(port) in block_ports:
                _fail(source, lineno, raw, f"port {port} of this device is listed twice")
            block_ports.add(int(port))
            comment = comment or ""
            rate = _RATE.search(comment)
            quoted = _QUOTED.findall(comment)
            if quoted:
                peer_desc.setdefault(peer.lower(), quoted[-1] if nodes[current][0] == "ca"
                                     else quoted[0])
            links.append((current, int(port), peer.lower(), int(peer_port),
                          rate.group(1) if rate else ""))
            continue
        if not nodes:
            from fabric.discovery import format_hint

            _fail(source, lineno, raw, "not a Switch/Ca line, a port line or a key=value line",
                  format_hint(text, "ibnetdiscover"))
        skipped.append((lineno, raw))          # after the first block: a record we skip
    if not nodes:
        from fabric.exceptions import FabricFormatError

        msg = f"`{source}` has no Switch or Ca block; is it `ibnetdiscover` output?"
        raise FabricFormatError(msg)
    missing = sorted({peer for _, _, peer, _, _ in links} - set(nodes))
    if missing:
        from fabric.exceptions import FabricFormatError

        msg = (f"`{source}` links to {len(missing)} device(s) it never describes (e.g. GUID "
               f"{missing[0]}): the file looks truncated; ibnetdiscover prints a block for "
               f"every device it reaches (last line {lineno})")
        raise FabricFormatError(msg)
    notes = [_skipped_note(skipped, "Switch/Ca, port or key=value lines")] if skipped else []
    return nodes, links, peer_desc, notes


def normalize_guid(text):
    """A GUID as 16 lower-case hex digits (``0x`` and case dropped); None when it is not one."""
    t = str(text).strip().lower()
    t = t[2:] if t.startswith("0x") else t
    if not t or len(t) > 16 or any(c not in "0123456789abcdef" for c in t):
        return None
    return t.rjust(16, "0")


def apply_name_map(devices, name_map):
    """Rename the devices whose GUID ``name_map`` (``{name: GUID}``) lists (``--map``)."""
    if not name_map:
        return devices
    by_guid = {normalize_guid(g): n for n, g in name_map.items()}
    for guid, dev in devices.items():
        name = by_guid.get(normalize_guid(guid))
        if name is not None:
            dev.name = name
    return devices


def _names(nodes, peer_desc):
    """guid -> Device (names resolved as the module says)."""
    devices = {}
    ca_rest = {}
    for guid, (typ, _, desc, _) in nodes.items():
        if typ == "ca":
            host, _, rest = (desc or f"H-{guid}").strip().partition(" ")
            ca_rest.setdefault(rest.strip(), set()).add(host)
    hosts = set().union(*ca_rest.values())
    taken = set()
    for guid in sorted(nodes):
        typ, count, desc, devid = nodes[guid]
        if typ == "switch":
            m = _MF0.match(desc)
            name = m.group(1).strip() if m else (desc.strip() or f"S-{guid}")
            ports = max(count - 1, 0)
            host = ""
        else:
            host, _, rest = (desc or f"H-{guid}").strip().partition(" ")
            rest = rest.strip()
            if not rest:
                name = f"{host}-hca"
            elif len(ca_rest.get(rest, ())) > 1 or rest in hosts:
                name = f"{host}-{rest}"
            else:
                name = rest
            ports = count
        if name in taken:
            name = f"{name}-{guid}"
        taken.add(name)
        devices[guid] = Device(name, typ, desc, ports, host, devid)
    for guid, desc in peer_desc.items():
        if guid not in devices:                           # a peer without its own block
            m = _MF0.match(desc)
            name = m.group(1).strip() if m else f"S-{guid}"
            if name in taken:
                name = f"{name}-{guid}"
            taken.add(name)
            devices[guid] = Device(name, "switch", desc)
    return devices


def parse_ibnetdiscover(text, *, source="<text>", catalog=None, name_map=None):
    """A fabric graph from ``ibnetdiscover`` output (see the module; the graph's schema is
    that of :func:`fabric.discovery.build.as_built_graph`). ``name_map`` (``{name: GUID}``,
    ``fabric diff --map``) names the devices it lists by GUID instead of by description.

    Raises
    ------
    FabricFormatError
        When the text is not ``ibnetdiscover`` output (the message names the line).

    Examples
    --------
    >>> text = '''
    ... Switch 65 "S-0000000000000001" # "MF0;leaf0:MQM9700/U1" enhanced port 0 lid 1 lmc 0
    ... [1] "H-0000000000000002"[1](0000000000000002) # "node1 mlx5_0" lid 2 4xNDR
    ... Ca 1 "H-0000000000000002" # "node1 mlx5_0"
    ... [1](0000000000000002) "S-0000000000000001"[1] # lid 2 lmc 0 "MF0;leaf0:MQM9700/U1" lid 1 4xNDR
    ... '''
    >>> G = parse_ibnetdiscover(text)
    >>> sorted(G.nodes(data="kind"))
    [('leaf0', 'leaf'), ('mlx5_0', 'nic'), ('node1', 'host'), ('node1-cpu', 'cpu')]
    >>> d = G.edges["mlx5_0", "leaf0"]
    >>> d["links"], d["bandwidth_gbps"], d["a_end"], d["a_port"], d["b_port"], G.nodes["leaf0"]["part"]
    (1, 400.0, 'mlx5_0', 1, 1, 'QM9700')
    """
    nodes, raw_links, peer_desc, notes = _parse(text, source)
    devices = apply_name_map(_names(nodes, peer_desc), name_map)
    links = []
    for guid, port, peer, peer_port, label in raw_links:
        rate = ib_rate(label) if label else None
        if label and rate is None:
            notes.append(f"{devices[guid].name} port {port}: unknown rate {label!r}")
        links.append(Link(devices[guid].name, port, devices[peer].name, peer_port, rate or 0.0))
    return as_built_graph(list(devices.values()), links, medium="infiniband",
                          builder="discovery:ibnetdiscover", source=source, catalog=catalog,
                          notes=notes)


def _guid(i, kind):
    # a made-up, stable GUID per device: NVIDIA's OUI 0xb83fd2, then the device kind and index
    return f"b83fd203{kind:02x}{i:06x}"


def ibnetdiscover_text(G):
    """What ``ibnetdiscover`` would print for the InfiniBand network of the design ``G``.

    Devices are numbered in natural name order (GUIDs and LIDs from that order); ports
    are the edges' port numbers (:mod:`fabric.ports`). NIC descriptions are
    ``"<host> <nic>"``, switch descriptions ``"MF0;<name>:M<part>/U1"``.

    Raises
    ------
    FabricError
        When ``G`` has no InfiniBand links, or has virtual (aggregated) network nodes,
        which a discovery tool cannot see: build with ``aggregate_nvswitch=false``.
    """
    devs, ports, guid, desc, lid, is_switch = _device_table(G)
    devid_of = {v: k for k, v in DEVICE_IDS.items()}
    out = ["#", ("# Topology file: generated by fabric (ibnetdiscover format) for the design "
                 f"{G.graph.get('builder', '')} {G.graph.get('params', {})}"), "#", ""]
    for n in devs:
        nd = G.nodes[n]
        g = guid(n)
        out.append("vendid=0x2c9")
        out.append(f"devid={hex(devid_of.get(nd.get('part'), 0))}")
        out.append(f"sysimgguid=0x{g}")
        if is_switch(n):
            out.append(f"switchguid=0x{g}({g})")
            out.append(f'Switch\t{nd.get("ports", 0) + 1} "S-{g}"\t\t# "{desc(n)}" enhanced port 0 '
                       f"lid {lid(n)} lmc 0")
            for p, m, pm, r in sorted(ports[n]):
                peer = f'"H-{guid(m)}"[{pm}]({_port_guid(guid(m), pm)}) ' if not is_switch(m) \
                    else f'"S-{guid(m)}"[{pm}]'
                out.append(f'[{p}]\t{peer}\t\t# "{desc(m)}" lid {lid(m)} {ib_label(r)}')
        else:
            out.append(f"caguid=0x{g}")
            out.append(f'Ca\t{nd.get("ports", 1)} "H-{g}"\t\t# "{desc(n)}"')
            for p, m, pm, r in sorted(ports[n]):
                out.append(f'[{p}]({_port_guid(g, p)}) \t"S-{guid(m)}"[{pm}]\t\t# lid {lid(n)} '
                           f'lmc 0 "{desc(m)}" lid {lid(m)} {ib_label(r)}')
        out.append("")
    return "\n".join(out)


def _port_guid(g, port):
    return f"{int(g, 16) + port - 1:016x}"


def _device_table(G):
    """The InfiniBand devices of a design, in output order, and how the writers name them:
    (devices, {device: [(port, peer, peer port, Gb/s)]}, guid(n), desc(n), lid(n),
    is_switch(n))."""
    from fabric.exceptions import FabricError
    from fabric.export.cabling import cabling_rows
    from fabric.ports import natural_key

    ib = [(u, v) for u, v, d in G.edges(data=True) if d.get("medium") == "infiniband"]
    if not ib:
        raise FabricError("the fabric has no InfiniBand links; for Ethernet use `lldp-json`")
    # switches first, then host adapters, each in natural name order
    devs = sorted({n for e in ib for n in e},
                  key=lambda n: (G.nodes[n]["kind"] == "nic", natural_key(n)))
    virtual = [n for n in devs if G.nodes[n].get("chips", 1) > 1]
    if virtual:
        msg = (f"{virtual[0]!r} stands for {G.nodes[virtual[0]]['chips']} devices (the aggregated "
               "form); discovery sees each device: build with --set aggregate_nvswitch=false "
               "--set aggregate_planes=false")
        raise FabricError(msg)
    index = {n: i for i, n in enumerate(devs)}
    rate = {}
    ports = {n: [] for n in devs}
    for a, pa, b, pb, *_ in cabling_rows(G):
        if a not in index or b not in index:
            continue
        d = G.edges[a, b]
        if d.get("medium") != "infiniband":
            continue
        r = d["bandwidth_gbps"] / d["links"]
        ports[a].append((pa, b, pb, r))
        ports[b].append((pb, a, pa, r))
        rate[a] = rate[b] = r

    def is_switch(n):
        return G.nodes[n]["kind"] != "nic"

    def guid(n):
        return _guid(index[n], 1 if is_switch(n) else 2)

    def desc(n):
        nd = G.nodes[n]
        if is_switch(n):
            return f"MF0;{n}:M{nd['part']}/U1" if nd.get("part", "unknown") != "unknown" else n
        return f"{nd.get('host', n)} {n}"

    def lid(n):
        return index[n] + 1

    return devs, ports, guid, desc, lid, is_switch

