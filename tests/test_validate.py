"""validate_fabric catches each kind of violation, and reports all of them at once."""

import networkx as nx
import pytest

import topologies
from fabric import FabricValidationError, validate_fabric


@pytest.fixture
def G():
    return topologies.dgx_h100_graph()


def errors_of(G):
    with pytest.raises(FabricValidationError) as info:
        validate_fabric(G)
    return info.value.errors


def test_valid_presets_pass():
    for name in topologies.TOPOLOGIES:
        if topologies.TOPOLOGIES[name].family == "nvlink":
            assert validate_fabric(topologies.build_preset(name)) is not None


def test_switch_port_budget(G):
    # chip 0 has 40 of its 64 ports in use; 25 more links overflow it
    G["d0-gpu0"]["d0-nvsw0"]["links"] = 30
    G["d0-gpu0"]["d0-nvsw0"]["bandwidth_gbps"] = 30 * 200.0
    errs = errors_of(G)
    assert any("d0-nvsw0" in e and "65 links exceed its port budget of 64" in e for e in errs)
    # the same edge also breaks the GPU's 18 NVLink links (18 - 5 + 30 = 43)
    assert any("d0-gpu0" in e and "43 NVLink links exceed the GPU's 18" in e for e in errs)


def test_link_faster_than_port(G):
    G["d0-gpu0"]["d0-nvsw1"]["bandwidth_gbps"] = 4 * 400.0
    assert any("d0-nvsw1" in e and "400 Gb/s per link exceeds its 200 Gb/s ports" in e
               for e in errors_of(G))


def test_missing_and_mistyped_attributes(G):
    del G.nodes["d0-gpu3"]["host"]
    G.nodes["d0-nvsw2"]["ports"] = 64.0
    G["d0-gpu1"]["d0-nvsw0"]["links"] = "5"
    del G["d0-gpu2"]["d0-nvsw0"]["latency_ns"]
    errs = errors_of(G)
    assert len(errs) == 4
    assert any("d0-gpu3" in e and "missing `host`" in e for e in errs)
    assert any("`ports` must be int, got float" in e for e in errs)
    assert any("`links` must be int, got str" in e for e in errs)
    assert any("missing `latency_ns`" in e for e in errs)


def test_unknown_kind_and_medium(G):
    G.nodes["d0-cpu0"]["kind"] = "toaster"
    G["d0-gpu0"]["d0-nvsw0"]["medium"] = "carrier-pigeon"
    errs = errors_of(G)
    assert any("`kind` must be one of" in e and "toaster" in e for e in errs)
    assert any("`medium` must be one of" in e and "carrier-pigeon" in e for e in errs)


def test_medium_between_wrong_kinds(G):
    G.add_edge("d0-gpu0", "d0-gpu1", medium="infiniband", links=1, bandwidth_gbps=400.0,
               latency_ns=1.0)
    assert any("medium 'infiniband' cannot join a gpu and a gpu" in e for e in errors_of(G))


def test_disconnected(G):
    G.add_node("stray", kind="nvswitch", part="nvswitch3", ports=64, port_gbps=200.0)
    assert any("not connected: 2 components" in e and "stray" in e for e in errors_of(G))


def test_provenance_required(G):
    del G.graph["catalog_version"]
    assert errors_of(G) == ["G.graph lacks provenance key `catalog_version`"]


def test_nonnegative_and_positive(G):
    G["d0-gpu0"]["d0-nvsw0"]["links"] = 0
    G["d0-gpu1"]["d0-nvsw0"]["bandwidth_gbps"] = -1.0
    G["d0-gpu2"]["d0-nvsw0"]["latency_ns"] = -5.0
    errs = errors_of(G)
    assert any("`links` must be >= 1" in e for e in errs)
    assert any("`bandwidth_gbps` must be > 0" in e for e in errs)
    assert any("`latency_ns` must be >= 0" in e for e in errs)


def test_all_violations_in_one_error(G):
    for i in range(8):
        G.nodes[f"d0-gpu{i}"]["nvlink_links"] = 4
    errs = errors_of(G)
    assert len(errs) == 8
    assert "8 violations" in str(FabricValidationError(errs))


def test_wrong_graph_class():
    with pytest.raises(FabricValidationError, match="undirected networkx.Graph"):
        validate_fabric(nx.MultiGraph(topologies.dgx_h100_graph()))


def test_no_gpus_strict_vs_lenient():
    G = nx.Graph(builder="t", params={}, catalog_version="x", schema_version=1)
    G.add_node("a", kind="leaf", part="QM9700", ports=64, port_gbps=400.0)
    G.add_node("b", kind="spine", part="QM9700", ports=64, port_gbps=400.0)
    G.add_edge("a", "b", medium="infiniband", links=2, bandwidth_gbps=800.0, latency_ns=10.0)
    with pytest.raises(FabricValidationError, match="no GPUs"):
        validate_fabric(G)
    with pytest.warns(UserWarning, match="no GPUs"):
        validate_fabric(G, strict=False)


def test_builder_lists_with_duplicates_are_refused():
    from fabric.validate import validate_parts
    attrs = {"builder": "t", "params": {}, "catalog_version": "x", "schema_version": 1}
    e = {"medium": "pcie", "links": 1, "bandwidth_gbps": 1.0, "latency_ns": 0.0}
    nodes = [("h", {"kind": "host", "part": "p", "host": "h"}),
             ("c", {"kind": "cpu", "part": "p", "host": "h"}),
             ("c", {"kind": "cpu", "part": "p", "host": "h"})]
    with pytest.raises(FabricValidationError) as exc:
        validate_parts(attrs, nodes, [("h", "c", e), ("c", "h", e)])
    errors = exc.value.errors
    assert any("duplicate node name" in m and "'c'" in m for m in errors)
    assert any("1 duplicate edge" in m for m in errors)


@pytest.mark.parametrize("where,value,message", [
    ("node", -(2 ** 80), "`ports` must be > 0"),
    ("edge", 2 ** 80, "of a link are outside its ports 1-"),
])
def test_ports_beyond_int64_are_validation_errors_not_overflows(where, value, message):
    G = topologies.build_preset("spectrum-x")
    if where == "node":
        leaf = next(n for n, d in G.nodes(data=True) if d["kind"] == "leaf")
        G.nodes[leaf]["ports"] = value
    else:
        e = next((u, v) for u, v, d in G.edges(data=True) if "a_port" in d)
        G.edges[e]["a_port"] = value
    with pytest.raises(FabricValidationError, match=message):
        validate_fabric(G)
