"""Solving a placement: data -> calibrated proxy -> CP-SAT -> engine re-evaluation -> result.

:func:`solve_placement` calibrates the proxy (:mod:`solvers.placement.cost`),
builds the baselines and hint (:mod:`solvers.placement.baselines`), solves
the CP-SAT model (:mod:`solvers.placement.cpsat`), expands the chosen
counts to GPUs (:mod:`solvers.placement.expand`) and re-evaluates them and
the baselines with the collective engine. :func:`place_job` wraps it for one
job given by its degrees.

``bound_us`` is CP-SAT's best objective bound of the proxy, mapped back to
us (divided by ``SCALE``) plus the constant TP term; ``gap`` is
``(proxy objective - bound) / proxy objective``. Both refer to the proxy;
``objective_us`` is the engine re-evaluation of the chosen placement, and
``proxy_us`` is reported next to it.
"""

import time
from dataclasses import dataclass, field

from fabric.exceptions import ParameterError
from solvers.placement.baselines import _baselines, _block_fill
from solvers.placement.cost import (
    _K_STEPS,
    _calibrate,
    _Coster,
    _kmax,
    _pattern,
    _proxy_cost,
    evaluate_assignment,
)
from solvers.placement.cpsat import _solve
from solvers.placement.expand import _counts_from_dom_of, _dom_of_from_counts
from solvers.placement.problem import (
    _level_names,
    _make_job,
    job_traffic,
    placement_problem,
)

__all__ = ["PlacementResult", "place_job", "solve_placement"]


@dataclass(frozen=True)
class PlacementResult:
    """A placement and its costs (plain values only).

    Attributes
    ----------
    status : str
        ``"OPTIMAL"`` or ``"FEASIBLE"`` (time limit reached with a placement).
    assignment : dict
        Rank -> GPU name (ranks in Megatron order, see :mod:`solvers.placement.problem`).
    objective_us : float
        Communication time per step from the collective engine.
    breakdown_us : dict
        ``tp``, ``pp``, ``dp``, ``ep`` parts of ``objective_us``.
    proxy_us, bound_us, gap : float
        The CP-SAT proxy objective, its proven lower bound and the relative gap.
    solve_s : float
        Wall time of the CP-SAT solve; ``total_s`` includes calibration and evaluation.
    baselines : dict
        Name -> ``{"objective_us", "proxy_us", "breakdown_us", "pattern",
        "improvement"}`` (see :mod:`solvers.placement.baselines`).
    domains_used : int
        NVLink domains hosting the job.
    levels : list of str
        The locality levels used by the proxy.
    job : dict
        Layout and bytes per step of the job.
    pattern : dict
        Locality of the placement (see ``_pattern``): per stage ``dp_domains``,
        ``dp_kmin`` (fewest ranks of the DP group in one domain), ``dp_level``;
        per boundary ``pp_level``.
    calibration : dict
        The proxy's engine tables: ``t_dp_us[l][k-1]``, ``t_pp_us[l]``, and
        ``engine_calls`` (distinct groups costed by the engine).
    """

    status: str
    assignment: dict
    objective_us: float
    breakdown_us: dict
    proxy_us: float
    bound_us: float
    gap: float
    solve_s: float
    total_s: float
    baselines: dict
    domains_used: int
    levels: list
    job: dict = field(default_factory=dict)
    pattern: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)

    def to_dict(self):
        """Plain JSON-ready dict (assignment keys are strings)."""
        return {"status": self.status, "objective_us": self.objective_us,
                "breakdown_us": dict(self.breakdown_us), "proxy_us": self.proxy_us,
                "bound_us": self.bound_us, "gap": self.gap, "solve_s": self.solve_s,
                "total_s": self.total_s, "domains_used": self.domains_used,
                "levels": list(self.levels), "job": dict(self.job),
                "baselines": self.baselines, "pattern": dict(self.pattern),
                "calibration": dict(self.calibration),
                "assignment": {str(k): v for k, v in self.assignment.items()}}


def _hint(problem, base, t_dp, t_pp):
    """The best (by proxy) of the baselines and the k-block fills, as ``counts[(s, d)]``."""
    cands = [_counts_from_dom_of(dom_of) for dom_of in base.values()]
    for k in sorted({k for k in _K_STEPS if k <= _kmax(problem)}, reverse=True):
        c = _block_fill(problem, k)
        if c is not None:
            cands.append(c)
    return min(cands, key=lambda c: _proxy_cost(problem, c, t_dp, t_pp), default=None)


