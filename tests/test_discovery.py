"""As built vs as designed (fabric.discovery): ibnetdiscover and LLDP parsers and writers,
`fabric import`, `fabric diff`."""

import json
import re
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


# ---------------------------------------------------------------- superfactory: the WAN routers
# One virtual node per site (kind "wan", part "virtual", chips = routers) in the design; the
# LLDP writer and the diff expand it by the one rule of fabric.discovery.wan.

_SF = {"site_gpus": 72, "planes": 1}                  # 2 sites, 6 WAN routers each
_SF_FREE = {"site_gpus": 72, "planes": 1, "wan_gbps": 40000}   # 3 routers with free ports
_SF_SET = ["--set", "site_gpus=72", "--set", "planes=1"]


@pytest.fixture(scope="module")
def superfactory():
    return topologies.build_preset("superfactory", _SF)


@pytest.fixture(scope="module")
def superfactory_free():
    return topologies.build_preset("superfactory", _SF_FREE)


def _lldp_entry(doc, system, ifname):
    return next(e for e in doc[system]["lldp"]["interface"] if ifname in e)


def _lldp_drop(doc, system, ifname):
    """Remove the cable on ``system``'s ``ifname`` from both ends' documents (LLDP reports
    a link from either end); returns the peer's (system, interface)."""
    entry = _lldp_entry(doc, system, ifname)
    doc[system]["lldp"]["interface"].remove(entry)
    body = entry[ifname]
    peer, peer_if = next(iter(body["chassis"])), body["port"]["id"]["value"]
    doc[peer]["lldp"]["interface"].remove(_lldp_entry(doc, peer, peer_if))
    return peer, peer_if


def _lldp_add(doc, a, a_if, b, b_if):
    """A cable from ``a``'s ``a_if`` to ``b``'s ``b_if``, seen from both ends (chassis copied
    from an entry that already describes each device)."""
    def chassis_of(system):
        for d in doc.values():
            for e in d["lldp"]["interface"]:
                (body,) = e.values()
                if system in body["chassis"]:
                    return json.loads(json.dumps(body["chassis"]))
        raise AssertionError(system)

    for x, x_if, y, y_if in ((a, a_if, b, b_if), (b, b_if, a, a_if)):
        doc[x]["lldp"]["interface"].append({x_if: {
            "via": "LLDP", "chassis": chassis_of(y),
            "port": {"id": {"type": "ifname", "value": y_if}}}})


def _wan_links(G):
    from fabric.discovery.diff import network_links

    return [ln for ln in network_links(G) if ln[5] == "wan"]


def _router_ports(G):
    """{router: sorted ports it uses} over the network links of ``G`` (groups expanded)."""
    from fabric.discovery.diff import network_links
    from fabric.discovery.wan import wan_routers

    routers, ports = wan_routers(G), {}
    for a, p, b, q, _, _ in network_links(G):
        for n, x in ((a, p), (b, q)):
            if n in routers:
                ports.setdefault(n, []).append(x)
    return {n: sorted(x) for n, x in ports.items()}


def test_wan_group_expands_into_routers_evenly(superfactory, superfactory_free):
    from fabric.discovery.diff import network_links
    from fabric.discovery.wan import router_groups, wan_groups, wan_routers

    # routers that are not full: port counts differ by one at most, used from port 1
    used = _router_ports(superfactory_free)
    assert sorted(len(x) for x in used.values()) == [54, 54, 55, 55, 55, 55]
    assert all(x == list(range(1, len(x) + 1)) for x in used.values())

    G = superfactory
    groups = wan_groups(G)
    assert {n: d["chips"] for n, d in groups.items()} == {"s0-wan": 6, "s1-wan": 6}
    routers = wan_routers(G)
    assert sorted(routers) == [f"s{s}-wan-r{k}" for s in (0, 1) for k in range(1, 7)]
    assert routers["s1-wan-r6"] == {"kind": "wan", "part": "SN5600", "ports": 64,
                                    "port_gbps": 800.0, "tier": 4, "site": 1,
                                    "wan_group": "s1-wan"}
    assert router_groups(G)["s0-wan-r3"] == "s0-wan"
    links = network_links(G)
    assert not any(n in groups for ln in links for n in (ln[0], ln[2]))
    ports = {}
    for a, p, b, q, _, _ in links:
        for n, x in ((a, p), (b, q)):
            if n in routers:
                ports.setdefault(n, []).append(x)
    # every router's ports used from 1 without gaps, evenly, within its radix
    assert {n: sorted(x) for n, x in ports.items()} == \
        {n: list(range(1, len(x) + 1)) for n, x in ports.items()}
    assert {len(x) for x in ports.values()} == {64}
    # one spine's 8 WAN uplinks on 6 different routers; all as many as the design's
    up = [ln for ln in links if ln[0] == "s0-p0-spine0" and ln[2].startswith("s0-wan-r")]
    assert len(up) == G.edges["s0-p0-spine0", "s0-wan"]["links"] == 8
    assert len({ln[2] for ln in up}) == 6
    # site-to-site links: router k of one site to router k of the other, same port
    wan = _wan_links(G)
    assert len(wan) == G.edges["s0-wan", "s1-wan"]["links"] == 256
    assert all(a.split("-r")[1] == b.split("-r")[1] and p == q for a, p, b, q, _, _ in wan)


