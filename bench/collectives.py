"""Benchmark of the collective engine (not a test).

1. A full sweep (7 ops, 8 B to 16 GiB by powers of 4, auto algorithm) on
   ``gb200-nvl72`` (target: < 2 s, graph build included).
2. Ring and hierarchical allreduce on 1k, 10k and 100k GPUs of ``fairwater``
   with contention accounted (every flow routed on the graph; target: 100k
   GPUs in < 30 s per evaluation), printing seconds per evaluation and the
   growth from one size to the next.

Run: ``python bench/collectives.py [--max-gpus N] [--aggregate]``.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import topologies  # noqa: E402
from solvers.routing import Router  # noqa: E402
from solvers.collectives import OPS, CollectiveModel, size_range  # noqa: E402


def sweep_gb200():
    t0 = time.perf_counter()
    G = topologies.build_preset("gb200-nvl72")
    t1 = time.perf_counter()
    model = CollectiveModel(G)
    sizes = size_range("8:16G")
    rows = 0
    for op in OPS:
        rows += len(model.sweep(op, sizes))
    t2 = time.perf_counter()
    print(f"gb200-nvl72 full sweep: {len(OPS)} ops x {len(sizes)} sizes = {rows} rows; "
          f"build {t1 - t0:.2f} s, model+sweep {t2 - t1:.2f} s, total {t2 - t0:.2f} s")
    return t2 - t0


def fairwater(max_gpus, aggregate):
    print(f"fairwater allreduce 1 GiB, aggregate_nvswitch={aggregate}")
    print(f"{'gpus':>8} {'build_s':>8} {'router_s':>9} {'ring_s':>8} {'hier_s':>8} "
          f"{'ring busbw':>11} {'hier busbw':>11} {'growth':>7}")
    prev = None
    for n in (1000, 10000, 100000):
        if n > max_gpus:
            break
        t0 = time.perf_counter()
        G = topologies.build_preset("fairwater", {"gpus": str(n),
                                                  "aggregate_nvswitch": str(aggregate).lower()})
        t1 = time.perf_counter()
        router = Router(G)
        t2 = time.perf_counter()
        model = CollectiveModel(G, router=router)       # every GPU (whole racks)
        ring = model.evaluate("allreduce", "1GiB", algo="ring")
        t3 = time.perf_counter()
        hier = model.evaluate("allreduce", "1GiB", algo="hierarchical")
        t4 = time.perf_counter()
        per_eval = (t3 - t2) + (t2 - t1)
        growth = "" if prev is None else f"{per_eval / prev:.1f}x"
        prev = per_eval
        print(f"{model.n:>8} {t1 - t0:>8.2f} {t2 - t1:>9.2f} {t3 - t2:>8.2f} {t4 - t3:>8.2f} "
              f"{ring.busbw_GBps:>11.1f} {hier.busbw_GBps:>11.1f} {growth:>7}", flush=True)
        del G, router, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-gpus", type=int, default=100000)
    ap.add_argument("--aggregate", action="store_true",
                    help="collapse NVLink switch chips (less memory)")
    args = ap.parse_args()
    sweep_gb200()
    if "fairwater" in topologies.TOPOLOGIES:
        fairwater(args.max_gpus, args.aggregate)
    else:
        print("fairwater preset not available; skipped")


if __name__ == "__main__":
    main()
