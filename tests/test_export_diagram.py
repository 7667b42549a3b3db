"""Diagrams: valid SVG/PNG with the expected labels and counts, fast on large fabrics."""

import time
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.exceptions import FabricFormatError, ParameterError
from fabric.export import diagram

SVG = "{http://www.w3.org/2000/svg}"


def _texts(path):
    root = ET.parse(path).getroot()                     # valid XML
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_summary_superfactory_counts(tmp_path):
    G = topologies.build_preset("superfactory")
    before = (G.number_of_nodes(), G.number_of_edges())
    start = time.perf_counter()
    diagram.draw_fabric(G, tmp_path / "sf.svg", detail="summary")
    elapsed = time.perf_counter() - start
    assert elapsed < 10, elapsed                        # ~1 s measured on 2 cores
    texts = _texts(tmp_path / "sf.svg")
    assert texts.count("128 x GB300 NVL72") == 2       # one box per site
    assert "site 0" in texts and "site 1" in texts
    assert any(t.startswith("18,432 GPUs") for t in texts)
    assert texts.count("288 x SN6810 leaf") == 2
    assert any("ms" in t and "400G" in t for t in texts)          # the WAN link, labelled
    assert {"ethernet", "wan"} <= set(texts)                      # legend
    assert (G.number_of_nodes(), G.number_of_edges()) == before


def test_summary_nvl72_count_text(tmp_path):
    G = topologies.build_preset("superpod-gb200")
    diagram.draw_fabric(G, tmp_path / "s.svg", detail="summary")
    texts = _texts(tmp_path / "s.svg")
    assert "16 x GB200 NVL72" in texts
    assert "36 x QM9700 leaf" in texts
    assert any(t.startswith("1,152 x 400G") for t in texts)     # NIC-leaf links labelled


def test_rack_detail(tmp_path):
    G = topologies.build_preset("gb200-nvl72")
    diagram.draw_fabric(G, tmp_path / "r.svg", detail="rack")
    texts = _texts(tmp_path / "r.svg")
    assert sum(t.startswith("G") and t[1:].isdigit() for t in texts) == 72
    assert sum(t.startswith("S") and t[1:].isdigit() for t in texts) == 18
    assert "nvlink: 162 bundles (162 of 8 links) x 400G" in texts      # 1,296 links


def test_png(tmp_path):
    path = tmp_path / "d.png"
    diagram.draw_fabric(topologies.build_preset("spectrum-x"), path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert 800 <= width <= 4000 and 400 <= height <= 3000


def test_errors(tmp_path):
    G = topologies.build_preset("dgx-h100")
    with pytest.raises(FabricFormatError, match="svg, png"):
        diagram.draw_fabric(G, tmp_path / "x.pdf")
    with pytest.raises(ParameterError, match="detail"):
        diagram.fabric_diagram(G, detail="chip")
    with pytest.raises(ParameterError, match="domain"):
        diagram.fabric_diagram(G, detail="rack", domain=99)
    assert list(tmp_path.iterdir()) == []


def test_cli_draw_and_export(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["draw", "superpod-h100", "-o", str(tmp_path / "a.svg")])
    assert res.exit_code == 0, res.output
    assert "31 x DGX H100" in _texts(tmp_path / "a.svg")
    res = runner.invoke(main, ["export", "gb200-nvl72", "--format", "png", "--detail", "rack",
                               "-o", str(tmp_path / "b.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(main, ["draw", "dgx-h100", "-o", str(tmp_path / "c.pdf")])
    assert res.exit_code == 2 and "Error:" in res.output
    res = runner.invoke(main, ["draw", "dgx-h100", "-o", str(tmp_path / "no" / "c.svg")])
    assert res.exit_code == 1 and "Error:" in res.output


def test_rack_is_drawn_as_the_vendor_does(tmp_path):
    """NVL72: 18 trays in rack order around 9 switch trays, one NVLink bundle per tray pair
    labelled with its link count, C2C visible, and a page-sized figure (not a hairball)."""
    G = topologies.build_preset("gb200-nvl72")
    fig = diagram.fabric_diagram(G, detail="rack")
    w, h = fig.get_size_inches() * fig.dpi
    assert w < 1500 and h < 2400, (w, h)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    order = [t for t in texts if t.startswith(("d0-host", "switch tray"))]
    assert order[:10] == [f"d0-host{i}" for i in range(10)]
    assert order[10:19] == [f"switch tray {i}" for i in range(9)]
    assert order[19:] == [f"d0-host{i}" for i in range(10, 18)]
    assert texts.count("NVLink: 9 switch trays x 8 links = 72") == 18
    assert texts.count("NVLink: 18 trays x 8 links = 144") == 9
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "nvlink: 162 bundles (162 of 8 links) x 400G" in legend
    assert "c2c: 72 x 1800G" in legend
    # 162 bundles and 72 C2C connectors instead of 1,296 lines; C2C drawn above the chips
    from matplotlib.patches import PathPatch, Rectangle

    assert sum(isinstance(p, PathPatch) for p in ax.patches) == 162
    c2c = [ln for ln in ax.lines if ln.get_color() == diagram.MEDIUM_COLORS["c2c"]]
    chip_z = max(p.get_zorder() for p in ax.patches if isinstance(p, Rectangle))
    assert len(c2c) == 72 and all(ln.get_zorder() > chip_z for ln in c2c)


@pytest.mark.parametrize(("preset", "overrides"), [
    ("dgx-h100", {}), ("gb200-nvl72", {"aggregate_nvswitch": True}), ("nvl36x2", {}),
    ("fat-tree", {})])
def test_rack_drawing_of_other_domains(tmp_path, preset, overrides):
    G = topologies.build_preset(preset, overrides)
    diagram.draw_fabric(G, tmp_path / "r.svg", detail="rack")
    texts = _texts(tmp_path / "r.svg")
    assert any(t.startswith("G") for t in texts)
    assert not any("{" in t for t in texts)


def test_wan_label_clears_the_site_frames():
    from matplotlib.patches import FancyBboxPatch

    G = topologies.build_preset("superfactory", {"site_gpus": 144})
    ax = diagram.fabric_diagram(G, detail="summary").axes[0]
    frames = [p for p in ax.patches if isinstance(p, FancyBboxPatch) and p.get_linestyle() == "--"]
    assert len(frames) == 2
    top = max(p.get_y() + p.get_height() for p in frames)
    wan = [t for t in ax.texts if t.get_text().endswith(" ms")]
    assert len(wan) == 1 and wan[0].get_position()[1] > top + 0.1
    assert not any("{" in t.get_text() for t in ax.texts)      # no dict reprs (site_specs)
