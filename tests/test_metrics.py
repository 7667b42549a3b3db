"""Fabric metrics (:mod:`fabric.metrics`): bisection, failures, hops and paths, BOM and
oversubscription, against hand-derived values on the presets."""

import pytest

import fabric
import topologies
from fabric import metrics
from tests.test_scaleout import SMALL


@pytest.mark.parametrize(("name", "params"), SMALL)
def test_bisection_exact_matches_structural(name, params):
    G = topologies.build_preset(name, params)
    exact = metrics.bisection_bandwidth(G, method="exact")["bisection_gbps"]
    structural = metrics.bisection_bandwidth(G, method="structural")["bisection_gbps"]
    assert exact == pytest.approx(structural, rel=1e-9)
    assert exact > 0


def test_failures_reduce_bisection():
    G = topologies.fat_tree_graph(8)
    before = metrics.bisection_bandwidth(G, method="exact")["bisection_gbps"]
    half = metrics.bisection_bandwidth(metrics.fail_links(G, 0.5, seed=3))["bisection_gbps"]
    assert half < before
    one = metrics.bisection_bandwidth(metrics.fail_switch(G, "p0-core0"))["bisection_gbps"]
    # a core joins all k = 8 pods with one 400G link each; between the halves (4 pods each)
    # it carries 4 x 400 Gb/s, which the cut loses
    assert one == before - 4 * 400.0
    again = metrics.bisection_bandwidth(metrics.fail_links(G, 0.5, seed=3))["bisection_gbps"]
    assert again == half                                 # seeded


def test_hops_and_paths_fat_tree():
    G = topologies.fat_tree_graph(4)
    h = metrics.hop_histogram(G, sources=100)
    assert h["exact"] and h["diameter_hops"] == 8        # gpu-nic-leaf-spine-core-spine-leaf-nic-gpu
    paths = {p["relation"]: p for p in metrics.path_diversity(G)}
    far = paths["same rail, last domain"]
    assert (far["hops"], far["paths"]) == (8, 4)          # (k/2)^2 core paths between pods


def test_bom_counts_superpod_h100():
    bom = metrics.bill_of_materials(topologies.superpod_h100_graph(1))
    assert bom["parts"]["switch"] == {"QM9700": 12}
    assert bom["parts"]["nic"]["cx7"] == 248 + 4          # 8 per DGX + the UFM's 4
    # 400G links on 800G twin-port optics: one module per two link ends
    assert bom["optics"] == {"osfp-800g-sr8": 252, "osfp-800g-dr8": 256}
    assert bom["cables"]["fiber"] == 252 + 256
    assert bom["power_w"]["total"] > 248 * 700            # at least the GPUs' TDP
    assert bom["cost_usd"]["estimate"] is True


def test_wan_oversubscription_per_site():
    # 3 sites of 576 GPUs x 800 Gb/s = 460.8 Tb/s each; each site has 2 WAN pairs of 102.4 Tb/s
    G = topologies.superfactory_graph(3, site_gpus=576, planes=2, wan_gbps=102400.0)
    assert metrics.oversubscription(G)["wan"] == pytest.approx(460800 / 204800, rel=1e-3)


def test_nvl72_spine_counted_per_link():
    bom = metrics.bill_of_materials(topologies.superpod_gb200_graph(2))
    assert bom["cables"]["nvlink-copper-spine"] == 2 * 1296


def test_parts_by_kind_counts_what_virtual_nodes_stand_for():
    s = fabric.fabric_summary(topologies.gb200_nvl72_graph(aggregate_nvswitch=True))
    assert s["nodes_by_kind"]["nic"] == 18 and s["parts_by_kind"]["nic"] == 72
    assert s["parts_by_kind"]["cpu"] == 36 and s["parts_by_kind"]["nvswitch"] == 18


def test_hops_from_equals_networkx_bfs_lengths():
    import networkx as nx
    import numpy as np
    from scipy.sparse import csr_matrix

    from fabric.metrics.paths import _hops_from

    for seed in range(40):
        H = nx.gnp_random_graph(40, 0.06, seed=seed, directed=True)
        M = csr_matrix(nx.to_scipy_sparse_array(H, nodelist=range(40), format="csr",
                                                dtype=np.int8))
        lengths = nx.single_source_shortest_path_length(H, seed % 40)
        expected = [lengths.get(i, -1) for i in range(40)]
        assert _hops_from(M, seed % 40).tolist() == expected


def test_path_diversity_domains_come_from_locality():
    """GPUs without a ``domain`` attribute belong to their host's domain (fabric.locality):
    the pairs are the same as with the attribute (the first host's GPU, the last host's)."""
    G = topologies.superpod_h100_graph(1)
    with_attr = metrics.path_diversity(G)
    for _, d in G.nodes(data=True):
        if d["kind"] == "gpu":
            del d["domain"]
    assert metrics.path_diversity(G) == with_attr
    assert [p["relation"] for p in with_attr] == [
        "same NVLink domain", "same rail, last domain", "other rail, last domain"]
    assert (with_attr[1]["dst"], with_attr[1]["hops"]) == ("d30-gpu0", 4)  # one leaf apart
