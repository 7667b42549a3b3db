"""NVLink-domain builders against the published designs (hand-derived counts)."""

from collections import Counter

import pytest

import fabric
import topologies
from fabric.exceptions import ParameterError


def kinds(G):
    return Counter(k for _, k in G.nodes(data="kind"))


def nvlink_links(G):
    return sum(d["links"] for _, _, d in G.edges(data=True) if d["medium"] == "nvlink")


def chip_degrees(G):
    return sorted(d for n, d in G.degree(weight="links") if G.nodes[n]["kind"] == "nvswitch")


# preset -> (gpu, nvswitch nodes, nic, cpu, host, nvlink links, chip link degrees,
#            NVLink Gb/s per GPU, NIC Gb/s per GPU)
EXPECTED = {
    # 8 GPUs x 18 links split 5/4/4/5: chips carry 8x5, 8x4, 8x4, 8x5 links
    "dgx-h100": (8, 4, 8, 2, 1, 8 * 18, [32, 32, 40, 40], 18 * 200.0, 400.0),
    # 8 GPUs x 9 links to each of 2 chips: 72 links per chip
    "hgx-b200": (8, 2, 8, 2, 1, 8 * 18, [72, 72], 18 * 400.0, 400.0),
    # 72 GPUs x 18 chips, one link each: every chip 72 links
    "gb200-nvl72": (72, 18, 72, 36, 18, 72 * 18, [72] * 18, 18 * 400.0, 400.0),
    "gb300-nvl72": (72, 18, 72, 36, 18, 72 * 18, [72] * 18, 18 * 400.0, 800.0),
    # 2 racks x 36 GPUs x 18 local chips + 18 chip pairs x 36 cross links; chip 36 + 36
    "nvl36x2": (72, 36, 72, 36, 18, 72 * 18 + 18 * 36, [72] * 36, 18 * 400.0, 400.0),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_published_structure(name):
    gpu, sw, nic, cpu, host, links, degrees, up, out = EXPECTED[name]
    G = topologies.build_preset(name)
    k = kinds(G)
    assert (k["gpu"], k["nvswitch"], k["nic"], k["cpu"], k["host"]) == (gpu, sw, nic, cpu, host)
    assert nvlink_links(G) == links
    assert chip_degrees(G) == degrees
    bw = fabric.per_gpu_bandwidth(G)
    assert {v for v in bw.values()} == {(up, out)}
    # every GPU uses exactly its 18 NVLink links and belongs to a host that exists
    for g in fabric.gpu_nodes(G):
        assert sum(d["links"] for _, _, d in G.edges(g, data=True) if d["medium"] == "nvlink") == 18
        assert G.nodes[G.nodes[g]["host"]]["kind"] == "host"


def test_dgx_h100_split_per_gpu():
    G = topologies.dgx_h100_graph()
    for g in fabric.gpu_nodes(G):
        assert [G[g][f"d0-nvsw{c}"]["links"] for c in range(4)] == [5, 4, 4, 5]
        assert G[g]["d0-nvsw0"]["bandwidth_gbps"] == 5 * 200.0


def test_nvl72_every_gpu_to_every_chip_once():
    G = topologies.gb200_nvl72_graph()
    chips = [n for n, k in G.nodes(data="kind") if k == "nvswitch"]
    for g in fabric.gpu_nodes(G):
        assert sorted(n for n in G[g] if G.nodes[n]["kind"] == "nvswitch") == sorted(chips)
        assert all(G[g][c]["links"] == 1 for c in chips)
    # 18 trays of 4 GPUs and 2 Grace each; every GPU has a C2C link to a Grace of its tray
    hosts = Counter(G.nodes[g]["host"] for g in fabric.gpu_nodes(G))
    assert set(hosts.values()) == {4} and len(hosts) == 18
    for g in fabric.gpu_nodes(G):
        cpus = [n for n in G[g] if G[g][n]["medium"] == "c2c"]
        assert len(cpus) == 1 and G.nodes[cpus[0]]["host"] == G.nodes[g]["host"]
    trays = Counter(G.nodes[c]["switch_tray"] for c in chips)
    assert set(trays.values()) == {2} and len(trays) == 9


def test_nvl36x2_cross_rack():
    G = topologies.nvl36x2_graph()
    racks = Counter(G.nodes[g]["rack"] for g in fabric.gpu_nodes(G))
    assert racks == {0: 36, 1: 36}
    assert {G.nodes[g]["domain"] for g in fabric.gpu_nodes(G)} == {0}
    cross = [(u, v, d) for u, v, d in G.edges(data=True)
             if G.nodes[u]["kind"] == "nvswitch" and G.nodes[v]["kind"] == "nvswitch"]
    assert len(cross) == 18 and all(d["links"] == 36 for _, _, d in cross)
    # cross-rack bandwidth equals one rack's total NVLink bandwidth (non-blocking)
    assert sum(d["bandwidth_gbps"] for *_, d in cross) == 36 * 18 * 400.0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_aggregate_keeps_bandwidth(name):
    detailed = topologies.build_preset(name)
    agg = topologies.build_preset(name, {"aggregate_nvswitch": "true"})
    assert fabric.per_gpu_bandwidth(agg) == fabric.per_gpu_bandwidth(detailed)
    chips_d = sum(1 for _, k in detailed.nodes(data="kind") if k == "nvswitch")
    chips_a = sum(d.get("chips", 1) for _, d in agg.nodes(data=True) if d["kind"] == "nvswitch")
    assert chips_a == chips_d
    assert agg.number_of_edges() < detailed.number_of_edges()
    # total NVLink port budget is preserved
    ports = lambda G: sum(d["ports"] for _, d in G.nodes(data=True) if d["kind"] == "nvswitch")
    assert ports(agg) == ports(detailed)


def test_trays_scale_nvl72():
    G = topologies.gb200_nvl72_graph(trays=9)
    assert kinds(G)["gpu"] == 36 and nvlink_links(G) == 36 * 18
    assert chip_degrees(G) == [36] * 18


@pytest.mark.parametrize(("name", "key", "value", "match"), [
    ("dgx-h100", "link_split", "5,5,5,5", r"20 NVLink links.*has 18"),
    ("dgx-h100", "link_split", "9,9,0,0", r"72 ports.*has 64"),
    ("dgx-h100", "link_split", "5,4,4", r"4 chips"),
    ("dgx-h100", "link_split", "a,b,c,d", r"comma-separated"),
    ("hgx-b200", "links_per_chip", "10", r"`links_per_chip` gives each GPU 20 NVLink links"),
    ("gb200-nvl72", "trays", "0", r"`trays` must be between 1 and 18"),
    ("gb200-nvl72", "trays", "-3", r"`trays` must be between 1 and 18"),
    ("gb200-nvl72", "trays", "19", r"`trays` must be between 1 and 18"),
    ("gb200-nvl72", "trays", "x", r"`trays` must be an integer"),
    ("gb200-nvl72", "planes", "8", r"`planes` must be between 1 and \d+ for NIC `cx7`"),
    ("gb300-nvl72", "nic", "cx9", r"`nic` must be one of"),
    ("nvl36x2", "bogus", "1", r"no parameter `bogus`"),
])
def test_bad_parameters(name, key, value, match):
    with pytest.raises(ParameterError, match=match):
        topologies.build_preset(name, {key: value})


def test_unknown_preset():
    with pytest.raises(ParameterError, match="unknown preset `nope`; presets: dgx-h100"):
        topologies.build_preset("nope")


def test_provenance():
    G = topologies.build_preset("gb300-nvl72", {"trays": "2"})
    assert G.graph["builder"] == "gb300_nvl72_graph"
    assert G.graph["params"]["trays"] == 2
    assert G.graph["schema_version"] == fabric.SCHEMA_VERSION
    assert G.graph["catalog_version"] == fabric.default_catalog().version
