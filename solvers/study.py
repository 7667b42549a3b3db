"""The fabric study behind ``fabric report``: gathers the report's numbers and writes its files.

:func:`write_report` composes every capability on one fabric: its metrics
(bisection, oversubscription, hops, ECMP, bill of materials, power, cost), a
collective sweep for the main operations on two communicators (one NVLink
domain, and a scale-out job across domains), the placement of a
representative training job with its baselines, the diagrams and the
scheduler files (Slurm topology.conf/topology.yaml, Kubernetes labels, Kueue
Topology). It sits in ``solvers`` because it runs solvers; the page and its
data files are written by :mod:`fabric.export.report` from plain data, the
diagrams and scheduler files by :func:`fabric.export.export`.
"""

import math
import time
from pathlib import Path

from fabric.catalog import default_catalog
from fabric.exceptions import FabricError, ParameterError
from fabric.export import export
from fabric.export import report as page
from fabric.locality import domain_of, domains, gpu_nodes, site_of
from fabric.metrics import bisection_bandwidth, fabric_metrics, per_gpu_bandwidth
from solvers.collectives import CollectiveModel, size_range
from solvers.placement import place_job, random_busy
from solvers.routing import Router

__all__ = ["write_report", "REPORT_OPS"]

REPORT_OPS = ("allreduce", "allgather", "reducescatter", "alltoall")
"""Operations swept in the report."""

_SIZES = "8:16G"


def _noop(message):
    pass


def _communicators(G, scale_gpus):
    """One NVLink domain, and the first ``scale_gpus`` GPUs across domains (when there are)."""
    gpus = gpu_nodes(G)
    domain = domains(G)[domain_of(G, gpus[0])]
    comms = [(f"one NVLink domain ({len(domain)} GPUs)", domain)]
    if len(domain) < len(gpus):
        n = min(scale_gpus, len(gpus))
        spanned = len({domain_of(G, g) for g in gpus[:n]})
        comms.append((f"{n:,} GPUs across {spanned:,} NVLink domains", gpus[:n]))
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
                             "bottleneck": r.bottleneck, "nccl": model.nccl_label})
    return rows


def write_report(G, directory, *, catalog=None, scale_gpus=1152, job=None, busy_fraction=0.3,
                 seed=0, time_limit_s=10.0, hostname_pattern=None, progress=None,
                 build=None, title=None):
    """Study fabric ``G`` and write its report into ``directory`` (created or replaced).

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
    build : callable, optional
        ``build(preset, overrides, catalog=...)`` (``topologies.build_preset``):
        when given, the report predicts every calibration case of
        :mod:`solvers.accuracy` and adds an accuracy section and plot.
    title : str, optional
        Title of the page and diagrams: the preset's name and summary (the
        caller knows the preset; default: the builder's name).

    Returns
    -------
    dict
        ``index`` (path of the page), ``files`` (name -> path), ``seconds``.

    Raises
    ------
    ParameterError
        When ``busy_fraction`` is not a finite number in [0, 1] or
        ``time_limit_s`` not a finite number > 0 (checked before anything is
        written).
    FabricError
        When the directory cannot be written, or exists and holds files that
        are not part of a report.

    Notes
    -----
    The files are written into a hidden staging directory next to
    ``directory`` that is renamed into place when the report is complete: a
    failed or interrupted report writes nothing, and a previous report in
    ``directory`` is replaced as a whole (no old file is left among new ones).
    """
    _check_options(busy_fraction, time_limit_s)
    progress = progress or _noop
    catalog = catalog or default_catalog()
    start = time.perf_counter()
    with page.staged_report_directory(directory) as out:
        files = _write(G, out, catalog=catalog, scale_gpus=scale_gpus, job=job,
                       busy_fraction=busy_fraction, seed=seed, time_limit_s=time_limit_s,
                       hostname_pattern=hostname_pattern, progress=progress, start=start,
                       build=build, title=title)
    final = Path(directory)
    return {"index": str(final / "index.html"), "files": {k: str(final / k) for k in files},
            "seconds": round(time.perf_counter() - start, 2)}


def _check_options(busy_fraction, time_limit_s):
    """Refuse bad options before anything is computed or written."""
    for name, option, value, ok, bound in (
            ("busy_fraction", "--busy-fraction", busy_fraction,
             lambda v: 0 <= v <= 1, "from 0 to 1 (e.g. 0.3)"),
            ("time_limit_s", "--time-limit", time_limit_s,
             lambda v: v > 0, "above 0 seconds (e.g. 10)")):
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or not ok(value)):
            msg = f"`{name}` ({option}) must be a finite number {bound}, got {value!r}"
            raise ParameterError(msg)


