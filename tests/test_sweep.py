"""Design-space sweeps (solvers/sweep.py, `fabric sweep`): Dask and serial give the same
table, a killed worker's point is retried, reruns resume, the Pareto front, bad points
and bad spec files."""

import json
import os
import signal
import time

import pandas as pd
import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.exceptions import FabricValidationError, ParameterError
from solvers.sweep import load_sweep_spec, pareto_front, sweep

CALLS = []
"""Points the in-process hook measured (serial runs only)."""


def count_measure(G, params):
    """A measurement hook: counts its calls, returns the node count."""
    CALLS.append(dict(params))
    return G.number_of_nodes()


def invalid_measure(G, params):
    """A measurement hook that finds the fabric invalid (two violations)."""
    raise FabricValidationError(["edge a-b has no medium", "node c has no kind"])


def slow_measure(G, params):
    """A measurement hook that takes a while, so a worker can be killed mid-task."""
    time.sleep(1.0)
    return G.number_of_nodes()


SPEC = """
title = "fat trees"
base = "fat-tree"
[fixed]
tiers = 3
[axes]
k = [4, 6]
switch = ["QM9700", "SN5600"]
[[measure]]
metric = "cost_usd"
[[measure]]
metric = "bisection_gbps"
[[measure]]
collective = {op = "allreduce", size = "1MiB", gpus = 4}
[failures]
links = 0.05
trials = 3
seed = 7
"""


def _write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _same(a, b):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


# ----------------------------------------------------------------------------- engine