def solve_placement(problem, *, time_limit_s=30.0, seed=0, workers=2, method="cpsat",
                    baselines=True):
    """Place a job with CP-SAT and re-evaluate the result with the collective engine.

    Parameters
    ----------
    problem : PlacementProblem
    time_limit_s
        CP-SAT wall-time limit (calibration and evaluation come on top).
    seed
        CP-SAT ``random_seed`` and the random baseline's seed.
    workers
        CP-SAT ``num_workers``.
    method
        ``"cpsat"`` (the only one today; the default may change).
    baselines
        Also evaluate the three baselines.

    Returns
    -------
    PlacementResult

    Raises
    ------
    ParameterError
        Unknown method or non-positive time limit.
    InfeasibleError
        CP-SAT proved the request infeasible.
    SolverTimeoutError
        The time limit passed without any placement.

    Examples
    --------
    >>> import topologies
    >>> from solvers.placement import Job, Traffic
    >>> G = topologies.build_preset("superpod-h100")
    >>> p = placement_problem(G, Job(8, 2, 2), Traffic(pp_bytes=2**26, dp_bytes=2**28))
    >>> r = solve_placement(p, time_limit_s=5, seed=0)
    >>> r.status, len(r.assignment), r.gap
    ('OPTIMAL', 32, 0.0)
    """
    if method != "cpsat":
        msg = f"`method` must be 'cpsat', got {method!r}"
        raise ParameterError(msg)
    if not time_limit_s or time_limit_s <= 0:
        msg = f"`time_limit_s` must be > 0, got {time_limit_s}"
        raise ParameterError(msg)
    t_start = time.perf_counter()
    coster = _Coster(problem)
    t_dp, t_pp = _calibrate(problem, coster)
    base = _baselines(problem, seed) if baselines else {}
    sol = _solve(problem, t_dp, t_pp, hint=_hint(problem, base, t_dp, t_pp),
                 time_limit_s=time_limit_s, workers=workers, seed=seed)
    dom_of = _dom_of_from_counts(problem, sol.counts)
    obj, parts, ranks, _ = evaluate_assignment(problem, dom_of, coster)
    proxy_check = _proxy_cost(problem, sol.counts, t_dp, t_pp)
    const = parts["tp"] + parts["ep"]
    proxy_us = proxy_check + const
    bound_us = min(sol.bound_us, sol.proxy_us) + const
    gap = 0.0 if proxy_us <= 0 else max(0.0, (proxy_us - bound_us) / proxy_us)
    if sol.status == "OPTIMAL":
        gap = 0.0
        bound_us = proxy_us
    out_base = {}
    for bname, bdom in base.items():
        bobj, bparts, _, _ = evaluate_assignment(problem, bdom, coster)
        bproxy = _proxy_cost(problem, _counts_from_dom_of(bdom), t_dp, t_pp) + const
        out_base[bname] = {"objective_us": bobj, "proxy_us": bproxy,
                           "breakdown_us": bparts, "pattern": _pattern(problem, bdom),
                           "improvement": (bobj - obj) / bobj if bobj > 0 else 0.0}
    job = problem.job
    return PlacementResult(
        status=sol.status, assignment=dict(enumerate(ranks)), objective_us=obj,
        breakdown_us=parts, proxy_us=proxy_us, bound_us=bound_us, gap=gap, solve_s=sol.solve_s,
        total_s=time.perf_counter() - t_start, baselines=out_base,
        domains_used=len({d for row in dom_of for d in row}),
        levels=_level_names(problem), pattern=_pattern(problem, dom_of),
        calibration={"t_dp_us": [list(row[1:]) for row in t_dp], "t_pp_us": list(t_pp),
                     "engine_calls": coster.calls},
        job={"gpus": job.gpus, "tp": job.tp, "pp": job.pp, "dp": job.dp, "ep": job.ep,
             "tp_bytes": problem.traffic.tp_bytes, "pp_bytes": problem.traffic.pp_bytes,
             "dp_bytes": problem.traffic.dp_bytes, "ep_bytes": problem.traffic.ep_bytes,
             "dp_op": problem.traffic.dp_op})


def place_job(G, *, gpus=None, tp=1, pp=1, dp=None, ep=1, traffic=None, model_params=None,
              busy=frozenset(), time_limit_s=30.0, seed=0, workers=2, router=None, catalog=None):
    """Place one job on ``G`` (convenience around :func:`solve_placement`).

    Parameters
    ----------
    G
        A fabric graph.
    gpus, tp, pp, dp, ep
        Job layout; ``dp`` defaults to ``gpus / (tp * pp)``.
    traffic : Traffic, optional
        Bytes per step; default from ``model_params`` (:func:`job_traffic`),
        else 1 GiB of DP allreduce, 64 MiB of PP and 256 MiB of TP traffic.
    busy
        Busy GPU names (see :func:`solvers.placement.busy`).
    time_limit_s, seed, workers
        Solver settings.
    router, catalog
        Engine objects to reuse.

    Returns
    -------
    PlacementResult

    Raises
    ------
    ParameterError
        ``gpus != tp*pp*dp`` and other bad parameters.
    InfeasibleError, SolverTimeoutError
        As for :func:`solve_placement`.

    Examples
    --------
    >>> import topologies
    >>> r = place_job(topologies.build_preset("superpod-h100"), gpus=64, tp=8, pp=2,
    ...               time_limit_s=5)
    >>> r.status, r.job["dp"]
    ('OPTIMAL', 4)
    """
    job = _make_job(gpus, tp, pp, dp, ep)
    if traffic is None:
        if model_params is not None:
            traffic = job_traffic(job.tp, job.pp, job.dp, ep=job.ep, model_params=model_params)
        else:
            traffic = job_traffic(job.tp, job.pp, job.dp, ep=job.ep,
                                  tp_bytes=2 ** 28 if job.tp > 1 else 0,
                                  pp_bytes=2 ** 26 if job.pp > 1 else 0,
                                  dp_bytes=2 ** 30 if job.dp > 1 else 0,
                                  ep_bytes=2 ** 28 if job.ep > 1 else 0)
    problem = placement_problem(G, job, traffic, busy=busy, router=router, catalog=catalog)
    return solve_placement(problem, time_limit_s=time_limit_s, seed=seed, workers=workers)
