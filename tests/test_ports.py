"""Port numbers of the network links (fabric.ports): conventions, determinism, validation,
round trips and the aggregated form."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import topologies
from fabric.exceptions import FabricValidationError
from fabric.io import read_graphml, read_json, write_graphml, write_json
from fabric.ports import (PORT_ATTRS, assign_ports, cable_ends, edge_ports, natural_key,
                          natural_order)
from fabric.schema import NETWORK_MEDIA
from fabric.validate import validate_fabric


def _ports_at(G, node):
    """{neighbour: (first port, links)} of ``node``'s network links."""
    out = {}
    for nbr, d in G[node].items():
        if d["medium"] in NETWORK_MEDIA:
            out[nbr] = (edge_ports(node, nbr, d)[0], d["links"])
    return out


@pytest.fixture(scope="module")
def superpod():
    return topologies.build_preset("superpod-h100", {"sus": 1})


def test_every_network_link_has_ports_and_others_none(superpod):
    for u, v, d in superpod.edges(data=True):
        if d["medium"] in NETWORK_MEDIA:
            assert d["a_end"] in (u, v)
            assert isinstance(d["a_port"], int) and isinstance(d["b_port"], int)
        else:
            assert not set(PORT_ATTRS) & set(d)


def test_rail_r_of_every_host_on_the_same_leaf_in_host_order(superpod):
    G = superpod
    for r in range(8):
        leaf = f"p0-leaf{r}"
        ports = _ports_at(G, leaf)
        hosts = [f"d{h}-nic{r}" for h in range(31)]      # SU of 32 slots, 31 DGX + UFM
        assert [ports[n][0] for n in hosts] == list(range(1, 32))
        assert ports["ufm-nic0"][0] == 32 if r == 0 else True
        # a NIC's only port is port 1 and the edge's a-end is the NIC (lower tier)
        d = G.edges[f"d0-nic{r}", leaf]
        assert d["a_end"] == f"d0-nic{r}" and d["a_port"] == 1 and d["b_port"] == 1


def test_leaf_uplinks_spread_evenly_over_spines_in_order(superpod):
    ports = _ports_at(superpod, "p0-leaf0")
    spines = sorted((n for n in ports if "spine" in n), key=natural_key)
    assert [ports[s] for s in spines] == [(33, 8), (41, 8), (49, 8), (57, 8)]
    # the spine side: leaves in order, 8 contiguous ports each
    sp = _ports_at(superpod, "p0-spine0")
    assert [sp[f"p0-leaf{i}"] for i in range(8)] == [(1 + 8 * i, 8) for i in range(8)]


def test_multi_plane_nic_port_p_goes_to_plane_p_minus_1():
    G = topologies.build_preset("spectrum-x", {"gpus": 64, "planes": 2})
    ports = _ports_at(G, "d0-nic0")
    assert ports == {"p0-leaf0": (1, 1), "p1-leaf0": (2, 1)}


def test_fat_tree_ports_and_natural_order():
    G = topologies.build_preset("fat-tree", {"k": 4})
    assert _ports_at(G, "p0-leaf0") == {"h0-nic": (1, 1), "h1-nic": (2, 1),
                                        "p0-spine0": (3, 1), "p0-spine1": (4, 1)}
    assert natural_key("spine2") < natural_key("spine10")


def test_deterministic_regardless_of_insertion_order(superpod):
    H = nx.Graph()
    H.graph.update(superpod.graph)
    H.add_nodes_from(reversed(list(superpod.nodes(data=True))))
    H.add_edges_from((v, u, {k: x for k, x in d.items() if k not in PORT_ATTRS})
                     for u, v, d in reversed(list(superpod.edges(data=True))))
    assign_ports(H)
    assert nx.utils.graphs_equal(H, superpod)
    for u, v, d in superpod.edges(data=True):
        assert H.edges[u, v] == d


def test_validation_port_budget_and_reuse(superpod):
    G = superpod.copy()
    validate_fabric(G)
    d = G.edges["d1-nic0", "p0-leaf0"]
    d["b_port"] = 1                                    # d0-nic0 is on leaf port 1
    with pytest.raises(FabricValidationError, match="port 1 is used by two links"):
        validate_fabric(G)
    d["b_port"] = 64                                   # port 64 is a spine uplink
    with pytest.raises(FabricValidationError, match="used by two links"):
        validate_fabric(G)
    d["b_port"] = 65
    with pytest.raises(FabricValidationError, match="outside its ports 1-64"):
        validate_fabric(G)
    d["b_port"] = 2
    d["a_end"] = "p0-spine0"
    with pytest.raises(FabricValidationError, match="not one of its endpoints"):
        validate_fabric(G)
    d["a_end"] = "d1-nic0"
    del d["a_port"]
    with pytest.raises(FabricValidationError, match="go together"):
        validate_fabric(G)
    d["a_port"] = 1.0
    with pytest.raises(FabricValidationError, match="`a_port` must be int"):
        validate_fabric(G)
    d["a_port"] = 1
    # a multi-link range that runs into the next edge's range
    G.edges["p0-leaf0", "p0-spine0"]["a_port"] = 34
    with pytest.raises(FabricValidationError, match="used by two links"):
        validate_fabric(G)


