"""As built vs as designed (fabric.discovery): ibnetdiscover and LLDP parsers and writers,
`fabric import`, `fabric diff`."""

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.discovery import parse_discovered, read_discovered
from fabric.discovery.build import Device, Link, as_built_graph, ib_label, ib_rate
from fabric.discovery.diff import (
    apply_as_built,
    diff_fabrics,
    format_diff,
    physical_links,
)
from fabric.discovery.ibnetdiscover import ibnetdiscover_text, parse_ibnetdiscover
from fabric.discovery.lldp import lldp_json_text, parse_lldp_json
from fabric.exceptions import FabricError, FabricFormatError, ParameterError
from fabric.io import read_fabric
from fabric.validate import FabricWarning, validate_fabric

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def superpod():
    return topologies.build_preset("superpod-h100", {"sus": 1})


def _kinds(G):
    return {n: k for n, k in G.nodes(data="kind")}


# ---------------------------------------------------------------- ibnetdiscover


def test_ibnetdiscover_sample_file():
    G = read_discovered("ibnetdiscover", DATA / "ibnetdiscover-small.txt")
    kinds = _kinds(G)
    assert {n for n, k in kinds.items() if k == "leaf"} == {"ib-leaf01", "ib-leaf02"}
    assert {n for n, k in kinds.items() if k == "spine"} == {"ib-spine01"}
    # "mlx5_0" on two hosts: NIC names get the host prefix; hosts by node type
    assert {n for n, k in kinds.items() if k == "nic"} == {"dgx01-mlx5_0", "dgx01-mlx5_1",
                                                           "dgx02-mlx5_0", "dgx02-mlx5_1"}
    assert {n for n, k in kinds.items() if k == "host"} == {"dgx01", "dgx02"}
    assert G.nodes["dgx01-mlx5_0"]["host"] == "dgx01"
    # MQM9790 is no catalog key: matched by 64 ports at 400 Gb/s; CX-7 by device id
    assert G.nodes["ib-leaf01"]["part"] == "QM9700" and G.nodes["ib-leaf01"]["ports"] == 64
    assert G.nodes["dgx01-mlx5_0"]["part"] == "cx7"
    # devid 0x0 at 4xHDR (200 Gb/s): no catalog NIC fits -> unknown, with a note
    assert G.nodes["dgx02-mlx5_1"]["part"] == "unknown"
    assert any(n.startswith("dgx02-mlx5_1: part unknown: no catalog part") for n in
               G.graph["notes"])
    assert any("no GPUs" in n for n in G.graph["notes"])
    up = G.edges["ib-leaf01", "ib-spine01"]
    assert (up["links"], up["bandwidth_gbps"], up["a_end"], up["a_port"], up["b_port"]) == \
        (2, 800.0, "ib-leaf01", 33, 1)
    assert G.edges["dgx02-mlx5_0", "ib-leaf01"]["bandwidth_gbps"] == 200.0       # 2xNDR
    assert G.graph["builder"] == "discovery:ibnetdiscover"
    with pytest.warns(FabricWarning, match="no GPUs"):
        validate_fabric(G, strict=False)


def test_ib_rates_and_labels():
    assert ib_rate("4xNDR") == 400.0 and ib_rate("4xXDR") == 800.0 and ib_rate("1xSDR") == 2.5
    assert ib_rate("4xBOGUS") is None
    assert [ib_label(x) for x in (400.0, 800.0, 200.0)] == ["4xNDR", "4xXDR", "4xHDR"]


@pytest.mark.parametrize("preset,params", [("superpod-h100", {"sus": 1}),
                                           ("fat-tree", {"k": 4}),
                                           ("superpod-gb200", {"racks": 2})])
def test_ibnetdiscover_round_trip_is_identical(preset, params):
    G = topologies.build_preset(preset, params)
    text = ibnetdiscover_text(G)
    assert text == ibnetdiscover_text(G)                      # deterministic
    H = parse_ibnetdiscover(text)
    result = diff_fabrics(G, H)
    assert result["identical"], format_diff(result)
    assert result["links_design"] == result["links_matched"] > 0
    # tiers recovered by BFS distance from the hosts, parts from the catalog
    for n, k in _kinds(H).items():
        if k in ("leaf", "spine", "core", "nic"):
            assert G.nodes[n]["kind"] == k
            assert H.nodes[n]["part"] == G.nodes[n]["part"]
    for u, v, d in H.edges(data=True):
        if d["medium"] == "infiniband":
            assert d["bandwidth_gbps"] == G.edges[u, v]["bandwidth_gbps"]


