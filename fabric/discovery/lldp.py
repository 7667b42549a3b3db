"""Ethernet LLDP neighbours (``lldpcli -f json show neighbors``): read a fabric, write one.

One ``lldpcli -f json show neighbors`` document describes one device's neighbours::

    {"lldp": {"interface": [
        {"swp1": {"via": "LLDP",
                  "chassis": {"d0-host0": {"id": {"type": "mac", "value": "..."},
                                           "descr": "...",
                                           "capability": [{"type": "Station", "enabled": true}]}},
                  "port": {"id": {"type": "ifname", "value": "d0-nic0/1"}}}},
        ...]}}

lldpd collapses one-element lists (``interface`` is then an object) and
``-f json0`` wraps scalars as ``[{"value": ...}]``; both are read. Keys not named here
(``vlan``, ``ppvid``, ``lldp-med``, ``unknown-tlvs`` ...) are ignored, and so are
whole-line ``#`` comments, which JSON itself does not allow. A fabric needs
every device's view: the file :func:`parse_lldp_json` reads is a JSON object
mapping each device's system name to its document (``{"leaf0": {"lldp": ...},
"d0-host0": {"lldp": ...}}``); a single document (``{"lldp": ...}``) is the view of
one device named after the file.

Devices: a device some neighbour entry describes with the ``Bridge`` or ``Router``
capability is a switch; one described with ``Router`` and never with ``Bridge`` is a
WAN router (``kind = "wan"``, tier 4; the links between two of them have medium ``wan``;
see :func:`fabric.discovery.build.as_built_graph`); every other is a host. Ports: a switch interface
``swpN`` (or any name ending in a number N) is port N, a breakout ``swpNsM`` port
``(N-1)*S + M + 1`` where S is the number of lanes seen on that switch; a host
interface ``<nic>/<port>`` is port ``<port>`` of NIC ``<nic>``, any other interface
name (``eth0``) is port 1 of NIC ``<host>-<interface>``. LLDP carries no link rate:
the rates of a discovered Ethernet fabric come from the catalog parts, and
``fabric diff`` cannot find degraded links in it (a note says so).

:func:`lldp_json_text` writes that file for the Ethernet network of a design, a virtual
WAN router group (``superfactory``) as its routers and their site-to-site links
(:mod:`fabric.discovery.wan`).
"""

import json
import re

from fabric.discovery.build import Device, Link, as_built_graph

__all__ = ["parse_lldp_json", "lldp_json_text"]

_BREAKOUT = re.compile(r"^(.*?)(\d+)s(\d+)$")
_TRAILING = re.compile(r"^(.*?)(\d+)$")


def _value(x):
    """A scalar of lldpd JSON or json0 (``[{"value": ...}]``, ``{"value": ...}``)."""
    while isinstance(x, list) and x:
        x = x[0]
    if isinstance(x, dict) and "value" in x:
        return _value(x["value"])
    return x if isinstance(x, (str, int, float)) else None


def _items(x):
    """Entries of a container lldpd may print as one object or a list of objects."""
    if isinstance(x, dict):
        return [x]
    if isinstance(x, list):
        return [e for e in x if isinstance(e, dict)]
    return []


def _neighbours(doc):
    """[(local interface, chassis name, chassis descr, capabilities, peer port id)]."""
    lldp = doc.get("lldp") if isinstance(doc, dict) else None
    if isinstance(lldp, list):                           # json0
        lldp = lldp[0] if lldp and isinstance(lldp[0], dict) else {}
    out = []
    for entry in _items((lldp or {}).get("interface")):
        if "name" in entry and ("chassis" in entry or "port" in entry):
            pairs = [(_value(entry["name"]), entry)]     # json0 / ubus shape
        else:
            pairs = list(entry.items())
        for ifname, body in pairs:
            if not isinstance(body, dict):
                continue
            chassis_name, descr, caps = None, "", set()
            for ch in _items(body.get("chassis")):
                if "name" in ch or "id" in ch:           # json0: {"name": [...], "id": ...}
                    chassis_name = _value(ch.get("name")) or _value(ch.get("id"))
                    descr = _value(ch.get("descr")) or ""
                    cap_list = ch.get("capability")
                else:
                    chassis_name, inner = next(iter(ch.items()))
                    inner = inner if isinstance(inner, dict) else {}
                    descr = _value(inner.get("descr")) or ""
                    cap_list = inner.get("capability")
                for c in _items(cap_list):
                    if c.get("enabled") in (True, "true", "on") or \
                            _value(c.get("enabled")) in (True, "true", "on"):
                        caps.add(str(_value(c.get("type"))))
            port_id = None
            for pt in _items(body.get("port")):
                port_id = _value(pt.get("id")) or _value(pt.get("descr"))
            if chassis_name and port_id is not None and ifname:
                out.append((str(ifname), str(chassis_name), str(descr), caps, str(port_id)))
    return out


