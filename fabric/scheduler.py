"""Scheduler exports: Slurm topology files, Kubernetes node labels, a Kueue Topology.

A scheduler sees *hosts* (what Slurm calls nodes and Kubernetes calls Nodes):
the ``kind == "host"`` nodes of the fabric that own at least one GPU (a GPU-less
appliance such as a SuperPOD's UFM host is never listed). Each host gets a
name from a pattern (:func:`host_names`), by default ``node0001``,
``node0002``, ... in the graph's node order.

The network hierarchy
---------------------
Slurm's ``topology/tree`` plugin and Kueue's topology levels both need a strict
tree: each host under one leaf, each leaf under one parent. A Clos fabric is
not a tree (a leaf has many spines; in a rail-optimized fabric a host has one
leaf per rail), so the exports group *interchangeable* switches:

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
"""

import re
from collections import defaultdict

from fabric.exceptions import FabricError, ParameterError
from fabric.io import atomic_write

__all__ = [
    "DEFAULT_HOSTNAME_PATTERN", "K8S_LABEL_KEYS", "SCHEDULER_FORMATS",
    "scheduler_hosts", "host_names", "compress_hostlist", "network_tree", "nvlink_blocks",
    "slurm_topology_tree", "slurm_topology_block", "slurm_topology_yaml",
    "k8s_node_labels", "k8s_labels_yaml", "k8s_labels_script", "kueue_topology",
    "write_scheduler_file",
]

DEFAULT_HOSTNAME_PATTERN = "node{index:04d}"
"""Default host name pattern: ``node0001``, ``node0002``, ... (see :func:`host_names`)."""

K8S_LABEL_KEYS = {
    "datacenter": "network.topology.nvidia.com/datacenter",
    "core": "network.topology.nvidia.com/core",
    "spine": "network.topology.nvidia.com/spine",
    "leaf": "network.topology.nvidia.com/leaf",
    "accelerator": "network.topology.nvidia.com/accelerator",
}
"""Kubernetes node label keys, NVIDIA topograph's defaults (outermost level first)."""

SCHEDULER_FORMATS = ("slurm-tree", "slurm-block", "slurm-yaml", "k8s-labels", "k8s-script",
                     "kueue-topology")
"""Formats :func:`write_scheduler_file` writes."""

_TIER_KIND = {1: "leaf", 2: "spine", 3: "core", 4: "wan"}
_NET_KINDS = ("leaf", "spine", "core", "wan")
_KUEUE_API = ("kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1", "kueue.x-k8s.io/v1alpha1")


def scheduler_hosts(G):
    """The hosts a scheduler lists: ``kind == "host"`` nodes owning a GPU, in graph order.

    Parameters
    ----------
    G
        A fabric graph.

    Returns
    -------
    list of str
        Host node names.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> len(scheduler_hosts(topologies.build_preset("superpod-h100")))   # not the UFM host
    31
    """
    owners = {d.get("host") for _, d in G.nodes(data=True) if d.get("kind") == "gpu"}
    hosts = [n for n, d in G.nodes(data=True) if d.get("kind") == "host" and n in owners]
    if not hosts:
        msg = ("the fabric has no hosts with GPUs (nodes of kind `host` owning `gpu` nodes); "
               "scheduler files need them; build it from a preset or a spec file")
        raise FabricError(msg)
    return hosts


