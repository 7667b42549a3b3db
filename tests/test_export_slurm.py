"""Slurm exports and the host naming and switch hierarchy they share: host names, hostlists,
the switch tree, Slurm tree/block/yaml files."""

import re

import pytest

import topologies
from fabric.exceptions import ParameterError
from fabric.export import hierarchy, slurm
from fabric.export.hosts import compress_hostlist, host_names


def _expand(expr):
    """Expand a hostlist expression (the subset compress_hostlist writes)."""
    out = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?", expr):
        m = re.fullmatch(r"(.*)\[(.*)\]", part)
        if not m:
            out.append(part)
            continue
        for r in m.group(2).split(","):
            a, _, b = r.partition("-")
            w = len(a) if a.startswith("0") and len(a) > 1 else 0
            for i in range(int(a), int(b or a) + 1):
                out.append(f"{m.group(1)}{i:0{w}d}")
    return out


@pytest.mark.parametrize("names", [
    [f"node{i:04d}" for i in range(1, 32)],
    ["h0", "h1", "h2", "h7", "h10", "sw", "x01", "x02", "x10"],
    ["s0-d0-host0", "s0-d0-host1", "s1-d0-host0"],
    ["a9", "a10", "a11"],
])
def test_hostlist_round_trip(names):
    assert sorted(_expand(compress_hostlist(names))) == sorted(names)


def test_ufm_host_not_listed():
    G = topologies.build_preset("superpod-h100")
    assert "ufm-host" in G
    assert "ufm-host" not in host_names(G)
    assert len(host_names(G)) == 31


@pytest.mark.parametrize("name", ["fat-tree", "superpod-b200", "superpod-gb200", "spectrum-x",
                                  "gb200-nvl72", "superfactory"])
def test_tree_is_a_tree_covering_every_host_once(name):
    params = {"site_gpus": "1152"} if name == "superfactory" else {}
    G = topologies.build_preset(name, params)
    tree = hierarchy.network_tree(G)
    hosts = list(host_names(G).values())
    listed = [h for s in tree for h in s["hosts"]]
    assert sorted(listed) == sorted(hosts)                    # each host under one switch
    names = [s["name"] for s in tree]
    assert len(set(names)) == len(names)
    by = {s["name"]: s for s in tree}
    for s in tree:
        for c in s["switches"]:
            assert by[c]["parent"] == s["name"]
    if name != "gb200-nvl72":
        assert sum(s["parent"] is None for s in tree) == 1     # one root: jobs may span all
    # every physical plane-0 switch that reaches a host belongs to exactly one group
    members = [m for s in tree for m in s["members"]]
    assert len(members) == len(set(members))
    for m in members:
        assert G.nodes[m].get("plane", 0) == 0


def test_tree_text_matches_tree():
    G = topologies.build_preset("fat-tree")                  # k=8: 128 hosts, 3 tiers
    text = slurm.slurm_topology_tree(G)
    lines = [x for x in text.splitlines() if x.startswith("SwitchName=")]
    tree = hierarchy.network_tree(G)
    assert len(lines) == len(tree) == 32 + 8 + 1
    for line, s in zip(lines, tree):
        f = dict(kv.split("=", 1) for kv in line.split())
        assert f["SwitchName"] == s["name"]
        assert sorted(_expand(f.get("Nodes", ""))) == sorted(s["hosts"]) if s["hosts"] else True
        assert f["LinkSpeed"] == "400"


def test_block_per_nvlink_domain():
    G = topologies.build_preset("superpod-gb200", {"racks": "4"})
    text = slurm.slurm_topology_block(G)
    blocks = [x for x in text.splitlines() if x.startswith("BlockName=")]
    assert len(blocks) == 4
    seen = []
    for line in blocks:
        hosts = _expand(line.split("Nodes=")[1])
        assert len(hosts) == 18
        seen += hosts
    assert sorted(seen) == sorted(host_names(G).values())
    assert "BlockSizes=18,36,72\n" in text


def test_yaml_holds_both():
    G = topologies.build_preset("superpod-gb200", {"racks": "2"})
    text = slurm.slurm_topology_yaml(G, default="block")
    assert "- topology: tree\n  cluster_default: false\n  tree:\n    switches:" in text
    assert "- topology: block\n  cluster_default: true\n  block:\n    block_sizes:" in text
    assert text.count("- switch: ") == len(hierarchy.network_tree(G))
    assert text.count("- block: ") == 2
    import yaml  # a test dependency (setup.cfg [test])
    doc = yaml.safe_load(text)
    assert [t["topology"] for t in doc] == ["tree", "block"]
    assert doc[1]["block"]["block_sizes"] == [18, 36]


def test_hostname_pattern():
    G = topologies.build_preset("superfactory", {"site_gpus": "144"})
    names = host_names(G, pattern="dc{site}-r{rack:03d}-{index0}")
    assert list(names.values())[0] == "dc0-r000-0"
    same = host_names(G, pattern="{name}")
    assert all(k == v for k, v in same.items()) and any(k.startswith("s1-") for k in same)
    with pytest.raises(ParameterError, match="same name"):
        host_names(G, pattern="node")
    with pytest.raises(ParameterError, match="invalid"):
        host_names(G, pattern="n{bogus}")
    with pytest.raises(ParameterError, match="not a valid host name"):
        host_names(G, pattern="n {index}")
