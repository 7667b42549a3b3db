"""``fabric report``: one self-contained HTML page about a fabric, plus the files it links.

The page composes every capability on one fabric: its diagram, counts and
metrics (bisection, oversubscription, hops, ECMP, bill of materials, power,
cost), a collective sweep (table and busbw-vs-size plot) for the main
operations on two communicators (one NVLink domain, and a scale-out job across
domains), the placement of a representative training job with its baselines,
and the scheduler files (Slurm topology.conf/topology.yaml, Kubernetes labels,
Kueue Topology). It sits in ``solvers`` because it composes solver results;
like every solver it takes a graph and returns plain data.

Every file is written to a temporary name and renamed; ``index.html`` is
written last, so a page that exists links only files that exist.
"""

import csv
import html
import io
import json
import os
import time
from pathlib import Path

from fabric import analysis
from fabric.catalog import default_catalog
from fabric.drawing import draw_fabric
from fabric.scheduler import write_scheduler_file
from fabric.exceptions import FabricError
from fabric.io import atomic_write
from fabric.metrics import gpu_nodes
from fabric.routing import Router
from solvers.collectives import CollectiveModel, size_range
from solvers.placement import place_job, random_busy

__all__ = ["write_report", "REPORT_OPS"]

REPORT_OPS = ("allreduce", "allgather", "reducescatter", "alltoall")
"""Operations swept in the report."""

_SIZES = "8:16G"


def _noop(message):
    pass


def _communicators(G, scale_gpus):
    """One NVLink domain, and the first ``scale_gpus`` GPUs across domains (when there are)."""
    gpus = gpu_nodes(G)
    first = G.nodes[gpus[0]]
    key = (first.get("site"), first.get("domain"))
    domain = [g for g in gpus if (G.nodes[g].get("site"), G.nodes[g].get("domain")) == key]
    comms = [(f"one NVLink domain ({len(domain)} GPUs)", domain)]
    if len(domain) < len(gpus):
        n = min(scale_gpus, len(gpus))
        comms.append((f"{n:,} GPUs across {len({(G.nodes[g].get('site'), G.nodes[g].get('domain')) for g in gpus[:n]}):,} NVLink domains", gpus[:n]))
    return comms


def _collectives(G, catalog, scale_gpus, progress, router):
    rows = []
    for label, ranks in _communicators(G, scale_gpus):
        if len(ranks) < 2:
            continue
        model = CollectiveModel(G, ranks=ranks, catalog=catalog, router=router)
        for op in REPORT_OPS:
            if op == "alltoall" and len(ranks) > 4096:
                continue
            progress(f"  collective sweep: {op} on {label}")
            for r in model.sweep(op, size_range(_SIZES)):
                rows.append({"communicator": label, **r.row(), "protocol": r.protocol,
                             "bottleneck": r.bottleneck})
    return rows


def _plot_busbw(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["svg.fonttype"] = "none"
    comms = list(dict.fromkeys(r["communicator"] for r in rows))
    fig, axes = plt.subplots(1, len(comms), figsize=(6.5 * len(comms), 4.2), squeeze=False)
    for ax, comm in zip(axes[0], comms):
        for op in REPORT_OPS:
            pts = [(r["size_bytes"], r["busbw_GBps"]) for r in rows
                   if r["communicator"] == comm and r["op"] == op]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=op)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("size (bytes)")
        ax.set_ylabel("predicted busbw (GB/s)")
        ax.set_title(comm, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    with atomic_write(path) as fh:
        fh.write(buf.getvalue())


def _write_csv(path, rows, fields):
    with atomic_write(path) as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _write_json(path, obj):
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=2, default=str)


