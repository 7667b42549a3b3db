"""CLI tests of `fabric throughput`, `fabric place` and the collective bound column."""

import json

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
