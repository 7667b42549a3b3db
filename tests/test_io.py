"""JSON and GraphML round trips restore every attribute with its type; DOT clusters."""

import os

import pytest

import fabric
import topologies
from fabric.exceptions import FabricError, FabricFormatError


def assert_identical(G, H):
    assert list(G.nodes) == list(H.nodes)          # topology order survives
    for n, d in G.nodes(data=True):
        h = H.nodes[n]
        assert d == h
        assert {k: type(v) for k, v in d.items()} == {k: type(v) for k, v in h.items()}
    assert G.number_of_edges() == H.number_of_edges()
    for u, v, d in G.edges(data=True):
        h = H[u][v]
        assert d == h
        assert {k: type(x) for k, x in d.items()} == {k: type(x) for k, x in h.items()}
    assert G.graph == H.graph


PRESETS = [p for p, spec in topologies.TOPOLOGIES.items() if spec.family == "nvlink"]


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("fmt", ["json", "graphml"])
def test_round_trip(tmp_path, name, fmt):
    G = topologies.build_preset(name)
    path = tmp_path / f"f.{fmt}"
    fabric.write_fabric(G, path, fmt)
    H = fabric.read_fabric(path)
    assert_identical(G, H)
    fabric.validate_fabric(H)


def test_round_trip_aggregated(tmp_path):
    G = topologies.build_preset("nvl36x2", {"aggregate_nvswitch": "1"})
    for fmt in ("json", "graphml"):
        fabric.write_fabric(G, tmp_path / f"a.{fmt}", fmt)
        assert_identical(G, fabric.read_fabric(tmp_path / f"a.{fmt}"))


def test_writer_does_not_mutate(tmp_path):
    G = topologies.dgx_h100_graph()
    before = (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))
    for fmt in fabric.FORMATS:
        fabric.write_fabric(G, tmp_path / f"x.{fmt}", fmt)
    assert before == (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))


def test_dot_clusters(tmp_path):
    G = topologies.gb200_nvl72_graph()
    path = tmp_path / "f.dot"
    fabric.write_fabric(G, path, "dot")
    text = path.read_text()
    # one rack cluster plus one cluster per compute tray (host)
    assert text.count("subgraph \"cluster_rack_") == 1
    assert text.count("subgraph \"cluster_host_") == 18
    assert text.count(" -- ") == G.number_of_edges()
    assert text.count("{") == text.count("}")


def test_no_partial_file_on_failure(tmp_path):
    class Boom(Exception):
        pass

    target = tmp_path / "out.json"
    with pytest.raises(Boom):
        with fabric.atomic_write(target) as fh:
            fh.write("half")
            raise Boom
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_unwritable_directory(tmp_path):
    with pytest.raises(FabricError, match="does not exist"):
        fabric.write_fabric(topologies.dgx_h100_graph(), tmp_path / "nope" / "f.json")


@pytest.mark.parametrize(("content", "match"), [
    (b"hello", "neither fabric JSON nor GraphML"),
    (b"{\"a\": 1}", "not a fabric JSON file"),
    (b"{broken", "not valid JSON"),
    (b"<graphml><oops", "not valid GraphML"),
    (b"{\"format\": \"fabric-topology\", \"schema_version\": 99, \"graph\": {}}",
     "schema version 99"),
])
def test_foreign_files(tmp_path, content, match):
    path = tmp_path / "in.dat"
    path.write_bytes(content)
    with pytest.raises(FabricFormatError, match=match):
        fabric.read_fabric(path)


def test_foreign_graphml(tmp_path):
    import networkx as nx
    path = tmp_path / "other.graphml"
    nx.write_graphml(nx.path_graph(3), path)
    with pytest.raises(FabricFormatError, match="not a fabric file"):
        fabric.read_fabric(path)


def test_missing_file(tmp_path):
    with pytest.raises(FabricFormatError, match="cannot read"):
        fabric.read_fabric(tmp_path / "absent.json")


# ----------------------------------------------------------------------------- issue 15
def _old_layout(G, path):
    """A layout-1 file as fabric wrote it before issue 15 (node-link)."""
    import json

    import networkx as nx

    doc = {"format": "fabric-topology", "schema_version": G.graph["schema_version"],
           "graph": nx.node_link_data(G, edges="edges")}
    path.write_text(json.dumps(doc, separators=(",", ":")))


@pytest.mark.parametrize("name", ["gb200-nvl72", "nvl36x2"])
@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_tables_round_trip_keep_order_and_types(tmp_path, name, suffix, monkeypatch):
    from fabric import io

    monkeypatch.setattr(io, "EDGE_BLOCK", 100)          # several edge blocks
    G = topologies.load(name, ["aggregate_nvswitch=1"] if name == "nvl36x2" else [])
    path = tmp_path / f"f{suffix}"
    fabric.write_fabric(G, path)
    H, trusted = io.read_fabric_checked(path)
    assert_identical(G, H)
    assert list(G.edges) == list(H.edges) and trusted
    if suffix == ".json.gz":
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert_identical(G, topologies.load(str(path)))


def test_old_node_link_layout_still_loads(tmp_path):
    G = topologies.load("gb200-nvl72", ["trays=4"])
    path = tmp_path / "old.json"
    _old_layout(G, path)
    from fabric.io import read_fabric_checked

    H, trusted = read_fabric_checked(path)
    assert_identical(G, H)
    assert not trusted
    assert_identical(G, topologies.load(str(path)))


def test_checksum_only_for_validated_graphs_and_checked(tmp_path):
    """A file skips validation only when fabric validated the graph and the bytes match."""
    import networkx as nx

    from fabric.exceptions import FabricValidationError
    from fabric.io import read_fabric_checked

    G = topologies.load("dgx-h100")
    good = tmp_path / "good.json"
    fabric.write_json(G, good)
    assert read_fabric_checked(good)[1]
    text = good.read_text()
    i = text.index('"edges":') + 20
    tampered = tmp_path / "bad.json"
    tampered.write_text(text[:i] + text[i:].replace("1", "2", 1))
    assert not read_fabric_checked(tampered)[1]
    raw = tmp_path / "raw.json"
    fabric.write_json(nx.Graph(builder="x", params={}, catalog_version="x", schema_version=1), raw)
    H, trusted = read_fabric_checked(raw)
    assert not trusted and H.number_of_nodes() == 0
    with pytest.raises(FabricValidationError):
        topologies.load(str(raw))
    H = G.copy()                   # a copy was never validated: no checksum
    fabric.write_json(H, raw)
    assert not read_fabric_checked(raw)[1]


def test_json_gz_by_suffix_everywhere(tmp_path):
    from fabric.export import export

    G = topologies.load("gb200-nvl72", ["trays=2"])
    export(G, tmp_path / "a.json.gz")
    fabric.write_fabric(G, tmp_path / "b.json.gz")
    for name in ("a.json.gz", "b.json.gz"):
        assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
        assert_identical(G, topologies.load(str(tmp_path / name)))
    (tmp_path / "c.json").write_bytes((tmp_path / "a.json.gz").read_bytes())
    with pytest.raises(FabricFormatError, match="gzip"):
        fabric.read_fabric(tmp_path / "c.json")