def test_local_cluster_matches_serial(tmp_path):
    spec = _write(tmp_path, SPEC)
    serial = sweep(spec, tmp_path / "serial", scheduler="none", build=topologies.load)
    dask = sweep(spec, tmp_path / "dask", workers=2, build=topologies.load)
    assert dask.attrs["sweep"]["workers"] == 2
    assert serial.attrs["sweep"]["points"] == 4 and serial.attrs["sweep"]["failed"] == 0
    _same(serial, dask)
    for name in ("results.csv", "results.parquet", "pareto.svg", "axis_k.svg", "index.html"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
    # the tidy table: one row per (point, measurement, trial), failure trials and summaries
    ok = serial[serial["stat"] == "value"]
    assert len(ok) == 4 * 4                               # 2 metrics + time_us + busbw
    trials = serial[(serial["stat"] == "trial") & (serial["measurement"] == "bisection_gbps")]
    assert sorted(trials.groupby("point")["trial"].apply(list).iloc[0]) == [0, 1, 2]
    stats = serial[serial["failure"] == "links=0.05"]["stat"].unique()
    assert {"mean", "p50", "p99", "worst", "unreachable"} <= set(stats)
    worst = serial[(serial["stat"] == "worst") & (serial["measurement"] == "bisection_gbps")]
    intact = serial[(serial["stat"] == "value") & (serial["measurement"] == "bisection_gbps")]
    assert (worst["value"].to_numpy() <= intact["value"].to_numpy()).all()
    assert list(serial.columns[:6]) == ["point", "key", "status", "error", "k", "switch"]
    back = pd.read_parquet(tmp_path / "serial" / "results.parquet")
    _same(serial, back)


def test_killed_worker_point_is_retried(tmp_path):
    from distributed import Client, LocalCluster

    head = SPEC.split("[[measure]]")[0].replace("k = [4, 6]",
                                                "k = [4, 6]\nnic = [\"cx7\", \"bf3\"]")
    spec = _write(tmp_path, head + """
[[measure]]
hook = "tests.test_sweep:slow_measure"
name = "nodes"
""")
    killed = []
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:

        def kill_one(p):
            if not killed:
                pids = client.run(os.getpid)
                pid = min(pids.values())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        df = sweep(spec, tmp_path / "out", scheduler=cluster.scheduler_address,
                   progress=kill_one, build=topologies.load)
    assert killed
    assert df.attrs["sweep"]["points"] == 8 and df.attrs["sweep"]["failed"] == 0, \
        df[df["status"] != "ok"]["error"].tolist()
    assert sorted(df["point"].unique()) == list(range(8))
    assert len(list((tmp_path / "out" / "points").glob("*.json"))) == 8


def test_rerun_skips_stored_points(tmp_path):
    text = SPEC.split("[failures]")[0] + """
[[measure]]
hook = "tests.test_sweep:count_measure"
name = "nodes"
"""
    spec = _write(tmp_path, text)
    CALLS.clear()
    first = sweep(spec, tmp_path / "out", scheduler="none", build=topologies.load)
    assert len(CALLS) == 4 and first.attrs["sweep"]["skipped"] == 0
    (tmp_path / "out" / "points" / f"{first['key'].iloc[0]}.json").unlink()
    again = sweep(spec, tmp_path / "out", scheduler="none", build=topologies.load)
    assert len(CALLS) == 5                                # only the deleted point again
    assert again.attrs["sweep"]["skipped"] == 3 and again.attrs["sweep"]["computed"] == 1
    _same(first, again)
    # a new axis value adds points; the old ones are still reused
    spec = _write(tmp_path, text.replace("k = [4, 6]", "k = [4, 6, 8]"))
    more = sweep(spec, tmp_path / "out", scheduler="none", build=topologies.load)
    assert more.attrs["sweep"]["skipped"] == 4 and len(CALLS) == 7
    # the catalog version is part of the key
    stored = json.loads(next((tmp_path / "out" / "points").glob("*.json")).read_text())
    assert stored["status"] == "ok" and stored["rows"]


def test_bad_point_is_recorded_and_the_rest_complete(tmp_path):
    spec = _write(tmp_path, SPEC.replace("k = [4, 6]", "k = [4, 3]"))
    df = sweep(spec, tmp_path / "out", scheduler="none", build=topologies.load)
    info = df.attrs["sweep"]
    assert info["points"] == 4 and info["failed"] == 2
    bad = df[df["status"] == "error"]
    assert set(bad["k"]) == {3}
    assert bad["error"].str.contains("`k` must be even").all()
    assert bad["value"].isna().all() and bad.groupby("point").size().tolist() == [1, 1]
    good = df[df["status"] == "ok"]
    assert set(good["k"]) == {4} and good["value"].notna().any()
    assert "error" in (tmp_path / "out" / "results.csv").read_text()


def test_a_measurement_error_keeps_its_kind_and_names_the_measurement(tmp_path):
    """A validation error of a hook is recorded as its violations, each prefixed with the
    measurement's name (not one violation per character of a joined message)."""
    text = SPEC.split("[failures]")[0] + """
[[measure]]
hook = "tests.test_sweep:invalid_measure"
name = "check"
"""
    df = sweep(_write(tmp_path, text), scheduler="none", build=topologies.load)
    assert df.attrs["sweep"]["failed"] == 4
    err = df[df["status"] == "error"]["error"].iloc[0]
    assert "(2 violations)" in err
    assert "measurement `check`: edge a-b has no medium" in err
    assert "measurement `check`: node c has no kind" in err


def test_failed_collective_trials_are_counted_not_fatal(tmp_path):
    # cutting 30% of a small fat tree's links strands hosts: those trials are unreachable
    text = SPEC.replace("links = 0.05", "links = 0.3").replace("trials = 3", "trials = 4")
    df = sweep(_write(tmp_path, text), scheduler="none", build=topologies.load)
    assert (df["status"] == "ok").all()
    unreach = df[df["stat"] == "unreachable"]["value"]
    assert len(unreach) == 4 and ((unreach >= 0) & (unreach <= 1)).all()


# ----------------------------------------------------------------------------- Pareto

def test_pareto_front_hand_made():
    d = pd.DataFrame({"cost": [1, 2, 3, 2, 1, 5, None, 4],
                      "time": [9, 5, 4, 6, 9, 1, 0, 4]}, index=list("abcdefgh"))
    front = pareto_front(d, "cost", "time")
    assert front.index.tolist() == list("abcdefgh")
    # a,e tie (both on it); b, c, f; d dominated by b; g has no cost; h dominated by c
    assert front[front].index.tolist() == ["a", "b", "c", "e", "f"]
    assert not pareto_front(d.iloc[:0], "cost", "time").any()


def test_pareto_column_in_the_table(tmp_path):
    df = sweep(_write(tmp_path, SPEC), scheduler="none", build=topologies.load)
    wide = df[df["stat"] == "value"].pivot(index="point", columns="measurement",
                                           values="value")
    expect = pareto_front(wide, "cost_usd", "allreduce_1MiB_4gpus.time_us")
    got = df.groupby("point")["pareto"].first()
    assert got.tolist() == expect.tolist() and got.any()


# ----------------------------------------------------------------------------- specs

@pytest.mark.parametrize("text,words", [
    ("[axes]\nk = [4]\n[[measure]]\nmetric = \"cost_usd\"\n", ["key `base`", "missing"]),
    ("base = \"fat-tree\"\n[[measure]]\nlatency = 3\n",
     ["key `measure[0]`", "unknown measurement 'latency'"]),
    ("base = \"fat-tree\"\n[[measure]]\nmetric = \"speed\"\n",
     ["key `measure[0].metric`", "'speed'", "cost_usd"]),
    ("base = \"fat-tree\"\n", ["key `measure`", "missing"]),
    ("base = \"fat-tree\"\n[[measure]]\ncollective = {op = \"allreduce\", size = \"1Q\"}\n",
     ["key `measure[0].collective.size`"]),
    ("base = \"fat-tree\"\n[[measure]]\ncollective = {op = \"gather\"}\n",
     ["key `measure[0].collective.op`", "allreduce"]),
    ("base = \"fat-tree\"\n[axes]\nk = 4\n[[measure]]\nmetric = \"cost_usd\"\n",
     ["key `axes.k`", "list"]),
    ("base = \"fat-tree\"\n[[measure]]\nmetric = \"cost_usd\"\n[failures]\nlinks = 2\n",
     ["key `failures.links`", "[0, 1]"]),
    ("base = \"fat-tree\"\n[[measure]]\nmetric = \"cost_usd\"\n[pareto]\ny = \"power_w\"\n",
     ["key `pareto.y`", "not a measurement"]),
    ("base = \"fat-tree\"\n[sample]\nn = 2\nk = [4, \"x\"]\n[[measure]]\nmetric = \"gpus\"\n",
     ["key `sample.k`", "numbers"]),
    ("base = \"fat-tree\"\nbase2 = 1\n[[measure]]\nmetric = \"gpus\"\n", ["key `base2`"]),
    ("base = = 1\n", ["not valid TOML"]),
])
def test_bad_spec_files(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(ParameterError) as info:
        load_sweep_spec(path)
    message = str(info.value)
    assert str(path) in message
    for w in words:
        assert w in message, message


def test_non_utf8_and_missing_spec(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("base = \"fat-tree\" # caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ParameterError, match=r"latin1\.toml.*not UTF-8.*0xe9"):
        load_sweep_spec(path)
    with pytest.raises(ParameterError, match="cannot read"):
        load_sweep_spec(tmp_path / "nope.toml")


def test_sample_points_are_seeded(tmp_path):
    text = ("base = \"fat-tree\"\n[fixed]\nk = 4\n[sample]\nn = 5\nseed = 3\n"
            "nic = {choices = [\"cx7\", \"bf3\"]}\n[[measure]]\nmetric = \"gpus\"\n")
    a = sweep(_write(tmp_path, text), scheduler="none", build=topologies.load)
    b = sweep(_write(tmp_path, text, "b.toml"), scheduler="none", build=topologies.load)
    _same(a, b)
    assert len(a) == 5 and set(a["nic"]) == {"cx7", "bf3"} and (a["value"] == 16).all()


# ----------------------------------------------------------------------------- CLI

def test_cli_sweep_json_and_resume(tmp_path):
    spec = _write(tmp_path, SPEC)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["sweep", str(spec), "-o", str(out), "--scheduler", "none",
                                  "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["points"] == 4 and data["failed_points"] == 0 and data["rows"] > 0
    assert data["pareto_points"] >= 1 and data["out_dir"] == str(out)
    assert "sweep: 4/4 points" in r.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>fat trees</title>" in page and "data:image/svg+xml;base64," in page
    r = CliRunner().invoke(main, ["sweep", str(spec), "-o", str(out), "--scheduler", "none"])
    assert r.exit_code == 0 and "4 already stored" in r.stdout


def test_cli_sweep_bad_spec_exit_2(tmp_path):
    spec = _write(tmp_path, "base = \"fat-tree\"\n[[measure]]\nmetric = \"speed\"\n")
    r = CliRunner().invoke(main, ["sweep", str(spec), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "measure[0].metric" in r.output
    assert "Traceback" not in r.output


def test_key_covers_catalog_version_and_base_file(tmp_path):
    from solvers.sweep import point_key

    spec = load_sweep_spec(_write(tmp_path, SPEC))
    a = point_key(spec, {"k": 4}, "2026.11.0")
    assert a == point_key(spec, {"k": 4}, "2026.11.0")
    assert a != point_key(spec, {"k": 4}, "2026.11.0+user")
    assert a != point_key(spec, {"k": 6}, "2026.11.0")
    # a base spec file, relative to the sweep spec; editing it invalidates stored points
    (tmp_path / "ft.toml").write_text('preset = "fat-tree"\n[params]\nk = 4\n', encoding="utf-8")
    path = _write(tmp_path, 'base = "ft.toml"\n[[measure]]\nmetric = "gpus"\n', "f.toml")
    first = sweep(path, tmp_path / "out", scheduler="none", build=topologies.load)
    assert first["value"].tolist() == [16.0]
    (tmp_path / "ft.toml").write_text('preset = "fat-tree"\n[params]\nk = 6\n', encoding="utf-8")
    second = sweep(path, tmp_path / "out", scheduler="none", build=topologies.load)
    assert second.attrs["sweep"]["skipped"] == 0 and second["value"].tolist() == [54.0]
