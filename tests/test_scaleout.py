"""Scale-out builders against NVIDIA's reference tables and the fat-tree formulas."""

from collections import Counter

import pytest

import fabric
import topologies
from fabric import metrics
from fabric.exceptions import ParameterError


def kinds(G):
    return Counter(k for _, k in G.nodes(data="kind"))


def links_by_tier(G):
    return metrics.bill_of_materials(G)["links_by_tier"]


def compute_nodes(G):
    return sum(1 for n, d in G.nodes(data=True)
               if d["kind"] == "host" and any(G.nodes[x]["kind"] == "gpu"
                                              for y in G[n] for x in G[y]))


# hardware-facts §5, DGX SuperPOD H100: SUs -> nodes, GPUs, leaf, spine, node-leaf, leaf-spine
H100_TABLE = [(1, 31, 248, 8, 4, 252, 256), (2, 63, 504, 16, 8, 508, 512),
              (3, 95, 760, 24, 16, 764, 768), (4, 127, 1016, 32, 16, 1020, 1024)]


@pytest.mark.parametrize(("sus", "nodes", "gpus", "leaf", "spine", "node_leaf", "leaf_spine"),
                         H100_TABLE)
def test_superpod_h100_reference(sus, nodes, gpus, leaf, spine, node_leaf, leaf_spine):
    G = topologies.build_preset("superpod-h100", {"sus": str(sus)})
    k = kinds(G)
    assert (k["gpu"], k["leaf"], k["spine"], k.get("core", 0)) == (gpus, leaf, spine, 0)
    assert sum(1 for n, d in G.nodes(data=True) if d["part"] == "dgx-h100") == nodes
    t = links_by_tier(G)
    assert (t["nic-leaf"], t["leaf-spine"]) == (node_leaf, leaf_spine)
    # rail-optimized: every GPU's NIC reaches the leaf of its rail, one hop within a rail
    for n, d in G.nodes(data=True):
        if d["kind"] == "nic" and "domain" in d:
            leaves = [x for x in G[n] if G.nodes[x]["kind"] == "leaf"]
            assert len(leaves) == 1 and G.nodes[leaves[0]]["rail"] == d["rail"]


# hardware-facts §5, DGX SuperPOD B200: SUs -> GPUs, leaf, spine, core
B200_TABLE = [(2, 512, 16, 8, 0), (4, 1024, 32, 16, 0), (8, 2048, 64, 32, 0),
              (16, 4096, 128, 128, 64), (32, 8192, 256, 256, 128)]


@pytest.mark.parametrize(("sus", "gpus", "leaf", "spine", "core"), B200_TABLE)
def test_superpod_b200_reference(sus, gpus, leaf, spine, core):
    G = topologies.build_preset("superpod-b200", {"sus": str(sus), "aggregate_nvswitch": "1"})
    k = kinds(G)
    assert (k["gpu"], k["leaf"], k["spine"], k.get("core", 0)) == (gpus, leaf, spine, core)


@pytest.mark.slow
def test_superpod_b200_64_sus():
    G = topologies.build_preset("superpod-b200", {"sus": "64", "aggregate_nvswitch": "1"})
    k = kinds(G)
    assert (k["gpu"], k["leaf"], k["spine"], k["core"]) == (16384, 512, 512, 256)


# hardware-facts §5, DGX SuperPOD B300 on Spectrum-X: SUs -> GPUs, leaf, spine
@pytest.mark.parametrize(("sus", "gpus", "leaf", "spine"),
                         [(1, 512, 16, 8), (4, 2048, 64, 32), (16, 8192, 256, 128)])
def test_spectrum_x_b300_reference(sus, gpus, leaf, spine):
    G = topologies.build_preset("spectrum-x", {"sus": str(sus), "aggregate_nvswitch": "1",
                                               "aggregate_planes": "0"})
    k = kinds(G)
    assert (k["gpu"], k["leaf"], k["spine"], k.get("core", 0)) == (gpus, leaf, spine, 0)
    # twin-planar: every NIC has one 400G port in each of the 2 planes
    nic = "d0-nic0"
    planes = sorted(G.nodes[x]["plane"] for x in G[nic] if G.nodes[x]["kind"] == "leaf")
    assert planes == [0, 1] and G.nodes[nic]["port_gbps"] == 400.0


