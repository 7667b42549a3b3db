"""Tests of solvers.throughput: LP against hand-computed throughput, ECMP, bounds, errors."""

import json

import pytest

import topologies
from fabric.exceptions import ParameterError
from fabric.locality import gpu_nodes
from fabric.metrics import per_gpu_bandwidth
from solvers.collectives import CollectiveModel
from solvers.throughput import (collective_lower_bound, ecmp_utilization, solve_throughput,
                                throughput, traffic_matrix)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_bisection_fat_tree_permutation_is_one(seed):
    r = throughput(topologies.fat_tree_graph(4), "permutation", seed=seed)
    assert r.optimal_fraction == pytest.approx(1.0, abs=1e-6)
    assert r.ecmp_fraction <= r.optimal_fraction + 1e-9


@pytest.mark.parametrize("pattern", ["alltoall", "ring"])
def test_fat_tree_patterns(pattern):
    r = throughput(topologies.fat_tree_graph(4), pattern)
    assert r.optimal_fraction == pytest.approx(1.0, abs=1e-6)
    assert r.endpoints == 16


def test_oversubscribed_spectrum_x_matches_hand_derived(tmp_path):
    # 2 SUs of GB300 NVL72 racks, leaves 2:1 oversubscribed; every GPU of SU 0
    # sends at its full 800G to the same GPU of a rack in SU 1, so all traffic
    # climbs the SU-0 leaves: fraction = leaf uplink / leaf downlink.
    G = topologies.build_preset("spectrum-x", {"oversubscription": 2.0, "system": "gb300-nvl72",
                                               "sus": 2, "planes": 1})
    leaf = next(n for n, k in G.nodes(data="kind") if k == "leaf")
    down = sum(d["bandwidth_gbps"] for _, v, d in G.edges(leaf, data=True)
               if G.nodes[v]["kind"] == "nic")
    up = sum(d["bandwidth_gbps"] for _, v, d in G.edges(leaf, data=True)
             if G.nodes[v]["kind"] == "spine")
    gpus = gpu_nodes(G)
    doms = sorted({G.nodes[g]["domain"] for g in gpus})
    by = {d: [g for g in gpus if G.nodes[g]["domain"] == d] for d in doms}
    half = len(doms) // 2
    dem = [{"src": by[doms[i]][k], "dst": by[doms[i + half]][k], "gbps": 800.0}
           for i in range(half) for k in range(72)]
    f = tmp_path / "m.json"
    f.write_text(json.dumps(dem))
    r = throughput(G, str(f))
    assert r.optimal_fraction == pytest.approx(up / down, rel=1e-6)
    assert up / down < 1


def test_matrix_file_formats(tmp_path):
    G = topologies.fat_tree_graph(4)
    names = gpu_nodes(G)[:3]
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"gpus": names, "matrix": [[0, 800, 0], [0, 0, 0], [0, 0, 0]]}))
    r = throughput(G, str(f))
    assert r.optimal_fraction == pytest.approx(0.5)          # 800 Gb/s over a 400G NIC
    f.write_text(json.dumps({"gpus": names, "matrix": [[0, 1]]}))
    with pytest.raises(ParameterError, match="must be 3 x 3"):
        traffic_matrix(G, str(f))
    f.write_text(json.dumps([{"src": "x", "dst": names[0], "gbps": 1}]))
    with pytest.raises(ParameterError, match="not a GPU"):
        traffic_matrix(G, str(f))
    with pytest.raises(ParameterError, match="neither one of"):
        traffic_matrix(G, str(tmp_path / "missing.json"))


def test_ecmp_utilization_ring_is_one():
    G = topologies.fat_tree_graph(4)
    _, dem = traffic_matrix(G, "ring")
    util, _ = ecmp_utilization(G, dem)
    assert util == pytest.approx(1.0)


@pytest.mark.parametrize("op", ["allreduce", "allgather", "reducescatter", "alltoall",
                                "broadcast"])
def test_lower_bound_below_engine(op):
    G = topologies.build_preset("superpod-gb200", {"racks": 2})
    ranks = gpu_nodes(G)[:16] + gpu_nodes(G)[72:88]
    m = CollectiveModel(G, ranks=ranks)
    size = 2 ** 30
    r = m.evaluate(op, size)
    bound = collective_lower_bound(G, op, size, ranks)
    assert 0 < bound <= r.time_us


