"""The export registry: every format of `fabric export`, options per format, errors, no mutation."""

import re

import networkx as nx
import pytest
from click.testing import CliRunner

import fabric
import topologies
from cli import main
from fabric.exceptions import FabricError, ParameterError
from fabric.export import (
    DIAGRAM_FORMATS,
    FORMATS,
    SCHEDULER_FORMATS,
    export,
    export_options,
    slurm,
)


def test_no_hosts_error(tmp_path):
    G = nx.Graph()
    G.add_node("sw", kind="leaf", part="QM9700")
    with pytest.raises(FabricError, match="no hosts with GPUs"):
        slurm.slurm_topology_tree(G)
    with pytest.raises(FabricError, match="no hosts"):
        export(G, tmp_path / "t.conf", "slurm-tree")
    assert list(tmp_path.iterdir()) == []


def test_exporters_do_not_mutate(tmp_path):
    G = topologies.build_preset("superpod-h100")
    before = (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))
    for fmt in SCHEDULER_FORMATS:
        export(G, tmp_path / fmt, fmt)
    assert before == (dict(G.graph), list(G.nodes(data=True)), list(G.edges(data=True)))


@pytest.mark.parametrize("fmt", SCHEDULER_FORMATS)
def test_cli_export_scheduler_formats(tmp_path, fmt):
    out = tmp_path / "out.txt"
    res = CliRunner().invoke(main, ["export", "superpod-b200", "--format", fmt, "-o", str(out),
                                    "--hostname-pattern", "dgx{index:03d}"])
    assert res.exit_code == 0, res.output
    assert re.search(r"dgx\[?0", out.read_text()) or fmt == "kueue-topology"


def test_cli_errors(tmp_path):
    runner = CliRunner()
    raw = tmp_path / "raw.json"
    G = nx.Graph()
    fabric.write_json(G, raw)
    res = runner.invoke(main, ["export", str(raw), "--format", "slurm-tree", "-o",
                               str(tmp_path / "t.conf")])
    # a file is validated on load: a fabric without hosts/GPUs never reaches the exporter
    assert res.exit_code == 1 and res.output.startswith("Error:")
    assert not (tmp_path / "t.conf").exists()
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "bogus", "-o",
                               str(tmp_path / "x")])
    assert res.exit_code == 2 and "Error:" in res.output
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "slurm-tree", "-o",
                               str(tmp_path / "nodir" / "t.conf")])
    assert res.exit_code == 1 and "does not exist" in res.output
    res = runner.invoke(main, ["export", "dgx-h100", "--format", "slurm-tree", "-o",
                               str(tmp_path / "t.conf"), "--hostname-pattern", "x"])
    assert res.exit_code == 0                                 # one host: a fixed name is fine
    res = runner.invoke(main, ["export", "fat-tree", "--format", "slurm-tree", "-o",
                               str(tmp_path / "u.conf"), "--hostname-pattern", "x"])
    assert res.exit_code == 2 and "same name" in res.output
    assert not (tmp_path / "u.conf").exists()


def test_formats_merge_graph_diagram_and_scheduler_formats():
    from fabric import io

    from fabric.export import AS_BUILT_FORMATS

    assert FORMATS == (*io.FORMATS, *DIAGRAM_FORMATS, *SCHEDULER_FORMATS, *AS_BUILT_FORMATS)
    assert len(set(FORMATS)) == len(FORMATS)
    assert fabric.EXPORT_FORMATS == FORMATS and fabric.export_fabric is export


def test_format_from_suffix_and_options(tmp_path):
    G = topologies.build_preset("dgx-h100")
    export(G, tmp_path / "f.dot")
    fabric.write_fabric(G, tmp_path / "g.dot")                # io dispatches dot to the same writer
    assert (tmp_path / "f.dot").read_bytes() == (tmp_path / "g.dot").read_bytes()
    export(G, tmp_path / "f.svg", detail="summary", title="t")
    assert (tmp_path / "f.svg").read_text().count(">t<") == 1
    export(G, tmp_path / "t.conf", "slurm-tree", hostname_pattern="gpu{index}")
    assert "Nodes=gpu1" in (tmp_path / "t.conf").read_text()
    with pytest.raises(ParameterError, match="cannot tell the export format"):
        export(G, tmp_path / "topology.conf")
    with pytest.raises(ParameterError, match="unknown export format `bogus`"):
        export(G, tmp_path / "x", "bogus")
    with pytest.raises(ParameterError, match="takes no option `detail`"):
        export(G, tmp_path / "y.json", detail="rack")
    with pytest.raises(ParameterError, match="takes no option `hostname_pattern`"):
        export(G, tmp_path / "z.svg", hostname_pattern="n{index}")
    assert {p.name for p in tmp_path.iterdir()} == {"f.dot", "g.dot", "f.svg", "t.conf"}
    assert export_options("kueue-topology") == ("hostname_pattern", "name", "api_version")


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, fabric.export; print(sorted(m for m in ('numpy', 'networkx', 'scipy', "
            "'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