def _write(G, out, *, catalog, scale_gpus, job, busy_fraction, seed, time_limit_s,
           hostname_pattern, progress, start, build=None, title=None):
    """Write every file of the report into ``out``; file name -> path."""
    files = {}

    progress("analysing the fabric (counts, bisection, hops, paths, bill of materials) ...")
    metrics = fabric_metrics(G, catalog=catalog, seed=seed)
    sites = _site_bisection(G, progress)
    wan = _wan_ratio(G)
    if sites:
        metrics = {**metrics, "site_bisection": sites}
    files.update(page.write_metrics_files(out, metrics))

    progress("pricing collectives ...")
    router = Router(G)
    rows = _collectives(G, catalog, scale_gpus, progress, router)
    files.update(page.write_collective_files(out, rows, REPORT_OPS))

    progress("drawing the diagram ...")
    diagrams = _diagrams(G, out, files, title)
    progress("placing a training job (CP-SAT) and its baselines ...")
    placement = _placement(G, out, files, catalog=catalog, job=job,
                           busy_fraction=busy_fraction, seed=seed,
                           time_limit_s=time_limit_s, router=router)
    progress("exporting scheduler files ...")
    scheduler = _scheduler(G, out, files, hostname_pattern)

    accuracy = None
    if build is not None:
        from solvers.accuracy import case_rows, regime_summary

        progress("predicting the published calibration cases ...")
        cases = case_rows(build, catalog)
        accuracy = {"cases": cases, "regimes": regime_summary(cases)}
        files.update(page.write_accuracy_files(out, cases))
    elapsed = time.perf_counter() - start
    progress("writing index.html ...")
    files["index.html"] = page.write_report_page(
        out, metrics=metrics, collectives=rows, diagrams=diagrams, placement=placement,
        scheduler=scheduler, files=files, elapsed=elapsed, accuracy=accuracy, title=title,
        site_bisection=sites, wan=wan)
    return files


_EXACT_SITE_EDGES = 60_000
"""Above this many edges in a site (or in the aggregated form) its bisection is structural."""


def _site_bisection(G, progress):
    """Bisection inside each site of a multi-site fabric (the headline cut crosses the WAN)."""
    members = {}
    for n, d in G.nodes(data=True):
        if d.get("kind") != "wan":
            members.setdefault(site_of(G, n), []).append(n)
    if len(members) < 2:
        return []
    aggregated = bool(G.graph.get("params", {}).get("aggregate_nvswitch"))
    rows = []
    for site, nodes in sorted(members.items(), key=lambda kv: str(kv[0])):
        progress(f"  bisection inside site {site} ...")
        sub = G.subgraph(nodes).copy()
        if len(domains(sub)) < 2:
            method = "auto"
        elif aggregated or sub.number_of_edges() > _EXACT_SITE_EDGES:
            method = "structural"
        else:
            method = "exact"
        rows.append({"site": site, **bisection_bandwidth(sub, method=method)})
    return rows


def _wan_ratio(G):
    """The site behind the WAN oversubscription: its GPUs' injection and its WAN capacity."""
    wan_gbps = {}
    for u, v, d in G.edges(data=True):
        if d.get("medium") == "wan":
            for end in (u, v):
                s = site_of(G, end)
                wan_gbps[s] = wan_gbps.get(s, 0.0) + d.get("bandwidth_gbps", 0.0)
    if not wan_gbps:
        return None
    inject = {}
    for g, rates in per_gpu_bandwidth(G).items():
        s = site_of(G, g)
        inject[s] = inject.get(s, 0.0) + rates[1]
    site = max((s for s in wan_gbps if wan_gbps[s]), key=lambda s: inject.get(s, 0.0) / wan_gbps[s])
    return {"site": site, "inject_gbps": inject.get(site, 0.0), "wan_gbps": wan_gbps[site]}


def _diagrams(G, out, files, title=None):
    """Draw the summary diagram, and one NVLink domain when the fabric has NVLink switches."""
    name = title.split(":", 1)[0] if title else None      # the preset; the page has the summary
    kw = {"title": name} if name else {}
    export(G, out / "diagram.svg", "svg", detail="summary", **kw)
    files["diagram.svg"] = out / "diagram.svg"
    if any(k == "nvswitch" for _, k in G.nodes(data="kind")):
        rack = {"title": f"{name}: one NVLink domain"} if name else {}
        export(G, out / "rack.svg", "svg", detail="rack", **rack)
        files["rack.svg"] = out / "rack.svg"
    return [name for name in ("diagram.svg", "rack.svg") if name in files]


def _default_job(G):
    """The largest of 4,096/1,024/256/64 GPUs within 60% of the fabric; tp 8 (or the domain)."""
    gpus = gpu_nodes(G)
    domain = len(domains(G)[domain_of(G, gpus[0])])
    tp = 8 if domain >= 8 else 1
    for n in (4096, 1024, 256, 64, 16):
        if n <= 0.6 * len(gpus) and n % tp == 0:
            pp = 4 if n // tp >= 8 else 1
            return {"gpus": n, "tp": tp, "pp": pp, "dp": n // (tp * pp)}
    return None


def _placement(G, out, files, *, catalog, job, busy_fraction, seed, time_limit_s, router):
    """Place the job; the plain data of the page's placement section."""
    job = job or _default_job(G)
    model_params = 70e9
    data = {"job": job, "model_params": model_params, "busy_fraction": busy_fraction,
            "seed": seed, "result": None, "error": None}
    if job is None:
        return data
    busy = random_busy(G, busy_fraction, seed=seed) if busy_fraction else frozenset()
    try:
        r = place_job(G, gpus=job["gpus"], tp=job["tp"], pp=job["pp"], dp=job["dp"],
                      model_params=model_params, busy=busy, time_limit_s=time_limit_s,
                      seed=seed, router=router, catalog=catalog)
    except FabricError as exc:
        data["error"] = str(exc)
        return data
    data["result"] = r.to_dict()
    page.write_json(out / "placement.json", data["result"])
    files["placement.json"] = out / "placement.json"
    return data


def _scheduler(G, out, files, hostname_pattern):
    """Export the scheduler files; ``(format, file name, error or None)`` per file."""
    kw = {"hostname_pattern": hostname_pattern} if hostname_pattern else {}
    written = []
    for fmt, name in page.SCHEDULER_FILES:
        try:
            export(G, out / name, fmt, **kw)
        except FabricError as exc:
            written.append((fmt, name, str(exc)))
            continue
        files[name] = out / name
        written.append((fmt, name, None))
    return written