def _table(headers, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(x, digits=1):
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def write_report(G, directory, *, catalog=None, scale_gpus=1152, job=None, busy_fraction=0.3,
                 seed=0, time_limit_s=10.0, hostname_pattern=None, progress=None):
    """Write the report of fabric ``G`` into ``directory`` (created if missing).

    Parameters
    ----------
    G : networkx.Graph
        A validated fabric.
    directory : str or Path
    catalog : fabric.Catalog, optional
    scale_gpus : int
        Ranks of the scale-out communicator of the collective sweep.
    job : dict, optional
        The training job to place: ``gpus``, ``tp``, ``pp``, ``dp`` (default:
        the largest of 4,096 / 1,024 / 256 / 64 GPUs that fits in 60% of the fabric,
        tp 8 or the domain size, pp 4).
    busy_fraction, seed, time_limit_s
        The cluster state (hosts marked busy at random) and the CP-SAT limits.
    hostname_pattern : str, optional
        Host-name pattern of the scheduler files.
    progress : callable, optional
        Called with one-line progress messages.

    Returns
    -------
    dict
        ``index`` (path of the page), ``files`` (name -> path), ``seconds``.

    Raises
    ------
    FabricError
        When the directory cannot be written.
    """
    progress = progress or _noop
    catalog = catalog or default_catalog()
    start = time.perf_counter()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create report directory `{out}`: {exc.strerror or exc}"
        raise FabricError(msg) from None
    if not os.access(out, os.W_OK):
        msg = f"report directory `{out}` is not writable"
        raise FabricError(msg)
    files = {}
    sections = {}

    progress("analysing the fabric (counts, bisection, hops, paths, bill of materials) ...")
    summary = metrics = analysis.fabric_metrics(G, catalog=catalog, seed=seed)
    _write_json(out / "metrics.json", summary)
    files["metrics.json"] = out / "metrics.json"
    bom_rows = [{"category": c, "part": p, "count": n}
                for c, parts in metrics["bom"]["parts"].items() for p, n in parts.items()]
    bom_rows += [{"category": "cable", "part": p, "count": n}
                 for p, n in metrics["bom"]["cables"].items()]
    bom_rows += [{"category": "optic", "part": p, "count": n}
                 for p, n in metrics["bom"]["optics"].items()]
    _write_csv(out / "bom.csv", bom_rows, ["category", "part", "count"])
    files["bom.csv"] = out / "bom.csv"

    progress("pricing collectives ...")
    router = Router(G)
    rows = _collectives(G, catalog, scale_gpus, progress, router)
    _write_csv(out / "collectives.csv", rows, ["communicator", "op", "algo", "protocol", "ranks",
                                               "size_bytes", "time_us", "algbw_GBps",
                                               "busbw_GBps", "bottleneck"])
    files["collectives.csv"] = out / "collectives.csv"
    _plot_busbw(rows, out / "busbw.svg")
    files["busbw.svg"] = out / "busbw.svg"

    progress("drawing the diagram ...")
    sections["diagram"] = _diagram(G, out, files)
    progress("placing a training job (CP-SAT) and its baselines ...")
    sections["placement"] = _placement(G, out, files, catalog=catalog, job=job,
                                       busy_fraction=busy_fraction, seed=seed,
                                       time_limit_s=time_limit_s, router=router)
    progress("exporting scheduler files ...")
    sections["scheduler"] = _scheduler(G, out, files, hostname_pattern)

    elapsed = time.perf_counter() - start
    progress("writing index.html ...")
    page = _page(G, summary, rows, sections, files, elapsed)
    with atomic_write(out / "index.html") as fh:
        fh.write(page)
    files["index.html"] = out / "index.html"
    return {"index": str(out / "index.html"), "files": {k: str(v) for k, v in files.items()},
            "seconds": round(time.perf_counter() - start, 2)}


def _diagram(G, out, files):
    draw_fabric(G, out / "diagram.svg", detail="summary")
    files["diagram.svg"] = out / "diagram.svg"
    html_ = "<img src='diagram.svg' alt='fabric diagram'>"
    if any(k == "nvswitch" for _, k in G.nodes(data="kind")):
        draw_fabric(G, out / "rack.svg", detail="rack")
        files["rack.svg"] = out / "rack.svg"
        html_ += ("<p>One NVLink domain chip by chip: <a href='rack.svg'>rack.svg</a></p>")
    return html_


def _default_job(G):
    """The largest of 4,096/1,024/256/64 GPUs within 60% of the fabric; tp 8 (or the domain)."""
    gpus = gpu_nodes(G)
    first = G.nodes[gpus[0]]
    domain = sum(1 for g in gpus if (G.nodes[g].get("site"), G.nodes[g].get("domain"))
                 == (first.get("site"), first.get("domain")))
    tp = 8 if domain >= 8 else 1
    for n in (4096, 1024, 256, 64, 16):
        if n <= 0.6 * len(gpus) and n % tp == 0:
            pp = 4 if n // tp >= 8 else 1
            return {"gpus": n, "tp": tp, "pp": pp, "dp": n // (tp * pp)}
    return None


def _placement(G, out, files, *, catalog, job, busy_fraction, seed, time_limit_s, router):
    esc = html.escape
    job = job or _default_job(G)
    if job is None:
        return "<p>The fabric is too small for a representative training job.</p>"
    busy = random_busy(G, busy_fraction, seed=seed) if busy_fraction else frozenset()
    model_params = 70e9
    try:
        r = place_job(G, gpus=job["gpus"], tp=job["tp"], pp=job["pp"], dp=job["dp"],
                      model_params=model_params, busy=busy, time_limit_s=time_limit_s,
                      seed=seed, router=router, catalog=catalog)
    except FabricError as exc:
        return (f"<p>Job of {job['gpus']:,} GPUs (tp {job['tp']}, pp {job['pp']}, dp "
                f"{job['dp']}) with {busy_fraction:.0%} of hosts busy: not placed: "
                f"{esc(str(exc))}</p>")
    _write_json(out / "placement.json", r.to_dict())
    files["placement.json"] = out / "placement.json"
    rows = [("CP-SAT (fabric)", _fmt(r.objective_us), "")]
    for name, b in r.baselines.items():
        if "objective_us" in b:
            gain = b["objective_us"] / r.objective_us if r.objective_us else float("nan")
            rows.append((name, _fmt(b["objective_us"]), f"{gain:,.2f}x"))
        else:
            rows.append((name, "-", b.get("error", "")))
    part = (f"<p>A {model_params / 1e9:,.0f}B-parameter training job on {job['gpus']:,} GPUs "
            f"(tp {job['tp']}, pp {job['pp']}, dp {job['dp']}; ranks in Megatron order) on the "
            f"cluster with {busy_fraction:.0%} of hosts busy (seed {seed}). Objective: "
            f"predicted communication time per step, re-evaluated with the collective engine. "
            f"CP-SAT status {esc(r.status)}, bound {r.bound_us:,.1f} us, gap {r.gap:.1%}, solve "
            f"{r.solve_s:.1f} s; {r.domains_used:,} NVLink domains used.</p>")
    part += _table(["placement", "comm time per step (us)", "CP-SAT speed-up"], rows)
    part += _table(["communicator", "time per step (us)"],
                   [(k, _fmt(v)) for k, v in r.breakdown_us.items()])
    part += ("<p class='note'>Rank to GPU assignment in <a href='placement.json'>placement.json"
             "</a> (feeds <code>fabric collective --ranks</code>).</p>")
    return part


_SCHEDULER_FILES = (("slurm-tree", "topology.conf"), ("slurm-block", "topology-block.conf"),
                    ("slurm-yaml", "topology.yaml"), ("k8s-labels", "k8s-labels.yaml"),
                    ("kueue-topology", "kueue-topology.yaml"))


def _scheduler(G, out, files, hostname_pattern):
    kw = {"hostname_pattern": hostname_pattern} if hostname_pattern else {}
    written = []
    for fmt, name in _SCHEDULER_FILES:
        try:
            write_scheduler_file(G, out / name, fmt, **kw)
        except FabricError as exc:
            written.append(f"<li>{html.escape(name)}: not written ({html.escape(str(exc))})</li>")
            continue
        files[name] = out / name
        written.append(f"<li><a href='{name}'>{name}</a> ({fmt})</li>")
    head = ""
    if "topology.conf" in files:
        lines = (out / "topology.conf").read_text().splitlines()
        head = ("<p>Slurm <code>topology.conf</code> (tree plugin), first lines:</p><pre>"
                + html.escape("\n".join(lines[:14])) + "</pre>")
    return "<ul>" + "".join(written) + "</ul>" + head


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #76b900;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.kpi{display:flex;flex-wrap:wrap;gap:1em}.kpi div{background:#f6f8f2;border:1px solid #dde5cf;
padding:.6em 1em;border-radius:6px}.kpi b{display:block;font-size:1.3em}
.note{color:#666;font-size:.85em}img{max-width:100%;border:1px solid #eee}
code{background:#f4f4f4;padding:0 .3em}pre{overflow-x:auto;background:#fafafa;
border:1px solid #eee;padding:.5em;font-size:.8em}
"""


def _page(G, s, rows, sections, files, elapsed):
    esc = html.escape
    title = f"fabric report: {s['builder']}"
    def per_gpu(v):
        lo, hi = (v["min"], v["max"]) if isinstance(v, dict) else (v, v)
        return f"{lo / 8:,.0f} GB/s" if lo == hi else f"{lo / 8:,.0f}-{hi / 8:,.0f} GB/s"

    kpis = [("GPUs", f"{s['gpus']:,}"), ("hosts", f"{s['hosts']:,}"),
            ("NVLink / GPU / direction", per_gpu(s["gpu_scaleup_gbps"])),
            ("network / GPU / direction", per_gpu(s["gpu_scaleout_gbps"])),
            ("bisection", f"{s['bisection_gbps'] / 1000:,.1f} Tb/s"),
            ("power", f"{s['power_w']['total'] / 1e6:,.2f} MW"),
            ("cost (estimate)", f"${s['cost_usd']['total'] / 1e6:,.0f}M")]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             f"<p class='note'>parameters {esc(json.dumps(s['params'], default=str))}; catalog "
             f"{esc(str(s['catalog_version']))}; schema {s['schema_version']}; generated in "
             f"{elapsed:.1f} s</p>",
             "<div class='kpi'>" + "".join(f"<div>{esc(k)}<b>{esc(v)}</b></div>" for k, v in kpis)
             + "</div>"]
    if "diagram" in sections:
        parts.append("<h2>Diagram</h2>" + sections["diagram"])
    parts.append("<h2>Structure</h2>")
    parts.append(_table(["kind", "nodes"], [(k, _fmt(v)) for k, v in s["nodes_by_kind"].items()]))
    parts.append(_table(["medium", "physical links"],
                        [(k, _fmt(v)) for k, v in s["links_by_medium"].items()]))
    b = s["bisection"]
    hist = ", ".join(f"{h} hops: {v:.1%}" for h, v in s["diameter_hops"]["histogram"].items())
    over = ", ".join(f"{k} {v:g}:1" for k, v in s["oversubscription"].items()) or "none"
    parts.append("<h2>Metrics</h2>" + _table(["metric", "value"], [
        ("bisection bandwidth", f"{b['bisection_gbps']:,.0f} Gb/s ({b['method']}; halves of "
                                f"{b['halves_gpus'][0]:,} / {b['halves_gpus'][1]:,} GPUs)"),
        ("bisection per GPU", f"{b['per_gpu_gbps']:,.1f} Gb/s"),
        ("oversubscription (down:up)", over),
        ("GPU-GPU hops", f"max {s['diameter_hops']['max']}; {hist}"),
        *[(f"ECMP paths ({p['relation']})", f"{p['paths']:,} shortest paths of {p['hops']} hops")
          for p in s["ecmp_paths"]],
        ("power", f"{s['power_w']['total'] / 1e3:,.1f} kW ({s['power_w']['per_gpu']:,.0f} W "
                  f"per GPU)"),
        ("cost (ESTIMATE)", f"${s['cost_usd']['total']:,.0f} (${s['cost_usd']['per_gpu']:,.0f} "
                            f"per GPU)"),
    ]))
    parts.append(f"<p class='note'>Power: {esc(s['power_w']['note'])}. Cost: catalog street-price "
                 f"estimates (no authoritative prices exist); unpriced: "
                 f"{esc(', '.join(s['cost_usd']['unpriced']) or 'none')}.</p>")
    parts.append("<h2>Bill of materials</h2>")
    bom = s["bom"]
    parts.append(_table(["category", "part", "count"],
                        [(c, p, _fmt(n)) for c, ps in bom["parts"].items() for p, n in ps.items()]
                        + [("cable", p, _fmt(n)) for p, n in bom["cables"].items()]
                        + [("optic", p, _fmt(n)) for p, n in bom["optics"].items()]))
    parts.append(_table(["network tier", "physical links"],
                        [(k, _fmt(v)) for k, v in bom["links_by_tier"].items()]))
    parts.append("<h2>Collectives (predicted, nccl-tests definitions)</h2>")
    parts.append("<img src='busbw.svg' alt='predicted busbw vs message size'>")
    pick = [r for r in rows if r["size_bytes"] in (8, 1 << 21, 1 << 27, 1 << 33)]
    parts.append(_table(["communicator", "op", "size", "algo", "time_us", "algbw GB/s",
                         "busbw GB/s"],
                        [(r["communicator"], r["op"], _size(r["size_bytes"]), r["algo"],
                          _fmt(r["time_us"]), _fmt(r["algbw_GBps"], 2), _fmt(r["busbw_GBps"], 2))
                         for r in pick]))
    parts.append("<p class='note'>Full sweep (8 B up to 16 GiB by factors of 4, as "
                 "<code>nccl-tests -b 8 -e 16G -f 4</code>) in "
                 "<a href='collectives.csv'>collectives.csv</a>. Model: each algorithm's flows "
                 "routed on the graph, busiest link / usable rate plus NCCL's latency terms; "
                 "validated against published nccl-tests results (tests/test_accuracy.py).</p>")
    for key, heading in (("placement", "Placement of a training job"),
                         ("scheduler", "Scheduler files")):
        if key in sections:
            parts.append(f"<h2>{heading}</h2>" + sections[key])
    parts.append("<h2>Files</h2><ul>" + "".join(
        f"<li><a href='{esc(name)}'>{esc(name)}</a></li>" for name in sorted(files)
        if name != "index.html") + "</ul>")
    if s["notes"]:
        parts.append("<h2>Modelling notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>"
                                                            for n in s["notes"]) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _size(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"
