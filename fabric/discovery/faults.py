"""Seeded faults written into a design's ``ibnetdiscover`` text, with the differences
``fabric diff`` must report for them (for tests and ``bench/diff.py``).

:func:`inject_faults` takes the text :func:`~fabric.discovery.ibnetdiscover.ibnetdiscover_text`
writes for a design and edits it as a miswired build would print: both ends of every
touched link are rewritten. Kinds of fault (each on device pairs no other fault uses, so
that every fault is told apart):

``remove``      a cable is gone                                  -> 1 ``missing``
``degrade``     a cable at half rate, alternately 4x -> 2x lanes
                and one speed lower (NDR -> HDR, XDR -> NDR)     -> 1 ``degraded``
``miscable``    two leaf-spine cables of different leaves and
                spines with their spine ends exchanged           -> 2 (``miscabled``, or
                                                                    ``wrong-plane``/``-rail``)
``port-swap``   two uplinks of one leaf on each other's port     -> 1 ``swapped``
``rail-swap``   two NICs of one NVLink domain on different rails
                with their leaf ends exchanged                   -> 2 ``wrong-rail``
"""

import random
import re

__all__ = ["FAULT_KINDS", "IbText", "inject_faults"]

FAULT_KINDS = ("remove", "degrade", "miscable", "port-swap", "rail-swap")

_HEADER = re.compile(r'^(Switch|Ca)\s+\d+\s+"([SH])-([0-9a-fA-F]+)"\s*#\s*"([^"]*)"')
_PORTLINE = re.compile(r"^\[(\d+)\]")
_LABEL = re.compile(r"\b\d+x[A-Z0-9]+\s*$")


class IbText:
    """An ``ibnetdiscover`` text written by :func:`ibnetdiscover_text`, as lines, with its
    devices and port lines found by name, to be edited link end by link end."""

    def __init__(self, text):
        self.lines = text.splitlines()
        self.guid, self.type, self.desc, self.at = {}, {}, {}, {}
        current = None
        for i, ln in enumerate(self.lines):
            m = _HEADER.match(ln)
            if m:
                typ, prefix, guid, desc = m.groups()
                name = desc.split(";", 1)[1].split(":", 1)[0] if typ == "Switch" and \
                    desc.startswith("MF0;") else desc.split(" ", 1)[-1]
                self.guid[name], self.type[name], self.desc[name] = guid, prefix, desc
                current = name
                continue
            m = _PORTLINE.match(ln)
            if m and current is not None:
                self.at[(current, int(m.group(1)))] = i

    def set_peer(self, dev, port, peer, peer_port, label):
        """The line of ``dev[port]`` names ``peer[peer_port]`` at ``label`` (``4xNDR``)."""
        self.lines[self.at[(dev, port)]] = (
            f'[{port}]\t"{self.type[peer]}-{self.guid[peer]}"[{peer_port}]\t\t'
            f'# "{self.desc[peer]}" lid 0 {label}')

    def relabel(self, dev, port, label):
        """The line of ``dev[port]`` at rate ``label``."""
        i = self.at[(dev, port)]
        self.lines[i] = _LABEL.sub(label, self.lines[i])

    def drop(self, dev, port):
        """No link on ``dev[port]``."""
        self.lines[self.at.pop((dev, port))] = "# (cable removed)"

    def text(self):
        return "\n".join(self.lines) + "\n"


def _fmt(a, p, b, q):
    return f"{a}[{p}] - {b}[{q}]"


def _moved_kind(nodes, lost, other):
    """The kind ``diff_fabrics`` gives a cable designed to ``lost`` found on ``other``."""
    lo, ot = nodes[lost], nodes[other]
    if lo.get("kind") != ot.get("kind"):
        return "miscabled"
    if lo.get("plane") != ot.get("plane"):
        return "wrong-plane"
    if lo.get("rail") != ot.get("rail"):
        return "wrong-rail"
    return "miscabled"


