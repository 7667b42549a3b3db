"""Benchmark of the solvers (not a test).

1. Placement: a 16,384-GPU job (tp 8, pp 8, dp 256) on a 100k-GPU ``fairwater``
   (aggregated NVLink switches and planes) with 30% of hosts busy (seed 0),
   CP-SAT time limit 60 s: prints placement time, objective, bound, gap, each
   baseline and the improvement over it.
2. Throughput: all-to-all among 1,152 GPUs (``superpod-gb200`` racks=16, two
   tiers): LP solve time and fractions.

Run: ``python bench/place.py [--time-limit S] [--skip-lp]``.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import topologies  # noqa: E402
from fabric.routing import Router  # noqa: E402
from solvers.placement import place_job, random_busy  # noqa: E402
from solvers.throughput import throughput  # noqa: E402


def bench_place(time_limit):
    t0 = time.perf_counter()
    G = topologies.build_preset("fairwater", {"gpus": 100_000, "aggregate_nvswitch": True,
                                              "aggregate_planes": True})
    t1 = time.perf_counter()
    busy = random_busy(G, 0.30, seed=0)
    router = Router(G)
    t2 = time.perf_counter()
    print(f"fairwater 100k: build {t1 - t0:.1f} s, router {t2 - t1:.1f} s, "
          f"{len(busy):,} busy GPUs")
    r = place_job(G, gpus=16_384, tp=8, pp=8, dp=256, model_params=175e9, busy=busy,
                  time_limit_s=time_limit, seed=0, router=router)
    t3 = time.perf_counter()
    print(f"placement: {t3 - t2:.1f} s total ({r.solve_s:.1f} s CP-SAT), status {r.status}, "
          f"{r.domains_used} domains")
    print(f"objective  {r.objective_us:,.1f} us/step (engine) "
          + " ".join(f"{k}={v:,.1f}" for k, v in r.breakdown_us.items()))
    print(f"proxy      {r.proxy_us:,.1f} us, bound {r.bound_us:,.1f} us, gap {r.gap:.2%}")
    for name, b in r.baselines.items():
        print(f"{name:<14} {b['objective_us']:,.1f} us/step (proxy {b['proxy_us']:,.1f}); "
              f"CP-SAT improvement {b['improvement']:+.1%}")


def bench_lp():
    G = topologies.build_preset("superpod-gb200", {"racks": 16})
    t0 = time.perf_counter()
    r = throughput(G, "alltoall", time_limit_s=60)
    t1 = time.perf_counter()
    print(f"all-to-all 1,152 GPUs (superpod-gb200, 2 tiers): LP {r.solve_s:.1f} s "
          f"({t1 - t0:.1f} s with model build and ECMP), {r.solver} {r.status}, "
          f"{r.lp_vars:,} vars, optimal {r.optimal_fraction:.4f}, ECMP {r.ecmp_fraction:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=25.0,
                    help="CP-SAT limit; calibration, baselines and evaluation add ~30 s")
    ap.add_argument("--skip-lp", action="store_true")
    args = ap.parse_args()
    bench_place(args.time_limit)
    if not args.skip_lp:
        bench_lp()


if __name__ == "__main__":
    main()
