"""InfiniBand ``iblinkinfo`` output: read it into a fabric, write it for a design.

The format (infiniband-diags ``iblinkinfo(8)``), one block per node::

    Switch: 0xb83fd203000a0001 MF0;leaf01:MQM9700/U1:
               2    1[  ] ==( 4X        106.25 Gbps Active/  LinkUp)==>     100    1[  ] "dgx01 mlx5_0" ( )
               2    2[  ] ==(                Down/ Polling)==>             [  ] "" ( )
    CA: dgx01 mlx5_0:
          0xe09d730300a00001    100    1[  ] ==( 4X        106.25 Gbps Active/  LinkUp)==>       2    1[  ] "MF0;leaf01:MQM9700/U1" ( )

A port line gives the node's LID and port, the link's width and per-lane signalling
rate (106.25 Gbps = NDR, 53.125 = HDR, 25.78125 = EDR, 212.5 = XDR ...), then the
peer's LID, port and description. Peers are found by LID (a switch has one LID, each
``CA`` port its own), else by description (a host adapter without a block of its own).
Names follow :mod:`fabric.discovery.ibnetdiscover`; ports that are not ``LinkUp`` are
skipped. A switch's port count is the highest port listed (``iblinkinfo`` lists every
port). Blank lines, ``#`` comments and ``Router:`` blocks are ignored; after the first
block, a line of no known shape is skipped with a note (before it, the text is refused).

Refused with :class:`~fabric.exceptions.FabricFormatError` naming the file and line: an
empty file; a first line that is neither a block header nor a port line (another
format's output; the message names the format it looks like); a port listed twice in
one block, or a second block for one switch GUID; truncated output: a file that ends in
an incomplete port line or in a block before its first port line, or a link to a switch
(``MF0;`` description) that has no block of its own. A host adapter without a ``CA:``
block (``iblinkinfo --switches-only``) is taken from its peer's description.
"""

import re

from fabric.discovery.build import IB_LANE_GBPS, Link, as_built_graph, ib_label
from fabric.discovery.ibnetdiscover import _MF0, _names, _skipped_note, apply_name_map

__all__ = ["parse_iblinkinfo", "iblinkinfo_text", "LANE_SIGNAL_GBPS"]

LANE_SIGNAL_GBPS = {"SDR": 2.5, "DDR": 5.0, "QDR": 10.0, "FDR10": 10.3125, "FDR": 14.0625,
                    "EDR": 25.78125, "HDR": 53.125, "NDR": 106.25, "XDR": 212.5}
"""The per-lane signalling rate ``iblinkinfo`` prints for each InfiniBand speed."""

_SPEED_OF = {v: k for k, v in LANE_SIGNAL_GBPS.items()}
_HEAD = re.compile(r"^(Switch|CA|Router):\s*(?:(0x[0-9a-fA-F]+)\s+)?(.*?):?\s*$")
_LINE = re.compile(r"^(?:(0x[0-9a-fA-F]+)\s+(?:\"[^\"]*\"\s+)?)?(\d+)\s+(\d+)\[[^\]]*\]\s+==\((.*?)\)==>"
                   r"\s*(?:(0x[0-9a-fA-F]+)\s+)?(\d*)\s*(\d*)\[[^\]]*\]\s+\"([^\"]*)\"")
_PORTISH = re.compile(r"^(?:0x[0-9a-fA-F]+\s+)?\d+\s+\d+\[")     # a port line's start
_WIDTH_SPEED = re.compile(r"(\d+)X\s+([\d.]+)\s*Gbps(?:\s*\((FDR10)\))?")


def _rate(inside):
    """Gb/s of a link from the text inside ``==( ... )==>`` (0.0 when not known)."""
    m = _WIDTH_SPEED.search(inside)
    if not m:
        return 0.0
    width, lane, fdr10 = int(m.group(1)), float(m.group(2)), m.group(3)
    speed = "FDR10" if fdr10 else _SPEED_OF.get(lane)
    if speed is None:                       # data rates printed directly (some versions)
        speed = next((s for s, g in IB_LANE_GBPS.items() if abs(g - lane) < 1e-6), None)
    return width * IB_LANE_GBPS[speed] if speed else width * lane


