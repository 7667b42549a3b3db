"""JSON and GraphML round trips restore every attribute with its type; DOT clusters."""

import contextlib
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


SPEC = """preset = "superfactory"
name = "lab"
[params]
distance_km = 100
[[site]]
preset = "fairwater"
gpus = 300
planes = 2
[[site]]
preset = "azure-gb300"
gpus = 200
"""


@pytest.mark.parametrize("topo,sets", [
    ("dgx-h100", []), ("nvl36x2", ["aggregate_nvswitch=1"]), ("fat-tree", ["k=4"]),
    ("spectrum-x", ["gpus=512", "aggregate_nvswitch=true"]),
    ("spectrum-x", ["gpus=600", "system=gb300-nvl72", "planes=4"]),
    ("superpod-h100", ["aggregate_nvswitch=true"]), ("superfactory", ["site_gpus=300"]),
    ("spec", [])])
@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_tables_write_the_graphs_bytes(tmp_path, topo, sets, suffix, monkeypatch):
    """A build's tables (no graph) are written byte for byte as its graph, and load back."""
    from fabric import io

    monkeypatch.setattr(io, "EDGE_BLOCK", 97)           # several edge blocks
    if topo == "spec":
        topo = str(tmp_path / "s.toml")
        (tmp_path / "s.toml").write_text(SPEC)
    G = topologies.load(topo, sets)
    T = topologies.load(topo, sets, tables=True)
    assert isinstance(T, io.Tables)
    assert (T.number_of_nodes(), T.number_of_edges()) == (G.number_of_nodes(),
                                                          G.number_of_edges())
    a, b = tmp_path / f"graph{suffix}", tmp_path / f"tables{suffix}"
    fabric.write_json(G, a)
    fabric.write_fabric(T, b)
    assert a.read_bytes() == b.read_bytes()
    H, trusted = io.read_fabric_checked(b)
    assert trusted
    assert_identical(G, H)
    assert list(G.edges) == list(H.edges)
    assert_identical(G, topologies.load(str(b)))


def test_tables_are_json_only_and_files_load_as_graphs(tmp_path):
    T = topologies.load("dgx-h100", tables=True)
    with pytest.raises(FabricFormatError, match="JSON only.*suffix of `path`.*graphml"):
        fabric.write_fabric(T, tmp_path / "f.graphml")
    with pytest.raises(FabricFormatError, match=r"JSON only.*suffix of `path`.*asks for gz"):
        fabric.write_fabric(T, tmp_path / "x.gz")       # .gz alone is not .json.gz
    with pytest.raises(FabricFormatError, match="JSON only.*`fmt` 'dot'"):
        fabric.write_fabric(T, tmp_path / "f.json", "dot")
    assert not list(tmp_path.iterdir())
    fabric.write_fabric(T, tmp_path / "f.json")
    G = topologies.load(str(tmp_path / "f.json"), tables=True)
    assert G.number_of_edges() == T.number_of_edges() and hasattr(G, "adj")


def test_only_the_collectors_tables_get_a_checksum(tmp_path):
    """A hand-made Tables is written as an unvalidated graph is: no checksum, so reading it
    back validates it (and finds its errors); the collector's tables carry one."""
    from fabric import io
    from fabric.exceptions import FabricValidationError

    T = topologies.load("dgx-h100", tables=True)
    fabric.write_fabric(T, tmp_path / "built.json")
    assert io.read_fabric_checked(tmp_path / "built.json")[1]
    copy = io.Tables(T.graph, T.names, T.attrs, T.u, T.v, T.data)
    fabric.write_fabric(copy, tmp_path / "copy.json")
    assert not io.read_fabric_checked(tmp_path / "copy.json")[1]
    assert (tmp_path / "copy.json").read_bytes().count(b'"checksum":"' + b"-" * 32) == 1
    bad = io.Tables(dict(T.graph), T.names[:1], T.attrs[:1], T.u[:0], T.v[:0], [])
    fabric.write_fabric(bad, tmp_path / "bad.json")
    assert not io.read_fabric_checked(tmp_path / "bad.json")[1]
    with pytest.raises(FabricValidationError):
        topologies.load(str(tmp_path / "bad.json"))


def test_tables_report_validation_errors_as_the_graph_path():
    """The lists are validated as for a graph: the same errors, all of them."""
    from fabric.catalog import default_catalog
    from fabric.exceptions import FabricValidationError
    from topologies._common import Collector, as_tables

    def broken():
        col = Collector()
        col.node("g0", {"kind": "gpu", "part": "H100", "host": "h0", "nvlink_links": 18})
        col.node("h0", {"kind": "host", "part": "x", "host": "h0"})
        col.node("g0", {"kind": "gpu", "part": "H100", "host": "h0", "nvlink_links": 18})
        col.edge("g0", "h0", {"medium": "nvlink", "links": 1, "bandwidth_gbps": 1.0,
                              "latency_ns": 0.0})
        col.edge("g0", "nope", {"medium": "pcie", "links": 0, "bandwidth_gbps": 1.0,
                                "latency_ns": 0.0})
        return col

    errors = []
    for tables in (False, True):
        with as_tables() if tables else contextlib.nullcontext():
            with pytest.raises(FabricValidationError) as exc:
                broken().graph("broken", {}, default_catalog())
        errors.append(exc.value.errors)
    assert errors[0] == errors[1] and len(errors[0]) >= 3


def test_build_imports_no_networkx(tmp_path):
    """`fabric build` to JSON writes from the builder's lists: networkx is never imported,
    and numpy starts no BLAS threads (the environment is left as it was)."""
    import subprocess
    import sys

    out = tmp_path / "x.json.gz"
    code = ("import os, sys, cli\n"
            "try:\n"
            f"    cli.main(['build', 'spectrum-x', '--set', 'gpus=512', '-o', {str(out)!r}])\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "threads = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') "
            "else 1\n"
            "print('networkx' in sys.modules, 'OPENBLAS_NUM_THREADS' in os.environ, threads)")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    assert done.stdout.split() == ["False", "False", "1"], done.stderr
    G = topologies.load("spectrum-x", ["gpus=512"])
    ref = tmp_path / "ref.json.gz"
    fabric.write_json(G, ref)
    assert out.read_bytes() == ref.read_bytes()