def test_superfactory_lldp_round_trip_is_identical(superfactory):
    G = superfactory
    text = lldp_json_text(G)
    assert text == lldp_json_text(G)                           # deterministic
    doc = json.loads(text)
    assert "s0-wan" not in doc and "s0-wan-r1" in doc and "s1-wan-r6" in doc
    # a WAN router announces Router only; a fabric switch Bridge and Router
    caps = _lldp_entry(doc, "s0-p0-spine0", "swp73")["swp73"]["chassis"]["s0-wan-r1"]
    assert caps["capability"] == [{"type": "Bridge", "enabled": False},
                                  {"type": "Router", "enabled": True}]
    H = parse_lldp_json(text)
    result = diff_fabrics(G, H)
    assert result["identical"], format_diff(result)
    assert result["links_design"] == result["links_matched"] == 2960
    assert result["unknown_devices"] == []
    wan = sorted(n for n, k in H.nodes(data="kind") if k == "wan")
    assert len(wan) == 12 and H.nodes["s0-wan-r1"]["part"] == "SN5600"
    assert H.nodes["s0-wan-r1"]["tier"] == 4
    # the site-to-site links come back as medium "wan", the uplinks as Ethernet
    assert H.edges["s0-wan-r1", "s1-wan-r1"]["medium"] == "wan"
    # 256 site-to-site links from the group's port 129 on: routers 3-6 take 43, 1-2 take 42
    assert [H.edges[f"s0-wan-r{k}", f"s1-wan-r{k}"]["links"] for k in range(1, 7)] == \
        [42, 42, 43, 43, 43, 43]
    assert sum(d["links"] for u, v, d in H.edges(data=True) if d["medium"] == "wan") == 256
    assert H.edges["s0-p0-spine0", "s0-wan-r1"]["medium"] == "ethernet"
    # spines are still spines: the BFS does not pass through the WAN routers
    assert H.nodes["s1-p0-spine0"]["kind"] == "spine"
    # the design itself, and a design against itself: identical too
    assert diff_fabrics(G, G)["identical"]
    assert diff_fabrics(H, H)["identical"]


def test_superfactory_lldp_missing_wan_link_and_uplink(superfactory):
    from fabric.discovery.diff import apply_as_built, touched_domains
    from fabric.locality import domains

    G = superfactory
    a, p, b, q, _, _ = _wan_links(G)[100]
    doc = json.loads(lldp_json_text(G))
    assert _lldp_drop(doc, a, f"swp{p}") == (b, f"swp{q}")
    r = diff_fabrics(G, parse_lldp_json(json.dumps(doc)))
    assert r["counts"] == {"missing": 1}, format_diff(r)
    assert r["differences"][0]["design"] == f"{a}[{p}] - {b}[{q}]"
    assert r["differences"][0]["detail"] == "no link on either port"
    H = apply_as_built(G, r)                   # the router's group loses one WAN link
    assert H.edges["s0-wan", "s1-wan"]["links"] == 255
    assert H.edges["s0-wan", "s1-wan"]["bandwidth_gbps"] == 255 * 400.0
    # a site-to-site link touches the NVLink domains of both sites
    site = {k: G.nodes[g]["site"] for k, gs in domains(G).items() for g in gs[:1]}
    assert sorted(site[k] for k in touched_domains(G, r)) == [0, 1]
    # one site uplink (spine -> WAN router) gone
    doc = json.loads(lldp_json_text(G))
    router, router_if = _lldp_drop(doc, "s1-p0-spine3", "swp75")
    r = diff_fabrics(G, parse_lldp_json(json.dumps(doc)))
    assert r["counts"] == {"missing": 1}, format_diff(r)
    assert r["differences"][0]["design"] == f"s1-p0-spine3[75] - {router}[{router_if[3:]}]"
    assert router.startswith("s1-wan-r")
    H = apply_as_built(G, r)
    assert H.edges["s1-p0-spine3", "s1-wan"]["links"] == 7
    assert [site[k] for k in touched_domains(G, r)] == [1]       # only under the spine


