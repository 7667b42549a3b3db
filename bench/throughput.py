#!/usr/bin/env python3
"""Throughput LP benchmark (issue 15): alltoall on DGX SuperPOD GB200.

Cases: 1,152 GPUs (16 NVL72 racks) and 4,608 GPUs (64 racks). For each, the LP
folded by its symmetry (the default) and, with --full, the full LP for the
same optimum (GLOP-sized cases only); and `fabric throughput ... --pattern
alltoall` end to end (build, LP, ECMP; one subprocess), wall seconds.
Target: 1,152 GPUs <= 8 s end to end.

Usage: python bench/throughput.py [--full] [--repeat N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CASES = [("1,152 GPUs (16 racks)", {"racks": "16"}), ("4,608 GPUs (64 racks)", {"racks": "64"})]


def main():
    import topologies
    from solvers.throughput import (
        GLOP_MAX_VARS,
        _reduced_model,
        solve_throughput,
        traffic_matrix,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true",
                    help="also the full (unfolded) LP, for GLOP-sized cases")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="solves of each case (median; default 3)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: give at least 1")
    full, repeat = args.full, args.repeat
    print(f"{'case':<24}{'LP vars':>10}{'folded':>8}{'fold s':>8}{'solve s':>9}{'lambda':>20}"
          f"{'full s':>9}{'full lambda':>20}{'e2e s':>8}")
    for label, params in CASES:
        G = topologies.build_preset("superpod-gb200", params)
        _, dem = traffic_matrix(G, "alltoall")
        times, sol = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            sol = solve_throughput(G, dem)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m = _reduced_model(G, dem, True)
        fold_s = time.perf_counter() - t0
        folded = m["n_vclasses"] if m else 0
        ref_s, ref = float("nan"), None
        if full and sol.lp_vars <= GLOP_MAX_VARS:          # the unfolded 4,608 case is PDLP
            t0 = time.perf_counter()
            ref = solve_throughput(G, dem, symmetry=False, time_limit_s=600)
            ref_s = time.perf_counter() - t0
        cmd = [sys.executable, os.path.join(ROOT, "cli.py"), "throughput", "superpod-gb200",
               "--set", f"racks={params['racks']}", "--pattern", "alltoall", "--json"]
        e2e = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            e2e.append(time.perf_counter() - t0)
        print(f"{label:<24}{sol.lp_vars:>10,}{folded:>8,}{fold_s:>8.2f}"
              f"{statistics.median(times):>9.2f}{sol.lam:>20.15f}{ref_s:>9.2f}"
              f"{(ref.lam if ref else float('nan')):>20.15f}{statistics.median(e2e):>8.2f}",
              flush=True)
    print(f"(medians of {repeat}; solve s = folding + LP; full = the unfolded LP, GLOP/PDLP)")


if __name__ == "__main__":
    main()
