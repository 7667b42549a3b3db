"""`fabric collective` and `fabric compare` through CliRunner, including every error path."""

import json

import pytest
from click.testing import CliRunner

import fabric
from cli import main

KEYS = {"op", "algo", "ranks", "size_bytes", "time_us", "algbw_GBps", "busbw_GBps"}

TEXT = """# nccl-tests version 2.17.1 nccl-headers=22703 nccl-library=22703
# Collective test starting: all_reduce_perf
#  Rank  0 Group  0 Pid 1 on node device  0 [0000:1b:00] NVIDIA H100 80GB HBM3
#  Rank  1 Group  0 Pid 1 on node device  1 [0000:43:00] NVIDIA H100 80GB HBM3
#  Rank  2 Group  0 Pid 1 on node device  2 [0000:52:00] NVIDIA H100 80GB HBM3
#  Rank  3 Group  0 Pid 1 on node device  3 [0000:61:00] NVIDIA H100 80GB HBM3
#  Rank  4 Group  0 Pid 1 on node device  4 [0000:9d:00] NVIDIA H100 80GB HBM3
#  Rank  5 Group  0 Pid 1 on node device  5 [0000:c3:00] NVIDIA H100 80GB HBM3
#  Rank  6 Group  0 Pid 1 on node device  6 [0000:d1:00] NVIDIA H100 80GB HBM3
#  Rank  7 Group  0 Pid 1 on node device  7 [0000:df:00] NVIDIA H100 80GB HBM3
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)
           8             2     float     sum      -1    13.67    0.00    0.00      0    13.03    0.00    0.00      0
     1048576        262144     float     sum      -1    27.37   38.31   67.04      0    27.10   38.69   67.71      0
  1073741824     268435456     float     sum      -1   4029.4  266.48  466.33      0   4025.1  266.76  466.83      0
  8589934592    2147483648     float     sum      -1    31307  274.38  480.16      0    31290  274.53  480.42      0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 253.4
#
# Collective test concluded: all_reduce_perf
"""

JSON = {
    "version": 2, "args": ["./build/all_reduce_perf", "-b", "1G", "-e", "8G", "-J", "x.json"],
    "config": {"ngpus": 8, "devices": [{"rank": i} for i in range(8)]},
    "results": [
        {"size": 1073741824, "count": 268435456, "type": "float", "redop": "sum", "root": "-1",
         "out_of_place": {"time": 4029.4, "alg_bw": 266.48, "bus_bw": 466.33, "nwrong": 0},
         "in_place": {"time": 4025.1, "alg_bw": 266.76, "bus_bw": 466.83, "nwrong": 0},
         "actual_iterations": 20, "experiment_name": "AllReduce"},
        {"size": 8589934592, "count": 2147483648, "type": "float", "redop": "sum", "root": "-1",
         "out_of_place": {"time": 31307.0, "alg_bw": 274.38, "bus_bw": 480.16, "nwrong": 0},
         "in_place": {"time": 31290.0, "alg_bw": 274.53, "bus_bw": 480.42, "nwrong": 0},
         "actual_iterations": 20, "experiment_name": "AllReduce"}],
    "average_bus_bandwidth": {"bandwidth": 473.2, "okay": "unchecked"},
}


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


def test_collective_json_keys(run):
    res = run("collective", "dgx-h100", "--op", "allreduce", "--size", "8GiB", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 1 and set(rows[0]) == KEYS | {"bound_time_us", "efficiency", "protocol",
                                                      "latency_us", "pipeline_us", "bottleneck",
                                                      "capped_by", "validated", "nearest_case",
                                                      "nccl"}
    assert rows[0]["validated"] is True and rows[0]["nearest_case"] and rows[0]["capped_by"]
    assert rows[0]["nccl"] == fabric.default_catalog().part("nccl", "versions")["newest"]
    # the parts of the time add up to no more than the time
    assert 0 <= rows[0]["latency_us"] + rows[0]["pipeline_us"] < rows[0]["time_us"]
    assert rows[0]["algo"] == "nvls" and rows[0]["ranks"] == 8
    # the bandwidth-optimal bound never exceeds the prediction
    assert 0 < rows[0]["bound_time_us"] <= rows[0]["time_us"]
    assert rows[0]["efficiency"] == pytest.approx(rows[0]["bound_time_us"] / rows[0]["time_us"],
                                                  rel=1e-3)
    assert 470 < rows[0]["busbw_GBps"] < 500


def test_collective_sweep_table(run):
    res = run("collective", "gb200-nvl72", "--op", "allgather", "--sweep", "8:16G", "--gpus", "16")
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stdout.splitlines() if not x.startswith("#")]
    assert len(lines) == 16 and "ring" in lines[-1]
    assert "busbw" in res.output and "count" in res.output