class _Object(dict):
    """A JSON object that remembers the keys its text repeats (``json`` keeps the last)."""

    def __init__(self, items):
        super().__init__(items)
        self.repeated = set()
        if len(self) < len(items):
            seen = set()
            for k, _ in items:
                (self.repeated if k in seen else seen).add(k)


def _pairs(items):
    """``json`` ``object_pairs_hook``: a dict, or an :class:`_Object` when keys repeat."""
    d = dict(items)
    return d if len(d) == len(items) else _Object(items)


def _repeated_interfaces(doc):
    """Interface names a device's document repeats as keys of its ``interface`` object."""
    lldp = doc.get("lldp") if isinstance(doc, dict) else None
    if isinstance(lldp, list):
        lldp = lldp[0] if lldp and isinstance(lldp[0], dict) else {}
    out = set()
    for entry in _items((lldp or {}).get("interface")):
        out |= getattr(entry, "repeated", set())
    return out


def _doc_start(name):
    """A regex of the start of system ``name``'s document in the file."""
    return re.compile(r'"%s"\s*:\s*\{\s*"lldp"' % re.escape(name))


def _if_key(ifname):
    """A regex of interface ``ifname`` listed in a document (lldpcli or json0 shape)."""
    q = re.escape(json.dumps(ifname))
    return re.compile(r'%s\s*:|"name"\s*:\s*(?:\[\s*\{\s*"value"\s*:\s*)?%s' % (q, q))


def _line_of(text, pattern, nth, *, start=0, pos=False):
    """The line (1-based) of the ``nth`` match of ``pattern`` in ``text`` from offset
    ``start`` (its offset when ``pos``); None when there are fewer (the message then names
    no line)."""
    for i, m in enumerate(pattern.finditer(text, start), 1):
        if i == nth:
            return m.start() if pos else text.count("\n", 0, m.start()) + 1
    return None


def _at(line):
    return f" line {line}" if line else ""


