"""As built vs as designed, the rest of issue 13: seeded faults in an exported ibnetdiscover
text are found exactly, `fabric diff --impact` prices the allreduce of the touched NVLink
domains as the collective model does, and the parsers shrug off comments, blank lines and
records they do not know."""

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.discovery import parse_discovered, read_discovered
from fabric.discovery.diff import (
    diff_fabrics,
    domain_groups,
    format_diff,
    physical_links,
    touched_domains,
)
from fabric.discovery.faults import IbText, inject_faults
from fabric.discovery.ibnetdiscover import ibnetdiscover_text, parse_ibnetdiscover
from fabric.discovery.nvidia_smi import parse_topo_matrix
from fabric.locality import domain_of, domains
from fabric.schema import NETWORK_MEDIA
from solvers.collectives import CollectiveModel
from solvers.impact import IMPACT_SIZES, diff_impact

DATA = Path(__file__).parent / "data"

# ---------------------------------------------------------------- seeded faults
# (fabric.discovery.faults writes them into the exported text, both ends of each link)

def _check_exact(result, expected):
    got = [(x["kind"], x["design"]) for x in result["differences"]]
    left = list(got)
    for kind, candidates in expected:
        hit = next((g for g in left if g[0] == kind and g[1] in candidates), None)
        assert hit is not None, (kind, candidates, format_diff(result))
        left.remove(hit)
    assert left == [], format_diff(result)


@pytest.fixture(scope="module")
def superpod():
    return topologies.build_preset("superpod-h100", {"sus": 1})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_seeded_faults_are_found_exactly(superpod, seed):
    counts = {"remove": 3, "degrade": 4, "miscable": 2, "port-swap": 1, "rail-swap": 2}
    text, expected = inject_faults(superpod, counts, seed=seed)
    H = parse_ibnetdiscover(text)
    result = diff_fabrics(superpod, H)
    _check_exact(result, expected)
    assert result["counts"] == {"missing": 3, "miscabled": 4, "swapped": 1, "wrong-rail": 4,
                                "degraded": 4}
    for x in result["differences"]:
        if x["kind"] == "degraded":
            assert x["detail"] == "200 Gb/s, designed 400 Gb/s"


def test_no_faults_no_differences(superpod):
    text, expected = inject_faults(superpod, {})
    assert expected == [] and diff_fabrics(superpod, parse_ibnetdiscover(text))["identical"]


# ---------------------------------------------------------------- --impact


def _halve_nic_links(G, dom, factor):
    """A copy of ``G`` with the network links of the NICs of domain ``dom`` at ``factor``."""
    H = G.copy()
    for n, k in G.nodes(data="kind"):
        if k == "nic" and domain_of(G, n) == dom:
            for _, _, d in H.edges(n, data=True):
                if d["medium"] in NETWORK_MEDIA:
                    d["bandwidth_gbps"] *= factor
    return H


def _degrade_rack_text(G, rack_prefix, label):
    """The ibnetdiscover text of ``G`` with every link of the NICs named ``rack_prefix*``
    at ``label`` (written at both ends)."""
    ib = IbText(ibnetdiscover_text(G))
    for a, p, b, q, _ in physical_links(G).values():
        if a.startswith(rack_prefix) and G.nodes[a]["kind"] == "nic":
            ib.relabel(a, p, label)
            ib.relabel(b, q, label)
    return ib.text()


