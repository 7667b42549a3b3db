"""The network hierarchy a scheduler sees: a strict tree of switch groups, and NVLink blocks.

Slurm's ``topology/tree`` plugin and Kueue's topology levels both need a strict
tree: each host under one leaf, each leaf under one parent. A Clos fabric is
not a tree (a leaf has many spines; in a rail-optimized fabric a host has one
leaf per rail), so :func:`network_tree` groups *interchangeable* switches:

* Only the plane-0 network is used (switches whose ``plane`` is 0 or unset);
  the other planes of a multi-plane fabric are copies of it.
* Tier 1: hosts and the plane-0 switches their NICs reach form connected
  groups. A fat-tree leaf is its own group; the 8 rail leaves of a SuperPOD
  scalable unit form one group, since every host of the unit reaches all of
  them with the same hop count.
* Each higher tier: the groups below and the next-tier switches above them are
  again grouped by connectivity (every spine of a two-tier Clos: one group).

A group of one switch keeps that switch's name; a larger group is named
``<kind>-g<i>`` and the Slurm file lists its physical members in a comment.
Hosts that reach no scale-out switch (a single NVL72 rack) hang under one
switch per NVLink domain, named ``nvl-<domain>`` for the NVLink switch system.
:func:`nvlink_blocks` lists the hosts of each NVLink domain (Slurm's
``topology/block``, the Kubernetes ``accelerator`` label).

Hosts and their names come from :mod:`fabric.export.hosts`; NVLink domains
from :mod:`fabric.locality`.
"""

import re
from collections import defaultdict

from fabric.export.hosts import DEFAULT_HOSTNAME_PATTERN, host_names, site_prefix
from fabric.locality import domain_of

__all__ = ["network_tree", "nvlink_blocks"]

_TIER_KIND = {1: "leaf", 2: "spine", 3: "core", 4: "wan"}
_NET_KINDS = ("leaf", "spine", "core", "wan")


class _DSU:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _plane0(d):
    return d.get("kind") in _NET_KINDS and d.get("plane", 0) == 0


def _tier(d):
    return d.get("tier", {"leaf": 1, "spine": 2, "core": 3, "wan": 4}.get(d.get("kind"), 0))