def test_ibnetdiscover_errors(superpod):
    with pytest.raises(FabricFormatError, match="line 1"):
        parse_ibnetdiscover("hello world\n", source="x.txt")
    with pytest.raises(FabricFormatError, match="no Switch or Ca block"):
        parse_ibnetdiscover("# only a comment\n")
    agg = topologies.build_preset("superpod-gb200", {"racks": 2, "aggregate_nvswitch": True})
    with pytest.raises(FabricError, match="aggregated"):
        ibnetdiscover_text(agg)
    eth = topologies.build_preset("spectrum-x", {"gpus": 64})
    with pytest.raises(FabricError, match="no InfiniBand links"):
        ibnetdiscover_text(eth)
    with pytest.raises(ParameterError, match="unknown discovery format"):
        parse_discovered("bogus", "")


@pytest.mark.parametrize("preset,params", [("superpod-h100", {"sus": 1}),
                                           ("superpod-gb200", {"racks": 2})])
def test_iblinkinfo_round_trip_is_identical(preset, params):
    from fabric.discovery.iblinkinfo import iblinkinfo_text, parse_iblinkinfo

    G = topologies.build_preset(preset, params)
    H = parse_iblinkinfo(iblinkinfo_text(G))
    result = diff_fabrics(G, H)
    assert result["identical"], format_diff(result)
    assert H.nodes["d0-nic0"]["part"] == "cx7" and H.nodes["p0-leaf0"]["part"] == "QM9700"


def test_iblinkinfo_sample_file():
    G = read_discovered("iblinkinfo", DATA / "iblinkinfo-small.txt")
    kinds = _kinds(G)
    assert kinds["ib-leaf01"] == "leaf" and kinds["ib-spine01"] == "spine"
    assert kinds["dgx01-mlx5_0"] == "nic" and kinds["dgx01"] == "host"
    assert G.nodes["ib-leaf01"]["ports"] == 64                 # 64 ports listed (Down too)
    assert G.edges["dgx02-mlx5_0", "ib-leaf01"]["bandwidth_gbps"] == 200.0      # 2X NDR
    up = G.edges["ib-leaf01", "ib-spine01"]
    assert (up["links"], up["a_port"], up["b_port"]) == (2, 33, 1)
    with pytest.raises(FabricFormatError, match="line 1"):
        parse_discovered("iblinkinfo", "bogus line\n")


# ---------------------------------------------------------------- LLDP


def test_lldp_sample_file():
    G = read_discovered("lldp-json", DATA / "lldp-small.json")
    kinds = _kinds(G)
    assert kinds["leaf01"] == "leaf" and kinds["spine01"] == "spine"
    assert kinds["node01-eth0"] == kinds["node02-eth0"] == "nic"
    assert kinds["node01"] == "host"
    assert G.nodes["leaf01"]["part"] == "SN5600"                  # from the description
    d = G.edges["leaf01", "spine01"]                              # reported from both ends
    assert (d["links"], d["a_end"], d["a_port"], d["b_port"]) == (1, "leaf01", 33, 1)
    assert G.edges["node02-eth0", "leaf01"]["b_port"] == 2      # seen from the leaf only
    assert any("no link rates" in n for n in G.graph["notes"])


@pytest.mark.parametrize("planes", [1, 2])
def test_lldp_round_trip_is_identical(planes):
    G = topologies.build_preset("spectrum-x", {"gpus": 64, "planes": planes})
    text = lldp_json_text(G)
    H = parse_lldp_json(text)
    result = diff_fabrics(G, H)
    assert result["identical"], format_diff(result)
    assert H.nodes["p0-leaf0"]["kind"] == "leaf" and H.nodes["p0-spine0"]["kind"] == "spine"


def test_lldp_errors():
    with pytest.raises(FabricFormatError, match="not JSON"):
        parse_lldp_json("{", source="x.json")
    with pytest.raises(FabricFormatError, match="no LLDP neighbour"):
        parse_lldp_json('{"sw": {"lldp": {}}}')
    with pytest.raises(FabricError, match="no Ethernet links"):
        lldp_json_text(topologies.build_preset("fat-tree", {"k": 4}))