def parse_iblinkinfo(text, *, source="<text>", catalog=None, name_map=None):
    """A fabric graph from ``iblinkinfo`` output (see the module).

    Raises
    ------
    FabricFormatError
        When the text holds no ``Switch:``/``CA:`` block, or is refused as the module says
        (the message names the line).

    Examples
    --------
    >>> text = '''Switch: 0x0000000000000001 MF0;leaf0:MQM9700/U1:
    ...            1    1[  ] ==( 4X        106.25 Gbps Active/  LinkUp)==>       2    1[  ] "node1 mlx5_0" ( )
    ...            1    2[  ] ==(                Down/ Polling)==>             [  ] "" ( )
    ... CA: node1 mlx5_0:
    ...       0x0000000000000002      2    1[  ] ==( 4X        106.25 Gbps Active/  LinkUp)==>       1    1[  ] "MF0;leaf0:MQM9700/U1" ( )
    ... '''
    >>> G = parse_iblinkinfo(text)
    >>> G.edges["mlx5_0", "leaf0"]["bandwidth_gbps"], G.nodes["leaf0"]["part"]
    (400.0, 'QM9700')
    """
    from fabric.discovery import empty_error, format_hint
    from fabric.exceptions import FabricFormatError

    expected = "`iblinkinfo` output (Switch:/CA: headers, each followed by its port lines)"
    empty = empty_error(text, source, expected)
    if empty is not None:
        raise empty

    def fail(lineno, line, why, hint=""):
        msg = (f"`{source}` line {lineno}: {why}: {line.strip()[:100]!r}; expected "
               f"{expected}{hint}")
        raise FabricFormatError(msg)

    nodes, lines, lid_of, skipped = {}, [], {}, []
    current = None
    top = {}
    block_ports, head = set(), None            # the current block's ports, (lineno, line)
    last = None                                # the last line that is not blank or `#`
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        last = (lineno, raw)
        m = _HEAD.match(line)
        if m and "==(" not in line:
            typ, guid, desc = m.groups()
            head, block_ports = (lineno, raw), set()
            if typ == "Router":
                current = None
                continue
            key = f"S-{guid[2:].lower()}" if typ == "Switch" and guid else f"C-{len(nodes)}"
            if key in nodes:
                fail(lineno, raw, f"a second block for switch GUID {guid} (GUIDs are unique; "
                                  "two outputs concatenated?)")
            current = key
            nodes[key] = ["switch" if typ == "Switch" else "ca", 0, desc.strip(), 0]
            continue
        m = _LINE.match(line)
        if not m and nodes:
            skipped.append((lineno, raw))      # after the first block: a record we skip
            continue
        if not m:
            fail(lineno, raw, "not a Switch:/CA: header or a port line",
                 format_hint(text, "iblinkinfo"))
        block_ports.add(None)                  # the block has a port line
        if current is None:
            continue
        _, lid, port, inside, _, peer_lid, peer_port, peer_desc = m.groups()
        if int(port) in block_ports:
            fail(lineno, raw, f"port {port} of this device is listed twice (one line per port)")
        block_ports.add(int(port))
        lid_of.setdefault(int(lid), current)
        top[current] = max(top.get(current, 0), int(port))
        if "LinkUp" in inside and peer_lid and peer_port:
            lines.append((current, int(port), int(peer_lid), int(peer_port), peer_desc,
                          _rate(inside), lineno))
    if not nodes:
        msg = f"`{source}` has no Switch: or CA: block; is it `iblinkinfo` output?"
        raise FabricFormatError(msg)
    if last is not None and last == (skipped[-1] if skipped else None) and \
            _PORTISH.match(last[1].strip()):
        fail(*last, "the file ends in an incomplete port line: the output looks truncated")
    if head is not None and not block_ports:
        fail(*head, "the file ends in this block before any of its port lines: the output "
                    "looks truncated")
    for key, rec in nodes.items():
        rec[1] = top.get(key, 0) + (1 if rec[0] == "switch" else 0)
    # peers: by LID, else by description (a host adapter without its own block)
    by_desc = {}
    for key, rec in nodes.items():
        by_desc.setdefault(rec[2], key)
    resolved, blockless = [], []
    for key, port, peer_lid, peer_port, desc, rate, lineno in lines:
        peer = lid_of.get(peer_lid) or by_desc.get(desc)
        if peer is None and _MF0.match(desc):
            blockless.append((lineno, peer_lid, desc))          # a switch: truncated
            continue
        if peer is None:
            peer = f"C-lid{peer_lid}"
            if peer not in nodes:
                nodes[peer] = ["ca", 1, desc, 0]
        resolved.append((key, port, peer, peer_port, rate))
    if blockless:
        lineno, lid, desc = blockless[0]
        n = len({b[1] for b in blockless})
        msg = (f"`{source}` line {lineno}: links to {n} switch(es) that have no block of their "
               f"own (e.g. LID {lid} {desc!r}): `iblinkinfo` prints a block for every switch, "
               f"so the file looks truncated (its last line is {last[0]})")
        raise FabricFormatError(msg)
    devices = apply_name_map(_names({k: tuple(v) for k, v in nodes.items()}, {}),
                             name_map)
    links = [Link(devices[a].name, p, devices[b].name, q, r) for a, p, b, q, r in resolved]
    notes = [_skipped_note(skipped, "Switch:/CA: headers or port lines")] if skipped else []
    return as_built_graph(list(devices.values()), links, medium="infiniband",
                          builder="discovery:iblinkinfo", source=source, catalog=catalog,
                          notes=notes)


def iblinkinfo_text(G):
    """What ``iblinkinfo`` would print for the InfiniBand network of the design ``G``
    (GUIDs and LIDs as :func:`fabric.discovery.ibnetdiscover.ibnetdiscover_text` makes them
    up; only connected ports are listed)."""
    from fabric.discovery.ibnetdiscover import _device_table

    devs, ports, guid, desc, lid, is_switch = _device_table(G)
    out = []
    for n in devs:
        if is_switch(n):
            out.append(f"Switch: 0x{guid(n)} {desc(n)}:")
            pre = ""
        else:
            out.append(f"CA: {desc(n)}:")
            pre = f"0x{guid(n)} "
        for p, m, pm, r in sorted(ports[n]):
            label = ib_label(r)
            width, speed = label.split("x")
            lane = LANE_SIGNAL_GBPS[speed]
            out.append(f"      {pre}{lid(n):>6} {p:>4}[  ] ==( {width}X {lane:>13g} Gbps "
                       f"Active/  LinkUp)==> {lid(m):>7} {pm:>4}[  ] \"{desc(m)}\" ( )")
    return "\n".join(out) + "\n"
