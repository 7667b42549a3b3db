"""Benchmark of the solvers (not a test).

1. Placement: a 16,384-GPU job (tp 8, pp 8, dp 256, 175B parameters) on a
   100k-GPU ``fairwater`` (aggregated NVLink switches and planes), twice on
   the same fabric: 30% of hosts busy (the issue's instance) and 50% busy
   (more fragmented). For CP-SAT and each baseline it prints the engine
   objective and its tp/pp/dp parts, and what drives them: the fewest ranks
   any DP group has in one NVLink domain (``kmin``; the engine's DP allreduce
   runs min(kmin, 32) channels, so its time is ~1/kmin) and how many of the 7
   pipeline boundaries keep every pair inside one domain. Then the proxy's
   calibrated DP table, the CP-SAT bound and gap.
2. Throughput: all-to-all among 1,152 GPUs (``superpod-gb200`` racks=16, two
   tiers): LP solve time and fractions.

Run: ``python bench/place.py [--time-limit S] [--skip-lp]`` (end-to-end
time of part 1 is printed; target < 60 s on 2 cores).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import topologies  # noqa: E402
from solvers.routing import Router  # noqa: E402
from solvers.placement import place_job, random_busy  # noqa: E402
from solvers.throughput import throughput  # noqa: E402


def _row(name, objective, parts, pattern, improvement=None):
    pp_local = sum(lv == "domain" for lv in pattern["pp_level"])
    text = (f"  {name:<14} {objective:>11,.1f} us/step  tp {parts['tp']:>9,.1f}  "
            f"pp {parts['pp']:>8,.1f}  dp {parts['dp']:>9,.1f}  | DP kmin "
            f"{min(pattern['dp_kmin'])}, DP domains/stage {max(pattern['dp_domains'])}, "
            f"PP domain-local {pp_local}/{len(pattern['pp_level'])}")
    if improvement is not None:
        text += f"  | CP-SAT improvement {improvement:+.1%}"
    print(text)


def bench_instance(G, router, busy_fraction, time_limit):
    t0 = time.perf_counter()
    busy = random_busy(G, busy_fraction, seed=0)
    r = place_job(G, gpus=16_384, tp=8, pp=8, dp=256, model_params=175e9, busy=busy,
                  time_limit_s=time_limit, seed=0, router=router)
    t1 = time.perf_counter()
    print(f"\n{busy_fraction:.0%} hosts busy ({len(busy):,} GPUs): {t1 - t0:.1f} s "
          f"(CP-SAT {r.solve_s:.1f} s of limit {time_limit:g} s, "
          f"{r.calibration['engine_calls']} engine evaluations), status {r.status}, "
          f"{r.domains_used} domains")
    _row("cpsat", r.objective_us, r.breakdown_us, r.pattern)
    for name, b in r.baselines.items():
        _row(name, b["objective_us"], b["breakdown_us"], b["pattern"], b["improvement"])
    top = r.calibration["t_dp_us"][-1]
    print("  engine DP allreduce vs kmin (global level): "
          + ", ".join(f"{k + 1}: {t:,.0f}" for k, t in enumerate(top)))
    print(f"  PP pair by level {dict(zip(r.levels, (round(x) for x in r.calibration['t_pp_us'])))}")
    print(f"  proxy {r.proxy_us:,.1f} us (engine {r.objective_us:,.1f}), bound "
          f"{r.bound_us:,.1f} us, gap {r.gap:.2%}")
    return t1 - t0


def bench_place(time_limit):
    t0 = time.perf_counter()
    G = topologies.build_preset("fairwater", {"gpus": 100_000, "aggregate_nvswitch": True,
                                              "aggregate_planes": True})
    t1 = time.perf_counter()
    router = Router(G)
    t2 = time.perf_counter()
    print(f"fairwater 100k: build {t1 - t0:.1f} s, router {t2 - t1:.1f} s; job tp 8 pp 8 dp 256")
    for fraction in (0.30, 0.50):
        bench_instance(G, router, fraction, time_limit)
    print(f"\nplacement part: {time.perf_counter() - t0:.1f} s end to end")


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
    ap.add_argument("--time-limit", type=float, default=15.0,
                    help="CP-SAT limit per instance (two instances; build, calibration, "
                         "baselines and evaluation add ~15 s)")
    ap.add_argument("--skip-lp", action="store_true")
    args = ap.parse_args()
    bench_place(args.time_limit)
    if not args.skip_lp:
        bench_lp()


if __name__ == "__main__":
    main()
