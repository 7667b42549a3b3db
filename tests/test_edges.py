"""fabric.edges: the edge table shared by the metrics and the router."""

import numpy as np
import pytest

import topologies
from fabric.edges import _BUILT, EdgeTable, edge_count
from fabric.schema import KIND_CODE, MEDIUM_CODE


@pytest.mark.parametrize("preset,params", [("spectrum-x", {}), ("superfactory", {}),
                                           ("superpod-gb200", {"racks": "2"}), ("fat-tree", {}),
                                           ("gb200-nvl72", {"aggregate_nvswitch": "true"})])
def test_every_edge_once_from_its_lower_endpoint_with_its_own_dict(preset, params):
    G = topologies.build_preset(preset, params)
    table = EdgeTable(G)
    assert len(table.data) == edge_count(G) == G.number_of_edges()
    assert np.all(table.u < table.v)
    names = table.names
    assert [KIND_CODE[d["kind"]] for _, d in G.nodes(data=True)] == table.kind.tolist()
    assert len({(a, b) for a, b in zip(table.u.tolist(), table.v.tolist())}) == len(table.data)
    for k in range(len(table.data)):
        d = table.data[k]
        assert G.adj[names[table.u[k]]][names[table.v[k]]] is d
        assert table.medium[k] == MEDIUM_CODE[d["medium"]]
        assert table.links[k] == d.get("links", 1)
        assert table.bw[k] == d["bandwidth_gbps"]


def test_a_changed_graph_gives_a_changed_table():
    G = topologies.build_preset("spectrum-x")
    before = EdgeTable(G)
    u, v = next(iter(G.edges))
    G.remove_edge(u, v)
    after = EdgeTable(G)
    assert len(after.data) == len(before.data) - 1 == G.number_of_edges()


def _same(a, b):
    return (all(np.array_equal(getattr(a, k), getattr(b, k))
                and getattr(a, k).dtype == getattr(b, k).dtype
                for k in ("u", "v", "medium", "links", "bw", "kind"))
            and len(a.data) == len(b.data) and all(x is y for x, y in zip(a.data, b.data)))


@pytest.mark.parametrize("preset,params", [("spectrum-x", {}), ("superfactory", {}),
                                           ("superpod-gb200", {"racks": "2"}), ("fat-tree", {}),
                                           ("gb200-nvl72", {"aggregate_nvswitch": "true"})])
def test_table_from_the_build_equals_the_table_from_the_adjacency(preset, params):
    G = topologies.build_preset(preset, params)
    assert G in _BUILT                      # validated builds keep their inserted edges
    built = EdgeTable.from_build(G)
    assert G not in _BUILT                  # used once, then released
    assert _same(built, EdgeTable(G))
    assert _same(EdgeTable.from_build(G), EdgeTable(G))     # nothing kept: the adjacency


def test_from_build_after_a_degree_change_reads_the_adjacency():
    G = topologies.build_preset("spectrum-x")
    u, v = next(iter(G.edges))
    G.remove_edge(u, v)
    table = EdgeTable.from_build(G)
    assert _same(table, EdgeTable(G)) and len(table.data) == G.number_of_edges()


def test_stable_argsort_is_numpys_stable_sort():
    from fabric.edges import stable_argsort

    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 1000):
        keys = rng.integers(0, 5, n)
        assert np.array_equal(stable_argsort(keys, 5), np.argsort(keys, kind="stable"))
    keys = rng.integers(0, 2 ** 40, 1000)
    assert np.array_equal(stable_argsort(keys, 2 ** 40), np.argsort(keys, kind="stable"))
