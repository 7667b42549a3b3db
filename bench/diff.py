#!/usr/bin/env python3
"""Diff benchmark: the 4,608-GPU azure-gb300 preset (64 GB300 NVL72 racks, 9,792 network
links) against its own ibnetdiscover text with 50 injected faults of mixed kinds.

Prints the seconds of: building the design, exporting it (`ibnetdiscover` text),
injecting the faults, importing the text (parsing it into a graph), `diff_fabrics`, and
`--impact` (bisection and the touched domains' ring allreduce at 1 GiB and 16 GiB, design
against as built); then the total of export + import + diff, and whether the diff found
exactly the injected faults.

Target (2 cores): the diff under 10 s.

Usage: python bench/diff.py [--seed N] [--no-impact]
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

FAULTS = {"remove": 12, "degrade": 14, "miscable": 8, "port-swap": 8, "rail-swap": 8}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-impact", action="store_true")
    args = ap.parse_args()

    import topologies
    from fabric.discovery.diff import diff_fabrics
    from fabric.discovery.faults import inject_faults
    from fabric.discovery.ibnetdiscover import ibnetdiscover_text, parse_ibnetdiscover

    t = {}
    s = time.perf_counter()
    G = topologies.build_preset("azure-gb300", {})
    t["build"] = time.perf_counter() - s
    s = time.perf_counter()
    text = ibnetdiscover_text(G)
    t["export"] = time.perf_counter() - s
    s = time.perf_counter()
    text, expected = inject_faults(G, FAULTS, seed=args.seed, text=text)
    t["inject"] = time.perf_counter() - s
    s = time.perf_counter()
    H = parse_ibnetdiscover(text)
    t["import"] = time.perf_counter() - s
    s = time.perf_counter()
    result = diff_fabrics(G, H)
    t["diff"] = time.perf_counter() - s

    got = sorted((x["kind"], x["design"]) for x in result["differences"])
    left = list(got)
    exact = True
    for kind, cands in expected:
        hit = next((g for g in left if g[0] == kind and g[1] in cands), None)
        if hit is None:
            exact = False
            break
        left.remove(hit)
    exact = exact and not left
    gpus = sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    print(f"azure-gb300: {gpus:,} GPUs, {result['links_design']:,} network links, "
          f"ibnetdiscover text {len(text) / 2**20:.1f} MiB")
    print(f"faults injected: {sum(FAULTS.values())} ({', '.join(f'{n} {k}' for k, n in FAULTS.items())})"
          f" -> {len(expected)} expected differences")
    print(f"differences found: {len(result['differences'])} "
          f"({', '.join(f'{n} {k}' for k, n in result['counts'].items())}); "
          f"exactly the injected faults: {'yes' if exact else 'NO'}")
    for k in ("build", "export", "inject", "import", "diff"):
        print(f"  {k:<8} {t[k]:7.2f} s")
    print(f"  {'total':<8} {t['export'] + t['import'] + t['diff']:7.2f} s   (export + import + diff)")
    if not args.no_impact:
        from solvers.impact import diff_impact

        s = time.perf_counter()
        im = diff_impact(G, result)
        ti = time.perf_counter() - s
        priced = [r for r in im.allreduce if r.as_built_busbw_GBps is not None]
        worst = max(priced, key=lambda r: r.loss_GBps, default=None)
        print(f"  {'impact':<8} {ti:7.2f} s   ({len(im.touched_domains)} domains touched, "
              f"{len({r.group for r in im.allreduce})} groups, "
              f"{len(im.allreduce) - len(priced)} rows not priced as built; bisection "
              f"{im.design_gbps:,.0f} -> {im.as_built_gbps:,.0f} Gb/s, {im.change:+.1%}"
              + (f"; worst ring loss {worst.loss_GBps:.1f} GB/s ({worst.loss_pct:.1f}%) on "
                 f"group {worst.group} at {worst.size_bytes / 2**30:g} GiB" if worst else "")
              + ")")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