# ---------------------------------------------------------------- diff


def _as_built(G, edit):
    """An as-built graph of the design's network links after ``edit(links)``."""
    links = {k: list(v) for k, v in physical_links(G).items()}
    extra_devices = edit(links) or []
    devs = []
    for n, d in G.nodes(data=True):
        if d["kind"] == "nic":
            devs.append(Device(n, "ca", f"{d['host']} {n}", d["ports"], d["host"]))
        elif d["kind"] in ("leaf", "spine", "core"):
            devs.append(Device(n, "switch", f"MF0;{n}:M{d['part']}/U1", d["ports"]))
    return as_built_graph(devs + extra_devices, [Link(*v) for v in links.values()],
                          medium="infiniband", builder="test", source="test")


def _at(links, dev, port):
    return next(k for k in links if (dev, port) in k)


def test_diff_finds_every_kind_of_difference(superpod):
    G = superpod

    def edit(links):
        del links[_at(links, "d3-nic0", 1)]                               # missing
        links[_at(links, "d4-nic0", 1)][4] = 200.0                        # degraded
        k2 = _at(links, "d5-nic2", 1)                                     # wrong rail: nic1
        moved = links.pop(k2)                                             # on leaf2's port
        links[_at(links, "d5-nic1", 1)] = ["d5-nic1", 1, "p0-leaf2", moved[3], 400.0]
        a, b = _at(links, "p0-leaf0", 33), _at(links, "p0-leaf0", 41)     # swapped far ends
        la, lb = links[a], links[b]
        links[a], links[b] = ["p0-leaf0", 33, lb[2], lb[3], 400.0], \
            ["p0-leaf0", 41, la[2], la[3], 400.0]
        del links[_at(links, "p0-leaf3", 31)]                             # unknown device
        links["x"] = ["rogue-nic", 1, "p0-leaf3", 31, 400.0]
        return [Device("rogue-nic", "ca", "rogue rogue-nic", 1, "rogue")]

    r = diff_fabrics(G, _as_built(G, edit))
    assert not r["identical"]
    kinds = {}
    for x in r["differences"]:
        kinds.setdefault(x["kind"], []).append(x)
    assert [x["design"] for x in kinds["missing"]][0] == "d3-nic0[1] - p0-leaf0[4]"
    assert kinds["degraded"][0]["detail"] == "200 Gb/s, designed 400 Gb/s"
    assert kinds["wrong-rail"][0]["as_built"] == "d5-nic1[1] - p0-leaf2[6]"
    assert "rail 2" in kinds["wrong-rail"][0]["detail"]
    assert len(kinds["swapped"]) == 1 and "33 and 41 of p0-leaf0" in kinds["swapped"][0]["detail"]
    assert kinds["unknown-device"][0]["as_built"] == "rogue-nic[1] - p0-leaf3[31]"
    assert r["unknown_devices"] == ["rogue-nic"]
    text = format_diff(r)
    assert text.splitlines()[0].startswith("design 508 links")
    assert "wrong-rail" in text and "swapped" in text


def test_diff_same_devices_swapped_miscabled_and_extra():
    G = topologies.build_preset("fat-tree", {"k": 4})

    def edit(links):
        # h0-nic on the leaf's port 2 and h1-nic on port 1: a swapped pair
        a, b = _at(links, "h0-nic", 1), _at(links, "h1-nic", 1)
        links[a], links[b] = ["h0-nic", 1, "p0-leaf0", 2, 400.0], \
            ["h1-nic", 1, "p0-leaf0", 1, 400.0]
        # leaf0 -> spine0 moved from leaf port 3 to the free port 10: miscabled
        c = _at(links, "p0-leaf0", 3)
        spine_port = [p for d, p in c if d == "p0-spine0"][0]
        del links[c]
        links["m"] = ["p0-leaf0", 10, "p0-spine0", spine_port, 400.0]
        # a second leaf1 -> spine1 cable on free ports: extra
        links["e"] = ["p0-leaf1", 20, "p0-spine1", 20, 400.0]

    r = diff_fabrics(G, _as_built(G, edit))
    got = {(x["kind"], x["design"], x["as_built"]) for x in r["differences"]}
    assert ("swapped", "h0-nic[1] - p0-leaf0[1]", "h1-nic[1] - p0-leaf0[1]") in got
    swapped = [x for x in r["differences"] if x["kind"] == "swapped"][0]
    assert "ports 1 and 2 of p0-leaf0 are exchanged" in swapped["detail"]
    assert any(k == "miscabled" and a == "p0-leaf0[10] - p0-spine0[1]" for k, _, a in got)
    assert ("extra", "", "p0-leaf1[20] - p0-spine1[20]") in got
    assert r["counts"] == {"swapped": 1, "miscabled": 1, "extra": 1}


