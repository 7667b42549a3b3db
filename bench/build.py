#!/usr/bin/env python3
"""Build benchmark: Fairwater sites at 10k/30k/100k GPUs and a 2 x 100k superfactory.

For each case, in its own subprocess (so peak RSS is the case's own):
  * generation, insertion and validation seconds of the builder,
  * peak RSS after the build,
  * the floor: inserting the identical node and edge lists (with their
    attributes) into a bare networkx.Graph, measured in the same process with
    the same GC setting the builder uses (cyclic GC paused),
  * ratios of build time (generation + insertion) and of build + validation to
    the floor.
Then the aggregated form of the 100k site (``aggregate_nvswitch=true``) against the
detailed one: nodes, edges, build seconds, peak RSS, the RSS the process still holds
after the build, and the graph's own memory (the deduplicated ``sys.getsizeof`` of
its dicts, names and attribute values); and `fabric info` on the detailed site.

Targets (2 cores): 100k-GPU site built and validated <= 15 s and <= 4 GB,
build/floor <= 2, near-linear growth, `fabric info` <= 30 s, aggregation >= 5x lighter.
Issue 15: build + validation <= 1.5x the floor (``b+v/fl``: generation, insertion and
validation, as the issue words it; ``tot/fl`` adds the port numbering, a later feature
the floor has no part of), growth 10k -> 100k
within 1.2x of the edge growth, `fabric info` (its 1 GiB allreduce included) <= 2x the
site's own build; with --superfactory-1m, `fabric info` on the aggregated 10 x 100k
superfactory <= 60 s and <= 8 GB peak RSS.

Files (issue 15): for the 10k and 30k sites (100k with --files-100k), `topologies.load` of
the preset (build + validation), then `write_json` to .json and .json.gz, then
`topologies.load` of each file, each load in its own subprocess, alternating, medians of
--repeat runs (default 3): seconds, peak RSS, bytes per edge and load/build ratios.
Target: load <= build, write <= build, load peak RSS <= build peak RSS.

Usage: python bench/build.py [--quick] [--files-only] [--files-100k] [--info-only]
                             [--repeat N] [--superfactory-1m | --superfactory-1m-only]
       (--quick: 10k and 30k only; --files-only: only the file table; --info-only: only
        the `fabric info` line, the site's build and `fabric info` each --repeat times;
        --superfactory-1m: also `fabric info` on 1,000,000 aggregated GPUs, 10 x 100k;
        --superfactory-1m-only: only that line)
"""

import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import gc, json, resource, sys, time
sys.path.insert(0, ROOT)
import networkx as nx
import topologies
from topologies import _common

timing = {}
original = _common.Collector.graph

def timed_graph(self, builder, params, catalog, *, validate=True):
    timing["generate_s"] = time.perf_counter() - timing["start"]
    G = original(self, builder, params, catalog, validate=validate)
    timing.update(self.timings)          # validate_s, insert_s
    return G

_common.Collector.graph = timed_graph
def current_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def graph_mb(G):
    # bytes held by the graph's own objects (dicts, names, attribute values), deduplicated
    seen, total = set(), 0
    def add(o):
        nonlocal total
        if id(o) not in seen:
            seen.add(id(o))
            total += sys.getsizeof(o)
    add(G._node), add(G._adj)
    for n, d in G._node.items():
        add(n), add(d)
        for k, v in d.items():
            add(k), add(v)
    for nbrs in G._adj.values():
        add(nbrs)
        for d in nbrs.values():
            if id(d) not in seen:
                add(d)
                for k, v in d.items():
                    add(k), add(v)
    return total / 2 ** 20


preset, params, deep = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
gc.collect()
base_mb = current_mb()
timing["start"] = time.perf_counter()
G = topologies.build_preset(preset, params)
total = time.perf_counter() - timing["start"]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gc.collect()
held = current_mb() - base_mb
own = graph_mb(G) if deep else None
gpus = sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
nodes = list(G.nodes(data=True))
edges = list(G.edges(data=True))
gc.disable()
t0 = time.perf_counter()
H = nx.Graph()
H.add_nodes_from(nodes)
H.add_edges_from(edges)
floor = time.perf_counter() - t0
gc.enable()
print(json.dumps({"gpus": gpus, "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                  "total_s": total, "rss_mb": rss, "base_mb": base_mb, "held_mb": held,
                  "graph_mb": own, "floor_s": floor, **timing}))