def parse_lldp_json(text, *, source="<text>", catalog=None):
    """A fabric graph from LLDP neighbour documents (see the module).

    Raises
    ------
    FabricFormatError
        When the text is empty, not JSON (truncated, another format's output: the message
        names the line and the format it looks like), holds no LLDP neighbour, lists one
        system twice, or lists one interface of a device twice with different neighbours.

    Examples
    --------
    >>> doc = {"leaf0": {"lldp": {"interface": {"swp1": {
    ...     "chassis": {"h0": {"capability": [{"type": "Station", "enabled": True}]}},
    ...     "port": {"id": {"type": "ifname", "value": "nic0/1"}}}}}},
    ...        "h0": {"lldp": {"interface": {"nic0/1": {
    ...     "chassis": {"leaf0": {"descr": "Cumulus Linux on NVIDIA SN5600",
    ...                           "capability": [{"type": "Bridge", "enabled": True}]}},
    ...     "port": {"id": {"type": "ifname", "value": "swp1"}}}}}}}
    >>> G = parse_lldp_json(json.dumps(doc))
    >>> sorted(G.nodes(data="kind")), G.nodes["leaf0"]["part"]
    ([('h0', 'host'), ('h0-cpu', 'cpu'), ('leaf0', 'leaf'), ('nic0', 'nic')], 'SN5600')
    """
    from pathlib import Path

    from fabric.discovery import empty_error, format_hint
    from fabric.exceptions import FabricFormatError

    expected = ("a JSON object of system name -> `lldpcli -f json show neighbors` output "
                "(see fabric.discovery.lldp)")
    empty = empty_error(text, source, expected)
    if empty is not None:
        raise empty
    # whole-line `#` comments (no JSON text can start a line with `#`: strings hold no
    # newline), e.g. a header a collection script wrote
    text = "\n".join("" if ln.lstrip().startswith("#") else ln for ln in text.splitlines())
    try:
        doc = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        end = not text[exc.pos:].strip()
        why = ("it ends before the JSON is complete: the file looks truncated" if end else
               f"{exc.msg}, column {exc.colno}")
        msg = (f"`{source}` line {exc.lineno}: not JSON ({why}); expected {expected}"
               f"{format_hint(text, 'lldp-json')}")
        raise FabricFormatError(msg) from None
    single = isinstance(doc, dict) and "lldp" in doc
    if single:
        doc = {Path(source).stem: doc}
    if not isinstance(doc, dict):
        raise FabricFormatError(f"`{source}`: expected {expected}")
    for name in sorted(getattr(doc, "repeated", ())):
        line = _line_of(text, _doc_start(name), 2)
        msg = (f"`{source}`{_at(line)}: system {name!r} is listed twice (two collections "
               f"concatenated?); expected {expected}, one document per system")
        raise FabricFormatError(msg)
    views = {str(name): _neighbours(d) for name, d in doc.items()}
    if not any(views.values()):
        msg = f"`{source}` holds no LLDP neighbour (is it `lldpcli -f json show neighbors`?)"
        raise FabricFormatError(msg)
    for name, rows in views.items():
        repeated = _repeated_interfaces(doc[name])
        first = {}
        for ifname, peer, _, _, peer_port in rows:
            if first.setdefault(ifname, (peer, peer_port)) != (peer, peer_port) or \
                    ifname in repeated:
                p, q = first[ifname]
                start = 0 if single else _line_of(text, _doc_start(name), 1, pos=True) or 0
                line = _line_of(text, _if_key(ifname), 2, start=start)
                how = (f"to {p} {q} and to {peer} {peer_port}" if (p, q) != (peer, peer_port)
                       else "as two keys of one JSON object")
                msg = (f"`{source}`{_at(line)}: {name} lists interface {ifname!r} twice "
                       f"({how}); a port has one cable: expected one neighbour per interface")
                raise FabricFormatError(msg)
        views[name] = list({(r[0], r[1], r[4]): r for r in rows}.values())
    switches, bridges, descr = set(), set(), {}
    for rows in views.values():
        for _, peer, d, caps, _ in rows:
            if caps & {"Bridge", "Router"}:
                switches.add(peer)
            if "Bridge" in caps:
                bridges.add(peer)
            if d:
                descr.setdefault(peer, d)
    routers = switches - bridges                 # Router only: a WAN router
    devices_named = set(views) | {r[1] for rows in views.values() for r in rows}
    hosts = devices_named - switches
    # host interfaces: (host, interface) -> (nic, port)
    host_ifs = set()
    for name, rows in views.items():
        if name in hosts:
            host_ifs.update((name, r[0]) for r in rows)
    for rows in views.values():
        host_ifs.update((r[1], r[4]) for r in rows if r[1] in hosts)
    plain = {}
    for h, i in host_ifs:
        if "/" not in i:
            plain.setdefault(i, set()).add(h)

    def nic_of(host, ifname):
        base, slash, port = ifname.rpartition("/")
        if slash and port.isdigit():
            return base, int(port)
        if len(plain.get(ifname, ())) > 1 or ifname in devices_named:
            return f"{host}-{ifname}", 1
        return ifname, 1

    lanes = {}
    for name, rows in views.items():
        for r in rows:
            for sw, ifn in ((name, r[0]), (r[1], r[4])):
                m = _BREAKOUT.match(ifn)
                if sw in switches and m:
                    lanes[sw] = max(lanes.get(sw, 1), int(m.group(3)) + 1)
    notes = []

    def port_of(sw, ifname):
        m = _BREAKOUT.match(ifname)
        if m:
            return (int(m.group(2)) - 1) * lanes.get(sw, 1) + int(m.group(3)) + 1
        m = _TRAILING.match(ifname)
        if m:
            return int(m.group(2))
        notes.append(f"{sw}: interface {ifname!r} has no port number; skipped")
        return None

    def end(device, ifname):
        if device in switches:
            p = port_of(device, ifname)
            return None if p is None else (device, p)
        return nic_of(device, ifname)

    devices, links = {}, []
    for name, rows in sorted(views.items()):
        for ifname, peer, _, _, peer_port in rows:
            a, b = end(name, ifname), end(peer, peer_port)
            if a is None or b is None:
                continue
            for dev, owner in ((a[0], name), (b[0], peer)):
                if dev not in devices:
                    if owner in routers:
                        devices[dev] = Device(dev, "router", descr.get(dev, ""))
                    elif owner in switches:
                        devices[dev] = Device(dev, "switch", descr.get(dev, ""))
                    else:
                        devices[dev] = Device(dev, "ca", "", 0, owner)
            links.append(Link(a[0], a[1], b[0], b[1], 0.0))
    notes.append("LLDP reports no link rates: rates are the catalog parts' and degraded "
                 "links cannot be seen")
    return as_built_graph(list(devices.values()), links, medium="ethernet",
                          builder="discovery:lldp-json", source=source, catalog=catalog,
                          notes=notes)