def inject_faults(G, counts, *, seed=0, text=None):
    """Write ``counts`` (``{kind: number}``, kinds of :data:`FAULT_KINDS`) faults into the
    ``ibnetdiscover`` text of the design ``G`` (``text``, or written here), chosen at
    random with ``seed``.

    Returns
    -------
    (str, list)
        The edited text and the differences :func:`~fabric.discovery.diff.diff_fabrics`
        must report, as ``(kind, {design strings it may be filed under})``.

    Raises
    ------
    FabricError
        When ``G`` has too few links of the needed kinds left for the faults asked.
    """
    from fabric.discovery.build import ib_label
    from fabric.discovery.diff import physical_links
    from fabric.discovery.ibnetdiscover import ibnetdiscover_text
    from fabric.exceptions import FabricError, ParameterError
    from fabric.locality import domain_of

    unknown = set(counts) - set(FAULT_KINDS)
    if unknown:
        msg = f"unknown fault kind(s) {sorted(unknown)}; kinds: {', '.join(FAULT_KINDS)}"
        raise ParameterError(msg)
    rng = random.Random(seed)
    links = sorted(physical_links(G).values(), key=lambda x: x[:4])
    nodes = G.nodes
    kind = {n: nodes[n]["kind"] for ln in links for n in (ln[0], ln[2])}
    ib = IbText(text if text is not None else ibnetdiscover_text(G))
    used_pairs, used_links, expected = set(), set(), []

    def free(*pairs):
        return not any(frozenset(p) in used_pairs for p in pairs)

    def take(lns, pairs):
        used_pairs.update(frozenset(p) for p in pairs)
        used_links.update(lns)

    def pick(pred, what):
        cands = [ln for ln in links if ln not in used_links and free((ln[0], ln[2])) and
                 pred(ln)]
        if not cands:
            raise FabricError(f"no link left for a `{what}` fault")
        return rng.choice(cands)

    def leaf_spine(ln):
        return (kind[ln[0]], kind[ln[2]]) == ("leaf", "spine")

    def nic_leaf(ln):
        return (kind[ln[0]], kind[ln[2]]) == ("nic", "leaf")

    def exchange(x, y):
        """x = (a, p, b, q), y = (c, r, d, s) -> a[p]-d[s] and c[r]-b[q]."""
        (a, p, b, q, g), (c, r, d, s, h) = x, y
        ib.set_peer(a, p, d, s, ib_label(g))
        ib.set_peer(d, s, a, p, ib_label(g))
        ib.set_peer(c, r, b, q, ib_label(h))
        ib.set_peer(b, q, c, r, ib_label(h))
        take([x, y], [(a, b), (c, d), (a, d), (c, b)])
        expected.append((_moved_kind(nodes, b, d), {_fmt(a, p, b, q)}))
        expected.append((_moved_kind(nodes, d, b), {_fmt(c, r, d, s)}))

    for _ in range(counts.get("remove", 0)):
        a, p, b, q, _ = ln = pick(lambda ln: True, "remove")
        ib.drop(a, p)
        ib.drop(b, q)
        take([ln], [(a, b)])
        expected.append(("missing", {_fmt(a, p, b, q)}))
    for i in range(counts.get("degrade", 0)):
        a, p, b, q, g = ln = pick(lambda ln: ib_label(ln[4]).startswith("4x"), "degrade")
        label = ib_label(g)
        label = label.replace("4x", "2x") if i % 2 == 0 else \
            label.replace("NDR", "HDR").replace("XDR", "NDR")
        ib.relabel(a, p, label)
        ib.relabel(b, q, label)
        take([ln], [(a, b)])
        expected.append(("degraded", {_fmt(a, p, b, q)}))
    for _ in range(counts.get("miscable", 0)):
        for attempt in range(100):
            x = pick(leaf_spine, "miscable")
            try:
                y = pick(lambda ln, x=x: leaf_spine(ln) and ln[0] != x[0] and ln[2] != x[2] and
                         free((x[0], ln[2]), (ln[0], x[2])), "miscable")
                break
            except FabricError:
                if attempt == 99:
                    raise
        exchange(x, y)
    for _ in range(counts.get("port-swap", 0)):
        ups = _group([ln for ln in links if leaf_spine(ln) and ln not in used_links and
                      free((ln[0], ln[2]))], lambda ln: ln[0])
        x = pick(lambda ln, ups=ups: leaf_spine(ln) and
                 any(m[2] != ln[2] for m in ups.get(ln[0], ())),
                 "port-swap")
        y = pick(lambda ln, x=x: leaf_spine(ln) and ln[0] == x[0] and ln[2] != x[2],
                 "port-swap")
        (a, p, b, q, g), (_, r, d, s, h) = x, y
        ib.set_peer(a, p, d, s, ib_label(h))
        ib.set_peer(d, s, a, p, ib_label(h))
        ib.set_peer(a, r, b, q, ib_label(g))
        ib.set_peer(b, q, a, r, ib_label(g))
        take([x, y], [(a, b), (a, d)])
        expected.append(("swapped", {_fmt(a, p, b, q), _fmt(a, r, d, s)}))
    for _ in range(counts.get("rail-swap", 0)):
        downs = _group([ln for ln in links if nic_leaf(ln) and ln not in used_links and
                        free((ln[0], ln[2]))], lambda ln: domain_of(G, ln[0]))

        def mate(x, ln):
            return (ln[0] != x[0] and nodes[ln[2]].get("rail") != nodes[x[2]].get("rail") and
                    free((x[0], ln[2]), (ln[0], x[2])))

        x = pick(lambda ln, downs=downs: nic_leaf(ln) and any(
            mate(ln, m) for m in downs.get(domain_of(G, ln[0]), ())), "rail-swap")
        y = pick(lambda ln, x=x: nic_leaf(ln) and domain_of(G, ln[0]) == domain_of(G, x[0])
                 and mate(x, ln), "rail-swap")
        exchange(x, y)
    return ib.text(), expected


def _group(links, key):
    out = {}
    for ln in links:
        out.setdefault(key(ln), []).append(ln)
    return out