def host_names(G, *, pattern=DEFAULT_HOSTNAME_PATTERN):
    """Scheduler names of the hosts, from a ``str.format`` pattern.

    Parameters
    ----------
    G
        A fabric graph.
    pattern
        Fields: ``{index}`` (1-based position in :func:`scheduler_hosts`),
        ``{index0}`` (0-based), ``{name}`` (the host's node name), and the
        host's ``{site}``, ``{pod}``, ``{rack}``, ``{domain}`` (0 when unset).
        Default ``"node{index:04d}"``; ``"{name}"`` keeps the graph's names.

    Returns
    -------
    dict
        Host node name -> scheduler name, in host order.

    Raises
    ------
    ParameterError
        When the pattern is malformed, uses an unknown field, gives a name that
        is not a valid host name, or gives two hosts the same name.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("gb200-nvl72")
    >>> names = host_names(G, pattern="gb{rack:02d}-t{index0:02d}")
    >>> names["d0-host0"], len(set(names.values()))
    ('gb00-t00', 18)
    """
    hosts = scheduler_hosts(G)
    out = {}
    seen = {}
    for i, h in enumerate(hosts):
        d = G.nodes[h]
        fields = {"index": i + 1, "index0": i, "name": h, "site": d.get("site", 0),
                  "pod": d.get("pod", 0), "rack": d.get("rack", 0), "domain": d.get("domain", 0)}
        try:
            name = pattern.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            msg = (f"`hostname_pattern` {pattern!r} is invalid ({exc!r}); fields: "
                   f"{', '.join('{' + f + '}' for f in fields)}")
            raise ParameterError(msg) from None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", name):
            msg = (f"`hostname_pattern` {pattern!r} gives {name!r}, not a valid host name "
                   f"(letters, digits, '.', '_', '-'; at most 63 characters)")
            raise ParameterError(msg)
        if name in seen:
            msg = (f"`hostname_pattern` {pattern!r} gives the same name {name!r} to hosts "
                   f"{seen[name]} and {h}; include {{index}} or {{name}}")
            raise ParameterError(msg)
        seen[name] = h
        out[h] = name
    return out


def _split_num(name):
    m = re.fullmatch(r"(.*?)(\d+)", name)
    if m is None:
        return name, None
    return m.group(1), m.group(2)


def compress_hostlist(names):
    """Slurm hostlist expression of ``names``: ``node[0001-0031]``, ``a[0-3,7],b``.

    Names ending in digits that share a prefix (and a zero-padded width) are
    merged into bracketed ranges; groups come in the order of their first name.

    Parameters
    ----------
    names
        Host or switch names.

    Returns
    -------
    str
        The comma-separated expression Slurm's hostlist parser expands back to ``names``.

    Examples
    --------
    >>> compress_hostlist([f"node{i:04d}" for i in range(1, 32)])
    'node[0001-0031]'
    >>> compress_hostlist(["h0", "h1", "h2", "h7", "h10", "sw", "x01", "x02"])
    'h[0-2,7,10],sw,x[01-02]'
    """
    names = list(names)
    widths = defaultdict(set)
    for n in names:
        prefix, digits = _split_num(n)
        if digits is not None and len(digits) > 1 and digits.startswith("0"):
            widths[prefix].add(len(digits))
    groups = {}
    for n in names:
        prefix, digits = _split_num(n)
        if digits is None:
            groups.setdefault((n, None), [])
            continue
        w = len(digits) if len(digits) in widths[prefix] else 0
        groups.setdefault((prefix, w), []).append(int(digits))
    parts = []
    for (prefix, w), nums in groups.items():
        if w is None:
            parts.append(prefix)
            continue
        nums = sorted(set(nums))
        fmt = f"{{:0{w}d}}" if w else "{}"
        if len(nums) == 1:
            parts.append(prefix + fmt.format(nums[0]))
            continue
        ranges = []
        start = prev = nums[0]
        for x in [*nums[1:], None]:
            if x is not None and x == prev + 1:
                prev = x
                continue
            ranges.append(fmt.format(start) if start == prev
                          else f"{fmt.format(start)}-{fmt.format(prev)}")
            if x is not None:
                start = prev = x
        parts.append(f"{prefix}[{','.join(ranges)}]")
    return ",".join(parts)


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