def test_collective_ranks_file(run, tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"assignment": {"0": "d0-gpu3", "1": "d0-gpu5"}}))
    res = run("collective", "dgx-h100", "--op", "sendrecv", "--ranks", str(f), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["ranks"] == 2


@pytest.mark.parametrize("args,code,text", [
    (("--op", "allreduc"), 2, "unknown `op`"),
    (("--op", "allreduce", "--algo", "magic"), 2, "unknown `algo`"),
    (("--op", "allreduce", "--size", "0"), 2, "at least 1 byte"),
    (("--op", "allreduce", "--size", "12Q"), 2, "like 8, 1K"),
    (("--op", "allreduce", "--gpus", "9"), 2, "at most 8"),
    (("--op", "allreduce", "--sweep", "1G:8"), 2, "MIN must not exceed"),
    (("--op", "allreduce", "--size", "8", "--sweep", "8:16"), 2, "not both"),
    (("--op", "allreduce", "--algo", "collnet"), 2, "CollNet"),
    (("--op", "broadcast", "--algo", "nvls"), 2, "does not implement"),
    (("--op", "allreduce", "--set", "gpu=A100"), 2, "gpu"),
])
def test_collective_errors(run, args, code, text):
    res = run("collective", "dgx-h100", *args)
    assert res.exit_code == code, res.output
    assert text in res.output and "Traceback" not in res.output


def test_collective_bad_rank_file(run, tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps(["d0-gpu0", "d0-gpu0"]))
    res = run("collective", "dgx-h100", "--op", "allreduce", "--ranks", str(f))
    assert res.exit_code == 2 and "twice" in res.output


def test_compare_text_and_json(run, tmp_path):
    t = tmp_path / "out.txt"
    t.write_text(TEXT)
    res = run("compare", "dgx-h100", str(t))
    assert res.exit_code == 0, res.output
    assert "mean |error|" in res.output and "480.16" in res.output
    j = tmp_path / "out.json"
    j.write_text(json.dumps(JSON))
    res = run("compare", "dgx-h100", str(j), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["op"] == "allreduce" and len(out["rows"]) == 2
    assert out["summary"]["large"]["max_abs_error"] < 0.10


def test_compare_errors(run, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing here\n")
    res = run("compare", "dgx-h100", str(bad))
    assert res.exit_code == 2 and "no nccl-tests result rows" in res.output
    t = tmp_path / "out.txt"
    t.write_text(TEXT)
    res = run("compare", "gb200-nvl72", str(t), "--gpus", "4")
    assert res.exit_code == 2 and "8 ranks" in res.output


def _no_nan(text):
    def bad(token):
        raise AssertionError(f"invalid JSON constant {token}")
    return json.loads(text, parse_constant=bad)


def test_collective_binary_rank_file_exit_2(run, tmp_path):
    f = tmp_path / "bin.log"
    f.write_bytes(bytes(range(128, 256)) * 2)
    res = run("collective", "dgx-h100", "--op", "allreduce", "--ranks", str(f))
    assert res.exit_code == 2, res.output
    assert "`--ranks` file" in res.output and "bin.log" in res.output
    assert "not UTF-8 JSON" in res.output and "Traceback" not in res.output


def test_collective_ineligible_algo_is_usage_error_listing_eligible(run):
    res = run("collective", "dgx-h100", "--op", "allreduce", "--algo", "collnet")
    assert res.exit_code == 2, res.output
    assert "`algo` (--algo) 'collnet'" in res.output
    assert "eligible here: ring, tree, nvls, hierarchical" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("args,text", [
    (("--op", "allreduc"), "(--op)"),
    (("--op", "allreduce", "--algo", "magic"), "(--algo)"),
    (("--op", "broadcast", "--algo", "nvls"), "`algo` (--algo) 'nvls' does not implement"),
    (("--op", "allreduce", "--size", "0"), "`size` (--size) must be at least 1 byte"),
    (("--op", "allreduce", "--sweep", "8:0"), "`--sweep` MAX must be at least 1 byte"),
    (("--op", "allreduce", "--gpus", "9"), "`gpus` (--gpus) asks for 9"),
])
def test_collective_errors_name_the_option(run, args, text):
    res = run("collective", "dgx-h100", *args)
    assert res.exit_code == 2, res.output
    assert text in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("results,text", [
    ([5], "`results[0]` is 5 (int)"),
    ([JSON["results"][0], "x"], "`results[1]` is 'x' (str)"),
    ([{"size": 8, "out_of_place": 5}], "`results[0]`: `out_of_place` must be an object"),
    ([{"size": 8, "out_of_place": {"time": 1}}], "`results[0]` is malformed"),
    ([{"size": float("inf"), "out_of_place": {"time": 1, "alg_bw": 1, "bus_bw": 1}}],
     "`results[0]` is malformed"),
    ([{"size": 8, "out_of_place": {"time": float("nan"), "alg_bw": 1, "bus_bw": 1}}],
     "`results[0]`: measured time is nan"),
])
def test_compare_malformed_json_records_exit_1(run, tmp_path, results, text):
    f = tmp_path / "r6.json"
    f.write_text(json.dumps({"results": results}))
    res = run("compare", "dgx-h100", str(f))
    assert res.exit_code == 1, res.output
    assert str(f) in res.output and text in res.output
    assert "Traceback" not in res.output


def test_compare_nan_in_text_row_exit_1(run, tmp_path):
    t = tmp_path / "out.txt"
    t.write_text(TEXT.replace("27.37   38.31   67.04", "nan   38.31   67.04"))
    res = run("compare", "dgx-h100", str(t), "--json")
    assert res.exit_code == 1, res.output
    assert "line 16" in res.output and "measured time is nan" in res.output
    assert "Traceback" not in res.output


def test_compare_op_must_match_the_log(run, tmp_path):
    t = tmp_path / "out.txt"
    t.write_text(TEXT)
    res = run("compare", "dgx-h100", str(t), "--op", "alltoall")
    assert res.exit_code == 2, res.output
    assert "`op` (--op) is alltoall" in res.output and "measures allreduce" in res.output
    assert "Traceback" not in res.output
    res = run("compare", "dgx-h100", str(t), "--op", "allreduce", "--json")
    assert res.exit_code == 0, res.output
    assert _no_nan(res.stdout)["op"] == "allreduce"
    res = run("compare", "dgx-h100", str(t), "--op", "allreduc")
    assert res.exit_code == 2 and "unknown `op` (--op)" in res.output


def test_compare_op_given_when_log_is_silent(run, tmp_path):
    j = tmp_path / "out.json"
    data = {**JSON, "args": []}
    data["results"] = [{k: v for k, v in r.items() if k != "experiment_name"}
                       for r in JSON["results"]]
    j.write_text(json.dumps(data))
    res = run("compare", "dgx-h100", str(j), "--json")
    assert res.exit_code == 2 and "does not name its collective" in res.output
    res = run("compare", "dgx-h100", str(j), "--op", "allgather", "--json")
    assert res.exit_code == 0, res.output
    assert _no_nan(res.stdout)["op"] == "allgather"


def test_accuracy_command_prints_every_case_and_the_regimes(run):
    from solvers.accuracy import CASES

    res = run("accuracy", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["cases"]) == len(CASES)
    # a case runs under its run's NCCL release where that release's rules differ for its
    # ranks (CoreWeave's 2.26 on GB200 racks), else under the newest (I02's 2.18.5 on 8 x
    # H100 has the newest rules)
    assert {r["nccl"] for r in out["cases"] if r["case"] == "CW20"} == {"2.26"}
    assert {r["nccl"] for r in out["cases"] if r["case"] == "I02"} == {"2.30"}
    for row in out["cases"]:
        assert row["error"] == pytest.approx((row["predicted"] - row["measured"])
                                             / row["measured"], abs=1e-5)
        if row["bound"] is not None:
            assert row["within"] is True and abs(row["error"]) <= row["bound"]
    asserted = sum(1 for r in out["cases"] if r["bound"] is not None)
    assert sum(v["cases"] for v in out["regimes"].values()) == asserted
    assert (sum(v["info_rows"] for v in out["regimes"].values())
            == len(out["cases"]) - asserted)
    # NVL72 racks on InfiniBand: information cases only, shown with their errors
    assert list(out["regimes"]) == ["one box", "one rack", "multi-node", "multi-rack",
                                    "box latency", "network latency"]
    rack = out["regimes"]["multi-rack"]
    assert rack["cases"] == 0 and rack["mean_abs_error"] is None and rack["info_rows"] > 0
    assert rack["info_max_abs_error"] == pytest.approx(max(
        abs(r["error"]) for r in out["cases"] if r["regime"] == "multi-rack"), abs=1e-6)
    text = run("accuracy")
    assert text.exit_code == 0 and "regime" in text.output and "one rack" in text.output


def test_multi_rack_rows_are_unvalidated_and_name_an_information_case(run):
    """Several NVL72 racks: no asserted case, so never validated; the nearest case shown
    is one of the CoreWeave multi-rack runs; 8-GPU nodes on InfiniBand stay validated."""
    from solvers.accuracy import CASES

    info = {c.id for c in CASES if c.regime == "multi-rack"}
    assert info == {"CW2", "CW20"}
    racks = ("collective", "superpod-gb200", "--set", "racks=2", "--set",
             "aggregate_nvswitch=true", "--op", "allreduce", "--json")
    for extra, nearest in ((("--size", "1G"), "CW2"),             # 2 racks, NVLS on
                           (("--size", "16G", "--no-nvls"), "CW20"),
                           (("--size", "16G", "--gpus", "80"), "CW2")):   # 72 + 8 ranks
        res = run(*racks, *extra)
        assert res.exit_code == 0, res.output
        row = json.loads(res.stdout)[0]
        assert row["validated"] is False and row["nearest_case"] == nearest, (extra, row)
    res = run("collective", "superpod-h100", "--gpus", "32", "--op", "allreduce",
              "--size", "16G", "--json")
    row = json.loads(res.stdout)[0]
    assert row["validated"] is True and row["nearest_case"] not in info


def test_wan_rows_are_marked_unvalidated(run):
    res = run("collective", "superfactory", "--set", "site_gpus=144", "--set",
              "aggregate_nvswitch=true", "--op", "allreduce", "--size", "1G", "--json",
              "--buffer", "64MiB")
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    assert row["validated"] is False and row["nearest_case"] is None
    assert row["bound_time_us"] <= row["time_us"]
    bad = run("collective", "superfactory", "--set", "site_gpus=144", "--op", "allreduce",
              "--buffer", "1")
    assert bad.exit_code == 2 and "--buffer" in bad.output


def test_collective_nccl_release(run):
    res = run("collective", "superpod-gb200", "--set", "racks=2", "--set",
              "aggregate_nvswitch=true", "--op", "allreduce", "--sweep", "1M:64M", "--no-nvls",
              "--nccl", "2.26", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {r["nccl"] for r in rows} == {"2.26"} and all(r["protocol"] != "LL128" for r in rows)
    res = run("collective", "dgx-h100", "--op", "allreduce", "--size", "8", "--json")
    assert json.loads(res.stdout)[0]["nccl"] == "2.30"
    for bad, text in (("2.x", "such as 2.26"), ("2.40", "2.18 to 2.30"), ("", "such as 2.26"),
                      ("2.\u00b2", "such as 2.26")):
        res = run("collective", "dgx-h100", "--op", "allreduce", "--nccl", bad)
        assert res.exit_code == 2 and text in res.output and "Traceback" not in res.output
    res = run("collective", "gb200-nvl72", "--op", "allreduce", "--nccl", "2.24")
    assert res.exit_code == 2 and "2.25" in res.output


def test_compare_follows_the_release_the_run_names(run, tmp_path):
    """TEXT's header says nccl-library=22703: the prediction follows 2.27 unless --nccl says
    otherwise; a newer release than the catalog knows follows the newest rules, said."""
    t = tmp_path / "out.txt"
    t.write_text(TEXT)
    res = run("compare", "dgx-h100", str(t), "--json")
    assert json.loads(res.stdout)["nccl"] == "2.27"
    res = run("compare", "dgx-h100", str(t), "--json", "--nccl", "2.26")
    assert json.loads(res.stdout)["nccl"] == "2.26"
    t.write_text(TEXT.replace("nccl-library=22703", "nccl-library=23301"))
    res = run("compare", "dgx-h100", str(t), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["nccl"] == "2.30"
    assert "NCCL 2.33.1" in res.stderr


def test_nccl_version_of_a_run():
    from solvers.nccl_results import _nccl_version

    assert _nccl_version("# nccl-tests version 2.17.1 nccl-headers=22703 nccl-library=22703") \
        == "2.27.3"
    assert _nccl_version("node:1:1 [0] NCCL INFO NCCL version 2.26.2+cuda12.8") == "2.26.2"
    assert _nccl_version("# no version here") is None
    assert _nccl_version("NCCL version 2.99999999999999999999.1") is None
    assert _nccl_version("# nccl-tests version 2.17.1 nccl-headers=abc nccl-library=abc") is None


def test_compare_reads_the_release_of_json_output(run, tmp_path):
    """nccl-tests -J writes NCCL_VERSION_CODE as nccl_version."""
    j = tmp_path / "out.json"
    j.write_text(json.dumps({**JSON, "nccl_version": 22602}))
    res = run("compare", "dgx-h100", str(j), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["nccl"] == "2.26"


def test_compare_release_out_of_range(run, tmp_path):
    """An older release than the model follows is priced under the oldest rules, said; one
    that cannot run the fabric's GPUs is an error naming RESULTS, exit 2."""
    t = tmp_path / "out.txt"
    t.write_text(TEXT.replace("nccl-library=22703", "nccl-library=21703"))
    res = run("compare", "dgx-h100", str(t), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["nccl"] == "2.18"
    assert "NCCL 2.17.3" in res.stderr
    t.write_text(TEXT.replace("nccl-library=22703", "nccl-library=22403"))
    res = run("compare", "gb200-nvl72", str(t), "--gpus", "8")
    assert res.exit_code == 2 and "RESULTS names NCCL 2.24.3" in res.output
    assert "Traceback" not in res.output
