"""`fabric report`: one page plus the files it links, consistent with `fabric info`."""

import csv
import json
import re

import pytest
from click.testing import CliRunner

import fabric
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
    # the sweep says which NCCL release's rules priced it, in the file and on the page
    newest = fabric.default_catalog().part("nccl", "versions")["newest"]
    assert {r["nccl"] for r in rows} == {newest}
    assert f"under NCCL {newest}'s rules" in (out / "index.html").read_text(encoding="utf-8")


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


# ----------------------------------------------------------------------------- polish (issue 14)

@pytest.fixture(scope="module")
def superfactory_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("sf") / "rep"
    r = CliRunner().invoke(main, ["report", "superfactory", "--set", "site_gpus=144", "-o",
                                  str(out), "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    return out, (out / "index.html").read_text(encoding="utf-8")


def test_title_is_the_presets_human_name(superfactory_report):
    _, page = superfactory_report
    summary = topologies.TOPOLOGIES["superfactory"].summary
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    h1 = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert summary in title and summary in h1
    assert "superfactory_graph" not in title and "superfactory_graph" not in h1


def test_no_raw_dict_text_on_the_page(superfactory_report):
    _, page = superfactory_report
    assert "{'" not in page and '{"' not in page
    assert "<th>parameter</th>" in page and "<td>site_gpus</td><td>144</td>" in page
    assert "site 0: preset fairwater, gpus 144" in page


def test_rack_drawing_is_embedded(superfactory_report):
    out, page = superfactory_report
    assert re.search(r"<img[^>]*src='rack.svg'", page)
    assert (out / "rack.svg").is_file()


def test_per_site_bisection(superfactory_report):
    from fabric.locality import site_of
    from fabric.metrics import bisection_bandwidth

    out, page = superfactory_report
    metrics = json.loads((out / "metrics.json").read_text())
    sites = metrics["site_bisection"]
    assert [s["site"] for s in sites] == [0, 1]
    G = topologies.build_preset("superfactory", {"site_gpus": 144})
    sub = G.subgraph([n for n, k in G.nodes(data="kind") if site_of(G, n) == 0 and k != "wan"])
    assert sites[0]["bisection_gbps"] == bisection_bandwidth(sub.copy())["bisection_gbps"]
    for s in sites:
        assert f"bisection inside site {s['site']}" in page
    assert "bisection across the WAN" in page


def test_oversubscription_in_words(superfactory_report):
    _, page = superfactory_report
    assert "(down:up)" in page and "site injection : WAN capacity" in page
    assert re.search(r"oversubscription WAN</td><td>[\d.]+:1: the GPUs of site \d", page)


def test_busbw_plot_shows_four_series(superfactory_report):
    import xml.etree.ElementTree as ET

    out, page = superfactory_report
    root = ET.parse(out / "busbw.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    legend = [t for t in texts if t.split(" (=")[0] in ("allreduce", "allgather",
                                                        "reducescatter", "alltoall")]
    assert len(legend) == 8                                  # 4 series x 2 communicators
    assert "reducescatter (= allgather)" in legend
    assert "Identical curves" in page


def test_coinciding_series_and_distinct_styles():
    from fabric.export.report import _SERIES_STYLE, coinciding_series

    rows = [{"communicator": "c", "op": op, "size_bytes": s, "busbw_GBps": v}
            for op, k in (("allreduce", 2.0), ("allgather", 1.0), ("reducescatter", 1.0),
                          ("alltoall", 3.0)) for s, v in ((8, 0.0), (1024, k))]
    assert coinciding_series(rows, "c", ["allreduce", "allgather", "reducescatter",
                                         "alltoall"]) == [("allgather", "reducescatter")]
    assert len(set(_SERIES_STYLE[:4])) == 4


def test_displayed_numbers_are_rounded(superfactory_report):
    from fabric.export.report import ratio_text, sig3, speedup_text

    assert sig3(0.996094) == "0.996" and sig3(400.00000000051017) == "400"
    assert sig3(177.77777777777777) == "178" and sig3(12.3456) == "12.3"
    assert ratio_text(0.996094) == "0.996:1" and ratio_text(1.0) == "1.00:1"
    assert speedup_text(100.0, 172.0, "first_fit") == "1.72x faster than first-fit"
    out, page = superfactory_report
    body = page.split("</style>", 1)[1]
    noise = r"\d\.\d{5,}|\b0\.0*[1-9]\d{3,}|[1-9]\.\d{4,}:1"   # > 3-4 significant digits
    assert not re.search(noise, body), re.findall(r".{40}(?:" + noise + ").{10}", body)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["bisection"]["per_gpu_gbps"] != round(metrics["bisection"]["per_gpu_gbps"])


def test_units_and_lists(superfactory_report):
    _, page = superfactory_report
    for header in ("time (us)", "algbw (GB/s)", "busbw (GB/s)"):
        assert f"<th>{header}</th>" in page
    assert "time_us" not in page and "algbw GB/s" not in page
    assert page.count("href='topology.conf'") == 1                # scheduler files listed once
    assert not re.search(r"<td>ep</td><td>0\.0</td>", page)        # no zero rows


def test_place_and_report_say_the_speed_up_the_same_way(superfactory_report):
    _, page = superfactory_report
    assert re.search(r"CP-SAT ([\d.]+x (faster|slower) than|as fast as) first-fit", page)
    r = CliRunner().invoke(main, ["place", "dgx-h100", "--gpus", "8", "--tp", "8",
                                  "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    assert "% better" not in r.output
    assert re.search(r"CP-SAT ([\d.]+x (faster|slower) than|as fast as) first-fit", r.output)


def test_presets_print_ints_with_separators():
    r = CliRunner().invoke(main, ["presets"])
    assert r.exit_code == 0
    assert "e+" not in r.output and "[1..1,440,000]" in r.output
    assert "gpus=9,216 (int [1..1,000,000]) GPUs (rounded up to whole racks); the builder " \
        "refuses more than two tiers hold: at most 129,024" in " ".join(r.output.split())
    data = json.loads(CliRunner().invoke(main, ["presets", "--json"]).output)
    fw = next(p for p in data if p["name"] == "fairwater")
    gpus = next(q for q in fw["params"] if q["name"] == "gpus")
    assert set(gpus) == {"name", "type", "default", "help", "min", "max", "choices"}
    assert gpus["max"] == 1_000_000 and "at most 129,024" in gpus["help"]


def test_busy_fraction_and_time_limit_are_consistent(tmp_path):
    place = CliRunner().invoke(main, ["place", "--help"]).output
    report = CliRunner().invoke(main, ["report", "--help"]).output
    assert "0<=x<=1" in place and "0<=x<=1" in report
    assert "30 s" in " ".join(report.split())          # why report's default differs
    G = topologies.build_preset("dgx-h100")
    write_report(G, tmp_path / "rep", busy_fraction=1.0, time_limit_s=2)
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "Placement of a training job" in page