def test_superfactory_lldp_moved_and_extra_wan_links(superfactory_free):
    from fabric.discovery.diff import apply_as_built
    from fabric.discovery.wan import wan_routers

    G = superfactory_free
    assert {n: d["ports"] for n, d in wan_routers(G).items()}["s0-wan-r1"] == 64
    a, p, b, q, _, _ = _wan_links(G)[0]
    assert (a, p, b, q) == ("s0-wan-r2", 22, "s1-wan-r2", 22)
    doc = json.loads(lldp_json_text(G))
    # the cable's far end moved from s1-wan-r2 port 22 to the free port 60 of s1-wan-r1
    _lldp_drop(doc, a, "swp22")
    _lldp_add(doc, a, "swp22", "s1-wan-r1", "swp60")
    # and a new cable between two free ports of s0-wan-r3 and s1-wan-r3
    _lldp_add(doc, "s0-wan-r3", "swp61", "s1-wan-r3", "swp61")
    r = diff_fabrics(G, parse_lldp_json(json.dumps(doc)))
    assert r["counts"] == {"miscabled": 1, "extra": 1}, format_diff(r)
    extra, moved = r["differences"]                          # in DIFF_KINDS order
    assert (moved["kind"], moved["design"], moved["as_built"]) == \
        ("miscabled", "s0-wan-r2[22] - s1-wan-r2[22]", "s0-wan-r2[22] - s1-wan-r1[60]")
    assert moved["detail"] == "goes to s1-wan-r1, designed s1-wan-r2"
    assert (extra["kind"], extra["as_built"]) == ("extra", "s0-wan-r3[61] - s1-wan-r3[61]")
    # in the design's terms: the moved cable still joins the same two groups; one more
    H = apply_as_built(G, r)
    assert H.edges["s0-wan", "s1-wan"]["links"] == G.edges["s0-wan", "s1-wan"]["links"] + 1
    assert H.edges["s0-wan", "s1-wan"]["bandwidth_gbps"] == \
        G.edges["s0-wan", "s1-wan"]["bandwidth_gbps"] + 400.0


