"""Multi-job placement: a queue of jobs on one cluster, and the cluster's fragmentation.

:func:`place_queue` places jobs in order, marking each placement busy, and
reports after each job the cluster ``utilization`` (busy GPUs / GPUs) and
``fragmentation``: the share of free GPUs that cannot belong to any TP
group of ``tp_ref`` GPUs (default 8), i.e. the free GPUs beyond the last
whole group of ``tp_ref`` in their NVLink domain (a domain of
:func:`fabric.locality.domains`).
"""

from fabric.exceptions import FabricError, ParameterError
from fabric.locality import domains
from solvers.placement.solve import place_job
from solvers.routing import Router

__all__ = ["fragmentation", "place_queue"]


def fragmentation(G, busy, *, tp_ref=8):
    """Utilization and fragmentation of a cluster state (see the module notes).

    Returns
    -------
    dict
        ``utilization`` (busy GPUs / GPUs), ``fragmentation`` (share of free
        GPUs not usable by a TP group of ``tp_ref``), ``free_gpus``.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> fragmentation(G, {"d0-gpu0"})["fragmentation"] == 7 / 247
    True
    """
    by_dom = domains(G)
    total = sum(len(gpus) for gpus in by_dom.values())
    free_per_dom = [sum(1 for g in gpus if g not in busy) for gpus in by_dom.values()]
    free = sum(free_per_dom)
    stranded = sum(f % tp_ref for f in free_per_dom)
    return {"utilization": (total - free) / total if total else 0.0,
            "fragmentation": stranded / free if free else 0.0, "free_gpus": free}


def place_queue(G, jobs, *, busy=frozenset(), time_limit_s=30.0, seed=0, workers=2,
                tp_ref=8, catalog=None, assignments=False):
    """Place ``jobs`` in order on one cluster, each on what the previous ones left free.

    Parameters
    ----------
    G
        A fabric graph.
    jobs
        Dicts of :func:`solvers.placement.place_job` keyword arguments
        (``gpus``, ``tp``, ``pp``...), optionally with a ``name`` (see
        :func:`solvers.placement.load_jobs_file`).
    busy
        GPUs busy before the queue starts (see :func:`solvers.placement.busy`).
    time_limit_s, seed, workers
        CP-SAT settings of every job.
    tp_ref
        TP group size of the fragmentation measure.
    catalog
        Catalog of the engine.
    assignments
        Add each placed job's ``assignment`` (rank -> GPU) to its row.

    Returns
    -------
    list of dict
        Per job: ``job`` (index), ``name``, ``status`` (``placed``, or
        ``not placed: <reason>``), ``objective_us``, ``gap``, ``gpus`` (placed,
        0 when not placed), ``solve_s`` and ``baseline_us`` (when placed),
        and the cluster after it: ``utilization``, ``fragmentation``, ``free_gpus``.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100")
    >>> rows = place_queue(G, [{"gpus": 64, "tp": 8, "pp": 2}] * 2, time_limit_s=2)
    >>> [round(r["utilization"], 3) for r in rows]
    [0.258, 0.516]
    """
    busy = set(busy)
    router = Router(G)
    rows = []
    for i, spec in enumerate(jobs):
        spec = dict(spec)
        row = {"job": i, "name": spec.pop("name", f"job{i}")}
        try:
            r = place_job(G, busy=frozenset(busy), time_limit_s=time_limit_s, seed=seed,
                          workers=workers, router=router, catalog=catalog, **spec)
            busy.update(r.assignment.values())
            row.update(status="placed", objective_us=r.objective_us, gap=r.gap,
                       solve_s=r.solve_s, gpus=len(r.assignment),
                       baseline_us={k: b["objective_us"] for k, b in r.baselines.items()})
            if assignments:
                row["assignment"] = {str(k): v for k, v in r.assignment.items()}
        except (FabricError, TypeError) as exc:
            if isinstance(exc, TypeError):
                msg = f"job {i}: bad job spec {spec!r}: {exc}"
                raise ParameterError(msg) from None
            if isinstance(exc, ParameterError):
                raise
            row.update(status=f"not placed: {exc}", objective_us=None, gap=None, gpus=0)
        row.update(fragmentation(G, busy, tp_ref=tp_ref))
        rows.append(row)
    return rows