@pytest.mark.parametrize("label,factor", [("2xNDR", 0.5), ("1xNDR", 0.25)])
def test_impact_of_one_nvl72_rack_at_reduced_speed(label, factor):
    G = topologies.build_preset("superpod-gb200", {"racks": 2})
    H = parse_ibnetdiscover(_degrade_rack_text(G, "d0-", label))
    result = diff_fabrics(G, H)
    assert result["counts"] == {"degraded": 72}
    order = list(domains(G))
    assert touched_domains(G, result) == [order[0]]              # rack 0 only
    assert domain_groups(G, result) == [order[:2]]               # with its neighbour
    im = diff_impact(G, result)
    # expected independently: the design with those 72 links' bandwidth scaled
    ranks = domains(G)[order[0]] + domains(G)[order[1]]
    want = CollectiveModel(G, ranks=ranks).sweep("allreduce", list(IMPACT_SIZES), algo="ring")
    got = CollectiveModel(_halve_nic_links(G, order[0], factor), ranks=ranks).sweep(
        "allreduce", list(IMPACT_SIZES), algo="ring")
    assert len(im.allreduce) == len(IMPACT_SIZES)
    for row, w, g in zip(im.allreduce, want, got):
        assert (row.group, row.gpus, row.algo) == ("0+1", 144, "ring")
        assert row.design_busbw_GBps == w.busbw_GBps
        assert row.as_built_busbw_GBps == g.busbw_GBps
        assert row.loss_GBps == w.busbw_GBps - g.busbw_GBps
        assert row.loss_pct == pytest.approx(100 * row.loss_GBps / w.busbw_GBps)
    if factor == 0.5:
        # the model's answer, stated: the ring's 32 channels cross between the racks on 32
        # of the 72 NICs, and a half-speed NIC still outruns the GPU's NVLink share
        assert all(r.loss_GBps == 0.0 and "nvlink" in r.bottleneck for r in im.allreduce)
    else:
        assert all(r.loss_GBps > 0 and "infiniband" in r.bottleneck for r in im.allreduce)
    # bisection: rack 0's 72 NIC links carry half the rack-to-rack traffic at `factor`
    assert im.as_built_gbps == pytest.approx(im.design_gbps * factor)


def test_impact_of_one_dgx_at_half_speed_on_h100(superpod):
    """H100 domains (8 GPUs, 8 NICs): the ring is network-bound, half-speed NICs halve it."""
    G = superpod
    text = _degrade_rack_text(G, "d3-", "2xNDR")
    result = diff_fabrics(G, parse_ibnetdiscover(text))
    assert result["counts"] == {"degraded": 8}
    im = diff_impact(G, result)
    order = list(domains(G))
    k = order.index(domain_of(G, "d3-gpu0"))
    ranks = domains(G)[order[k]] + domains(G)[order[k + 1]]
    want = CollectiveModel(G, ranks=ranks).sweep("allreduce", list(IMPACT_SIZES), algo="ring")
    got = CollectiveModel(_halve_nic_links(G, order[k], 0.5), ranks=ranks).sweep(
        "allreduce", list(IMPACT_SIZES), algo="ring")
    assert [r.group for r in im.allreduce] == ["3+4"] * 2
    assert [r.as_built_busbw_GBps for r in im.allreduce] == [g.busbw_GBps for g in got]
    assert [r.design_busbw_GBps for r in im.allreduce] == [w.busbw_GBps for w in want]
    assert all(45 < r.loss_pct < 55 for r in im.allreduce)