""".replace("ROOT", repr(ROOT))


def run_case(preset, params, deep=False):
    print(f"  building {preset} {params} ...", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, "-c", CHILD, preset, json.dumps(params),
                          "1" if deep else "0"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(label, r):
    build = r["generate_s"] + r["insert_s"]
    print(f"{label:<34}{r['gpus']:>9,}{r['edges']:>11,}{r['generate_s']:>8.1f}"
          f"{r['insert_s']:>8.1f}{r['validate_s']:>8.1f}{r['ports_s']:>8.1f}{r['total_s']:>8.1f}"
          f"{r['rss_mb']:>9,.0f}"
          f"{r['floor_s']:>8.1f}{build / r['floor_s']:>8.2f}"
          f"{(build + r['validate_s']) / r['floor_s']:>8.2f}{r['total_s'] / r['floor_s']:>8.2f}",
          flush=True)


FILE_CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, ROOT)
import topologies
mode, arg = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "build":
    G = topologies.load("fairwater", {"gpus": int(arg)})
else:
    G = topologies.load(arg)
out = {"load_s": time.perf_counter() - t0, "edges": G.number_of_edges()}
if mode == "build" and len(sys.argv) > 3:
    from fabric.io import write_json
    for path in sys.argv[3:]:
        t0 = time.perf_counter()
        write_json(G, path)
        out["write_s:" + path] = time.perf_counter() - t0
        out["bytes:" + path] = os.path.getsize(path)
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
""".replace("ROOT", repr(ROOT))


