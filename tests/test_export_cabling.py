"""The cabling plan: `fabric export --format cabling-csv` (fabric.export.cabling)."""

import csv

from click.testing import CliRunner

import topologies
from cli import main
from fabric.export import export
from fabric.export.cabling import CABLING_COLUMNS, cabling_rows, reach_class
from fabric.ports import natural_key
from fabric.schema import NETWORK_MEDIA


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_row_per_physical_link_sorted_and_deterministic(tmp_path):
    G = topologies.build_preset("superpod-h100", {"sus": 1})
    export(G, tmp_path / "a.csv", "cabling-csv")
    export(G, tmp_path / "b.csv", "cabling-csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rows = _read(tmp_path / "a.csv")
    assert tuple(rows[0]) == CABLING_COLUMNS
    links = sum(d["links"] for _, _, d in G.edges(data=True) if d["medium"] in NETWORK_MEDIA)
    assert len(rows) == links
    # each (device, port) appears once over both ends
    ends = [(r["a_device"], r["a_port"]) for r in rows] + [(r["b_device"], r["b_port"])
                                                            for r in rows]
    assert len(set(ends)) == len(ends)
    # sorted by rack of a_device (none last), then device, then port
    def rack(n):
        r = G.nodes[n].get("rack")
        return (1, 0) if r is None else (0, r)
    keys = [(rack(r["a_device"]), natural_key(r["a_device"]), int(r["a_port"])) for r in rows]
    assert keys == sorted(keys)
    first = rows[0]
    assert first == {"a_device": "d0-nic0", "a_port": "1", "b_device": "p0-leaf0",
                     "b_port": "1", "cable_part": "osfp-800g-sr8", "reach_class": "optic",
                     "length_m": "20", "plane": "0", "tier": "1"}
    # a leaf-spine edge of 8 links: 8 rows, contiguous ports on both ends
    up = [r for r in rows if r["a_device"] == "p0-leaf0" and r["b_device"] == "p0-spine0"]
    assert [(int(r["a_port"]), int(r["b_port"])) for r in up] == [(33 + i, 1 + i)
                                                                  for i in range(8)]
    assert {r["tier"] for r in up} == {"2"}


def test_multi_plane_and_wan_rows():
    G = topologies.build_preset("superfactory", {"site_gpus": 72, "planes": 2})
    rows = cabling_rows(G)
    nic = [r for r in rows if r[0] == "s0-d0-nic0"]
    assert [(r[1], r[2], r[7]) for r in nic] == [(1, "s0-p0-leaf0", 0), (2, "s0-p1-leaf0", 1)]
    wan = [r for r in rows if r[0] == "s0-wan" and r[2] == "s1-wan"]
    assert len(wan) == 256 and {r[5] for r in wan} == {"optic"} and {r[8] for r in wan} == {4}


def test_graph_without_ports_is_numbered_on_a_copy():
    G = topologies.build_preset("fat-tree", {"k": 4})
    for _, _, d in G.edges(data=True):
        for k in ("a_end", "a_port", "b_port"):
            d.pop(k, None)
    before = [dict(d) for _, _, d in G.edges(data=True)]
    rows = cabling_rows(G)
    assert len(rows) == 48 and rows[0][:4] == ("h0-nic", 1, "p0-leaf0", 1)
    assert before == [dict(d) for _, _, d in G.edges(data=True)]


def test_reach_class():
    assert reach_class("dac-800g-2m", 2.0) == "copper"
    assert reach_class("acc-800g-5m", None) == "copper"
    assert reach_class("zr-400g", None) == "optic"
    assert reach_class("no-such-part", 1.0) == "copper"
    assert reach_class(None, 3.5) == "optic"


def test_cli_cabling_csv(tmp_path):
    out = tmp_path / "cables.csv"
    res = CliRunner().invoke(main, ["export", "fat-tree", "--set", "k=4", "--format",
                                    "cabling-csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert len(_read(out)) == 48
