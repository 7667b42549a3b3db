"""GraphML export read by networkx and by a second, independent reader (igraph)."""

import networkx as nx
import pytest

import fabric
import topologies

PRESETS = ["superpod-h100", "gb200-nvl72"]


@pytest.mark.parametrize("name", PRESETS)
def test_networkx_reads_types(tmp_path, name):
    G = topologies.build_preset(name)
    path = tmp_path / "f.graphml"
    fabric.write_graphml(G, path)
    H = nx.read_graphml(path)
    assert H.number_of_nodes() == G.number_of_nodes()
    assert H.number_of_edges() == G.number_of_edges()
    for n, d in G.nodes(data=True):
        for k, v in d.items():
            assert type(H.nodes[n][k]) is type(v) and H.nodes[n][k] == v, (n, k)
    for u, v, d in G.edges(data=True):
        for k, x in d.items():
            assert type(H[u][v][k]) is type(x) and H[u][v][k] == x, (u, v, k)


@pytest.mark.parametrize("name", PRESETS)
def test_igraph_reads_types(tmp_path, name):
    import igraph as ig  # a test dependency (setup.cfg [test])
    G = topologies.build_preset(name)
    path = tmp_path / "f.graphml"
    fabric.write_graphml(G, path)
    H = ig.Graph.Read_GraphML(str(path))
    assert H.vcount() == G.number_of_nodes() and H.ecount() == G.number_of_edges()
    index = {v["id"]: v.index for v in H.vs}
    for n, d in G.nodes(data=True):
        attrs = H.vs[index[n]].attributes()
        for k, v in d.items():
            got = attrs[k]
            # igraph reads GraphML int/long/double as float, string as str, boolean as bool
            if isinstance(v, str):
                assert got == v, (n, k)
            else:
                assert isinstance(got, (int, float)) and got == v, (n, k)
    for e in H.es:
        u, v = H.vs[e.source]["id"], H.vs[e.target]["id"]
        d = G[u][v]
        assert e["medium"] == d["medium"]
        assert e["links"] == d["links"] and e["bandwidth_gbps"] == d["bandwidth_gbps"]
    # integer-typed keys stay declared as integers in the file
    text = path.read_text()
    assert 'attr.name="links" attr.type="long"' in text or \
        'attr.name="links" attr.type="int"' in text
