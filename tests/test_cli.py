"""The CLI through click's CliRunner, including every error path (no tracebacks)."""

import json

import pytest
from click.testing import CliRunner

from cli import main


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result
    return invoke


def test_presets(run):
    result = run("presets", "--json")
    assert result.exit_code == 0
    names = [p["name"] for p in json.loads(result.stdout)]
    assert {"dgx-h100", "hgx-b200", "gb200-nvl72", "gb300-nvl72", "nvl36x2"} <= set(names)
    text = run("presets")
    assert text.exit_code == 0 and "gb200-nvl72" in text.output


def test_info_gb200_done_criterion(run):
    result = run("info", "gb200-nvl72", "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["gpus"] == 72
    assert s["nodes_by_kind"]["nvswitch"] == 18
    assert s["links_by_medium"]["nvlink"] == 1296
    assert s["gpu_scaleup_gbps"] == 7200.0
    assert s["gpu_scaleout_gbps"] == 400.0
    assert s["hosts"] == 18


def test_info_text(run):
    result = run("info", "dgx-h100")
    assert result.exit_code == 0
    assert "3,600 Gb/s (450.0 GB/s)" in result.output


def test_build_then_info_and_export(run, tmp_path):
    out = tmp_path / "rack.json"
    result = run("build", "gb300-nvl72", "--set", "trays=4", "-o", str(out))
    assert result.exit_code == 0, result.output
    info = json.loads(run("info", str(out), "--json").stdout)
    assert info["gpus"] == 16 and info["gpu_scaleout_gbps"] == 800.0
    for fmt in ("graphml", "dot", "json"):
        target = tmp_path / f"x.{fmt}"
        result = run("export", str(out), "--format", fmt, "-o", str(target))
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
    back = json.loads(run("info", str(tmp_path / "x.graphml"), "--json").stdout)
    assert back == info


@pytest.mark.parametrize(("args", "code", "match"), [
    (("build", "nope", "-o", "{tmp}/a.json"), 2, "unknown preset `nope`"),
    (("build", "gb200-nvl72", "--set", "trays", "-o", "{tmp}/a.json"), 2, "KEY=VALUE"),
    (("build", "gb200-nvl72", "--set", "color=red", "-o", "{tmp}/a.json"), 2,
     "no parameter `color`"),
    (("build", "gb200-nvl72", "--set", "trays=0", "-o", "{tmp}/a.json"), 2,
     "`trays` must be between 1 and 18, got 0"),
    (("build", "gb200-nvl72", "--set", "trays=-2", "-o", "{tmp}/a.json"), 2, "between 1 and 18"),
    (("build", "dgx-h100", "--set", "link_split=6,6,6,6", "-o", "{tmp}/a.json"), 2,
     "24 NVLink links over 4 chips; a .* has 18"),
    (("info", "{tmp}/garbage.txt"), 1, "neither fabric JSON nor GraphML"),
    (("info", "no-such-thing"), 2, "neither a preset nor an existing file"),
    (("export", "dgx-h100", "--format", "pdf", "-o", "{tmp}/a.pdf"), 2, "Invalid value"),
    (("export", "dgx-h100", "--format", "json", "-o", "{tmp}/missing/a.json"), 1,
     "does not exist"),
    (("info", "{tmp}/garbage.txt", "--set", "trays=2"), 2, "presets only"),
])
def test_errors(run, tmp_path, args, code, match):
    (tmp_path / "garbage.txt").write_text("not a fabric")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert "Error:" in result.output
    import re
    assert re.search(match, result.output), result.output
    # nothing was written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.txt"]


def test_user_catalog_override(run, tmp_path):
    cat = tmp_path / "mine.toml"
    cat.write_text('[catalog]\nversion = "lab-1"\n[nic.cx7]\nmax_gbps = 200.0\nport_gbps = 200.0\n')
    result = run("--catalog", str(cat), "info", "gb200-nvl72", "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["gpu_scaleout_gbps"] == 200.0
    assert s["catalog_version"].endswith("+lab-1")


def test_bad_user_catalog(run, tmp_path):
    cat = tmp_path / "bad.toml"
    cat.write_text("[nic.cx7\nmax_gbps=")
    result = run("--catalog", str(cat), "info", "dgx-h100")
    assert result.exit_code == 1 and "not valid TOML" in result.output


@pytest.mark.parametrize(("args", "code", "match"), [
    (("info", "spectrum-x", "--set", "oversubscription=nan"), 2, "must be a finite number"),
    (("info", "superfactory", "--set", "wan_gbps=inf"), 2, "must be a finite number"),
    (("info", "fairwater", "--set", "gpus=1000000"), 2, "two tiers cannot host"),
    (("info", "superpod-gb200", "--set", "racks=20000"), 2, "three tiers cannot host"),
    (("info", "dgx-h100", "--set", "link_split=0,0,0,0"), 2, "no NVLink link"),
    (("info", "dgx-h100", "--fail", "switch=spine"), 2, "its switch kinds: nvswitch"),
    (("info", "fat-tree", "--fail", "links=0.1", "--counts-only"), 2, "drop `--counts-only`"),
    (("build", "dgx-h100", "-o", "{tmp}/x.dot"), 2, "build writes .json or .graphml"),
    (("build", "dgx-h100", "-o", ""), 1, "empty path"),
    (("export", "dgx-h100", "--format", "json", "-o", "{tmp}"), 2, "is a directory"),
])
def test_more_errors(run, tmp_path, args, code, match):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and match in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_symlink_target_is_written_and_fifo_refused(run, tmp_path):
    import os
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert run("export", "dgx-h100", "--format", "json", "-o", str(tmp_path / "link.json")) \
        .exit_code == 0
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "real.json").stat().st_size > 0
    os.mkfifo(tmp_path / "fifo")
    r = run("export", "dgx-h100", "--format", "json", "-o", str(tmp_path / "fifo"))
    assert r.exit_code == 1 and "not a regular file" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.json", "real.json"]


def test_build_writes_gzip_json_chosen_by_suffix(tmp_path):
    import gzip

    from click.testing import CliRunner

    from cli import main

    out = tmp_path / "f.json.gz"
    r = CliRunner().invoke(main, ["build", "dgx-h100", "-o", str(out)])
    assert r.exit_code == 0, r.output
    with gzip.open(out, "rb") as fh:               # really gzip, and JSON inside
        assert fh.read(1) == b"{"
    info = CliRunner().invoke(main, ["info", str(out), "--counts-only", "--json"])
    assert info.exit_code == 0 and json.loads(info.stdout)["gpus"] == 8
    bad = CliRunner().invoke(main, ["build", "dgx-h100", "--format", "graphml", "-o", str(out)])
    assert bad.exit_code == 2 and ".json.gz" in bad.output


@pytest.mark.parametrize("user", [None, "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                                  "OMP_NUM_THREADS"])
def test_one_blas_thread_leaves_a_users_choice(monkeypatch, user):
    """`build` asks numpy for one BLAS thread only when the user chose no thread count."""
    import sys

    import cli

    for name in cli._BLAS_THREAD_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "numpy", raising=False)   # as before numpy's first import
    if user:
        monkeypatch.setenv(user, "3")
    with cli._one_blas_thread():
        inside = {name: cli.os.environ.get(name) for name in cli._BLAS_THREAD_VARS}
    after = {name: cli.os.environ.get(name) for name in cli._BLAS_THREAD_VARS}
    expected = dict.fromkeys(cli._BLAS_THREAD_VARS)
    if user:
        expected[user] = "3"
    assert after == expected
    assert inside == (expected if user else {**expected, "OPENBLAS_NUM_THREADS": "1"})


def test_info_allreduce(run):
    """`fabric info` prices a 1 GiB allreduce over all GPUs (algo auto), in text and JSON;
    `--counts-only` does not."""
    import topologies
    from solvers.collectives import CollectiveModel

    s = json.loads(run("info", "dgx-h100", "--json").stdout)
    a = s["allreduce"]
    want = CollectiveModel(topologies.dgx_h100_graph()).evaluate("allreduce", 2 ** 30)
    assert a["op"] == "allreduce" and a["size_bytes"] == 2 ** 30 and a["ranks"] == s["gpus"] == 8
    assert a["algo"] == want.algo and a["time_us"] == want.time_us
    assert a["busbw_GBps"] == want.busbw_GBps
    text = run("info", "dgx-h100").output
    assert f"allreduce 1 GiB, all GPUs  {want.time_us / 1e3:,.2f} ms" in text
    assert f"({want.algo}, {want.protocol}; 8 ranks;" in text
    counts = json.loads(run("info", "dgx-h100", "--counts-only", "--json").stdout)
    assert "allreduce" not in counts


def test_info_allreduce_can_be_turned_off(run):
    s = json.loads(run("info", "dgx-h100", "--no-allreduce", "--json").stdout)
    assert "allreduce" not in s and s["gpus"] == 8