def test_lower_bound_errors():
    G = topologies.dgx_h100_graph()
    with pytest.raises(ParameterError, match="unknown `op`"):
        collective_lower_bound(G, "gather", 8, ["d0-gpu0", "d0-gpu1"])


def test_binary_matrix_file_names_the_option(tmp_path):
    f = tmp_path / "bin.log"
    f.write_bytes(b"\x00\xff\xfe\x80" * 50)
    with pytest.raises(ParameterError, match=r"`--pattern` file `.*bin\.log` is not UTF-8 JSON"):
        traffic_matrix(topologies.fat_tree_graph(4), str(f))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", -1.0, float("nan")])
def test_non_finite_or_negative_demand_names_the_entry(tmp_path, value):
    G = topologies.fat_tree_graph(4)
    a, b, c = gpu_nodes(G)[:3]
    f = tmp_path / "m.json"
    f.write_text(json.dumps([{"src": a, "dst": b, "gbps": 100},
                             {"src": b, "dst": c, "gbps": value}]))
    with pytest.raises(ParameterError, match=rf"entry 1 \({b} -> {c}\).*finite numbers >= 0"):
        traffic_matrix(G, str(f))
    f.write_text(json.dumps({"gpus": [a, b], "matrix": [[0, 100], [value, 0]]}))
    with pytest.raises(ParameterError, match=rf"matrix\[1\]\[0\] \({b} -> {a}\)"):
        traffic_matrix(G, str(f))


def test_bool_or_non_string_entries_are_rejected(tmp_path):
    G = topologies.fat_tree_graph(4)
    a, b = gpu_nodes(G)[:2]
    f = tmp_path / "m.json"
    f.write_text(json.dumps([{"src": a, "dst": b, "gbps": True}]))
    with pytest.raises(ParameterError, match="must hold"):
        traffic_matrix(G, str(f))
    f.write_text(json.dumps({"gpus": [[a], b], "matrix": [[0, 1], [1, 0]]}))
    with pytest.raises(ParameterError, match=r"matrix\[0\]\[1\] names \['"):
        traffic_matrix(G, str(f))


@pytest.mark.parametrize("preset,pattern", [("dgx-h100", "permutation"),
                                            ("gb200-nvl72", "alltoall")])
def test_single_domain_fabric_is_refused(preset, pattern):
    with pytest.raises(ParameterError,
                       match=r"`gpus` \(--gpus\): all \d+ GPUs .* one NVLink domain"):
        throughput(topologies.build_preset(preset), pattern)


def test_gpus_within_one_domain_names_smallest_spanning_count():
    G = topologies.build_preset("superpod-h100", {"gpus": "32"})
    with pytest.raises(ParameterError, match=r"`gpus` \(--gpus\) 8 .*use --gpus 9 or more"):
        throughput(G, "ring", gpus=8)
    r = throughput(G, "ring", gpus=9)
    assert 0 < r.optimal_fraction < float("inf") and r.ecmp_fraction <= r.optimal_fraction + 1e-9


def test_intra_domain_matrix_is_refused(tmp_path):
    G = topologies.build_preset("superpod-h100", {"gpus": "32"})
    f = tmp_path / "m.json"
    f.write_text(json.dumps([{"src": "d0-gpu0", "dst": "d0-gpu1", "gbps": 400},
                             {"src": "d1-gpu0", "dst": "d1-gpu1", "gbps": 400}]))
    with pytest.raises(ParameterError, match="no demand between different NVLink domains"):
        throughput(G, str(f))
    with pytest.raises(ParameterError, match="`demands` has no demand between"):
        solve_throughput(G, [("d0-gpu0", "d0-gpu1", 400.0)])


@pytest.mark.parametrize("pxn", [True, False])
@pytest.mark.parametrize("pattern", ["permutation", "ring"])
def test_aggregated_form_same_throughput(pattern, pxn):
    params = {"gpus": "288", "planes": "2"}
    detailed = topologies.build_preset("fairwater", params)
    agg = topologies.build_preset("fairwater", {**params, "aggregate_nvswitch": "1"})
    a = throughput(detailed, pattern, gpus=144, seed=2, pxn=pxn)
    b = throughput(agg, pattern, gpus=144, seed=2, pxn=pxn)
    assert b.optimal_fraction == pytest.approx(a.optimal_fraction, rel=1e-6)
    assert b.ecmp_fraction == pytest.approx(a.ecmp_fraction, rel=1e-9)


