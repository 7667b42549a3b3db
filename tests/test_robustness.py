"""Bad input gets a clear error (exit 2 usage, 1 otherwise, 130 on Ctrl-C), never a traceback,
and never leaves a file or a temporary file behind; outputs are byte-identical across runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import fabric
from cli import main
from fabric.exceptions import CatalogError, FabricFormatError, ParameterError

ROOT = Path(__file__).resolve().parents[1]


def run(args, **kwargs):
    return CliRunner().invoke(main, args, **kwargs)


def assert_clean_error(r, code, *names):
    """Exit ``code``, an ``Error:`` line naming each of ``names``, no traceback."""
    assert r.exit_code == code, r.output
    assert "Error:" in r.output, r.output
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    for name in names:
        assert name in r.output, (name, r.output)


def hidden(directory):
    return [p.name for p in Path(directory).iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------------------- 1. NaN / inf

_FLOAT_OPTIONS = [
    (["throughput", "fat-tree"], "--time-limit"),
    (["place", "dgx-h100", "--gpus", "8", "--tp", "8"], "--time-limit"),
    (["place", "dgx-h100", "--gpus", "8", "--tp", "8"], "--model-params"),
    (["place", "dgx-h100", "--gpus", "8", "--tp", "8"], "--busy-fraction"),
    (["place-queue", "dgx-h100", "--jobs", "jobs.json"], "--time-limit"),
    (["place-queue", "dgx-h100", "--jobs", "jobs.json"], "--busy-fraction"),
    (["report", "dgx-h100", "-o", "REPORT"], "--time-limit"),
    (["report", "dgx-h100", "-o", "REPORT"], "--busy-fraction"),
]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
@pytest.mark.parametrize(("args", "option"), _FLOAT_OPTIONS)
def test_float_options_refuse_nan_and_inf(tmp_path, args, option, value):
    out = tmp_path / "report"
    args = [str(out) if a == "REPORT" else a for a in args]
    r = run([*args, option, value])
    assert_clean_error(r, 2, option, "finite")
    assert not out.exists() and not hidden(tmp_path)


def test_model_params_has_an_upper_bound():
    r = run(["place", "dgx-h100", "--gpus", "8", "--tp", "8", "--model-params", "1e300"])
    assert_clean_error(r, 2, "--model-params", "1e+15")


def test_help_shows_the_bounds():
    r = run(["place", "--help"])
    assert r.exit_code == 0
    assert "0<=x<=1" in r.output and "0<x<=1e+15" in r.output and "x>0" in r.output


def test_write_report_checks_options_before_writing(tmp_path):
    from solvers.study import write_report

    G = fabric.read_fabric(_built(tmp_path))
    for kw in ({"busy_fraction": float("nan")}, {"busy_fraction": 1.5},
               {"time_limit_s": float("inf")}, {"time_limit_s": 0}):
        with pytest.raises(ParameterError, match="busy_fraction|time_limit_s"):
            write_report(G, tmp_path / "rep", **kw)
        assert not (tmp_path / "rep").exists() and not hidden(tmp_path)


def _built(tmp_path):
    path = tmp_path / "dgx.json"
    assert run(["build", "dgx-h100", "-o", str(path)]).exit_code == 0
    return path


# ----------------------------------------------------------------------------- report staging

def test_report_is_staged_and_replaces_a_previous_report(tmp_path):
    out = tmp_path / "rep"
    r = run(["report", "dgx-h100", "-o", str(out), "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    first = sorted(p.name for p in out.iterdir())
    assert "index.html" in first and "placement.json" not in first
    (out / "placement.json").write_text("{}")            # a file of an older report
    r = run(["report", "dgx-h100", "-o", str(out), "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == first     # the old file is gone
    assert not hidden(tmp_path)


def test_report_refuses_a_directory_of_other_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = run(["report", "dgx-h100", "-o", str(out), "--time-limit", "2"])
    assert_clean_error(r, 1, "notes.txt", str(out))
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and not hidden(tmp_path)


def test_interrupted_report_leaves_nothing(tmp_path):
    from solvers.study import write_report

    G = fabric.read_fabric(_built(tmp_path))

    def progress(message):
        if message.startswith("drawing"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_report(G, tmp_path / "rep", progress=progress, time_limit_s=2)
    assert not (tmp_path / "rep").exists() and not hidden(tmp_path)


# ----------------------------------------------------------------------------- 2. sizes

@pytest.mark.parametrize(("args", "name"), [
    (["--size", ""], "--size"),
    (["--size", "  "], "--size"),
    (["--size", "99999999999999999999G"], "1 PiB"),
    (["--size", "9" * 400], "1 PiB"),
    (["--size", "1025T"], "1 PiB"),
    (["--sweep", "8:99999999999999G"], "--sweep"),
    (["--sweep", ":1G"], "--sweep"),
])
def test_collective_sizes_are_bounded(args, name):
    r = run(["collective", "dgx-h100", "--op", "allreduce", *args])
    assert_clean_error(r, 2, "--size" if args[0] == "--size" else "--sweep", name)
    assert "building" not in r.output                   # refused before the fabric is built


def test_parse_size_bounds():
    from solvers.collectives import parse_size

    assert parse_size("1024T") == 2 ** 50
    for bad in ("", " ", "1025T", "1e3", 2 ** 50 + 1, "9" * 400):
        with pytest.raises(ParameterError, match="`--size`"):
            parse_size(bad, name="`--size`")


def test_place_byte_options_are_bounded():
    r = run(["place", "dgx-h100", "--gpus", "8", "--tp", "8", "--tp-bytes", "2000T"])
    assert_clean_error(r, 2, "--tp-bytes", "1 PiB")


# ----------------------------------------------------------------------------- 3. catalog types

@pytest.mark.parametrize(("name", "content", "words"), [
    ("c.toml", b'[gpu.GB200]\nnvlink_links = "many"\n',
     ["gpu.GB200.nvlink_links", "an integer", "'many'"]),
    ("c.toml", b"[switch.QM9700]\nports = 64.5\n", ["switch.QM9700.ports", "an integer", "64.5"]),
    ("c.toml", b"[switch.QM9700]\nports = true\n", ["switch.QM9700.ports", "an integer"]),
    ("c.toml", b'[nic.cx7]\nmax_gbps = "fast"\n', ["nic.cx7.max_gbps", "a number"]),
    ("c.toml", b"[nic.cx7]\nname = 7\n", ["nic.cx7.name", "a string"]),
    ("c.json", b'{"gpu": {"H100": {"nvlink_links": {"value": "x", "source": "me"}}}}',
     ["gpu.H100.nvlink_links", "an integer"]),
    ("c.json", b"[1, 2]", ["top level", "table", "list"]),
    ("c.json", b'"gpu"', ["top level", "string"]),
    ("c.json", b'{"catalog": 3}', ["`catalog`", "table"]),
    ("c.json", b'{"gpu": [1]}', ["`gpu`", "table of parts"]),
])
def test_catalog_refuses_wrong_types(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CatalogError) as info:
        fabric.load_catalog(path)
    for w in [str(path), *words]:
        assert w in str(info.value), (w, str(info.value))
    r = run(["--catalog", str(path), "info", "dgx-h100", "--counts-only"])
    assert_clean_error(r, 1, *words)


def test_catalog_still_accepts_an_int_for_a_number(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[nic.cx7]\nmax_gbps = 400\n")
    assert fabric.load_catalog(path).part("nic", "cx7")["max_gbps"] == 400


# ----------------------------------------------------------------------------- 4. encodings

_LATIN1_SPEC = b'preset = "gb300-nvl72"\nname = "caf\xe9"\n'
_BINARY = bytes(range(256)) * 4


@pytest.mark.parametrize(("content", "words"), [
    (_LATIN1_SPEC, ["spec file", "not UTF-8", "byte 34", "line 2"]),
    (_BINARY, ["spec file", "byte 0", "NUL"]),
    (b"\x80\x81 = 1\n", ["spec file", "not UTF-8", "byte 0"]),
    ("preset = 1\n".encode("utf-16"), ["spec file", "NUL"]),
])
def test_spec_files_that_are_not_utf8(tmp_path, content, words):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    with pytest.raises(FabricFormatError):
        topologies_load(path)
    r = run(["info", str(path), "--counts-only"])
    assert_clean_error(r, 1, str(path), *words)


def topologies_load(path):
    import topologies

    return topologies.load(str(path), ())


def test_spec_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b'\xef\xbb\xbfpreset = "gb300-nvl72"\n[params]\ntrays = 9\n')
    r = run(["info", str(path), "--counts-only"])
    assert r.exit_code == 0, r.output
    assert "36" in r.output


@pytest.mark.parametrize("name", ["c.toml", "c.json"])
def test_catalog_encodings(tmp_path, name):
    path = tmp_path / name
    body = b'[gpu.H100]\npower_w = 650.0\n' if name.endswith("toml") else \
        b'{"gpu": {"H100": {"power_w": 650.0}}}'
    path.write_bytes(b"\xef\xbb\xbf" + body)
    assert fabric.load_catalog(path).part("gpu", "H100")["power_w"] == 650
    path.write_bytes(body.replace(b"650.0", b"650.0 ").replace(b"H100", b"H100\xe9", 1))
    r = run(["--catalog", str(path), "info", "dgx-h100", "--counts-only"])
    assert_clean_error(r, 1, "catalog file", str(path), "not UTF-8", "byte")
    path.write_bytes(_BINARY)
    r = run(["--catalog", str(path), "info", "dgx-h100", "--counts-only"])
    assert_clean_error(r, 1, "catalog file", str(path))


def test_json_inputs_with_bom_and_latin1(tmp_path):
    good = tmp_path / "busy.json"
    good.write_bytes(b'\xef\xbb\xbf["d0-gpu0"]')
    assert fabric.read_json_input(good, option="--busy", fix="x") == ["d0-gpu0"]
    bad = tmp_path / "ranks.json"
    bad.write_bytes(b'["d0-gpu\xe9"]')
    r = run(["place", "dgx-h100", "--gpus", "4", "--tp", "4", "--busy", str(bad)])
    assert_clean_error(r, 2, "--busy", str(bad), "not UTF-8", "byte 8")


def test_fabric_files_with_bom_and_latin1(tmp_path):
    path = _built(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert fabric.read_fabric(path).number_of_nodes() == 23
    path.write_bytes(b'{"format": "caf\xe9"}')
    r = run(["info", str(path), "--counts-only"])
    assert_clean_error(r, 1, str(path), "not UTF-8")


# ----------------------------------------------------------------------------- 5. host names

@pytest.mark.parametrize(("pattern", "words"), [
    ("{index:0999999999d}", ["width or precision", "64"]),
    ("{index:>99999}", ["64"]),
    ("{index:.999999f}", ["64"]),
    ("{index:{index}}", ["format spec"]),
    ("{index", ["invalid"]),
])
def test_hostname_pattern_widths_are_bounded(tmp_path, pattern, words):
    out = tmp_path / "topology.conf"
    start = time.perf_counter()
    r = run(["export", "dgx-h100", "--format", "slurm-tree", "-o", str(out),
             "--hostname-pattern", pattern])
    assert time.perf_counter() - start < 20
    assert_clean_error(r, 2, "--hostname-pattern", *words)
    assert not out.exists() and not hidden(tmp_path)


def test_long_names_are_not_echoed_in_full(tmp_path):
    pattern = "x" * 5000 + "{index}"
    r = run(["export", "dgx-h100", "--format", "slurm-tree", "-o", str(tmp_path / "t.conf"),
             "--hostname-pattern", pattern])
    assert_clean_error(r, 2, "--hostname-pattern", "characters")
    assert len(r.output) < 1500


# ----------------------------------------------------------------------------- 6. suffixes

@pytest.mark.parametrize(("fmt", "name"), [
    ("svg", "x.png"), ("png", "x.svg"), ("json", "x.graphml"), ("graphml", "x.json"),
    ("dot", "x.json"), ("slurm-tree", "x.svg"), ("k8s-labels", "x.json"),
])
def test_export_refuses_another_formats_suffix(tmp_path, fmt, name):
    out = tmp_path / name
    r = run(["export", "dgx-h100", "--format", fmt, "-o", str(out)])
    assert_clean_error(r, 2, f"`{fmt}`", out.suffix)
    assert not out.exists() and not hidden(tmp_path)


def test_export_registry_refuses_another_formats_suffix(tmp_path):
    from fabric.export import export

    G = fabric.read_fabric(_built(tmp_path))
    with pytest.raises(ParameterError, match=r"`svg` does not match the file suffix \.png"):
        export(G, tmp_path / "d.png", "svg")
    export(G, tmp_path / "d.gv", "dot")                    # .gv is a dot suffix
    export(G, tmp_path / "topology.conf", "slurm-tree")    # no format owns .conf
    assert not (tmp_path / "d.png").exists()


# ----------------------------------------------------------------------------- 7. Kubernetes

@pytest.mark.parametrize("fmt", ["k8s-labels", "k8s-script", "kueue-topology"])
@pytest.mark.parametrize(("pattern", "bad"), [
    ("UPPER_{index}", "UPPER_1"), ("node_{index}", "node_1"), ("n{index}-", "n1-"),
    ("n{index}..x", "n1..x"),
])
def test_k8s_node_names_follow_rfc1123(tmp_path, fmt, pattern, bad):
    out = tmp_path / "k8s.yaml"
    r = run(["export", "dgx-h100", "--format", fmt, "-o", str(out),
             "--hostname-pattern", pattern])
    assert_clean_error(r, 2, "--hostname-pattern", repr(bad), "RFC 1123")
    assert not out.exists() and not hidden(tmp_path)


def test_k8s_accepts_dns_names_and_slurm_keeps_its_rules(tmp_path):
    r = run(["export", "dgx-h100", "--format", "k8s-labels", "-o", str(tmp_path / "a.yaml"),
             "--hostname-pattern", "gpu-{index:03d}.rack{rack}"])
    assert r.exit_code == 0, r.output
    assert "name: gpu-001.rack0" in (tmp_path / "a.yaml").read_text()
    r = run(["export", "dgx-h100", "--format", "slurm-tree", "-o", str(tmp_path / "t.conf"),
             "--hostname-pattern", "UPPER_{index}"])
    assert r.exit_code == 0, r.output


# ----------------------------------------------------------------------------- 8. signals

_SLOW_WRITER = """
import sys, time
sys.path.insert(0, {root!r})
import fabric.io as fio
import cli