@pytest.mark.parametrize("writer,reader,suffix", [(write_json, read_json, "json"),
                                                  (write_graphml, read_graphml, "graphml")])
def test_ports_survive_round_trips(tmp_path, superpod, writer, reader, suffix):
    path = tmp_path / f"f.{suffix}"
    writer(superpod, path)
    H = reader(path)
    validate_fabric(H)
    for u, v, d in superpod.edges(data=True):
        e = H.edges[u, v]
        assert {k: e.get(k) for k in PORT_ATTRS} == {k: d.get(k) for k in PORT_ATTRS}
        if "a_port" in e:
            assert type(e["a_port"]) is int and type(e["b_port"]) is int


def test_aggregated_form_keeps_port_ranges():
    full = topologies.build_preset("superpod-gb200", {"racks": 2})
    agg = topologies.build_preset("superpod-gb200", {"racks": 2, "aggregate_nvswitch": True})
    validate_fabric(agg)
    for G in (full, agg):
        used = {}
        for u, v, d in G.edges(data=True):
            if d["medium"] in NETWORK_MEDIA:
                for n, p in zip((u, v), edge_ports(u, v, d)):
                    used[n] = used.get(n, 0) + d["links"]
                    assert 1 <= p and p + d["links"] - 1 <= G.nodes[n]["ports"]
        # ports are dense: every device uses 1..N with no gap
        for n, total in used.items():
            top = max(edge_ports(n, nb, d)[0] + d["links"] - 1 for nb, d in G[n].items()
                      if d["medium"] in NETWORK_MEDIA)
            assert top == total
    # the leaves are not aggregated: the same numbering in both forms
    assert _ports_at(full, "p0-leaf0").keys() >= {n for n in _ports_at(full, "p0-leaf0")
                                                   if "spine" in n}
    spines_full = {n: p for n, p in _ports_at(full, "p0-leaf0").items() if "spine" in n}
    spines_agg = {n: p for n, p in _ports_at(agg, "p0-leaf0").items() if "spine" in n}
    assert spines_full == spines_agg


def test_superfactory_wan_peer_ports_after_downlinks():
    G = topologies.build_preset("superfactory", {"site_gpus": 72, "planes": 2})
    validate_fabric(G)
    d = G.edges["s0-wan", "s1-wan"]
    a, b, pa, pb = cable_ends("s0-wan", "s1-wan", d)
    assert (a, b) == ("s0-wan", "s1-wan")
    downlinks = sum(x["links"] for n, x in G["s0-wan"].items() if n != "s1-wan")
    assert pa == downlinks + 1 and pb == downlinks + 1


@pytest.mark.parametrize("preset,params", [
    ("dgx-h100", {}), ("gb200-nvl72", {}), ("fat-tree", {"k": 4, "tiers": 2}),
    ("superpod-b200", {"sus": 2}), ("azure-gb300", {"racks": 2}),
    ("spectrum-x", {"gpus": 144, "system": "gb300-nvl72"}), ("fairwater", {"gpus": 144}),
    ("superfactory", {"site_gpus": 72, "site": "superpod-gb200"})])
@pytest.mark.parametrize("aggregate", [False, True])
def test_every_preset_validates_with_its_ports(preset, params, aggregate):
    if aggregate and preset == "fat-tree":
        pytest.skip("fat-tree has no aggregated form")
    params = {**params, **({"aggregate_nvswitch": True} if aggregate else {})}
    G = topologies.build_preset(preset, params)
    validate_fabric(G)                     # port budgets and no port used twice
    for u, v, d in G.edges(data=True):
        assert ("a_end" in d) == (d["medium"] in NETWORK_MEDIA)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab-_01239x\u0663", max_size=8), max_size=30))
def test_natural_order_is_the_stable_sort_by_natural_key(names):
    expected = sorted(range(len(names)), key=lambda i: natural_key(names[i]))
    assert natural_order(names).tolist() == expected


def test_natural_order_beyond_int64_and_prefixes():
    names = ["a" + "9" * 30, "a1", "a" + "9" * 25, "a", "a1b", "a01", "b0"]
    expected = sorted(range(len(names)), key=lambda i: natural_key(names[i]))
    assert natural_order(names).tolist() == expected
    assert natural_order(["x10", "x9", "x09"]).tolist() == [1, 2, 0]