def test_diff_wrong_plane():
    G = topologies.build_preset("spectrum-x", {"gpus": 64, "planes": 2})
    H = parse_lldp_json(lldp_json_text(G))
    # the NIC's two plane ports exchanged at the NIC: port 1 to plane 1, port 2 to plane 0
    text = lldp_json_text(G).replace('"d0-nic0/1"', '"TMP"').replace('"d0-nic0/2"', '"d0-nic0/1"')
    text = text.replace('"TMP"', '"d0-nic0/2"')
    H = parse_lldp_json(text)
    r = diff_fabrics(G, H)
    assert r["counts"] == {"swapped": 1}, format_diff(r)
    # one plane port moved to the other plane's leaf on a free port: wrong plane
    links = physical_links(G)
    k = _at(links, "d0-nic0", 1)
    H = _as_built_eth(G, k, ["d0-nic0", 1, "p1-leaf0", 100, 400.0])
    r = diff_fabrics(G, H)
    assert r["counts"] == {"wrong-plane": 1}, format_diff(r)
    assert "plane 1" in r["differences"][0]["detail"]


def _as_built_eth(G, drop, add):
    links = {k: list(v) for k, v in physical_links(G).items()}
    del links[drop]
    links["new"] = add
    devs = [Device(n, "ca" if d["kind"] == "nic" else "switch", "", d["ports"], d.get("host", ""))
            for n, d in G.nodes(data=True) if d["kind"] in ("nic", "leaf", "spine", "core")]
    return as_built_graph(devs, [Link(*v) for v in links.values()], medium="ethernet",
                          builder="test", source="test")


def test_apply_as_built_lowers_bisection():
    from fabric.metrics import bisection_bandwidth

    G = topologies.build_preset("fat-tree", {"k": 4})

    def edit(links):
        del links[_at(links, "p0-leaf0", 3)]         # one of leaf0's two uplinks
        links[_at(links, "h2-nic", 1)][4] = 100.0    # a degraded host link

    r = diff_fabrics(G, _as_built(G, edit))
    assert r["counts"] == {"missing": 1, "degraded": 1}
    H = apply_as_built(G, r)
    assert not H.has_edge("p0-leaf0", "p0-spine0")
    assert H.edges["h2-nic", "p0-leaf1"]["bandwidth_gbps"] == 100.0
    before, after = (bisection_bandwidth(X, method="exact")["bisection_gbps"] for X in (G, H))
    assert (before, after) == (3200.0, 2500.0)


# ---------------------------------------------------------------- CLI