def lldp_json_text(G):
    """The LLDP neighbour documents of every device of the Ethernet network of the design
    ``G`` (the file :func:`parse_lldp_json` reads): switches named by their node, hosts by
    their host node, switch interfaces ``swp<port>``, host interfaces ``<nic>/<port>``.

    A virtual WAN router group (``superfactory``) is written as its individual routers,
    with the site-to-site links (medium ``wan``), by the rule of
    :mod:`fabric.discovery.wan`; a WAN router announces the ``Router`` capability only
    (fabric switches ``Bridge`` and ``Router``), which :func:`parse_lldp_json` reads back
    as a ``wan`` node.

    Raises
    ------
    FabricError
        When ``G`` has no Ethernet links, or aggregated (virtual) network nodes other than
        the WAN router groups.
    """
    from fabric.catalog import default_catalog
    from fabric.discovery.diff import network_links
    from fabric.discovery.wan import wan_routers
    from fabric.exceptions import CatalogError, FabricError
    from fabric.ports import natural_key

    routers = wan_routers(G)

    def node(n):
        return routers[n] if n in routers else G.nodes[n]

    links = network_links(G)
    eth = [(a, pa, b, pb) for a, pa, b, pb, _, m in links if m == "ethernet"]
    if not eth:
        raise FabricError("the fabric has no Ethernet links; for InfiniBand use `ibnetdiscover`")
    eth += [(a, pa, b, pb) for a, pa, b, pb, _, m in links if m == "wan"]
    virtual = sorted({n for a, _, b, _ in eth for n in (a, b) if node(n).get("chips", 1) > 1},
                     key=natural_key)
    if virtual:
        msg = (f"{virtual[0]!r} stands for {node(virtual[0])['chips']} devices (the aggregated "
               "form); LLDP sees each device: build with --set aggregate_nvswitch=false "
               "--set aggregate_planes=false")
        raise FabricError(msg)
    catalog = default_catalog()

    def system(n):
        return n if node(n)["kind"] != "nic" else node(n).get("host", n)

    def ifname(n, p):
        return f"swp{p}" if node(n)["kind"] != "nic" else f"{n}/{p}"

    def chassis(n):
        sysname = system(n)
        nd = node(n)
        if nd["kind"] == "nic":
            return {sysname: {"id": {"type": "local", "value": sysname},
                              "descr": "host", "capability": [{"type": "Station",
                                                               "enabled": True}]}}
        part = nd.get("part", "")
        try:
            pname = catalog.part("switch", part).get("name", part)
        except CatalogError:
            pname = part
        bridge = nd["kind"] != "wan"
        return {sysname: {"id": {"type": "local", "value": sysname},
                          "descr": f"Cumulus Linux on {pname}",
                          "capability": [{"type": "Bridge", "enabled": bridge},
                                         {"type": "Router", "enabled": True}]}}

    views = {}
    for a, pa, b, pb in eth:
        for x, px, y, py in ((a, pa, b, pb), (b, pb, a, pa)):
            views.setdefault(system(x), []).append(
                (natural_key(ifname(x, px)), {ifname(x, px): {
                    "via": "LLDP", "chassis": chassis(y),
                    "port": {"id": {"type": "ifname", "value": ifname(y, py)}}}}))
    doc = {name: {"lldp": {"interface": [e for _, e in sorted(views[name], key=lambda t: t[0])]}}
           for name in sorted(views, key=natural_key)}
    return json.dumps(doc, indent=1) + "\n"