def _site_prefix(G, h):
    site = G.nodes[h].get("site")
    return "" if site is None else f"s{site}-"


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
    groups = []           # dicts as documented, plus "_members" set
    by_root = {}
    loose = defaultdict(list)
    for h in names:
        if not access[h]:
            key = (nodes[h].get("site"), nodes[h].get("domain"))
            loose[key].append(h)
            continue
        r = dsu.find(("h", h))
        if r not in by_root:
            by_root[r] = {"hosts": [], "members": set()}
            groups.append(by_root[r])
        by_root[r]["hosts"].append(h)
        by_root[r]["members"].update(access[h])
    out = []
    counters = defaultdict(int)

    def finish(g, kind, tier, children):
        members = sorted(g["members"], key=_natural)
        if len(members) == 1:
            name = members[0]
        else:
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
    for (site, domain), hs in loose.items():
        prefix = "" if site is None else f"s{site}-"
        rec = {"name": f"nvl-{prefix}d{domain}", "kind": "nvlink", "tier": 0, "members": [],
               "switches": [], "hosts": [names[h] for h in hs], "link_gbps": 0.0,
               "parent": None}
        out.append(rec)
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
        dsu = _DSU()
        peers = set()
        for name, (rec, tt, above) in ups.items():
            if tt != t:
                continue
            for m2 in above:
                dsu.union(("g", name), ("s", m2))
                for m3 in G[m2]:       # peers of the same tier (the WAN routers of the sites)
                    if _plane0(nodes[m3]) and _tier(nodes[m3]) == t:
                        dsu.union(("s", m2), ("s", m3))
                        peers.add(m3)
        merged = {}
        order = []
        for name, (rec, tt, above) in ups.items():
            if tt != t:
                continue
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
        d = G.nodes[h]
        key = f"{_site_prefix(G, h)}nvl{d.get('domain', 0)}"
        blocks.setdefault(key, []).append(name)
    return list(blocks.items())


def _header(G, what):
    params = G.graph.get("params", {})
    args = " ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return [f"# {what}", f"# fabric: {G.graph.get('builder', 'unknown')} {args}".rstrip(),
            "# written by fabric.scheduler"]


def slurm_topology_tree(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Slurm ``topology.conf`` text for the ``topology/tree`` plugin.

    One ``SwitchName=`` line per switch group of :func:`network_tree`, with
    ``Nodes=`` (compressed host lists) on the lowest tier and ``Switches=``
    above, and ``LinkSpeed=`` the members' port rate in Gb/s (Slurm does not
    use it for scheduling). Set ``TopologyPlugin=topology/tree`` in slurm.conf.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_tree(topologies.build_preset("superpod-h100"))
    >>> [line for line in text.splitlines() if line.startswith("SwitchName")]
    ['SwitchName=leaf-g0 Nodes=node[0001-0031] LinkSpeed=400', 'SwitchName=spine-g0 Switches=leaf-g0 LinkSpeed=400']
    """
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    lines = [*_header(G, "Slurm topology.conf (topology/tree), plane-0 network"),
             "# a group of interchangeable switches is one SwitchName; its members are listed",
             ""]
    for s in tree:
        if len(s["members"]) > 1:
            lines.append(f"# {s['name']}: {len(s['members'])} {s['kind']} switches "
                         f"{compress_hostlist(s['members'])}")
        elif s["kind"] == "nvlink":
            lines.append(f"# {s['name']}: the NVLink switch system of one NVLink domain")
        parts = [f"SwitchName={s['name']}"]
        if s["hosts"]:
            parts.append(f"Nodes={compress_hostlist(s['hosts'])}")
        if s["switches"]:
            parts.append(f"Switches={compress_hostlist(s['switches'])}")
        if s["link_gbps"]:
            parts.append(f"LinkSpeed={s['link_gbps']:.0f}")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def _block_sizes(blocks):
    base = min(len(h) for _, h in blocks)
    total = sum(len(h) for _, h in blocks)
    sizes = [base]
    while sizes[-1] * 2 <= total and len(sizes) < 16:
        sizes.append(sizes[-1] * 2)
    return sizes


def slurm_topology_block(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Slurm ``topology.conf`` text for the ``topology/block`` plugin (Slurm >= 23.11).

    One ``BlockName=`` per NVLink domain (:func:`nvlink_blocks`), then
    ``BlockSizes=`` the smallest block's host count and its power-of-two
    multiples up to the host count (Slurm's rule: each size a power of two
    times the one before). Blocks are listed in network order, since Slurm
    aggregates consecutive blocks into the larger sizes.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_block(topologies.build_preset("superpod-gb200", {"racks": "2"}))
    >>> print(text.split("\\n", 3)[3])
    BlockName=nvl0 Nodes=node[0001-0018]
    BlockName=nvl1 Nodes=node[0019-0036]
    BlockSizes=18,36
    <BLANKLINE>
    """
    blocks = nvlink_blocks(G, hostname_pattern=hostname_pattern)
    lines = _header(G, "Slurm topology.conf (topology/block), one block per NVLink domain")
    for name, hosts in blocks:
        lines.append(f"BlockName={name} Nodes={compress_hostlist(hosts)}")
    lines.append(f"BlockSizes={','.join(map(str, _block_sizes(blocks)))}")
    return "\n".join(lines) + "\n"


