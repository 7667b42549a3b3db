"""fabric.edges: the edge table shared by the metrics and the router."""

import numpy as np
import pytest

import topologies
from fabric.edges import EdgeTable, _REMEMBERED, edge_count
from fabric.schema import MEDIUM_CODE

COLUMNS = ("u", "v", "medium", "links", "bw", "kind")


def _same(a, b):
    return (all(np.array_equal(getattr(a, k), getattr(b, k))
                and getattr(a, k).dtype == getattr(b, k).dtype for k in COLUMNS)
            and len(a.data) == len(b.data) and all(x is y for x, y in zip(a.data, b.data)))


@pytest.mark.parametrize("preset,params", [("spectrum-x", {}), ("superfactory", {}),
                                           ("superpod-gb200", {"racks": "2"}), ("fat-tree", {}),
                                           ("gb200-nvl72", {"aggregate_nvswitch": "true"})])
def test_table_from_the_build_equals_the_table_from_the_adjacency(preset, params):
    G = topologies.build_preset(preset, params)
    assert G in _REMEMBERED                 # validated builds keep their edge arrays
    built = EdgeTable(G)
    assert G not in _REMEMBERED             # for the first table only
    scanned = EdgeTable(G)
    assert _same(built, scanned)
    # each edge once, from its lower endpoint, with G's own attribute dict
    assert len(built.data) == edge_count(G) == G.number_of_edges()
    assert np.all(built.u < built.v)
    names = built.names
    for k in range(0, len(built.data), max(1, len(built.data) // 200)):
        assert G.adj[names[built.u[k]]][names[built.v[k]]] is built.data[k]
        assert built.medium[k] == MEDIUM_CODE[built.data[k]["medium"]]
        assert built.bw[k] == built.data[k]["bandwidth_gbps"]


def test_a_graph_changed_since_its_build_is_read_from_its_adjacency():
    G = topologies.build_preset("spectrum-x")
    u, v = next(iter(G.edges))
    G.remove_edge(u, v)
    table = EdgeTable(G)
    assert len(table.data) == G.number_of_edges()
    assert all(G.adj[table.names[a]][table.names[b]] is d
               for a, b, d in zip(table.u.tolist(), table.v.tolist(), table.data))