def test_cli_superfactory_export_import_diff(tmp_path):
    runner = CliRunner()
    lldp = tmp_path / "sf.lldp.json"
    res = runner.invoke(main, ["export", "superfactory", *_SF_SET, "--format", "lldp-json",
                               "-o", str(lldp)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "as-built.json"
    res = runner.invoke(main, ["import", "lldp-json", str(lldp), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "12 wan" in res.output
    H = read_fabric(out)
    assert H.nodes["s1-wan-r2"]["kind"] == "wan"
    res = runner.invoke(main, ["diff", "superfactory", *_SF_SET, str(out)])
    assert res.exit_code == 0, res.output
    assert "2,960 links" in res.output and "identical" in res.output
    doc = json.loads(lldp.read_text())
    _lldp_drop(doc, "s0-wan-r1", "swp23")                       # a site-to-site link
    lldp.write_text(json.dumps(doc))
    res = runner.invoke(main, ["diff", "superfactory", *_SF_SET, str(lldp), "--format",
                               "lldp-json", "--json", "--impact"])
    assert res.exit_code == 1, res.output
    got = json.loads(res.stdout)
    assert got["counts"] == {"missing": 1}
    assert got["differences"][0]["design"] == "s0-wan-r1[23] - s1-wan-r1[23]"
    assert got["impact"]["as_built_gbps"] <= got["impact"]["design_gbps"]


def test_lldp_writer_still_refuses_other_virtual_nodes():
    agg = topologies.build_preset("superfactory", {**_SF, "aggregate_nvswitch": True})
    with pytest.raises(FabricError, match="aggregated"):
        lldp_json_text(agg)


# ---------------------------------------------------------------- bad discovery files
# iblinkinfo and LLDP: each refused with FabricFormatError naming the file, the line where
# one applies, and what was expected; through `fabric import`: exit 1, no traceback, no file.


@pytest.fixture(scope="module")
def good_texts():
    from fabric.discovery.iblinkinfo import iblinkinfo_text

    ib = topologies.build_preset("fat-tree", {"k": 4})
    eth = topologies.build_preset("spectrum-x", {"gpus": 64})
    return {"iblinkinfo": iblinkinfo_text(ib), "ibnetdiscover": ibnetdiscover_text(ib),
            "lldp-json": lldp_json_text(eth)}


def _iblinkinfo_bad(t, t_ib, t_lldp):
    lines = t.splitlines()
    k = next(i for i, ln in enumerate(lines) if "LinkUp" in ln)
    return {
        # cut in the middle of a port line
        "truncated": (t[:t.index("Gbps Active", 2000)],
                      r"line \d+: the file ends in an incomplete port line: the output looks "
                      "truncated"),
        # cut at a line end, before the spines' blocks
        "truncated-at-line": ("\n".join(lines[:7]) + "\n",
                              r"line 2: links to 4 switch\(es\) that have no block of their own"
                              r".*looks truncated"),
        "truncated-in-header": (t[:t.index("CA:") + 10],
                                r"line \d+: the file ends in this block before any of its port "
                                "lines"),
        "empty": ("", "is empty; expected `iblinkinfo` output"),
        "mixed-ibnetdiscover": (t_ib, r"line 5: not a Switch:/CA: header or a port line: "
                                      r"'vendid=0x2c9'; expected `iblinkinfo` output.*looks like "
                                      "`ibnetdiscover` output"),
        "mixed-lldp": (t_lldp, r"line 1: not a Switch:/CA: header.*looks like `lldpcli -f json "
                               "show neighbors` output"),
        "port-twice": ("\n".join([*lines[:k + 1], lines[k], *lines[k + 1:]]),
                       rf"line {k + 2}: port \d+ of this device is listed twice"),
        "block-twice": (t + lines[0] + "\n" + lines[1] + "\n",
                        rf"line {len(lines) + 1}: a second block for switch GUID"),
    }


def _lldp_bad(t, t_ib, t_iblink):
    doc = json.loads(t)
    entries = doc["p0-leaf0"]["lldp"]["interface"]
    other = json.loads(json.dumps(entries[1]))               # swp2's neighbour on swp1
    other["swp1"] = other.pop(next(iter(other)))
    entries.insert(1, other)
    twice = json.dumps(doc, indent=1)
    i, j = t.index('\n "p0-leaf1"'), t.index('\n "p0-leaf2"')
    return {
        "truncated": (t[:len(t) // 3], r"line \d+: not JSON \(it ends before the JSON is "
                                       r"complete: the file looks truncated\); expected a JSON "
                                       "object of system name"),
        "empty": ("", "is empty; expected a JSON object"),
        "comments-only": ("# collected 2026-12-02\n\n", "holds only comments"),
        "mixed-ibnetdiscover": (t_ib, r"line 5: not JSON \(Expecting value, column 1\); "
                                      r"expected .*looks like `ibnetdiscover` output: read it "
                                      "with `fabric import ibnetdiscover`"),
        "mixed-iblinkinfo": (t_iblink, r"line 1: not JSON.*looks like `iblinkinfo` output"),
        "port-twice": (twice, r"line \d+: p0-leaf0 lists interface 'swp1' twice \(to d0-host0 "
                              r"d0-nic0/1 and to d1-host0 d1-nic0/1\); a port has one cable"),
        "system-twice": (t[:j] + t[i:j] + t[j:],
                         r"line \d+: system 'p0-leaf1' is listed twice"),
        "port-twice-as-keys": ('{"leaf0": {"lldp": {"interface": {\n'
                               ' "swp1": {"chassis": {"h0": {}}, "port": {"id": "nic0/1"}},\n'
                               ' "swp1": {"chassis": {"h1": {}}, "port": {"id": "nic0/1"}}}}}}\n',
                               r"line 3: leaf0 lists interface 'swp1' twice \(as two keys of "
                               r"one JSON object\)"),
    }


def _bad_cases(texts):
    t = texts
    out = [("iblinkinfo", name, text, match) for name, (text, match) in
           _iblinkinfo_bad(t["iblinkinfo"], t["ibnetdiscover"], t["lldp-json"]).items()]
    out += [("lldp-json", name, text, match) for name, (text, match) in
            _lldp_bad(t["lldp-json"], t["ibnetdiscover"], t["iblinkinfo"]).items()]
    return out


def test_bad_iblinkinfo_and_lldp_files_name_file_and_line(good_texts, tmp_path):
    cases = _bad_cases(good_texts)
    assert len(cases) == 16
    for fmt, name, text, match in cases:
        path = tmp_path / f"{fmt}-{name}.txt"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(FabricFormatError) as err:
            read_discovered(fmt, path)
        msg = str(err.value)
        assert f"`{path}`" in msg, (fmt, name, msg)
        assert re.search(match, msg), (fmt, name, msg)
    # the line a message names is that line of the file: the second `swp1` of p0-leaf0
    t = good_texts["lldp-json"]
    twice = _lldp_bad(t, "", "")["port-twice"][0]
    with pytest.raises(FabricFormatError, match="p0-leaf0 lists interface 'swp1'") as err:
        parse_lldp_json(twice, source="x.json")
    named = int(re.search(r"line (\d+)", str(err.value)).group(1))
    lines = twice.splitlines()
    start = lines.index(' "p0-leaf0": {')
    swp1 = [i + 1 for i, ln in enumerate(lines) if i > start and ln.strip() == '"swp1": {']
    assert named == swp1[1]
    # the same interface with the same neighbour twice (LLDP and CDP) is one cable
    doc = json.loads(t)
    entries = doc["p0-leaf0"]["lldp"]["interface"]
    entries.insert(0, json.loads(json.dumps(entries[0])))
    assert diff_fabrics(parse_lldp_json(t), parse_lldp_json(json.dumps(doc)))["identical"]


@pytest.mark.parametrize("fmt", ["iblinkinfo", "lldp-json"])
def test_non_utf8_discovery_file_is_refused(good_texts, tmp_path, fmt):
    data = good_texts[fmt].encode()
    cut = data.index(b"\n", 300) + 1                 # the start of some line N
    line = data[:cut].count(b"\n") + 1
    path = tmp_path / "latin1.txt"
    path.write_bytes(data[:cut] + "caf\u00e9".encode("latin-1") + data[cut:])
    with pytest.raises(FabricFormatError,
                       match=rf"`{re.escape(str(path))}` line {line}: byte 0xe9 \(offset "
                             rf"{cut + 3}\) is not UTF-8; expected the text `{fmt}` output is"):
        read_discovered(fmt, path)


def test_cli_import_refuses_bad_files_without_writing(good_texts, tmp_path):
    runner = CliRunner()
    cases = _bad_cases(good_texts)
    cases.append(("lldp-json", "non-utf8", b"\xff\xfe{}", "is not UTF-8"))
    cases.append(("iblinkinfo", "non-utf8", b"Switch: \xff", "is not UTF-8"))
    for fmt, name, text, match in cases:
        path = tmp_path / f"{fmt}-{name}.txt"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        out = tmp_path / f"{fmt}-{name}.out.json"
        res = runner.invoke(main, ["import", fmt, str(path), "-o", str(out)])
        assert res.exit_code in (1, 2), (fmt, name, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), (fmt, name)
        assert "Traceback" not in res.output and "Error:" in res.output, (fmt, name)
        assert str(path) in res.output, (fmt, name, res.output)
        assert not out.exists(), (fmt, name)
        # and `fabric diff` against it: exit 1 or 2, never "identical"
        res = runner.invoke(main, ["diff", "fat-tree", "--set", "k=4", str(path), "--format",
                                   fmt])
        assert res.exit_code in (1, 2) and "Traceback" not in res.output, (fmt, name)
        assert "identical" not in res.output


# ---------------------------------------------------------------- every preset
_SMALL = {"superpod-h100": {"sus": 1}, "superpod-b200": {"sus": 1}, "superpod-gb200": {"racks": 2},
          "azure-gb300": {"racks": 2}, "spectrum-x": {"gpus": 64}, "fairwater": {"gpus": 144},
          "superfactory": {"site_gpus": 72, "planes": 1}, "fat-tree": {"k": 4}}


def _every_preset():
    from topologies.registry import TOPOLOGIES
    return list(TOPOLOGIES)


@pytest.mark.parametrize("name", _every_preset())
def test_every_preset_round_trips_through_its_discovery_format(name):
    """Design -> what the discovery tool of its network prints -> import -> diff is empty;
    a preset without a network (one box, one rack) is refused by both writers, clearly."""
    from fabric.discovery.diff import diff_fabrics, physical_links
    from fabric.exceptions import FabricError

    G = topologies.build_preset(name, _SMALL.get(name, {}))
    media = {d["medium"] for _, _, d in G.edges(data=True)}
    writers = {"infiniband": (ibnetdiscover_text, parse_ibnetdiscover),
               "ethernet": (lldp_json_text, parse_lldp_json)}
    present = [m for m in writers if m in media]
    for medium, (write, parse) in writers.items():
        if medium in present:
            H = parse(write(G))
            result = diff_fabrics(G, H)
            assert result["identical"], (name, medium, result["counts"])
            assert len(physical_links(H)) == len(physical_links(G)) > 0
        else:
            label = {"infiniband": "InfiniBand", "ethernet": "Ethernet"}[medium]
            with pytest.raises(FabricError, match=f"no {label} links"):
                write(G)