def slurm_topology_yaml(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN, default="tree"):
    """Slurm ``topology.yaml`` (Slurm >= 25.05) holding the tree and the block topology.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.
    default
        ``"tree"`` or ``"block"``: which topology is ``cluster_default``.

    Returns
    -------
    str
        YAML: a list of two topologies, ``tree`` and ``block``.

    Raises
    ------
    ParameterError
        When ``default`` is neither, or ``hostname_pattern`` is invalid.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_yaml(topologies.build_preset("gb200-nvl72"))
    >>> [line.strip() for line in text.splitlines() if line.lstrip().startswith("- ")][:4]
    ['- topology: tree', '- switch: nvl-d0', '- topology: block', '- 18']
    """
    if default not in ("tree", "block"):
        msg = f"`default` must be 'tree' or 'block', got {default!r}"
        raise ParameterError(msg)
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    blocks = nvlink_blocks(G, hostname_pattern=hostname_pattern)
    lines = [*_header(G, "Slurm topology.yaml (tree and block)")]
    lines += ["- topology: tree", f"  cluster_default: {str(default == 'tree').lower()}",
              "  tree:", "    switches:"]
    for s in tree:
        lines.append(f"      - switch: {s['name']}")
        if s["switches"]:
            lines.append(f"        children: {_yq(compress_hostlist(s['switches']))}")
        if s["hosts"]:
            lines.append(f"        nodes: {_yq(compress_hostlist(s['hosts']))}")
    lines += ["- topology: block", f"  cluster_default: {str(default == 'block').lower()}",
              "  block:", "    block_sizes:"]
    lines += [f"      - {n}" for n in _block_sizes(blocks)]
    lines.append("    blocks:")
    for name, hosts in blocks:
        lines.append(f"      - block: {name}")
        lines.append(f"        nodes: {_yq(compress_hostlist(hosts))}")
    return "\n".join(lines) + "\n"


def _yq(s):
    """Quote a YAML scalar when it holds characters YAML would read otherwise."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label_value(s):
    s = re.sub(r"[^A-Za-z0-9._-]", "-", str(s))[:63]
    return s.strip("-._") or "x"


def k8s_node_labels(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Topology labels per host, in NVIDIA topograph's convention.

    Keys (:data:`K8S_LABEL_KEYS`): ``.../accelerator`` the NVLink domain,
    ``.../leaf``, ``.../spine``, ``.../core`` the host's switch group at each
    tier of :func:`network_tree`, ``.../datacenter`` the site (multi-site
    fabrics). A level a host does not have is left out.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    dict
        Host name -> {label key: value}.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> labels = k8s_node_labels(topologies.build_preset("superpod-h100"))
    >>> sorted(k.split("/")[1] for k in labels["node0001"])
    ['accelerator', 'leaf', 'spine']
    """
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    names = host_names(G, pattern=hostname_pattern)
    by_name = {s["name"]: s for s in tree}
    level_of = {"leaf": "leaf", "spine": "spine", "core": "core"}
    out = {}
    hosts_switch = {h: s for s in tree for h in s["hosts"]}
    for h, name in names.items():
        d = G.nodes[h]
        labels = {}
        if "site" in d:
            labels[K8S_LABEL_KEYS["datacenter"]] = f"site{d['site']}"
        labels[K8S_LABEL_KEYS["accelerator"]] = _label_value(
            f"{_site_prefix(G, h)}nvl{d.get('domain', 0)}")
        s = hosts_switch.get(name)
        while s is not None:
            level = level_of.get(s["kind"])
            if level is not None and K8S_LABEL_KEYS[level] not in labels:
                labels[K8S_LABEL_KEYS[level]] = _label_value(s["name"])
            s = by_name.get(s["parent"])
        out[name] = labels
    return out