def test_cli_export_import_diff(tmp_path):
    runner = CliRunner()
    ib = tmp_path / "fabric.ibnet"
    res = runner.invoke(main, ["export", "fat-tree", "--set", "k=4", "--format", "ibnetdiscover",
                               "-o", str(ib)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "as-built.json"
    res = runner.invoke(main, ["import", "ibnetdiscover", str(ib), "-o", str(out)])
    assert res.exit_code == 0, res.output
    first = out.read_bytes()
    res = runner.invoke(main, ["import", "ibnetdiscover", str(ib), "-o", str(out)])
    assert out.read_bytes() == first                               # deterministic
    H = read_fabric(out)
    assert sum(k == "nic" for _, k in H.nodes(data="kind")) == 16
    res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4", str(out)])
    assert res.exit_code == 0, res.output
    assert "identical" in res.output
    # break one link: exit 1, in text and JSON, with the bisection impact
    text = ib.read_text().splitlines()
    cut = [i for i, line in enumerate(text) if line.startswith("[1]") and '"h0-host h0-nic"'
           in line][0]
    del text[cut]
    ca = [i for i, line in enumerate(text) if line.startswith("[1](") and "p0-leaf0" in line
          and text[i - 1].endswith('"h0-host h0-nic"')][0]
    del text[ca]
    broken = tmp_path / "broken.ibnet"
    broken.write_text("\n".join(text))
    res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4", str(broken), "--format",
                               "ibnetdiscover", "--json", "--impact"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output[res.output.index("{"):])
    assert doc["counts"] == {"missing": 1}
    assert doc["differences"][0]["design"] == "h0-nic[1] - p0-leaf0[1]"
    assert doc["impact"]["as_built_gbps"] <= doc["impact"]["design_gbps"]
    res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4", str(broken), "--format",
                               "ibnetdiscover"])
    assert res.exit_code == 1 and "missing" in res.output
    # a discovered fabric with other names: an error that says how devices are matched,
    # exit 2 (as diff(1): 1 means "they differ")
    res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4",
                               str(DATA / "ibnetdiscover-small.txt"), "--format", "ibnetdiscover"])
    assert res.exit_code == 2 and "no device name in common" in res.output
    assert "node-name-map" in res.output


def test_cli_import_lldp_and_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "lldp.json"
    res = runner.invoke(main, ["import", "lldp-json", str(DATA / "lldp-small.json"), "-o",
                               str(out)])
    assert res.exit_code == 0, res.output
    assert "no link rates" in res.output
    assert nx.is_connected(read_fabric(out))
    bad = tmp_path / "bad.txt"
    bad.write_text("nonsense\n")
    res = runner.invoke(main, ["import", "ibnetdiscover", str(bad), "-o", str(out)])
    assert res.exit_code == 1 and "Error:" in res.output and "line 1" in res.output
    res = runner.invoke(main, ["import", "bogus", str(bad), "-o", str(out)])
    assert res.exit_code == 2


# ---------------------------------------------------------------- nvidia-smi topo -m


def test_nvidia_smi_topo_adds_gpus_to_their_nearest_nic():
    from fabric.discovery.nvidia_smi import attach_gpus, parse_topo_matrix

    text = (DATA / "dgx01.topo.txt").read_text()
    topo = parse_topo_matrix(text)
    assert topo["gpus"] == ["GPU0", "GPU1", "GPU2", "GPU3"]
    assert topo["nics"] == {"NIC0": "mlx5_0", "NIC1": "mlx5_1"}
    G = read_discovered("ibnetdiscover", DATA / "ibnetdiscover-small.txt")
    attach_gpus(G, "dgx01", text)
    near = {g: [n for n in G[g] if G.nodes[n]["kind"] == "nic"] for g in
            ("dgx01-gpu0", "dgx01-gpu1", "dgx01-gpu2", "dgx01-gpu3")}
    assert near == {"dgx01-gpu0": ["dgx01-mlx5_0"], "dgx01-gpu1": ["dgx01-mlx5_0"],
                    "dgx01-gpu2": ["dgx01-mlx5_1"], "dgx01-gpu3": ["dgx01-mlx5_1"]}
    assert G.nodes["dgx01-gpu0"]["nvlink_links"] == 18
    validate_fabric(G)                           # strict: the fabric now has GPUs
    with pytest.raises(ParameterError, match="no host `nohost`"):
        attach_gpus(G, "nohost", text)
    with pytest.raises(FabricFormatError, match="no `nvidia-smi topo -m` matrix"):
        parse_topo_matrix("nothing here")


