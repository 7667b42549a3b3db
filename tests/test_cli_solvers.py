"""CLI tests of `fabric throughput`, `fabric place` and the collective bound column."""

import json

import pytest
from click.testing import CliRunner

from cli import main


def _run(args):
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in (result.output or "")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def test_throughput_json():
    r = _run(["throughput", "fat-tree", "--set", "k=4", "--pattern", "permutation", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for key in ("pattern", "endpoints", "optimal_fraction", "ecmp_fraction",
                "max_link_utilization", "solve_s"):
        assert key in out
    assert abs(out["optimal_fraction"] - 1.0) < 1e-6


def test_throughput_bad_pattern_exit_2():
    r = _run(["throughput", "fat-tree", "--set", "k=4", "--pattern", "nope.json"])
    assert r.exit_code == 2
    assert "neither one of" in r.output


def test_place_json_and_rank_file(tmp_path):
    out = tmp_path / "placement.json"
    r = _run(["place", "superpod-gb200", "--set", "racks=4", "--gpus", "128", "--tp", "8",
              "--pp", "2", "--busy-fraction", "0.3", "--seed", "1", "--time-limit", "5",
              "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    for key in ("status", "objective_us", "bound_us", "gap", "solve_s", "assignment",
                "baselines"):
        assert key in data
    assert len(data["assignment"]) == 128
    c = _run(["collective", "superpod-gb200", "--set", "racks=4", "--op", "allreduce",
              "--ranks", str(out), "--json"])
    assert c.exit_code == 0, c.output
    row = json.loads(c.stdout)[0]
    assert row["ranks"] == 128
    assert 0 < row["efficiency"] <= 1
    assert row["bound_time_us"] <= row["time_us"]


def test_place_errors():
    r = _run(["place", "superpod-gb200", "--set", "racks=2", "--gpus", "100", "--tp", "8",
              "--pp", "2", "--dp", "3"])
    assert r.exit_code == 2
    assert "tp*pp*dp" in r.output
    r = _run(["place", "superpod-gb200", "--set", "racks=2", "--gpus", "128", "--tp", "8",
              "--busy-fraction", "0.9"])
    assert r.exit_code == 1
    assert "needs 128 GPUs; only" in r.output


def test_place_busy_file_unknown_gpu(tmp_path):
    f = tmp_path / "busy.json"
    f.write_text(json.dumps({"busy": ["ghost"]}))
    r = _run(["place", "superpod-gb200", "--set", "racks=2", "--gpus", "16", "--tp", "8",
              "--busy", str(f)])
    assert r.exit_code == 2
    assert "unknown GPU" in r.output


def test_collective_table_has_bound_column():
    r = _run(["collective", "dgx-h100", "--op", "allreduce", "--size", "1G"])
    assert r.exit_code == 0, r.output
    assert "bound" in r.stdout and "eff" in r.stdout


def _jobs(tmp_path, jobs):
    f = tmp_path / "jobs.json"
    f.write_text(json.dumps(jobs))
    return str(f)


def test_place_queue_json_and_output_file(tmp_path):
    jobs = _jobs(tmp_path, [{"name": "a", "gpus": 64, "tp": 8, "pp": 2},
                            {"name": "b", "gpus": 128, "tp": 4, "pp": 4, "model_params": 7e9}])
    out = tmp_path / "queue.json"
    r = _run(["place-queue", "superpod-gb200", "--set", "racks=4", "--jobs", jobs,
              "--time-limit", "3", "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["placed"], data["not_placed"]) == (2, 0)
    rows = data["jobs"]
    assert [(x["name"], x["status"], x["gpus"]) for x in rows] == [("a", "placed", 64),
                                                                  ("b", "placed", 128)]
    assert rows[0]["utilization"] == 64 / 288 and rows[1]["utilization"] == 192 / 288
    assert all(x["objective_us"] > 0 and 0 <= x["fragmentation"] <= 1 for x in rows)
    assert data["utilization"] == rows[-1]["utilization"]
    written = json.loads(out.read_text())
    gpus = [g for x in written["jobs"] for g in x["assignment"].values()]
    assert len(gpus) == len(set(gpus)) == 192


def test_place_queue_job_not_placed_exit_1(tmp_path):
    jobs = _jobs(tmp_path, [{"gpus": 64, "tp": 8}, {"name": "big", "gpus": 4096, "tp": 8}])
    r = _run(["place-queue", "superpod-gb200", "--set", "racks=4", "--jobs", jobs,
              "--busy-fraction", "0.25", "--seed", "1", "--time-limit", "3", "--json"])
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert [x["status"] for x in data["jobs"]][0] == "placed"
    assert data["jobs"][1]["status"].startswith("not placed: needs 4,096 GPUs")
    assert data["not_placed"] == 1
    assert "big: needs 4,096 GPUs" in r.output


@pytest.mark.parametrize(("jobs", "message"), [
    ('[{"gpus": 64, "tp": 8}, {"name": "x", "gpus": 64, "tp": 8, "pp": 0}]',
     "job 1 ('x'): `pp` must be an integer >= 1, got 0"),
    ('[{"gpus": 64}]', "job 0: missing key `tp`"),
    ('[{"gpus": 64, "tp": 8, "tpp": 2}]', "job 0: unknown key `tpp`"),
    ('[{"gpus": 65, "tp": 8, "pp": 2, "dp": 4}]', "job 0: `gpus` must equal tp*pp*dp"),
    ('[{"gpus": 64, "tp": 8, "model_params": -1}]', "`model_params` must be a number > 0"),
    ('{"gpus": 64}', "must hold a non-empty list of jobs"),
    ("[{", "is not JSON"),
])
def test_place_queue_bad_jobs_exit_2(tmp_path, jobs, message):
    f = tmp_path / "jobs.json"
    f.write_text(jobs)
    r = _run(["place-queue", "superpod-gb200", "--set", "racks=2", "--jobs", str(f)])
    assert r.exit_code == 2
    assert message in r.output


def test_place_queue_busy_options_exclusive(tmp_path):
    jobs = _jobs(tmp_path, [{"gpus": 16, "tp": 8}])
    busy = tmp_path / "busy.json"
    busy.write_text("[]")
    r = _run(["place-queue", "superpod-gb200", "--set", "racks=2", "--jobs", jobs,
              "--busy", str(busy), "--busy-fraction", "0.1"])
    assert r.exit_code == 2
    assert "not both" in r.output


def _strict_json(text):
    def bad(token):
        raise AssertionError(f"invalid JSON constant {token}")
    return json.loads(text, parse_constant=bad)


@pytest.mark.parametrize("args", [
    ["throughput", "dgx-h100"],
    ["throughput", "dgx-h100", "--json"],
    ["throughput", "gb200-nvl72", "--pattern", "alltoall", "--json"],
])
def test_throughput_single_domain_refused_exit_2(args):
    r = _run(args)
    assert r.exit_code == 2, r.output
    assert "`gpus` (--gpus)" in r.output and "one NVLink domain" in r.output
    assert "inf" not in r.stdout and "Infinity" not in r.stdout


def test_throughput_gpus_inside_one_domain_names_smallest_span():
    base = ["throughput", "superpod-h100", "--set", "gpus=32", "--pattern", "ring"]
    r = _run([*base, "--gpus", "8"])
    assert r.exit_code == 2, r.output
    assert "--gpus 9 or more" in r.output
    r = _run([*base, "--gpus", "9", "--json"])
    assert r.exit_code == 0, r.output
    out = _strict_json(r.stdout)
    assert 0 < out["optimal_fraction"] and out["ecmp_fraction"] <= out["optimal_fraction"] + 1e-9


def test_throughput_binary_pattern_file_exit_2(tmp_path):
    f = tmp_path / "bin.log"
    f.write_bytes(b"\x00\xff\xfe\x80" * 50)
    r = _run(["throughput", "dgx-h100", "--pattern", str(f)])
    assert r.exit_code == 2, r.output
    assert "`--pattern` file" in r.output and "not UTF-8 JSON" in r.output


@pytest.mark.parametrize("gbps", ["nan", "Infinity", -5])
def test_throughput_bad_demand_names_entry_exit_2(tmp_path, gbps):
    f = tmp_path / "m.json"
    f.write_text(json.dumps([{"src": "d0-gpu0", "dst": "d1-gpu0", "gbps": 400},
                             {"src": "d0-gpu1", "dst": "d1-gpu1", "gbps": gbps}]))
    r = _run(["throughput", "superpod-h100", "--set", "gpus=32", "--pattern", str(f), "--json"])
    assert r.exit_code == 2, r.output
    assert "entry 1 (d0-gpu1 -> d1-gpu1)" in r.output and "finite numbers >= 0" in r.output
    assert r.stdout == ""