def k8s_labels_yaml(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Node label manifests (YAML, one ``kind: Node`` document per host).

    Apply to existing nodes with ``kubectl apply --server-side
    --field-manager=fabric -f FILE`` (server-side apply merges only these
    labels), or use :func:`k8s_labels_script` for plain ``kubectl label``.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`; must match the Kubernetes node names.

    Returns
    -------
    str
        Multi-document YAML.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = k8s_labels_yaml(topologies.build_preset("gb200-nvl72"))
    >>> text.count("kind: Node"), "network.topology.nvidia.com/accelerator: nvl0" in text
    (18, True)
    """
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    lines = [*_header(G, "Kubernetes node topology labels (NVIDIA topograph keys)"),
             "# apply: kubectl apply --server-side --field-manager=fabric -f THIS_FILE"]
    for name, kv in labels.items():
        lines += ["---", "apiVersion: v1", "kind: Node", "metadata:", f"  name: {name}",
                  "  labels:"]
        lines += [f"    {k}: {_yq(v)}" for k, v in kv.items()]
    return "\n".join(lines) + "\n"


def k8s_labels_script(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """A shell script of ``kubectl label --overwrite node ...`` commands, one per host.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`host_names`; must match the Kubernetes node names.

    Returns
    -------
    str
        The script.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = k8s_labels_script(topologies.build_preset("dgx-h100"))
    >>> text.splitlines()[-1]
    'kubectl label --overwrite node node0001 network.topology.nvidia.com/accelerator=nvl0'
    """
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    lines = ["#!/bin/sh", *_header(G, "Kubernetes node topology labels (NVIDIA topograph keys)"),
             "set -e"]
    for name, kv in labels.items():
        args = " ".join(f"{k}={v}" for k, v in kv.items())
        lines.append(f"kubectl label --overwrite node {name} {args}")
    return "\n".join(lines) + "\n"


def kueue_topology(G, *, name="fabric", api_version="kueue.x-k8s.io/v1beta2",
                   hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """A Kueue ``Topology`` object whose levels are the labels of :func:`k8s_node_labels`.

    Levels run outermost first (datacenter, core, spine, leaf, accelerator)
    and end with ``kubernetes.io/hostname``. Only labels every host carries
    are used, and only while each level nests inside the one above (Kueue
    requires a hierarchy): a level that would split a domain of the level
    above is left out and named in a comment.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    name
        ``metadata.name`` of the Topology (reference it from a ResourceFlavor's
        ``topologyName``).
    api_version
        ``kueue.x-k8s.io/v1beta2`` (Kueue >= 0.15), ``v1beta1`` or ``v1alpha1`` (older Kueue).
    hostname_pattern
        See :func:`host_names`.

    Returns
    -------
    str
        YAML of one Topology object.

    Raises
    ------
    ParameterError
        When ``api_version`` or ``name`` is not accepted, or ``hostname_pattern`` is invalid.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> text = kueue_topology(topologies.build_preset("superpod-gb200"))
    >>> [line.split(": ")[1] for line in text.splitlines() if "nodeLabel" in line]
    ['network.topology.nvidia.com/spine', 'network.topology.nvidia.com/accelerator', 'kubernetes.io/hostname']
    """
    if api_version not in _KUEUE_API:
        msg = f"`api_version` must be one of {', '.join(_KUEUE_API)}, got {api_version!r}"
        raise ParameterError(msg)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
        msg = f"`name` must be a DNS subdomain name (lower case, digits, '-', '.'), got {name!r}"
        raise ParameterError(msg)
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    def nests(inner, outer):
        parent = {}
        return all(parent.setdefault(kv[inner], kv[outer]) == kv[outer]
                   for kv in labels.values())

    present = {k for k in K8S_LABEL_KEYS.values() if all(k in kv for kv in labels.values())}
    levels = []
    for key in (K8S_LABEL_KEYS[k] for k in ("datacenter", "core", "spine")):
        if key in present and (not levels or nests(key, levels[-1])):
            levels.append(key)
    # The NVLink domain (accelerator) and the leaf need not nest either way (rails cross
    # racks); the NVLink domain wins when only one of them can stay.
    leaf, acc = K8S_LABEL_KEYS["leaf"], K8S_LABEL_KEYS["accelerator"]
    choices = [(leaf, acc), (acc, leaf), (acc,), (leaf,), ()]
    for tail in choices:
        chain = [*levels, *tail]
        if all(k in present for k in tail) and all(
                nests(chain[i + 1], chain[i]) for i in range(len(levels) - 1 if levels else 0,
                                                             len(chain) - 1)):
            levels = chain
            break
    dropped = [k for k in (leaf, acc) if k in present and k not in levels]
    lines = _header(G, "Kueue Topology (topology-aware scheduling)")
    for key in dropped:
        lines.append(f"# left out {key}: its domains do not nest with the other levels")
    lines += [f"apiVersion: {api_version}", "kind: Topology", "metadata:", f"  name: {name}",
              "spec:", "  levels:"]
    lines += [f"    - nodeLabel: {k}" for k in [*levels, "kubernetes.io/hostname"]]
    return "\n".join(lines) + "\n"


def write_scheduler_file(G, path, fmt, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Write one scheduler file (a format of :data:`SCHEDULER_FORMATS`) atomically.

    Parameters
    ----------
    G
        A fabric graph with hosts; not modified.
    path
        The file to write (a temporary file renamed into place when complete).
    fmt
        ``slurm-tree``, ``slurm-block`` (topology.conf), ``slurm-yaml``
        (topology.yaml), ``k8s-labels`` (Node YAML), ``k8s-script``
        (kubectl commands) or ``kueue-topology``.
    hostname_pattern
        See :func:`host_names`.

    Raises
    ------
    FabricFormatError
        When ``fmt`` is unknown.
    FabricError
        When the graph has no host with a GPU, or the file cannot be written.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import os, tempfile, topologies
    >>> path = os.path.join(tempfile.mkdtemp(), "topology.conf")
    >>> write_scheduler_file(topologies.build_preset("fat-tree"), path, "slurm-tree")
    >>> sum(line.startswith("SwitchName=") for line in open(path))
    41
    """
    from fabric.exceptions import FabricFormatError

    writers = {"slurm-tree": slurm_topology_tree, "slurm-block": slurm_topology_block,
               "slurm-yaml": slurm_topology_yaml, "k8s-labels": k8s_labels_yaml,
               "k8s-script": k8s_labels_script,
               "kueue-topology": lambda G, hostname_pattern: kueue_topology(
                   G, hostname_pattern=hostname_pattern)}
    if fmt not in writers:
        msg = f"unknown scheduler format `{fmt}`; formats: {', '.join(SCHEDULER_FORMATS)}"
        raise FabricFormatError(msg)
    text = writers[fmt](G, hostname_pattern=hostname_pattern)   # before opening: no partial file
    with atomic_write(path) as fh:
        fh.write(text)