def _file_child(*args):
    out = subprocess.run([sys.executable, "-c", FILE_CHILD, *args], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def file_table(sizes, repeat):
    """Build vs write vs load of fabric files (see the module notes)."""
    import statistics
    import tempfile

    med = statistics.median
    print(f"{'files: case':<22}{'format':<9}{'edges':>11}{'B/edge':>8}{'build s':>8}{'write s':>8}"
          f"{'load s':>8}{'load/bld':>9}{'wr/bld':>8}{'bld MB':>8}{'load MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for gpus in sizes:
            paths = {"json": os.path.join(tmp, f"s{gpus}.json"),
                     "json.gz": os.path.join(tmp, f"s{gpus}.json.gz")}
            print(f"  files: fairwater {gpus:,} ...", file=sys.stderr, flush=True)
            first = _file_child("build", str(gpus), *paths.values())
            builds, loads = [first], {f: [] for f in paths}
            for i in range(repeat):
                if i:
                    builds.append(_file_child("build", str(gpus)))
                for f, path in paths.items():
                    loads[f].append(_file_child("load", path))
            b_s = med(r["load_s"] for r in builds)
            b_mb = med(r["rss_mb"] for r in builds)
            for f, path in paths.items():
                l_s = med(r["load_s"] for r in loads[f])
                w_s = first[f"write_s:{path}"]
                print(f"{f'fairwater {gpus // 1000}k':<22}{f:<9}{first['edges']:>11,}"
                      f"{first[f'bytes:{path}'] / first['edges']:>8.1f}{b_s:>8.2f}{w_s:>8.2f}"
                      f"{l_s:>8.2f}{l_s / b_s:>9.2f}{w_s / b_s:>8.2f}{b_mb:>8,.0f}"
                      f"{med(r['rss_mb'] for r in loads[f]):>8,.0f}", flush=True)
    print(f"(medians of {repeat}; build = topologies.load of the preset, validation included; "
          "load = topologies.load of the file; MB = peak RSS of that process)")


def _options():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 30k only")
    ap.add_argument("--files-only", action="store_true", help="only the file table")
    ap.add_argument("--files-100k", action="store_true", help="the file table at 100k too")
    ap.add_argument("--info-only", action="store_true",
                    help="only the `fabric info` line (100k site build and info, medians)")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="runs of each file case and of the `fabric info` line (median; "
                         "default 3)")
    one_m = ap.add_mutually_exclusive_group()
    one_m.add_argument("--superfactory-1m", action="store_true",
                       help="also `fabric info` on 1,000,000 aggregated GPUs (10 x 100k)")
    one_m.add_argument("--superfactory-1m-only", action="store_true", help="only that line")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: give at least 1")
    return args


def main():
    args = _options()
    repeat = args.repeat
    if args.superfactory_1m_only:
        superfactory_1m()
        return
    if args.info_only:
        info_line(repeat)
        return
    sizes = [10000, 30000] + ([100000] if args.files_100k else [])
    if args.files_only:
        file_table(sizes, repeat)
        return
    quick = args.quick
    cases = [("fairwater 10k", "fairwater", {"gpus": 10000}),
             ("fairwater 30k", "fairwater", {"gpus": 30000})]
    if not quick:
        cases += [("fairwater 100k", "fairwater", {"gpus": 100000}),
                  ("superfactory 2 x 100k", "superfactory", {"site_gpus": 100000})]
    print(f"{'case':<34}{'GPUs':>9}{'edges':>11}{'gen s':>8}{'ins s':>8}{'val s':>8}"
          f"{'ports s':>8}{'total s':>8}{'RSS MB':>9}{'floor s':>8}{'bld/fl':>8}{'b+v/fl':>8}"
          f"{'tot/fl':>8}")
    results = {}
    for label, preset, params in cases:
        results[label] = r = run_case(preset, params)
        row(label, r)
    base = results["fairwater 10k"]
    for label in ("fairwater 30k", "fairwater 100k"):
        if label in results:
            r = results[label]
            t_x, e_x = r['total_s'] / base['total_s'], r['edges'] / base['edges']
            print(f"growth {label} vs 10k: GPUs x{r['gpus'] / base['gpus']:.2f}, "
                  f"time x{t_x:.2f}, edges x{e_x:.2f} (time/edge growth {t_x / e_x:.2f}; "
                  "target <= 1.2)")
    print()
    file_table(sizes, repeat)
    if quick:
        return
    print()
    print("aggregated form of the same 100k site (default 8 x 100G planes, and 4 x 200G):")
    print(f"{'case':<40}{'nodes':>9}{'edges':>11}{'total s':>8}{'peak MB':>9}{'held MB':>9}"
          f"{'graph MB':>9}")
    pairs = [("fairwater 100k", {"gpus": 100000}),
             ("fairwater 100k planes=4", {"gpus": 100000, "planes": 4})]
    for label, params in pairs:
        full = run_case("fairwater", params, deep=True)
        runs = [(label, full),
                (f"{label} aggregate_nvswitch",
                 run_case("fairwater", {**params, "aggregate_nvswitch": True}, deep=True))]
        if "planes" not in params:
            runs.append((f"{label} aggregate_nvswitch, planes kept",
                         run_case("fairwater", {**params, "aggregate_nvswitch": True,
                                                "aggregate_planes": False}, deep=True)))
        for name, r in runs:
            print(f"{name:<40}{r['nodes']:>9,}{r['edges']:>11,}{r['total_s']:>8.1f}"
                  f"{r['rss_mb']:>9,.0f}{r['held_mb']:>9,.0f}{r['graph_mb']:>9,.0f}", flush=True)
        for name, r in runs[1:]:
            print(f"  {name}: lighter than the detailed site by x{full['edges'] / r['edges']:.1f} "
                  f"edges, x{full['graph_mb'] / r['graph_mb']:.1f} graph memory, "
                  f"x{full['held_mb'] / r['held_mb']:.1f} memory held after the build, "
                  f"x{full['rss_mb'] / r['rss_mb']:.1f} peak RSS (the {r['base_mb']:.0f} MB "
                  f"interpreter included), x{full['total_s'] / r['total_s']:.1f} build time")
    print()
    info_line(repeat, results["fairwater 100k"])
    if args.superfactory_1m:
        superfactory_1m()


def info_line(repeat, built=None):
    """`fabric info` on the detailed 100k site against the site's own build: the medians of
    ``repeat`` runs of each, alternating (one build may be given, already measured)."""
    builds = [built["total_s"]] if built else []
    infos = []
    for i in range(repeat):
        if len(builds) < repeat:
            builds.append(run_case("fairwater", {"gpus": 100000})["total_s"])
        print("  running: fabric info fairwater --set gpus=100000 --json ...", file=sys.stderr)
        infos.append(_run_measured([sys.executable, os.path.join(ROOT, "cli.py"), "info",
                                    "fairwater", "--set", "gpus=100000", "--json",
                                    "--allreduce"]))
    elapsed = statistics.median(t for t, _, _ in infos)
    build_s = statistics.median(builds)
    rss = max(r for _, r, _ in infos)
    info = json.loads(infos[-1][2])
    print(f"fabric info fairwater gpus=100000: {elapsed:.1f} s wall (build included; median of "
          f"{repeat}, {min(t for t, _, _ in infos):.1f}-{max(t for t, _, _ in infos):.1f}), "
          f"{elapsed / build_s:.2f}x the site's build ({build_s:.1f} s, median of "
          f"{len(builds)}; target <= 2), peak RSS {rss:,.0f} MB, "
          f"bisection {info['bisection_gbps']:,.0f} Gb/s ({info['bisection']['method']}), "
          f"1 GiB allreduce {_allreduce_words(info)}")


def superfactory_1m():
    """`fabric info` on the aggregated 10 x 100k superfactory: one line (target <= 60 s and
    <= 8 GB peak RSS)."""
    cmd = [sys.executable, os.path.join(ROOT, "cli.py"), "info", "superfactory", "--set",
           "sites=10", "--set", "site_gpus=100000", "--set", "aggregate_nvswitch=true",
           "--json", "--allreduce"]
    print("  running: fabric info superfactory sites=10 site_gpus=100000 aggregated ...",
          file=sys.stderr)
    elapsed, rss, out = _run_measured(cmd)
    info = json.loads(out)
    print(f"fabric info superfactory 10 x 100k aggregated ({info['gpus']:,} GPUs, "
          f"{info['edges']:,} edges): {elapsed:.1f} s wall (target <= 60), peak RSS "
          f"{rss:,.0f} MB (target <= 8,192), bisection {info['bisection_gbps']:,.0f} Gb/s, "
          f"power {info['power_w']['total'] / 1e6:,.1f} MW, 1 GiB allreduce "
          f"{_allreduce_words(info)}")


def _allreduce_words(info):
    a = info.get("allreduce")
    if not a or "error" in a:
        return "not priced" + (f" ({a['error']})" if a else "")
    return f"{a['time_us'] / 1e3:,.2f} ms ({a['algo']}, busbw {a['busbw_GBps']:,.1f} GB/s)"


def _run_measured(cmd):
    """Run ``cmd``; return (wall seconds, the child's own peak RSS in MB, its stdout)."""
    import tempfile
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd)
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


if __name__ == "__main__":
    main()
