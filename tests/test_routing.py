"""Routing invariants: flow conservation, bandwidth-proportional NVLink splits, ECMP, rails."""

from collections import defaultdict

import networkx as nx
import numpy as np
import pytest

import topologies
from fabric.exceptions import FabricError, ParameterError
from solvers.routing import Router, route_flows


def _net_balance(loads):
    bal = defaultdict(float)
    for (u, v), b in loads.items():
        bal[u] -= b
        bal[v] += b
    return bal


@pytest.fixture(scope="module")
def pod():
    return topologies.build_preset("superpod-h100", {"gpus": "32"})


@pytest.mark.parametrize("preset", ["dgx-h100", "hgx-b200", "gb200-nvl72", "nvl36x2"])
def test_flow_conservation_nvlink(preset):
    G = topologies.build_preset(preset)
    gpus = [n for n, k in G.nodes(data="kind") if k == "gpu"]
    flows = [(gpus[0], gpus[-1], 1e6), (gpus[1], gpus[2], 3e6)]
    bal = _net_balance(route_flows(G, flows))
    want = defaultdict(float)
    for s, t, b in flows:
        want[s] -= b
        want[t] += b
    for node in set(bal) | set(want):
        assert bal[node] == pytest.approx(want[node], abs=1e-3)


def test_flow_conservation_network(pod):
    gpus = [n for n, k in pod.nodes(data="kind") if k == "gpu"]
    flows = [(gpus[0], gpus[8], 1e6), (gpus[3], gpus[30], 2e6), (gpus[9], gpus[1], 5e5)]
    loads = route_flows(pod, flows)
    bal = _net_balance(loads)
    want = defaultdict(float)
    for s, t, b in flows:
        want[s] -= b
        want[t] += b
    for node in set(bal) | set(want):
        assert bal[node] == pytest.approx(want[node], abs=1e-3)
    # host and CPU nodes never carry traffic
    assert not any(pod.nodes[u]["kind"] in ("host", "cpu") for u, _ in loads)


def test_nvlink_split_follows_link_counts():
    G = topologies.dgx_h100_graph()          # 5/4/4/5 links to the 4 chips
    loads = route_flows(G, [("d0-gpu0", "d0-gpu1", 18.0)])
    assert [round(loads[("d0-gpu0", f"d0-nvsw{c}")], 6) for c in range(4)] == [5, 4, 4, 5]


def test_ecmp_even_over_spines_and_rail(pod):
    r = Router(pod)
    loads = r.new_loads()
    # GPU 0 of domain 0 -> GPU 1 of domain 1: different rails, so up to the spines
    r.add_flows(loads, [0], [9], 1.0)
    d = r.loads_dict(loads, min_bytes=1e-12)
    up = [b for (u, v), b in d.items()
          if pod.nodes[u]["kind"] == "leaf" and pod.nodes[v]["kind"] == "spine"]
    assert len(up) > 1 and max(up) == pytest.approx(min(up))
    assert sum(up) == pytest.approx(1.0)
    # traffic leaves through the source GPU's own NIC
    assert d[("d0-gpu0", "d0-nic0")] == pytest.approx(1.0)


def test_contention_on_shared_nic(pod):
    r = Router(pod)
    one, two = r.new_loads(), r.new_loads()
    r.add_flows(one, [0], [8], 1.0)
    r.add_flows(two, [0, 0], [8, 16], 1.0)
    e = r.arc("d0-gpu0", "d0-nic0")
    assert two[e] == pytest.approx(2 * one[e])


def test_same_rail_stays_below_spines(pod):
    r = Router(pod)
    loads = r.new_loads()
    r.add_flows(loads, [0], [8], 1.0)       # GPU 0 of domains 0 and 1: same rail leaf
    d = r.loads_dict(loads, min_bytes=1e-12)
    assert not any(pod.nodes[v]["kind"] == "spine" for _, v in d)


def test_uncabled_nics_cannot_leave_the_domain():
    G = topologies.dgx_h100_graph()
    G2 = topologies.dgx_h100_graph()
    for _, attrs in G2.nodes(data=True):
        if "domain" in attrs:
            attrs["domain"] = 1
    both = nx.union(G, G2, rename=("a-", "b-"))
    with pytest.raises(FabricError, match="not cabled"):
        route_flows(both, [("a-d0-gpu0", "b-d0-gpu0", 1.0)])


def test_unknown_gpu_is_a_parameter_error():
    with pytest.raises(ParameterError, match="not a GPU"):
        route_flows(topologies.dgx_h100_graph(), [("d0-gpu0", "d0-nvsw0", 1.0)])


def test_vectorized_matches_pairwise(pod):
    r = Router(pod)
    rng = np.random.default_rng(0)
    src = rng.integers(0, 32, 50)
    dst = rng.integers(0, 32, 50)
    w = rng.random(50)
    together = r.new_loads()
    r.add_flows(together, src, dst, w)
    apart = r.new_loads()
    for s, t, b in zip(src, dst, w):
        r.add_flows(apart, [s], [t], b)
    assert np.allclose(together, apart)