def slow_write_json(G, path):
    with fio.atomic_write(path) as fh:
        fh.write("{{" * 100000)
        fh.flush()
        print("READY", file=sys.stderr, flush=True)
        time.sleep(60)

fio.write_json = slow_write_json
sys.argv = ["fabric", "export", "dgx-h100", "--format", "json", "-o", sys.argv[1]]
cli.main()
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_write_leaves_no_temp_file(tmp_path, sig, code):
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_WRITER.format(root=str(ROOT)))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = subprocess.Popen([sys.executable, str(script), str(out_dir / "big.json")],
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        for line in p.stderr:
            if "READY" in line:
                break
        assert len(hidden(out_dir)) == 1                  # the temp file, mid-write
        p.send_signal(sig)
        rest = p.stderr.read()
        assert p.wait(timeout=30) == code
    finally:
        if p.poll() is None:
            p.kill()
    assert "Traceback" not in rest and "Aborted" not in rest
    if sig == signal.SIGINT:
        assert "Interrupted" in rest
    assert os.listdir(out_dir) == []


def test_atomic_write_removes_its_temp_file_on_base_exceptions(tmp_path):
    for exc in (KeyboardInterrupt, SystemExit, ValueError):
        with pytest.raises(exc), fabric.atomic_write(tmp_path / "f.txt") as fh:
            fh.write("partial")
            raise exc
        assert os.listdir(tmp_path) == []


def test_sigkill_is_documented():
    assert "SIGKILL" in fabric.atomic_write.__doc__


def test_keyboard_interrupt_exits_130(monkeypatch):
    import topologies

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(topologies, "load", interrupted)
    r = run(["info", "dgx-h100"])
    assert r.exit_code == 130 and "Interrupted" in r.output and "Aborted" not in r.output


# ----------------------------------------------------------------------------- 9. determinism

def _fabric(args, seed, cwd):
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    r = subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_svgs_are_byte_identical_across_runs(tmp_path):
    outputs = []
    for seed in (1, 2):
        d = tmp_path / f"run{seed}"
        d.mkdir()
        _fabric(["export", "gb200-nvl72", "--set", "trays=4", "--format", "svg", "-o",
                 str(d / "summary.svg"), "--detail", "summary"], seed, ROOT)
        _fabric(["draw", "gb200-nvl72", "--set", "trays=4", "--detail", "rack", "-o",
                 str(d / "rack.svg")], seed, ROOT)
        _fabric(["report", "dgx-h100", "--time-limit", "2", "-o", str(d / "rep")], seed, ROOT)
        outputs.append({p.relative_to(d).as_posix(): p.read_bytes()
                        for p in sorted(d.rglob("*.svg"))})
    assert set(outputs[0]) == {"summary.svg", "rack.svg", "rep/busbw.svg", "rep/diagram.svg",
                               "rep/accuracy.svg",
                               "rep/rack.svg"}
    for name, data in outputs[0].items():
        assert data == outputs[1][name], name
        assert b"<dc:date>" not in data, name


def test_top_links_do_not_depend_on_the_hash_seed():
    tops = [json.loads(_fabric(["throughput", "fat-tree", "--set", "k=4", "--json"], seed, ROOT))
            ["top_links_gbps"] for seed in (1, 2, 3)]
    assert [list(t.items()) for t in tops[1:]] == [list(tops[0].items())] * 2


def test_top_links_ties_sorted_by_name():
    from solvers.throughput import ThroughputResult

    def result(loads):
        return ThroughputResult(pattern="p", endpoints=2, demand_gbps=1.0, intra_domain_gbps=0.0,
                                optimal_fraction=1.0, ecmp_fraction=1.0,
                                max_link_utilization=1.0, ecmp_bottleneck="a -> b",
                                link_loads_gbps=loads, solver="GLOP", status="OPTIMAL",
                                solve_s=0.0, lp_vars=1)

    loads = {"c -> d": 400.0, "a -> b": 400.00000000000006, "z -> y": 800.0, "b -> c": 399.5}
    forward = result(loads).to_dict(top_links=3)["top_links_gbps"]
    backward = result(dict(reversed(loads.items()))).to_dict(top_links=3)["top_links_gbps"]
    assert list(forward.items()) == list(backward.items()) == [
        ("z -> y", 800.0), ("a -> b", 400.0), ("c -> d", 400.0)]


# ----------------------------------------------------------------------------- every option

_PLACE = ["place", "dgx-h100", "--gpus", "8", "--tp", "8"]
_QUEUE = ["place-queue", "dgx-h100", "--jobs", "{tmp}/jobs.json"]
_COLL = ["collective", "dgx-h100", "--op", "allreduce", "--size", "1M"]
_REPORT = ["report", "dgx-h100", "-o", "{tmp}/rep"]

_BAD_INPUT = [
    # global
    (["--catalog", "{tmp}/missing.toml", "info", "dgx-h100"], 2, ["--catalog"]),
    (["--catalog", "{tmp}/bad.json", "info", "dgx-h100"], 1, ["bad.json"]),
    (["--catalog", "{tmp}", "info", "dgx-h100"], 2, ["--catalog"]),
    (["--no-such-option"], 2, ["--no-such-option"]),
    (["no-such-command"], 2, ["no-such-command"]),
    # presets
    (["presets", "--json", "extra"], 2, ["extra"]),
    (["presets", "--jsn"], 2, ["--jsn"]),
    # build
    (["build", "no-such-preset", "-o", "{tmp}/x.json"], 2, ["no-such-preset"]),
    (["build", "dgx-h100", "-o", "{tmp}/x.json", "--set", "gpu"], 2, ["--set", "gpu"]),
    (["build", "dgx-h100", "-o", "{tmp}/x.json", "--set", "nope=1"], 2, ["nope"]),
    (["build", "dgx-h100", "-o", "{tmp}/x.json", "--set", "link_split=a"], 2, ["link_split"]),
    (["build", "dgx-h100", "-o", "{tmp}/x.json", "--format", "xml"], 2, ["--format"]),
    (["build", "dgx-h100", "-o", "{tmp}/x.dot"], 2, [".json or .graphml"]),
    (["build", "dgx-h100", "-o", "{tmp}"], 2, ["--output"]),
    (["build", "dgx-h100"], 2, ["--output"]),
    (["build", "dgx-h100", "-o", "{tmp}/missing/dir/x.json"], 1, ["missing"]),
    # info
    (["info", "{tmp}/missing.json"], 2, ["missing.json"]),
    (["info", "{tmp}/bad.json"], 1, ["bad.json"]),
    (["info", "{tmp}/empty.txt"], 1, ["empty.txt"]),
    (["info", "dgx-h100", "--set", "nic=nope"], 2, ["nic"]),
    (["info", "dgx-h100", "--fail", "nonsense"], 2, ["--fail"]),
    (["info", "dgx-h100", "--fail", "links=2"], 2, ["links"]),
    (["info", "dgx-h100", "--seed", "x"], 2, ["--seed"]),
    (["info", "dgx-h100", "--bisection", "best"], 2, ["--bisection"]),
    (["info", "fat-tree", "--fail", "links=0.1", "--counts-only"], 2, ["--counts-only"]),
    (["info", "fat-tree", "--set", "k=7"], 2, ["k"]),
    (["info", "fat-tree", "--set", "k=1000"], 2, ["k"]),
    (["info", "fat-tree", "--set", "tiers=4"], 2, ["tiers"]),
    (["info", "superfactory", "--set", "sites=0"], 2, ["sites"]),
    (["info", "superfactory", "--set", "site=nope"], 2, ["site"]),
    (["info", "superfactory", "--set", "distance_km=-1"], 2, ["distance_km"]),
    (["info", "superfactory", "--set", "route_factor=0.5"], 2, ["route_factor"]),
    (["info", "superfactory", "--set", "wan_gbps=10"], 2, ["wan_gbps"]),
    (["info", "superfactory", "--set", "planes=9"], 2, ["planes"]),
    (["info", "fairwater", "--set", "gpus=200000"], 2, ["two tiers cannot host", "SN6810"]),
    (["info", "fairwater", "--set", "switch=nope"], 2, ["switch"]),
    (["info", "fairwater", "--set", "system=nope"], 2, ["system"]),
    (["info", "spectrum-x", "--set", "oversubscription=0.5"], 2, ["oversubscription"]),
    (["info", "superpod-gb200", "--set", "racks=0"], 2, ["racks"]),
    (["info", "gb200-nvl72", "--set", "trays=19"], 2, ["trays"]),
    (["info", "gb200-nvl72", "--set", "aggregate_nvswitch=maybe"], 2, ["aggregate_nvswitch"]),
    # export
    (["export", "dgx-h100", "-o", "{tmp}/t.conf"], 2, ["--format"]),
    (["export", "dgx-h100", "--format", "nope", "-o", "{tmp}/t.conf"], 2, ["--format"]),
    (["export", "dgx-h100", "--format", "slurm-tree"], 2, ["--output"]),
    (["export", "dgx-h100", "--format", "slurm-tree", "-o", "{tmp}"], 2, ["--output"]),
    (["export", "dgx-h100", "--format", "slurm-tree", "-o", "{tmp}/t.conf",
      "--hostname-pattern", "node{i:09999d}"], 2, ["--hostname-pattern"]),
    (["export", "dgx-h100", "--format", "slurm-tree", "-o", "{tmp}/t.conf",
      "--hostname-pattern", "{nope}"], 2, ["--hostname-pattern"]),
    (["export", "dgx-h100", "--format", "svg", "-o", "{tmp}/d.svg", "--detail", "chip"], 2,
     ["--detail"]),
    (["export", "dgx-h100", "--format", "svg", "-o", "{tmp}/d.svg", "--set", "x=1"], 2, ["x"]),
    (["export", "{tmp}/missing.json", "--format", "svg", "-o", "{tmp}/d.svg"], 2,
     ["missing.json"]),
    # draw
    (["draw", "dgx-h100"], 2, ["--output"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--detail", "chip"], 2, ["--detail"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--domain", "-1"], 2, ["--domain"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--domain", "x"], 2, ["--domain"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--domain", "7"], 2, ["--domain"]),
    (["draw", "fat-tree", "-o", "{tmp}/d.svg", "--detail", "summary", "--domain", "0"], 2,
     ["--domain"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.txt"], 2, ["--output", "d.txt"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--set", "gpu=nope"], 2, ["gpu"]),
    (["draw", "dgx-h100", "-o", "{tmp}/d.svg", "--title"], 2, ["--title"]),
    # report
    (["report", "dgx-h100"], 2, ["--output"]),
    ([*_REPORT, "--seed", "x"], 2, ["--seed"]),
    ([*_REPORT, "--time-limit", "0"], 2, ["--time-limit"]),
    ([*_REPORT, "--time-limit", "-1"], 2, ["--time-limit"]),
    ([*_REPORT, "--time-limit", "abc"], 2, ["--time-limit"]),
    ([*_REPORT, "--busy-fraction", "-0.1"], 2, ["--busy-fraction"]),
    ([*_REPORT, "--busy-fraction", "1.5"], 2, ["--busy-fraction"]),
    ([*_REPORT, "--busy-fraction", "half"], 2, ["--busy-fraction"]),
    ([*_REPORT, "--set", "nope=1"], 2, ["nope"]),
    (["report", "no-such-preset", "-o", "{tmp}/rep"], 2, ["no-such-preset"]),
    (["report", "dgx-h100", "-o", "{tmp}/bad.json"], 2, ["--output", "bad.json"]),
    # collective
    (["collective", "dgx-h100", "--size", "1M"], 2, ["--op"]),
    (["collective", "dgx-h100", "--op", "allsum", "--size", "1M"], 2, ["allsum"]),
    (["collective", "dgx-h100", "--op", "allreduce", "--size", "1X"], 2, ["--size"]),
    (["collective", "dgx-h100", "--op", "allreduce", "--size", "-4"], 2, ["--size"]),
    (["collective", "dgx-h100", "--op", "allreduce", "--sweep", "1G:8"], 2, ["--sweep"]),
    (["collective", "dgx-h100", "--op", "allreduce", "--sweep", "abc"], 2, ["--sweep"]),
    ([*_COLL, "--proto", "LL129"], 2, ["--proto", "LL129"]),
    ([*_COLL, "--proto", ""], 2, ["--proto", "at least one"]),
    ([*_COLL, "--proto", ",,"], 2, ["--proto"]),
    ([*_COLL, "--algo", "nvls", "--proto", "LL"], 2, ["nvls", "--proto", "Simple"]),
    ([*_COLL, "--proto", "^LL,LL128,Simple"], 2, ["--proto", "at least one"]),
    (["compare", "dgx-h100", "{tmp}/results.txt", "--proto", "ll256"], 2, ["--proto"]),
    ([*_COLL, "--gpus", "1"], 2, ["--gpus"]),
    ([*_COLL, "--gpus", "x"], 2, ["--gpus"]),
    ([*_COLL, "--gpus", "9"], 2, ["--gpus"]),
    ([*_COLL, "--ranks", "{tmp}/missing.json"], 2, ["--ranks"]),
    ([*_COLL, "--ranks", "{tmp}/bad.json"], 2, ["--ranks", "bad.json"]),
    ([*_COLL, "--algo", "magic"], 2, ["magic"]),
    ([*_COLL, "--buffer", "huge"], 2, ["--buffer"]),
    ([*_COLL, "--sharp", "yes"], 2, ["yes"]),
    ([*_COLL, "--set", "nope=1"], 2, ["nope"]),
    # compare
    (["compare", "dgx-h100", "{tmp}/missing.txt"], 2, ["missing.txt"]),
    (["compare", "dgx-h100", "{tmp}/empty.txt"], 2, ["empty.txt"]),
    (["compare", "dgx-h100", "{tmp}/results.txt", "--op", "allsum"], 2, ["--op", "allsum"]),
    (["compare", "dgx-h100", "{tmp}/empty.txt", "--gpus", "1"], 2, ["--gpus"]),
    (["compare", "dgx-h100", "{tmp}/empty.txt", "--ranks", "{tmp}/missing.json"], 2,
     ["--ranks"]),
    (["compare", "dgx-h100", "{tmp}/results.txt", "--op", "allreduce", "--algo", "magic"], 2,
     ["magic"]),
    (["compare", "dgx-h100", "{tmp}/results.txt", "--set", "nope=1"], 2, ["nope"]),
    # accuracy
    (["accuracy", "extra"], 2, ["extra"]),
    (["accuracy", "--jsn"], 2, ["--jsn"]),
    # throughput
    (["throughput", "fat-tree", "--pattern", "nope"], 2, ["--pattern"]),
    (["throughput", "fat-tree", "--gpus", "1"], 2, ["--gpus"]),
    (["throughput", "fat-tree", "--seed", "x"], 2, ["--seed"]),
    (["throughput", "fat-tree", "--time-limit", "0"], 2, ["--time-limit"]),
    (["throughput", "fat-tree", "--no-pxn", "x"], 2, ["x"]),
    (["throughput", "fat-tree", "--set", "k=3"], 2, ["k"]),
    # place
    (["place", "dgx-h100", "--tp", "8"], 2, ["--gpus"]),
    (["place", "dgx-h100", "--gpus", "8"], 2, ["--tp"]),
    (["place", "dgx-h100", "--gpus", "0", "--tp", "8"], 2, ["--gpus"]),
    (["place", "dgx-h100", "--gpus", "8", "--tp", "0"], 2, ["--tp"]),
    (["place", "dgx-h100", "--gpus", "12", "--tp", "8"], 2, ["--gpus"]),
    ([*_PLACE, "--pp", "0"], 2, ["--pp"]),
    ([*_PLACE, "--dp", "0"], 2, ["--dp"]),
    ([*_PLACE, "--ep", "0"], 2, ["--ep"]),
    ([*_PLACE, "--model-params", "0"], 2, ["--model-params"]),
    ([*_PLACE, "--model-params", "-5"], 2, ["--model-params"]),
    ([*_PLACE, "--tp-bytes", "lots"], 2, ["--tp-bytes"]),
    ([*_PLACE, "--pp-bytes", "lots"], 2, ["--pp-bytes"]),
    ([*_PLACE, "--dp-bytes", "lots"], 2, ["--dp-bytes"]),
    ([*_PLACE, "--ep-bytes", "lots"], 2, ["--ep-bytes"]),
    ([*_PLACE, "--dp-op", "sum"], 2, ["--dp-op"]),
    ([*_PLACE, "--busy", "{tmp}/missing.json"], 2, ["--busy"]),
    ([*_PLACE, "--busy", "{tmp}/bad.json"], 2, ["--busy", "bad.json"]),
    ([*_PLACE, "--busy", "{tmp}/jobs.json", "--busy-fraction", "0.1"], 2, ["--busy"]),
    ([*_PLACE, "--busy-fraction", "1.1"], 2, ["--busy-fraction"]),
    ([*_PLACE, "--busy-fraction", "-1"], 2, ["--busy-fraction"]),
    ([*_PLACE, "--seed", "x"], 2, ["--seed"]),
    ([*_PLACE, "--time-limit", "0"], 2, ["--time-limit"]),
    ([*_PLACE, "--time-limit", "x"], 2, ["--time-limit"]),
    ([*_PLACE, "-o", "{tmp}"], 2, ["--output"]),
    ([*_PLACE, "--set", "nope=1"], 2, ["nope"]),
    # place-queue
    (["place-queue", "dgx-h100"], 2, ["--jobs"]),
    (["place-queue", "dgx-h100", "--jobs", "{tmp}/missing.json"], 2, ["--jobs", "missing.json"]),
    (["place-queue", "dgx-h100", "--jobs", "{tmp}/bad.json"], 2, ["--jobs", "bad.json"]),
    (["place-queue", "dgx-h100", "--jobs", "{tmp}/empty.txt"], 2, ["--jobs", "empty.txt"]),
    ([*_QUEUE, "--busy", "{tmp}/missing.json"], 2, ["--busy"]),
    ([*_QUEUE, "--busy", "{tmp}/jobs.json", "--busy-fraction", "0.1"], 2, ["--busy"]),
    ([*_QUEUE, "--busy-fraction", "2"], 2, ["--busy-fraction"]),
    ([*_QUEUE, "--seed", "x"], 2, ["--seed"]),
    ([*_QUEUE, "--time-limit", "-2"], 2, ["--time-limit"]),
    ([*_QUEUE, "-o", "{tmp}"], 2, ["--output"]),
    ([*_QUEUE, "--set", "nope=1"], 2, ["nope"]),
    # sweep
    (["sweep", "{tmp}/missing.toml", "-o", "{tmp}/sw"], 2, ["missing.toml"]),
    (["sweep", "{tmp}/bad.json"], 2, ["--output"]),
    (["sweep", "{tmp}/empty.txt", "-o", "{tmp}/sw", "--workers", "0"], 2, ["--workers"]),
    (["sweep", "{tmp}/empty.txt", "-o", "{tmp}/bad.json"], 2, ["--output"]),
    # import / diff
    (["import", "nope", "{tmp}/empty.txt", "-o", "{tmp}/x.json"], 2, ["nope"]),
    (["import", "ibnetdiscover", "{tmp}/missing.txt", "-o", "{tmp}/x.json"], 2,
     ["missing.txt"]),
    (["import", "ibnetdiscover", "{tmp}/empty.txt"], 2, ["--output"]),
    (["diff", "dgx-h100", "{tmp}/missing.json"], 2, ["missing.json"]),
    (["diff", "dgx-h100", "{tmp}/empty.txt", "--format", "nope"], 2, ["--format"]),
]


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "jobs.json").write_text(json.dumps([{"gpus": 8, "tp": 8}]), encoding="utf-8")
    (tmp_path / "results.txt").write_text(          # one nccl-tests row, no op named
        "     1048576        262144     float     sum      -1   27.37   38.31   67.04      0\n",
        encoding="utf-8")
    return tmp_path


def _case_id(case):
    args = case[0]
    words = [a.replace("{tmp}/", "") for a in args if a != "{tmp}"]
    return "-".join(words)[:60]


@pytest.mark.parametrize(("args", "code", "names"), _BAD_INPUT,
                         ids=[_case_id(c) for c in _BAD_INPUT])
def test_every_option_refuses_bad_input(inputs, args, code, names):
    """Exit 1 or 2 with a message naming the option or file, no traceback, nothing written."""
    before = sorted(p.name for p in inputs.iterdir())
    r = run([a.replace("{tmp}", str(inputs)) for a in args])
    assert_clean_error(r, code, *names)
    assert sorted(p.name for p in inputs.iterdir()) == before, r.output