def test_collective_bound_is_the_hand_derived_domain_cut():
    """12 GB200 GPUs, 4 in each of 3 racks: every rack must move 2(D-1)/D x S through the
    NICs of its 4 ranks (4 x 400 Gb/s); idle GPUs' NICs do not count (issue 10)."""
    G = topologies.build_preset("superpod-gb200", {"racks": "3", "aggregate_nvswitch": "true"})
    gpus = gpu_nodes(G)
    ranks = [g for r in range(3) for g in gpus[72 * r:72 * r + 4]]
    S = 16 * 2 ** 30
    bound = collective_lower_bound(G, "allreduce", S, ranks)
    assert bound == pytest.approx(2 * 2 / 3 * S / (4 * 400 * 125.0), rel=1e-12)   # ~114.5 ms
    assert collective_lower_bound(G, "allreduce", S, ranks, in_network=True) == pytest.approx(
        S / (4 * 400 * 125.0), rel=1e-12)


@pytest.mark.parametrize("preset,params,n", [("superpod-h100", {"sus": "1"}, 32),
                                             ("fat-tree", {"k": "4"}, 16)])
def test_collective_bound_never_exceeds_the_lp_optimum(preset, params, n):
    """alltoall at the LP optimum: each pair's S/n at lambda x injection / (n-1)."""
    from solvers.throughput import throughput as lp_throughput
    G = topologies.build_preset(preset, params)
    ranks = gpu_nodes(G)[:n]
    r = lp_throughput(G, "alltoall", gpus=n, time_limit_s=60)
    inj = min(per_gpu_bandwidth(G)[g][1] for g in ranks)
    S = 2 ** 30
    lp_time = (S / n) / (r.optimal_fraction * inj / (n - 1) * 125.0)
    assert collective_lower_bound(G, "alltoall", S, ranks) <= lp_time * (1 + 1e-9)


@pytest.mark.parametrize("preset,params", [("superpod-gb200", {"racks": "2"}),
                                           ("superpod-gb200", {"racks": "3"}),
                                           ("superpod-h100", {"sus": "1"})])
@pytest.mark.parametrize("pattern,pxn", [("alltoall", True), ("alltoall", False),
                                         ("ring", True), ("permutation", True)])
def test_symmetry_folded_lp_has_the_full_optimum(preset, params, pattern, pxn):
    """Issue 15: the LP folded by colour refinement keeps the optimum and the loads' sum."""
    from solvers.throughput import _collapsed_network, _reduced_model
    G = topologies.build_preset(preset, params)
    _, dem = traffic_matrix(G, pattern, seed=1)
    full = solve_throughput(G, dem, pxn=pxn, symmetry=False)
    fast = solve_throughput(G, dem, pxn=pxn)
    assert fast.lam == pytest.approx(full.lam, rel=1e-9)
    assert fast.lp_vars == full.lp_vars and fast.intra_gbps == full.intra_gbps
    if pattern == "alltoall":
        m = _reduced_model(G, dem, pxn)
        assert m is not None and m["n_vclasses"] * 100 < m["n_vars"]
    # the folded solution is a feasible flow: no arc above its rate
    caps = {a[3]: a[2] for a in _collapsed_network(G, pxn)}
    assert all(x <= caps[k] * (1 + 1e-9) + 1e-9 for k, x in fast.link_loads_gbps.items())


def test_symmetry_with_skewed_demand_keeps_the_optimum():
    """A skewed matrix folds less (or not at all); the optimum is still the full LP's."""
    G = topologies.build_preset("superpod-gb200", {"racks": "3"})
    _, dem = traffic_matrix(G, "alltoall")
    dem = [(a, b, x * (1 + (i % 7) / 10)) for i, (a, b, x) in enumerate(dem)]
    full = solve_throughput(G, dem, symmetry=False)
    assert solve_throughput(G, dem).lam == pytest.approx(full.lam, rel=1e-9)


@pytest.mark.parametrize("pattern", ["alltoall", "permutation"])
@pytest.mark.parametrize("pxn", [True, False])
def test_vectorized_aggregation_is_the_loop_bit_for_bit(pattern, pxn):
    from solvers.throughput import _aggregate, _aggregate_loop
    G = topologies.build_preset("superpod-gb200", {"racks": "3"})
    _, dem = traffic_matrix(G, pattern, seed=1)
    (a, x), (b, y) = _aggregate(G, dem, pxn), _aggregate_loop(G, dem, pxn)
    assert x == y and list(a) == list(b)
    assert all(list(a[s].items()) == list(b[s].items()) for s in a)
