"""Scheduler exports: host names, hostlists, Slurm tree/block/yaml, K8s labels, Kueue Topology."""

import re

import networkx as nx
import pytest
from click.testing import CliRunner

import fabric
import topologies
from cli import main
from fabric import scheduler
from fabric.exceptions import FabricError, ParameterError


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
    assert sorted(_expand(scheduler.compress_hostlist(names))) == sorted(names)


def test_ufm_host_not_listed():
    G = topologies.build_preset("superpod-h100")
    assert "ufm-host" in G
    assert "ufm-host" not in scheduler.host_names(G)
    assert len(scheduler.host_names(G)) == 31


@pytest.mark.parametrize("name", ["fat-tree", "superpod-b200", "superpod-gb200", "spectrum-x",
                                  "gb200-nvl72", "superfactory"])
def test_tree_is_a_tree_covering_every_host_once(name):
    params = {"site_gpus": "1152"} if name == "superfactory" else {}
    G = topologies.build_preset(name, params)
    tree = scheduler.network_tree(G)
    hosts = list(scheduler.host_names(G).values())
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
    text = scheduler.slurm_topology_tree(G)
    lines = [x for x in text.splitlines() if x.startswith("SwitchName=")]
    tree = scheduler.network_tree(G)
    assert len(lines) == len(tree) == 32 + 8 + 1
    for line, s in zip(lines, tree):
        f = dict(kv.split("=", 1) for kv in line.split())
        assert f["SwitchName"] == s["name"]
        assert sorted(_expand(f.get("Nodes", ""))) == sorted(s["hosts"]) if s["hosts"] else True
        assert f["LinkSpeed"] == "400"


def test_block_per_nvlink_domain():
    G = topologies.build_preset("superpod-gb200", {"racks": "4"})
    text = scheduler.slurm_topology_block(G)
    blocks = [x for x in text.splitlines() if x.startswith("BlockName=")]
    assert len(blocks) == 4
    seen = []
    for line in blocks:
        hosts = _expand(line.split("Nodes=")[1])
        assert len(hosts) == 18
        seen += hosts
    assert sorted(seen) == sorted(scheduler.host_names(G).values())
    assert "BlockSizes=18,36,72\n" in text


def test_yaml_holds_both():
    G = topologies.build_preset("superpod-gb200", {"racks": "2"})
    text = scheduler.slurm_topology_yaml(G, default="block")
    assert "- topology: tree\n  cluster_default: false\n  tree:\n    switches:" in text
    assert "- topology: block\n  cluster_default: true\n  block:\n    block_sizes:" in text
    assert text.count("- switch: ") == len(scheduler.network_tree(G))
    assert text.count("- block: ") == 2
    import yaml  # a test dependency (setup.cfg [test])
    doc = yaml.safe_load(text)
    assert [t["topology"] for t in doc] == ["tree", "block"]
    assert doc[1]["block"]["block_sizes"] == [18, 36]


def test_hostname_pattern():
    G = topologies.build_preset("superfactory", {"site_gpus": "144"})
    names = scheduler.host_names(G, pattern="dc{site}-r{rack:03d}-{index0}")
    assert list(names.values())[0] == "dc0-r000-0"
    same = scheduler.host_names(G, pattern="{name}")
    assert all(k == v for k, v in same.items()) and any(k.startswith("s1-") for k in same)
    with pytest.raises(ParameterError, match="same name"):
        scheduler.host_names(G, pattern="node")
    with pytest.raises(ParameterError, match="invalid"):
        scheduler.host_names(G, pattern="n{bogus}")
    with pytest.raises(ParameterError, match="not a valid host name"):
        scheduler.host_names(G, pattern="n {index}")


def test_k8s_labels_and_kueue_nest():
    G = topologies.build_preset("superfactory", {"site_gpus": "1152"})
    labels = scheduler.k8s_node_labels(G)
    assert len(labels) == len(scheduler.host_names(G))
    kueue = scheduler.kueue_topology(G)
    levels = re.findall(r"nodeLabel: (\S+)", kueue)
    assert levels[-1] == "kubernetes.io/hostname"
    assert levels[0] == "network.topology.nvidia.com/datacenter"
    assert "network.topology.nvidia.com/accelerator" in levels
    for outer, inner in zip(levels[:-2], levels[1:-1]):   # each level nests in the one above
        parent = {}
        for kv in labels.values():
            assert parent.setdefault(kv[inner], kv[outer]) == kv[outer]
    for kv in labels.values():
        for v in kv.values():
            assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?", v)
    text = scheduler.k8s_labels_yaml(G)
    assert text.count("kind: Node") == len(labels)
    assert "apiVersion: kueue.x-k8s.io/v1beta2" in kueue
    with pytest.raises(ParameterError, match="api_version"):
        scheduler.kueue_topology(G, api_version="v2")


def test_no_hosts_error(tmp_path):
    G = nx.Graph()
    G.add_node("sw", kind="leaf", part="QM9700")
    with pytest.raises(FabricError, match="no hosts with GPUs"):
        scheduler.slurm_topology_tree(G)
    with pytest.raises(FabricError, match="no hosts"):
        scheduler.write_scheduler_file(G, tmp_path / "t.conf", "slurm-tree")
    assert list(tmp_path.iterdir()) == []


def test_exporters_do_not_mutate(tmp_path):
    G = topologies.build_preset("superpod-h100")
    before = (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))
    for fmt in scheduler.SCHEDULER_FORMATS:
        scheduler.write_scheduler_file(G, tmp_path / fmt, fmt)
    assert before == (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))


@pytest.mark.parametrize("fmt", scheduler.SCHEDULER_FORMATS)
def test_cli_export_scheduler_formats(tmp_path, fmt):
    out = tmp_path / "out.txt"
    res = CliRunner().invoke(main, ["export", "superpod-b200", "--format", fmt, "-o", str(out),
                                    "--hostname-pattern", "dgx{index:03d}"])
    assert res.exit_code == 0, res.output
    assert re.search(r"dgx\[?0", out.read_text()) or fmt == "kueue-topology"


def test_cli_errors(tmp_path):
    runner = CliRunner()
    raw = tmp_path / "raw.json"
    G = nx.Graph()
    fabric.write_json(G, raw)
    res = runner.invoke(main, ["export", str(raw), "--format", "slurm-tree", "-o",
                               str(tmp_path / "t.conf")])
    # a file is validated on load: a fabric without hosts/GPUs never reaches the exporter
    assert res.exit_code == 1 and res.output.startswith("Error:")
    assert not (tmp_path / "t.conf").exists()
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "bogus", "-o",
                               str(tmp_path / "x")])
    assert res.exit_code == 2 and "Error:" in res.output
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "slurm-tree", "-o",
                               str(tmp_path / "nodir" / "t.conf")])
    assert res.exit_code == 1 and "does not exist" in res.output
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "slurm-tree", "-o",
                               str(tmp_path / "t.conf"), "--hostname-pattern", "x"])
    assert res.exit_code == 0                                 # one host: a fixed name is fine
    res = runner.invoke(main, ["export", "fat-tree", "--format", "slurm-tree", "-o",
                               str(tmp_path / "u.conf"), "--hostname-pattern", "x"])
    assert res.exit_code == 2 and "same name" in res.output
    assert not (tmp_path / "u.conf").exists()