def test_impact_of_a_missing_cable_and_a_spine_link(superpod):
    G = superpod
    ib = IbText(ibnetdiscover_text(G))
    links = physical_links(G)
    nic = next(v for v in links.values() if v[0] == "d5-nic2")
    up = next(v for v in links.values() if v[0] == "p0-leaf1" and v[2].startswith("p0-spine"))
    for a, p, b, q, _ in (nic, up):
        ib.drop(a, p)
        ib.drop(b, q)
    result = diff_fabrics(G, parse_ibnetdiscover(ib.text()))
    assert result["counts"] == {"missing": 2}
    touched = touched_domains(G, result)
    # the NIC's domain, and every domain under leaf1 (its uplink is gone)
    under_leaf1 = {domain_of(G, n) for n in G["p0-leaf1"] if G.nodes[n]["kind"] == "nic"}
    under_leaf1 &= set(domains(G))                   # not the UFM host's NIC: it has no GPU
    assert set(touched) == under_leaf1 | {domain_of(G, "d5-gpu0")}
    # groups: 5 with its untouched neighbour 6, and the leaf-mates of leaf1 (all of them)
    assert domain_groups(G, result) == [[(0, 5), (0, 6)], sorted(under_leaf1)]
    im = diff_impact(G, result)
    # d5-gpu2's NIC has no link left: the model has no route for it (NCCL might fail over
    # to another NIC; the model does not), so that group is not priced as built
    row5 = [r for r in im.allreduce if r.group.startswith("5+")]
    assert row5 and all(r.as_built_busbw_GBps is None and r.loss_GBps is None and
                        "cannot reach" in r.note for r in row5)
    # the group of leaf1's leaf-mates holds domain 5 too
    assert [r.group for r in im.allreduce] == ["5+6", "5+6", "0-30", "0-30"]
    assert im.allreduce[2].gpus == 248 and "`d5-nic2` is not cabled" in im.allreduce[2].note
    result["impact"] = im.as_dict()
    assert "not priced as built" in format_diff(result)
    # the spine link alone: one group of leaf1's leaf-mates, priced; a rail-aligned ring
    # stays on the leaves, so it loses nothing, and so does the bisection (one SU: every
    # half can be cut through the rail leaves); the NIC's cable cost the 400 Gb/s above
    ib = IbText(ibnetdiscover_text(G))
    ib.drop(up[0], up[1])
    ib.drop(up[2], up[3])
    result = diff_fabrics(G, parse_ibnetdiscover(ib.text()))
    im2 = diff_impact(G, result)
    assert [(r.group, r.note, r.loss_GBps) for r in im2.allreduce] == [("0-30", "", 0.0)] * 2
    assert im2.as_built_gbps == im2.design_gbps == im.as_built_gbps + 400.0
    assert im.as_built_gbps < im.design_gbps
    doc = im.as_dict()
    json.dumps(doc)
    assert doc["allreduce"][0]["domains"] == [[0, 5], [0, 6]]


def test_cli_diff_impact_prints_the_allreduce_cost(tmp_path, superpod):
    text = _degrade_rack_text(superpod, "d3-", "2xNDR")
    (tmp_path / "ib.txt").write_text(text)
    runner = CliRunner()
    r = runner.invoke(main, ["diff", "superpod-h100", str(tmp_path / "ib.txt"), "--set",
                             "sus=1", "--format", "ibnetdiscover", "--impact"])
    assert r.exit_code == 1, r.output
    assert "bisection: design" in r.output
    assert "allreduce busbw (ring" in r.output and "3+4" in r.output
    r = runner.invoke(main, ["diff", "superpod-h100", str(tmp_path / "ib.txt"), "--set",
                             "sus=1", "--format", "ibnetdiscover", "--impact", "--json"])
    doc = json.loads(r.stdout)
    rows = doc["impact"]["allreduce"]
    assert {x["size_bytes"] for x in rows} == set(IMPACT_SIZES)
    assert all(x["loss_GBps"] > 0 for x in rows)
    assert doc["impact"]["touched_domains"] == [[0, 3]]


def test_impact_identical_fabric_has_no_groups(superpod):
    result = diff_fabrics(superpod, superpod)
    im = diff_impact(superpod, result)
    assert im.allreduce == () and im.change == 0.0
    result["impact"] = im.as_dict()
    assert "no NVLink domain is touched" in format_diff(result)


# ---------------------------------------------------------------- parsing tolerance


def _same_graph(G, H):
    assert dict(G.nodes(data=True)) == dict(H.nodes(data=True))
    eg = {frozenset((u, v)): d for u, v, d in G.edges(data=True)}
    eh = {frozenset((u, v)): d for u, v, d in H.edges(data=True)}
    assert eg == eh
    assert nx.utils.graphs_equal(nx.Graph(G.edges()), nx.Graph(H.edges()))