def network_tree(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """The plane-0 switch hierarchy as a strict tree of switch groups (see module notes).

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    list of dict
        One dict per tree switch, lowest tier first: ``name``, ``kind`` (leaf,
        spine, core, wan or nvlink), ``tier``, ``members`` (physical switch
        node names), ``switches`` (child tree switches), ``hosts`` (scheduler
        names of the hosts directly below), ``link_gbps`` (members' port rate)
        and ``parent`` (name or None).

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> tree = network_tree(topologies.build_preset("fat-tree"))    # k=8: 3 tiers
    >>> [(t["kind"], sum(1 for s in tree if s["kind"] == t["kind"])) for t in tree
    ...  if t["parent"] is None]
    [('core', 1)]
    >>> sum(1 for s in tree if s["kind"] == "leaf"), sum(1 for s in tree if s["kind"] == "spine")
    (32, 8)
    """
    names = host_names(G, pattern=hostname_pattern)
    nodes = G.nodes
    # Tier 1: hosts joined to the plane-0 switches their NICs reach.
    dsu = _DSU()
    access = defaultdict(set)
    for n, d in G.nodes(data=True):
        if d.get("kind") != "nic" or d.get("host") not in names:
            continue
        for m in G[n]:
            if _plane0(nodes[m]):
                access[d["host"]].add(m)
                dsu.union(("h", d["host"]), ("s", m))
    groups = []           # tier-1 groups: {"hosts": [host nodes], "members": {switches}}
    by_root = {}
    loose = defaultdict(list)
    for h in names:
        if not access[h]:
            loose[domain_of(G, h)].append(h)
            continue
        r = dsu.find(("h", h))
        if r not in by_root:
            by_root[r] = {"hosts": [], "members": set()}
            groups.append(by_root[r])
        by_root[r]["hosts"].append(h)
        by_root[r]["members"].update(access[h])
    out = []
    counters = defaultdict(int)

    def finish(g, kind, tier, children, name=None):
        """Add the tree switch of group ``g`` above ``children`` to ``out``; return its record.

        Its name is ``name`` if given, else its one member's, else ``<kind>-g<i>``.
        """
        members = sorted(g["members"], key=_natural)
        if name is None and len(members) == 1:
            name = members[0]
        elif name is None:
            name = f"{kind}-g{counters[kind]}"
            counters[kind] += 1
        rates = [nodes[m].get("port_gbps", 0.0) for m in members]
        rec = {"name": name, "kind": kind, "tier": tier, "members": members,
               "switches": [c["name"] for c in children],
               "hosts": [names[h] for h in g.get("hosts", [])],
               "link_gbps": max(rates) if rates else 0.0, "parent": None}
        for c in children:
            c["parent"] = name
        out.append(rec)
        return rec

    frontier = []
    for g in groups:
        tier = min(_tier(nodes[m]) for m in g["members"])
        frontier.append(finish(g, _TIER_KIND.get(tier, "leaf"), tier, []))
    for hs in loose.values():
        finish({"hosts": hs, "members": ()}, "nvlink", 0, [],
               name=f"nvl-{site_prefix(G, hs[0])}d{_domain_label(G, hs[0])}")
    # Higher tiers: group the frontier by the next-tier switches above it.
    while True:
        ups = {}
        for rec in frontier:
            if rec["parent"] is not None:
                continue
            above = {m2 for m in rec["members"] for m2 in G[m]
                     if _plane0(nodes[m2]) and _tier(nodes[m2]) > rec["tier"]}
            if above:
                t = min(_tier(nodes[m2]) for m2 in above)
                ups[rec["name"]] = (rec, t, {m2 for m2 in above if _tier(nodes[m2]) == t})
        if not ups:
            break
        t = min(t for _, t, _ in ups.values())
        level = [(name, rec, above) for name, (rec, tt, above) in ups.items() if tt == t]
        dsu = _DSU()
        peers = set()
        for name, _, above in level:
            for m2 in above:
                dsu.union(("g", name), ("s", m2))
                for m3 in G[m2]:       # peers of the same tier (the WAN routers of the sites)
                    if _plane0(nodes[m3]) and _tier(nodes[m3]) == t:
                        dsu.union(("s", m2), ("s", m3))
                        peers.add(m3)
        merged = {}
        order = []
        for name, rec, above in level:
            r = dsu.find(("g", name))
            if r not in merged:
                merged[r] = ({"members": set()}, [])
                order.append(r)
            merged[r][0]["members"].update(above)
            merged[r][1].append(rec)
        for m3 in peers:
            r = dsu.find(("s", m3))
            for key in order:
                if dsu.find(key) == r:
                    merged[key][0]["members"].add(m3)
                    break
        for r in order:
            g, children = merged[r]
            frontier.append(finish(g, _TIER_KIND.get(t, "core"), t, children))
    return out


def _natural(s):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", str(s))]


def nvlink_blocks(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Hosts grouped by NVLink domain, in network order (hosts of a leaf group together).

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    list of tuple
        ``(block_name, [host names])``; block names are ``nvl<domain>``,
        prefixed ``s<site>-`` in multi-site fabrics.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> blocks = nvlink_blocks(topologies.build_preset("superpod-gb200"))
    >>> len(blocks), {len(h) for _, h in blocks}
    (16, {18})
    """
    names = host_names(G, pattern=hostname_pattern)
    blocks = {}
    for h, name in names.items():
        key = domain_of(G, h)
        if key not in blocks:
            blocks[key] = (f"{site_prefix(G, h)}nvl{_domain_label(G, h)}", [])
        blocks[key][1].append(name)
    return list(blocks.values())


def _domain_label(G, h):
    """The NVLink domain part of a name: the ``domain`` id, or the host for a domainless host."""
    domain = domain_of(G, h)[1]
    return h if isinstance(domain, str) else domain

