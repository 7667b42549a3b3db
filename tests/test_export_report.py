"""`fabric report`: one page plus the files it links, consistent with `fabric info`."""

import csv
import json
import re

import pytest
from click.testing import CliRunner

import topologies
from cli import main
from solvers.study import write_report


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    G = topologies.build_preset("superpod-gb200", {"racks": 4})
    result = write_report(G, out, time_limit_s=5.0)
    return G, out, result


def test_every_linked_file_exists(small_report):
    _, out, result = small_report
    page = (out / "index.html").read_text()
    links = set(re.findall(r"(?:href|src)='([^']+)'", page))
    assert {"diagram.svg", "busbw.svg", "collectives.csv", "metrics.json", "bom.csv",
            "placement.json", "topology.conf", "topology.yaml", "k8s-labels.yaml",
            "kueue-topology.yaml"} <= links
    for name in links:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert set(result["files"]) >= links


def test_page_numbers_match_the_model(small_report):
    G, out, _ = small_report
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["gpus"] == 288 == sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    page = (out / "index.html").read_text()
    assert f"{metrics['bisection_gbps'] / 1000:,.1f} Tb/s" in page
    assert "GPUs<b>288</b>" in page and "cost (estimate)" in page


def test_collective_sweep_covers_ops_and_sizes(small_report):
    _, out, _ = small_report
    with open(out / "collectives.csv") as fh:
        rows = list(csv.DictReader(fh))
    ops = {r["op"] for r in rows}
    assert ops == {"allreduce", "allgather", "reducescatter", "alltoall"}
    sizes = sorted({int(r["size_bytes"]) for r in rows})
    # 8 B up to 16 GiB by factors of 4, as nccl-tests -b 8 -e 16G -f 4: 8 B ... 8 GiB
    assert sizes == [8 * 4 ** i for i in range(16)]
    for r in rows:
        assert float(r["time_us"]) > 0 and float(r["busbw_GBps"]) >= 0


def test_placement_beats_or_matches_baselines(small_report):
    _, out, _ = small_report
    p = json.loads((out / "placement.json").read_text())
    assert p["status"] in ("OPTIMAL", "FEASIBLE")
    assert len(p["assignment"]) == p["job"]["tp"] * p["job"]["pp"] * p["job"]["dp"]
    assert len(set(p["assignment"].values())) == len(p["assignment"])     # distinct GPUs
    assert set(p["baselines"]) == {"first_fit", "best_fit_tree", "random"}
    for name, b in p["baselines"].items():
        assert "objective_us" in b, (name, b)             # every baseline placed the job
        assert p["objective_us"] <= b["objective_us"] * (1 + 1e-6), name


def test_cli_report_and_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["report", "gb200-nvl72", "-o", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "r" / "index.html").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(main, ["report", "gb200-nvl72", "-o", str(blocker / "sub")])
    assert r.exit_code == 1 and "Error:" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["report", "gb200-nvl72", "-o", str(tmp_path / "x"),
                             "--busy-fraction", "1.5"])
    assert r.exit_code == 2 and "--busy-fraction" in r.output
    r = runner.invoke(main, ["report", "gb200-nvl72", "-o", str(tmp_path / "y"),
                             "--time-limit", "-3"])
    assert r.exit_code == 2 and "--time-limit" in r.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.slow
def test_default_report(tmp_path):
    r = CliRunner().invoke(main, ["report", "-o", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["builder"] == "superfactory_graph" and metrics["gpus"] == 2 * 9216


def test_report_has_an_accuracy_section(tmp_path):
    import csv

    from click.testing import CliRunner

    from cli import main
    from solvers.accuracy import CASES

    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["report", "dgx-h100", "-o", str(out), "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    with open(out / "accuracy.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(CASES)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Accuracy of the collective model" in page and "accuracy.svg" in page
    assert (out / "accuracy.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
