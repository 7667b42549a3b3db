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
Then the aggregated options on the 100k site, and `fabric info` on it.

Targets (2 cores): 100k-GPU site built and validated <= 15 s and <= 4 GB,
build/floor <= 2, near-linear growth, `fabric info` <= 30 s, aggregation >= 5x lighter.

Usage: python bench/build.py [--quick]   (--quick: 10k and 30k only)
"""

import json
import os
import resource
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
    t0 = time.perf_counter()
    G = original(self, builder, params, catalog, validate=False)
    timing["insert_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if validate:
        from fabric.validate import validate_parts
        validate_parts(G.graph, self.nodes, self.edges, G)
    timing["validate_s"] = time.perf_counter() - t0
    return G

_common.Collector.graph = timed_graph
preset, params = sys.argv[1], json.loads(sys.argv[2])
timing["start"] = time.perf_counter()
G = topologies.build_preset(preset, params)
total = time.perf_counter() - timing["start"]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
                  "total_s": total, "rss_mb": rss, "floor_s": floor, **timing}))
""".replace("ROOT", repr(ROOT))


def run_case(preset, params):
    print(f"  building {preset} {params} ...", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, "-c", CHILD, preset, json.dumps(params)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(label, r):
    build = r["generate_s"] + r["insert_s"]
    print(f"{label:<34}{r['gpus']:>9,}{r['edges']:>11,}{r['generate_s']:>8.1f}"
          f"{r['insert_s']:>8.1f}{r['validate_s']:>8.1f}{r['total_s']:>8.1f}{r['rss_mb']:>9,.0f}"
          f"{r['floor_s']:>8.1f}{build / r['floor_s']:>8.2f}{r['total_s'] / r['floor_s']:>8.2f}",
          flush=True)


def main():
    quick = "--quick" in sys.argv
    cases = [("fairwater 10k", "fairwater", {"gpus": 10000}),
             ("fairwater 30k", "fairwater", {"gpus": 30000})]
    if not quick:
        cases += [("fairwater 100k", "fairwater", {"gpus": 100000}),
                  ("superfactory 2 x 100k", "superfactory", {"site_gpus": 100000})]
    print(f"{'case':<34}{'GPUs':>9}{'edges':>11}{'gen s':>8}{'ins s':>8}{'val s':>8}"
          f"{'total s':>8}{'RSS MB':>9}{'floor s':>8}{'bld/fl':>8}{'tot/fl':>8}")
    results = {}
    for label, preset, params in cases:
        results[label] = r = run_case(preset, params)
        row(label, r)
    base = results["fairwater 10k"]
    for label in ("fairwater 30k", "fairwater 100k"):
        if label in results:
            r = results[label]
            print(f"growth {label} vs 10k: GPUs x{r['gpus'] / base['gpus']:.2f}, "
                  f"time x{r['total_s'] / base['total_s']:.2f}, edges x{r['edges'] / base['edges']:.2f}")
    if quick:
        return
    print()
    full = results["fairwater 100k"]
    for label, extra in (("100k aggregate_nvswitch", {"aggregate_nvswitch": True}),
                         ("100k aggregate_nvswitch+planes", {"aggregate_nvswitch": True,
                                                              "aggregate_planes": True})):
        r = run_case("fairwater", {"gpus": 100000, **extra})
        row(label, r)
        print(f"  {label}: {full['edges'] / r['edges']:.1f}x fewer edges, "
              f"{full['rss_mb'] / r['rss_mb']:.1f}x less peak RSS, "
              f"{full['total_s'] / r['total_s']:.1f}x faster than the detailed site")
    print()
    print("  running: fabric info fairwater --set gpus=100000 --json ...", file=sys.stderr)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.join(ROOT, "cli.py"), "info", "fairwater",
                          "--set", "gpus=100000", "--json"], capture_output=True, text=True,
                         check=True)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    info = json.loads(out.stdout)
    print(f"fabric info fairwater gpus=100000: {elapsed:.1f} s wall (build included), "
          f"bisection {info['bisection_gbps']:,.0f} Gb/s ({info['bisection']['method']}), "
          f"max child RSS so far {rss:,.0f} MB")


if __name__ == "__main__":
    main()