def test_cli_import_with_gpu_topo_gives_a_loadable_fabric(tmp_path):
    from fabric.discovery.nvidia_smi import topo_matrix_text

    G = topologies.build_preset("fat-tree", {"k": 4})
    ib = tmp_path / "f.ibnet"
    ib.write_text(ibnetdiscover_text(G))
    args = []
    for h in ("h0-host", "h1-host"):
        path = tmp_path / f"{h}.txt"
        path.write_text(topo_matrix_text(G, h))
        args += ["--gpu-topo", str(path)]
    out = tmp_path / "ab.json"
    runner = CliRunner()
    res = runner.invoke(main, ["import", "ibnetdiscover", str(ib), "-o", str(out), *args])
    assert res.exit_code == 0, res.output
    H = read_fabric(out)
    assert H.has_edge("h0-host-gpu0", "h0-nic")
    res = runner.invoke(main, ["info", str(out), "--counts-only"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["import", "ibnetdiscover", str(ib), "-o", str(out),
                               "--gpu-topo", f"nohost={tmp_path / 'h0-host.txt'}"])
    assert res.exit_code == 2 and "no host `nohost`" in res.output
    # iblinkinfo through the CLI: export, import, diff
    ibl = tmp_path / "f.iblink"
    res = runner.invoke(main, ["export", "fat-tree", "--set", "k=4", "--format", "iblinkinfo",
                               "-o", str(ibl)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4", str(ibl), "--format",
                               "iblinkinfo"])
    assert res.exit_code == 0 and "identical" in res.output


def test_diff_map_matches_devices_by_guid(tmp_path):
    """Descriptions stripped (names become S-/H-<guid>): no name in common, exit 2; with
    `--map` (design names to the GUIDs the writer gave them) the diff is identical, exit 0."""
    import re

    from click.testing import CliRunner

    from cli import main
    from fabric.discovery.ibnetdiscover import _device_table

    G = topologies.build_preset("superpod-h100", {"sus": 1})
    text = ibnetdiscover_text(G)
    anonymous = re.sub(r'#\s*"[^"]*"', '# ""', text)            # drop every node description
    anonymous = re.sub(r'lmc 0 "[^"]*"', 'lmc 0 ""', anonymous)
    path = tmp_path / "fabric.ibnet"
    path.write_text(anonymous, encoding="utf-8")
    devs, _, guid, *_ = _device_table(G)
    (tmp_path / "map.json").write_text(json.dumps({n: "0x" + guid(n) for n in devs}),
                                       encoding="utf-8")
    runner = CliRunner()
    base = ["diff", "superpod-h100", "--set", "sus=1", str(path), "--format", "ibnetdiscover"]
    plain = runner.invoke(main, base)
    assert plain.exit_code == 2 and "--map" in plain.output
    mapped = runner.invoke(main, [*base, "--map", str(tmp_path / "map.json"), "--json"])
    assert mapped.exit_code == 0, mapped.output
    out = json.loads(mapped.stdout)
    assert out["identical"] and out["links_matched"] == out["links_design"] > 0
    # bad map files: clear errors naming --map, exit 2
    (tmp_path / "bad.json").write_text('{"leaf0": "not-a-guid"}', encoding="utf-8")
    bad = runner.invoke(main, [*base, "--map", str(tmp_path / "bad.json")])
    assert bad.exit_code == 2 and "--map" in bad.output and "Traceback" not in bad.output
    nofmt = runner.invoke(main, ["diff", "superpod-h100", str(path), "--map",
                                 str(tmp_path / "map.json")])
    assert nofmt.exit_code == 2 and "--format" in nofmt.output


def test_ibnetdiscover_bad_inputs_name_the_file_and_line(tmp_path):
    """Truncated output, a duplicate GUID block, a port listed twice and another format:
    each refused with the file and what was expected (no partial output)."""
    from fabric.exceptions import FabricFormatError

    G = topologies.build_preset("superpod-h100", {"sus": 1})
    text = ibnetdiscover_text(G)
    with pytest.raises(FabricFormatError, match="truncated"):
        parse_ibnetdiscover(text[: len(text) // 3], source="cut.txt")
    i = text.index("\nSwitch")
    block = text[i:text.index("\n\n", i + 1)]
    with pytest.raises(FabricFormatError, match=r"line \d+: a second block for GUID"):
        parse_ibnetdiscover(text + "\n" + block + "\n", source="dup.txt")
    lines = text.splitlines()
    k = next(j for j, line in enumerate(lines) if line.startswith("["))
    with pytest.raises(FabricFormatError, match=rf"line {k + 2}: port \d+ of this device is "
                                                 "listed twice"):
        parse_ibnetdiscover("\n".join([*lines[:k + 1], lines[k], *lines[k + 1:]]),
                            source="port.txt")
    with pytest.raises(FabricFormatError, match="expected `ibnetdiscover` output"):
        parse_ibnetdiscover('{"lldp": {}}', source="mixed.json")