@pytest.mark.parametrize("k", [4, 6, 8, 12])
def test_fat_tree_three_tier_formulas(k):
    G = topologies.fat_tree_graph(k)
    c = kinds(G)
    assert c["host"] == k ** 3 // 4
    assert c["leaf"] + c["spine"] + c["core"] == 5 * k * k // 4
    assert (c["leaf"], c["spine"], c["core"]) == (k * k // 2, k * k // 2, k * k // 4)
    for n, d in G.nodes(data=True):                 # every switch uses exactly k ports
        if d["kind"] in ("leaf", "spine", "core"):
            assert G.degree(n, weight="links") == k
    bis = metrics.bisection_bandwidth(G, method="exact")
    assert bis["bisection_gbps"] == (k ** 3 // 8) * 400.0   # full bisection


@pytest.mark.parametrize("k", [4, 8, 16])
def test_fat_tree_two_tier_formulas(k):
    G = topologies.fat_tree_graph(k, tiers=2)
    c = kinds(G)
    assert (c["host"], c["leaf"], c["spine"]) == (k * k // 2, k, k // 2)
    assert metrics.bisection_bandwidth(G)["bisection_gbps"] == (k * k // 4) * 400.0


def test_superpod_gb200_su():
    G = topologies.build_preset("superpod-gb200", {"racks": "8"})
    c = kinds(G)
    assert (c["gpu"], c["nvswitch"], c["leaf"]) == (576, 8 * 18, 18)   # 18 rails per SU
    # every leaf serves one tray position of all 8 racks: 32 NIC ports, 32 uplinks
    for n, d in G.nodes(data=True):
        if d["kind"] == "leaf":
            down = sum(1 for x in G[n] if G.nodes[x]["kind"] == "nic")
            up = sum(G[n][x]["links"] for x in G[n] if G.nodes[x]["kind"] == "spine")
            assert (down, up) == (32, 32)
    assert fabric.per_gpu_bandwidth(G)["d0-gpu0"] == (7200.0, 400.0)


def test_azure_gb300():
    G = topologies.build_preset("azure-gb300", {"aggregate_nvswitch": "1"})
    c = kinds(G)
    assert c["gpu"] == 4608 and c["nvswitch"] == 64          # 64 racks, chips aggregated
    assert {G.nodes[n]["part"] for n in G if G.nodes[n]["kind"] in ("leaf", "spine")} == {"Q3400"}
    assert set(v[1] for v in fabric.per_gpu_bandwidth(G).values()) == {800.0}
    assert metrics.oversubscription(G)["leaf"] <= 1.0       # non-blocking


def test_fairwater_planes_and_rate():
    G = topologies.fairwater_graph(1152, planes=8)
    assert kinds(G)["gpu"] == 1152
    assert set(v[1] for v in fabric.per_gpu_bandwidth(G).values()) == {800.0}
    nic = G.nodes["d0-nic0"]
    assert (nic["ports"], nic["port_gbps"]) == (8, 100.0)
    assert sorted(G.nodes[x]["plane"] for x in G["d0-nic0"] if G.nodes[x]["kind"] == "leaf") \
        == list(range(8))
    assert "core" not in kinds(G)                            # two tiers


def test_fairwater_rounds_up_with_note():
    G = topologies.fairwater_graph(100, planes=2)
    assert kinds(G)["gpu"] == 144
    assert any("gpus=100 rounded up to 144 (2 racks)" in n for n in G.graph["notes"])


def test_superfactory_wan_latency_and_capacity():
    G = topologies.superfactory_graph(2, site_gpus=576, planes=2, distance_km=1043.0,
                                      route_factor=1.3, wan_gbps=51200.0)
    wan = [(u, v, d) for u, v, d in G.edges(data=True) if d["medium"] == "wan"]
    assert len(wan) == 1
    d = wan[0][2]
    assert d["latency_ns"] == pytest.approx(1043.0 * 1.3 * 4900.0)   # 6.64 ms
    assert d["bandwidth_gbps"] == 51200.0 and d["links"] == 128       # 400ZR links
    assert metrics.bisection_bandwidth(G, method="exact")["bisection_gbps"] == 51200.0
    sites = Counter(d.get("site") for _, d in G.nodes(data=True) if d["kind"] == "gpu")
    assert sites == {0: 576, 1: 576}


def test_superfactory_three_sites_full_mesh():
    G = topologies.superfactory_graph(3, site_gpus=72, planes=1, wan_gbps=4000.0)
    wan = [d for *_, d in G.edges(data=True) if d["medium"] == "wan"]
    assert len(wan) == 3


SMALL = [("fat-tree", {"k": "6"}), ("fat-tree", {"k": "8", "tiers": "2"}),
         ("superpod-h100", {"sus": "2"}), ("superpod-b200", {"sus": "16", "aggregate_nvswitch": "1"}),
         ("superpod-gb200", {"racks": "16"}), ("superpod-gb200", {"racks": "40",
                                                                  "aggregate_nvswitch": "1"}),
         ("azure-gb300", {"racks": "8"}), ("spectrum-x", {"sus": "2"}),
         ("spectrum-x", {"sus": "2", "oversubscription": "3"}),
         ("fairwater", {"gpus": "4608", "planes": "4", "aggregate_nvswitch": "1"}),
         ("superfactory", {"site_gpus": "1152", "planes": "2"})]


@pytest.mark.parametrize(("name", "params"), SMALL)
def test_port_budgets_and_link_rates(name, params):
    G = topologies.build_preset(name, params)
    fabric.validate_fabric(G)                 # re-check the built graph through the G path
    for n, d in G.nodes(data=True):
        if d["kind"] in ("leaf", "spine", "core", "wan", "nvswitch"):
            assert G.degree(n, weight="links") <= d["ports"]


@pytest.mark.parametrize(("call", "match"), [
    (lambda: topologies.fat_tree_graph(5), r"`k` must be even and between 2 and 64"),
    (lambda: topologies.fat_tree_graph(66), r"`k` must be even and between 2 and 64"),
    (lambda: topologies.spectrum_x_graph(1, oversubscription=0.5), r"`oversubscription` must be >= 1"),
    (lambda: topologies.spectrum_x_graph(1, planes=16), r"`planes` must be between 1 and 8"),
    (lambda: topologies.spectrum_x_graph(1, planes=3), r"no 266.667 Gb/s port mode"),
    (lambda: topologies.fairwater_graph(200000), r"two tiers cannot host 792 leaves.*at most 512 leaves.*more planes"),
    (lambda: topologies.fairwater_graph(50000, switch="SN5600"), r"two tiers cannot host"),
    (lambda: topologies.superfactory_graph(2, distance_km=-5.0), r"`distance_km` must be a finite number >= 0"),
    (lambda: topologies.superfactory_graph(2, route_factor=0.5), r"`route_factor` must be >= 1"),
    (lambda: topologies.superpod_h100_graph(0), r"`sus` must be between 1 and 128"),
    (lambda: topologies.superpod_gb200_graph(gpus=0), r"`gpus` must be >= 1"),
    (lambda: topologies.superpod_h100_graph(9, tiers=2), r"two tiers cannot host"),
])
def test_bad_parameters(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_aggregated_planes_keep_physical_switch_counts():
    detailed = fabric.fabric_summary(topologies.fairwater_graph(1152, planes=4))
    agg = fabric.fabric_summary(topologies.fairwater_graph(1152, planes=4, aggregate_planes=True))
    assert agg["nodes_by_kind"]["leaf"] * 4 == detailed["nodes_by_kind"]["leaf"]
    assert agg["network_switches_by_tier"] == detailed["network_switches_by_tier"]


# ---------------------------------------------------------------- the aggregated form
AGG_CASES = [("fairwater", {"gpus": "1152", "planes": "4"}),
             ("superpod-gb200", {"racks": "16"}),
             ("superpod-h100", {"sus": "2"}),
             ("spectrum-x", {"system": "gb300-nvl72", "sus": "1"}),
             ("superfactory", {"site_gpus": "576", "planes": "2"}),
             # few WAN uplinks: counted per physical spine, not per virtual node
             ("superfactory", {"site_gpus": "288", "planes": "4", "wan_gbps": "4000"})]


def physical(G, kind):
    """Parts of ``kind`` a graph stands for (virtual nodes count their ``chips``)."""
    return sum(d.get("chips", 1) for _, d in G.nodes(data=True) if d["kind"] == kind)


@pytest.mark.parametrize(("name", "params"), AGG_CASES)
def test_aggregated_form_keeps_every_metric(name, params):
    detailed = topologies.build_preset(name, params)
    agg = topologies.build_preset(name, {**params, "aggregate_nvswitch": "1"})
    assert agg.number_of_edges() < detailed.number_of_edges()
    md, ma = metrics.fabric_metrics(detailed), metrics.fabric_metrics(agg)
    for key in ("bisection_gbps", "oversubscription", "bom", "power_w", "cost_usd",
                "gpu_scaleup_gbps", "gpu_scaleout_gbps", "network_switches_by_tier",
                "nvswitch_chips", "gpus", "hosts"):
        assert ma[key] == md[key], key
    assert ma["diameter_hops"] == md["diameter_hops"]
    # paths are counted over the virtual nodes, and never turn around at a tray's NIC node
    same_domain = [p for p in ma["ecmp_paths"] if p["relation"] == "same NVLink domain"]
    assert all(p["paths"] == 1 and p["hops"] == 2 for p in same_domain)
    assert fabric.per_gpu_bandwidth(agg) == fabric.per_gpu_bandwidth(detailed)
    for kind in ("gpu", "cpu", "nic", "nvswitch", "host"):
        assert physical(agg, kind) == physical(detailed, kind), kind
    ports = lambda G: sum(d["ports"] for _, d in G.nodes(data=True) if d["kind"] == "nic")
    assert ports(agg) == ports(detailed)


def test_aggregated_tray_nic_caps_each_gpu_at_its_own_nic():
    G = topologies.fairwater_graph(576, planes=8, aggregate_nvswitch=True)
    nic = "d0-nics0"
    assert G.nodes[nic]["chips"] == 4 and G.nodes[nic]["ports"] == 32
    gpus = [w for w in G[nic] if G.nodes[w]["kind"] == "gpu"]
    assert gpus == [f"d0-gpu{i}" for i in range(4)]
    # each GPU's path into the group is capped at its own CX-8's 800G, not its 968G PCIe
    assert all(G[g][nic]["bandwidth_gbps"] == 800.0 for g in gpus)
    leaf = [w for w in G[nic] if G.nodes[w]["kind"] == "leaf"]
    assert len(leaf) == 1 and G[nic][leaf[0]]["links"] == 32
    assert G[nic][leaf[0]]["bandwidth_gbps"] == 4 * 800.0
    # rail = compute tray, the leaf's rail
    assert G.nodes[nic]["rail"] == G.nodes[leaf[0]]["rail"] == 0
    assert G.nodes["d0-nics5"]["rail"] == 5


@pytest.mark.parametrize("planes", [1, 8])
def test_aggregated_fairwater_edges_hand_derived(planes):
    # 64 racks: per GPU one NVLink, one C2C and one pcie (to its tray's NIC node) edge;
    # per tray one host-CPU pcie and one NIC-leaf edge; leaves x spines leaf-spine edges
    G = topologies.fairwater_graph(64 * 72, planes=planes, aggregate_nvswitch=True)
    gpus, trays = 64 * 72, 64 * 18
    s = fabric.fabric_summary(G)
    leaves, spines = s["nodes_by_kind"]["leaf"], s["nodes_by_kind"]["spine"]
    assert s["edges_by_medium"] == {"nvlink": gpus, "c2c": gpus, "pcie": gpus + trays,
                                    "ethernet": trays + leaves * spines}
    assert s["nodes_by_kind"]["nic"] == s["nodes_by_kind"]["cpu"] == trays
    detailed = topologies.fairwater_graph(64 * 72, planes=planes)
    # the target: the aggregated site is at least 5x lighter in edges
    assert detailed.number_of_edges() >= 5 * G.number_of_edges()


def test_aggregate_planes_follows_aggregate_nvswitch():
    agg = topologies.fairwater_graph(1152, planes=4, aggregate_nvswitch=True)
    assert agg.graph["params"]["aggregate_planes"] is True
    assert {d["plane"] for _, d in agg.nodes(data=True) if d["kind"] == "leaf"} == {0}
    split = topologies.build_preset("fairwater", {"gpus": "1152", "planes": "4",
                                                  "aggregate_nvswitch": "1",
                                                  "aggregate_planes": "false"})
    assert {d["plane"] for _, d in split.nodes(data=True) if d["kind"] == "leaf"} == {0, 1, 2, 3}
    assert physical(split, "leaf") == physical(agg, "leaf")


def test_mixed_plane_superfactory_keeps_planes_and_times():
    # cross-site routes pair plane p with plane p, so sites with 4 and 1 planes keep them
    from solvers.collectives import collective
    specs = [{"preset": "fairwater", "gpus": 288, "planes": 4},
             {"preset": "superpod-gb200", "gpus": 144}]
    detailed = topologies.superfactory_graph(site_specs=specs)
    agg = topologies.superfactory_graph(site_specs=specs, aggregate_nvswitch=True)
    assert agg.graph["params"]["aggregate_planes"] is False
    assert agg.number_of_edges() < detailed.number_of_edges()
    a = collective(detailed, "alltoall", 2 ** 28, algo="p2p")
    b = collective(agg, "alltoall", 2 ** 28, algo="p2p")
    assert b.time_us == pytest.approx(a.time_us, rel=1e-9)
    with pytest.raises(ParameterError, match="same number of planes"):
        topologies.superfactory_graph(site_specs=specs, aggregate_nvswitch=True,
                                      aggregate_planes=True)
