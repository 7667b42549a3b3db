"""DOT export: clusters per site, pod, rack and host; the real Graphviz `dot` renders each preset."""

import shutil
import subprocess

import pytest

import topologies
from fabric.export.dot import write_dot

# Each preset at a size `dot` lays out in seconds (the DOT of a full site is valid but huge).
AGG = {"aggregate_nvswitch": "true"}
SMALL = {"fat-tree": {"k": "4"}, "superpod-b200": {"sus": "1"},
         "superpod-gb200": {"racks": "2", **AGG}, "azure-gb300": {"racks": "2", **AGG},
         "spectrum-x": {"gpus": "64"}, "fairwater": {"gpus": "144", "planes": "1", **AGG},
         "superfactory": {"site_gpus": "144", "planes": "1", **AGG}}


def test_dot_pod_and_site_clusters(tmp_path):
    G = topologies.build_preset("superfactory", SMALL["superfactory"])
    path = tmp_path / "f.dot"
    write_dot(G, path)
    text = path.read_text()
    assert text.count('subgraph "cluster_site_') == 2
    assert 'subgraph "cluster_pod_0_0"' in text
    assert text.count('subgraph "cluster_rack_') == 4        # 2 NVL72 racks per site
    assert text.count(" -- ") == G.number_of_edges()
    assert text.count("{") == text.count("}")


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
@pytest.mark.parametrize("name", list(topologies.TOPOLOGIES))
def test_dot_renders(tmp_path, name):
    G = topologies.build_preset(name, SMALL.get(name, {}))
    path = tmp_path / "f.dot"
    write_dot(G, path)
    out = tmp_path / "f.svg"
    res = subprocess.run(["dot", "-Tsvg", str(path), "-o", str(out)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Error" not in res.stderr, res.stderr
    svg = out.read_text()
    assert svg.count('class="node"') == G.number_of_nodes()
    assert svg.count('class="edge"') == G.number_of_edges()
