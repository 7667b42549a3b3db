#!/usr/bin/env python3
"""Startup benchmark: whole-process wall time of the `fabric` command, and SimAI side by side.

Each command runs N times as a fresh process (subprocess + time.perf_counter); the
script prints the median and the fastest run, and each median as a ratio to a
baseline measured in the same run: the interpreter doing nothing (`python -c pass`).

  * `fabric --help` and `fabric presets`              target: median <= 0.15 s
  * `python -c "import cli, numpy"`: a lower bound under the build (click, the CLI and
    numpy, which the build's validation, port numbering and writer use, imported and no
    work done; the build imports its builder, validation and writer modules besides)
  * `fabric build spectrum-x --set gpus=4096 --set aggregate_nvswitch=true -o x.json`
  * with ``--simai PATH`` (SimAI's ``astra-sim-alibabacloud/inputs/topo/gen_Topo_Template.py``):
    ``gen_Topo_Template.py -topo Spectrum-X -g 4096 -gps 8 -bw 400Gbps`` (4,096 GPUs,
    rail-optimized single-ToR Spectrum-X), run by the same interpreter (or
    ``--simai-python INTERPRETER``, the path to another one; a command found on PATH,
    such as a pyenv shim, may add its own start-up) in a scratch directory, and the
    build's median over SimAI's                      target: <= 2

Usage: python bench/startup.py [--runs N] [--simai PATH [--simai-python INTERPRETER]]

With PYTHONDONTWRITEBYTECODE set and no byte code cached, every run compiles fabric's
modules from source (an installed package has them compiled); the script says so.

SimAI is not part of this repository: fetch it (github.com/aliyun/SimAI) and pass
the path; nothing of it is copied here.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP_TARGET_S = 0.15
SIMAI_RATIO_TARGET = 2.0


def _fabric():
    """The installed `fabric` script next to this interpreter, else `python -m cli`."""
    script = Path(sys.executable).with_name("fabric")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _time(cmd, runs, cwd):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, check=False, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        if done.returncode:
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return statistics.median(times), min(times)


def _row(label, median, fastest, base, note=""):
    print(f"{label:<48} {median:8.3f} {fastest:8.3f} {median / base:7.1f}x  {note}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="runs per command (default 7)")
    ap.add_argument("--simai", metavar="PATH", help="SimAI's gen_Topo_Template.py")
    ap.add_argument("--simai-python", metavar="INTERPRETER", default=sys.executable,
                    help="path to an interpreter that runs SimAI (default: this one)")
    args = ap.parse_args()
    if args.simai and not os.path.isfile(args.simai):
        sys.exit(f"--simai {args.simai}: no such file")
    fabric = _fabric()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.runs} runs each, {sys.executable} ({sys.version.split()[0]})")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("PYTHONDONTWRITEBYTECODE is set: modules without cached byte code are "
                  "compiled on every run")
        print(f"{'command':<48} {'median s':>8} {'min s':>8} {'/ base':>8}")
        base, fastest = _time([sys.executable, "-c", "pass"], args.runs, tmp)
        _row("python -c pass (baseline)", base, fastest, base)
        for label, extra in (("fabric --help", ["--help"]), ("fabric presets", ["presets"])):
            median, fastest = _time(fabric + extra, args.runs, ROOT)
            ok = "ok" if median <= HELP_TARGET_S else f"OVER the {HELP_TARGET_S} s target"
            _row(label, median, fastest, base, ok)
        # a lower bound under the build: click, the CLI and numpy imported, no work done
        f_median, fastest = _time([sys.executable, "-c", "import cli, numpy"], args.runs, ROOT)
        _row("python -c 'import cli, numpy' (build floor)", f_median, fastest, base)
        out = os.path.join(tmp, "x.json")
        build = fabric + ["build", "spectrum-x", "--set", "gpus=4096", "--set",
                          "aggregate_nvswitch=true", "-o", out]
        b_median, fastest = _time(build, args.runs, ROOT)
        _row("fabric build spectrum-x gpus=4096 (aggregated)", b_median, fastest, base,
             f"{os.path.getsize(out):,} bytes")
        if args.simai:
            simai = [args.simai_python, os.path.abspath(args.simai), "-topo", "Spectrum-X",
                     "-g", "4096", "-gps", "8", "-bw", "400Gbps"]
            s_median, fastest = _time(simai, args.runs, tmp)
            written = next(Path(tmp).glob("Spectrum-X_*"))
            head = written.read_text().split("\n", 1)[0].split()
            _row("SimAI gen_Topo_Template.py Spectrum-X -g 4096", s_median, fastest, base,
                 f"{written.stat().st_size:,} bytes; {head[0]} nodes, {head[4]} links; "
                 f"run by {args.simai_python}")
            ratio = b_median / s_median
            verdict = "ok" if ratio <= SIMAI_RATIO_TARGET else "OVER"
            print(f"fabric build / SimAI (medians): {ratio:.2f}x "
                  f"(target <= {SIMAI_RATIO_TARGET:g}x: {verdict}); the imports alone "
                  f"(build floor) / SimAI: {f_median / s_median:.2f}x")


if __name__ == "__main__":
    main()