def _noisy_ibnetdiscover(text):
    out = ["# a comment before anything", "", "   "]
    for ln in text.splitlines():
        if ln.startswith(("Switch", "Ca")):
            out += ["# comment inside", "", "nodeguid=0x0000000000000001",
                    "unknownkey=whatever"]
        out.append(ln)
        if ln.startswith("["):
            out += ["", "   # an indented comment"]
    # a router block (ibnetdiscover prints `Rt` for IB routers) and an unknown record
    out += ["", "vendid=0x2c9", "rtguid=0xdeadbeef00000001",
            'Rt\t2 "R-deadbeef00000001"\t\t# "some router"',
            '[1]\t"S-deadbeef00000002"[1]\t\t# "elsewhere" lid 9 4xNDR',
            "", "ibwarn: [12345] mad_rpc_open_port: an unknown record the parser skips", ""]
    return "\n".join(out)


def _noisy_iblinkinfo(text):
    out = ["# iblinkinfo, captured 2026-12-01", ""]
    for ln in text.splitlines():
        out.append(ln)
        if ln.startswith(("Switch:", "CA:")):
            out += ["", "# comment"]
    out += ["", "Router: 0xdeadbeef00000001 some router:",
            "           9    1[  ] ==(                Down/ Polling)==>             [  ] \"\" ( )",
            "ibwarn: [12345] an unknown record the parser skips", ""]
    return "\n".join(out)


def _noisy_lldp(text):
    doc = json.loads(text)

    def walk(x):
        if isinstance(x, dict):
            for v in list(x.values()):
                walk(v)
            if "chassis" in x or "lldp" in x:
                x["unknown-tlvs"] = {"tlv": [{"type": "127", "oui": "00,80,C2"}]}
                x["vlan"] = {"vlan-id": "1", "pvid": True}
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    body = json.dumps(doc, indent=1).splitlines()
    return "\n".join(["# lldpcli -f json show neighbors, one document per system", ""] +
                     [ln if i % 7 else ln + "\n\n  # a comment line" for i, ln in
                      enumerate(body, 1)])


@pytest.mark.parametrize("name,fmt,noisy", [
    ("ibnetdiscover-small.txt", "ibnetdiscover", _noisy_ibnetdiscover),
    ("iblinkinfo-small.txt", "iblinkinfo", _noisy_iblinkinfo),
    ("lldp-small.json", "lldp-json", _noisy_lldp),
])
def test_sample_files_tolerate_comments_blank_lines_and_unknown_records(name, fmt, noisy):
    text = (DATA / name).read_text()
    G = read_discovered(fmt, DATA / name)
    noisy_text = noisy(text)
    assert noisy_text != text
    H = parse_discovered(fmt, noisy_text, source=str(DATA / name))
    _same_graph(G, H)


def test_nvidia_smi_sample_tolerates_comments_blank_lines_and_unknown_rows():
    text = (DATA / "dgx01.topo.txt").read_text()
    lines = text.splitlines()
    noisy = ["# nvidia-smi topo -m on dgx01", ""]
    for ln in lines:
        noisy.append(ln)
        if ln.startswith("GPU1"):
            noisy += ["", "# a comment in the matrix", "NVSWITCH0\tNV18\tNV18\tNV18\tNV18"]
    noisy.append("Some unknown trailing record: 42")
    assert parse_topo_matrix("\n".join(noisy)) == parse_topo_matrix(text)


def test_ibnetdiscover_still_refuses_text_that_is_not_ibnetdiscover():
    from fabric.exceptions import FabricFormatError

    with pytest.raises(FabricFormatError, match="line 1"):
        parse_ibnetdiscover("hello world\n")
    with pytest.raises(FabricFormatError, match="line 1"):
        parse_discovered("iblinkinfo", "bogus line\n")
