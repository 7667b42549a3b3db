"""The CP-SAT proxy model of a placement, built one constraint family at a time, and its solve.

The decision is ``z[s, d]``, the number of stage-``s`` TP groups placed in
domain ``d`` (a TP group is one slot of a domain, so it never leaves its
NVLink domain). The objective is a linear proxy of the engine objective,
built from the tables of :func:`solvers.placement.cost._calibrate`; times
enter CP-SAT as integers, ns (``SCALE = 1000`` per us):

* **DP**: ``kmin[s]`` is at most every used domain's count and ``t_dp >=
  t_dp[l][kmin[s]]`` (an element constraint) for every level ``l`` that
  stage ``s`` is not inside;
* **PP**: a boundary costs ``t_pp`` of the smallest level at which *every*
  pair of the boundary is local; the pairs co-located in a unit ``g`` are at
  most ``min(Z[s, g], Z[s+1, g])``, which the expansion
  (:mod:`solvers.placement.expand`) achieves at every level at once, so the
  proxy is exact for the placements it describes, up to the representative
  approximation;
* **TP** and **EP** are constant or evaluated on the result: not in the model.

Two families of redundant cuts tighten CP-SAT's bound: at most ``cap_k //
dp`` stages can hold >= ``k`` groups in each of their domains, ``cap_k``
being the slots of the domains with >= ``k`` slots; and a domain with fewer
than ``2k`` slots holds no PP pair of two adjacent stages that both have
``kmin >= k``. CP-SAT is hinted with a known placement (in
:func:`solvers.placement.solve.solve_placement`: the best by proxy of the
baselines and of the block fills).

No OR-Tools object leaves this module: :func:`_solve` returns plain values.
"""

import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from fabric.exceptions import InfeasibleError, SolverTimeoutError

__all__ = ["SCALE"]

SCALE = 1000
"""Integer units per microsecond in the CP-SAT model (ns)."""


# ----------------------------------------------------------------------------- variables
def _add_group_counts(model, problem, cand):
    """``z[s, d]``: TP groups of stage ``s`` in domain ``d`` (``cand``: the domains with slots)."""
    dp = problem.job.dp
    z = {}
    for s in range(problem.job.pp):
        for d in cand:
            z[s, d] = model.new_int_var(0, min(problem.slots[d], dp), f"z_{s}_{d}")
    return z


def _unit_domains(problem, cand):
    """``units[l][g]``: the candidate domains of unit ``g`` at level ``l`` (levels below global)."""
    units = []
    for li in range(len(problem.unit)):
        u = defaultdict(list)
        for d in cand:
            u[problem.unit[li][d]].append(d)
        units.append(u)
    return units


# ----------------------------------------------------------------------------- constraints
def _add_capacity(model, problem, z, cand):
    """Each domain hosts at most its slots."""
    for d in cand:
        model.add(sum(z[s, d] for s in range(problem.job.pp)) <= problem.slots[d])


def _add_tp_groups(model, problem, z, cand):
    """Each stage places all its ``dp`` TP groups (EP groups are costed on the result only)."""
    for s in range(problem.job.pp):
        model.add(sum(z[s, d] for d in cand) == problem.job.dp)


def _add_dp_cost(model, problem, z, cand, units, table):
    """The DP term: ``t_dp >= table[l][kmin[s]]`` for every level ``l`` stage ``s`` is not inside.

    ``table`` is ``t_dp`` in integer units. Returns ``(t_dp_var, vars)`` with
    ``vars`` holding ``dp_inside``, ``dp_used`` and ``dp_kmin``.
    """
    dp = problem.job.dp
    n_lv = len(problem.unit) + 1
    kmax = len(table[0]) - 1
    top = max(max(row) for row in table)
    t_dp_var = model.new_int_var(0, top, "t_dp")
    inside, used, kmin = {}, {}, {}
    for s in range(problem.job.pp):
        # kmin[s]: every domain used by stage s holds at least kmin[s] of its groups.
        m = model.new_int_var(1, kmax, f"dp_kmin_{s}")
        kmin[s] = m
        for d in cand:
            # used[s, d] is true when stage s has a TP group in domain d.
            u = model.new_bool_var(f"used_{s}_{d}")
            model.add(z[s, d] >= 1).only_enforce_if(u)
            model.add(z[s, d] == 0).only_enforce_if(~u)
            model.add(z[s, d] >= m).only_enforce_if(u)
            used[s, d] = u
        for li in range(n_lv):
            # y = t_dp[li][kmin[s]]
            y = model.new_int_var(0, top, f"dp_t_{s}_{li}")
            model.add_element(m, table[li], y)
            if li == 0:
                model.add(t_dp_var >= y)
                continue
            # inside[s, li - 1, g]: all of stage s's groups lie in unit g of level li - 1;
            # only a stage inside some level li - 1 unit escapes the level li time.
            lits = []
            for g, ds in units[li - 1].items():
                if sum(problem.slots[d] for d in ds) < dp:
                    continue
                b = model.new_bool_var(f"dp_in_{s}_{li - 1}_{g}")
                model.add(sum(z[s, d] for d in ds) >= dp).only_enforce_if(b)
                inside[s, li - 1, g] = b
                lits.append(b)
            if not lits:
                model.add(t_dp_var >= y)
                continue
            model.add_at_most_one(lits)
            within = model.new_bool_var(f"dp_within_{s}_{li - 1}")
            model.add(sum(lits) == within)
            model.add(t_dp_var >= y).only_enforce_if(~within)
    return t_dp_var, {"dp_inside": inside, "dp_used": used, "dp_kmin": kmin}


def _add_dp_capacity_cuts(model, problem, cand, kmin, kmax):
    """Redundant capacity cuts on ``kmin``; returns ``kmin_ge[s, k]`` (``kmin[s] >= k``).

    A stage whose every domain holds >= k of its groups uses only domains
    with >= k slots, so at most ``cap_k // dp`` stages can have kmin >= k,
    where ``cap_k`` is the slots of those domains. Redundant for the integer
    model, but they give CP-SAT's bound what the element constraints alone do not.
    """
    S, dp = problem.job.pp, problem.job.dp
    kmin_ge = {}
    for k in range(2, kmax + 1):
        atleast = []
        for s in range(S):
            b = model.new_bool_var(f"dp_kmin_ge_{s}_{k}")
            model.add(kmin[s] <= k - 1).only_enforce_if(~b)
            model.add(kmin[s] >= k).only_enforce_if(b)
            kmin_ge[s, k] = b
            atleast.append(b)
        cap = sum(problem.slots[d] for d in cand if problem.slots[d] >= k)
        if cap < S * dp:
            model.add(sum(atleast) <= cap // dp)
    return kmin_ge


def _add_pp_cost(model, problem, z, units, t_pp, kmin_ge, kmax):
    """The PP terms with their cuts; returns ``(costs, pairs, local)``.

    ``pairs[b, l, g]`` counts stage b / b+1 pairs both in unit ``g`` of level
    ``l``; ``local[b, l]`` is true when all pairs of boundary ``b`` are local
    at level ``l``; ``costs`` holds one linear expression per boundary.
    """
    S, dp = problem.job.pp, problem.job.dp
    n_lv = len(problem.unit) + 1
    pairs, local, costs = {}, {}, []
    for b in range(S - 1):
        terms = []
        for li in range(n_lv - 1):
            delta = int(round((t_pp[li + 1] - t_pp[li]) * SCALE))
            if delta <= 0:
                continue
            cnt = []
            for g, ds in units[li].items():
                cap = min(sum(problem.slots[d] for d in ds), dp)
                if cap < 1 or (li == 0 and problem.slots[ds[0]] < 2):
                    continue
                m = model.new_int_var(0, cap, f"pp_pairs_{b}_{li}_{g}")
                model.add(m <= sum(z[b, d] for d in ds))
                model.add(m <= sum(z[b + 1, d] for d in ds))
                if li == 0:
                    # a domain shared by stages b and b+1 holds >= kmin of each: when
                    # both kmin are >= k and 2k exceeds its slots, it holds no pair
                    # (implied; stated for CP-SAT's bound)
                    for k in range(2, kmax + 1):
                        if 2 * k > problem.slots[ds[0]] and (b, k) in kmin_ge:
                            model.add(m <= cap * (2 - kmin_ge[b, k] - kmin_ge[b + 1, k]))
                pairs[b, li, g] = m
                cnt.append(m)
            if not cnt:
                continue
            lit = model.new_bool_var(f"pp_local_{b}_{li}")
            model.add(sum(cnt) >= dp * lit)
            local[b, li] = lit
            terms.append(delta * lit)
        costs.append(int(round(t_pp[-1] * SCALE)) - sum(terms))
    return costs, pairs, local


# ----------------------------------------------------------------------------- hints
def _add_hints(model, ivars, hint, kmax):
    """Hint ``z``, ``dp_used`` and ``dp_kmin`` with a known placement ``hint[(s, d)]``."""
    for (s, d), var in ivars["z"].items():
        model.add_hint(var, hint.get((s, d), 0))
    for (s, d), var in ivars.get("dp_used", {}).items():
        model.add_hint(var, hint.get((s, d), 0) > 0)
    for s, var in ivars.get("dp_kmin", {}).items():
        mine = [c for (ss, _), c in hint.items() if ss == s and c]
        model.add_hint(var, min(min(mine), kmax) if mine else 1)


# ----------------------------------------------------------------------------- model
def _build_model(problem, t_dp, t_pp, *, hint=None):
    """The CP-SAT proxy model (see the module notes).

    Parameters
    ----------
    problem : PlacementProblem
    t_dp : list of list of float
        ``t_dp[l][k]``: engine time (us) of a DP group confined to a unit of
        level ``l`` (0 = domain, last = global) whose smallest domain holds
        ``k`` of its ranks (from :func:`solvers.placement.cost._calibrate`).
    t_pp : list of float
        Engine time (us) of a PP pair local at each level.
    hint : dict, optional
        ``{(s, d): count}`` of a known placement, given to CP-SAT as a hint.

    Returns
    -------
    tuple
        ``(CpModel, vars)``; ``vars["z"][s, d]`` is the number of stage-``s``
        TP groups in domain ``d``. OR-Tools objects: for use inside this module.
    """
    S, dp = problem.job.pp, problem.job.dp
    cand = [d for d in range(len(problem.domains)) if problem.slots[d] > 0]
    kmax = len(t_dp[0]) - 1
    model = cp_model.CpModel()
    z = _add_group_counts(model, problem, cand)
    _add_capacity(model, problem, z, cand)
    _add_tp_groups(model, problem, z, cand)
    units = _unit_domains(problem, cand)
    ivars = {"z": z}
    costs = []
    kmin_ge = {}          # (s, k) -> kmin[s] >= k (DP block only)
    if dp > 1 and t_dp[-1][1] > 0:
        table = [[int(round(x * SCALE)) for x in row] for row in t_dp]
        t_dp_var, dp_vars = _add_dp_cost(model, problem, z, cand, units, table)
        kmin_ge = _add_dp_capacity_cuts(model, problem, cand, dp_vars["dp_kmin"], kmax)
        ivars["dp_kmin_ge"] = kmin_ge
        ivars.update(dp_vars)
        costs.append(t_dp_var)
    if S > 1 and t_pp[-1] > 0:
        pp_costs, ivars["pp_pairs"], ivars["pp_local"] = _add_pp_cost(
            model, problem, z, units, t_pp, kmin_ge, kmax)
        costs.extend(pp_costs)
    model.minimize(sum(costs))
    if hint:
        _add_hints(model, ivars, hint, kmax)
    return model, ivars


@dataclass(frozen=True)
class _ModelSolution:
    """What a CP-SAT solve found, as plain values.

    ``status`` is ``"OPTIMAL"`` or ``"FEASIBLE"``; ``counts[(s, d)]`` the
    non-zero group counts; ``proxy_us`` / ``bound_us`` the objective and
    best bound (us, without the TP constant); ``solve_s`` the wall time.
    """

    status: str
    counts: dict
    proxy_us: float
    bound_us: float
    solve_s: float


def _solve(problem, t_dp, t_pp, *, hint, time_limit_s, workers, seed):
    """Build and solve the proxy model.

    Returns
    -------
    _ModelSolution

    Raises
    ------
    InfeasibleError
        CP-SAT proved the request infeasible.
    SolverTimeoutError
        The time limit passed without any placement (or CP-SAT failed).
    """
    model, ivars = _build_model(problem, t_dp, t_pp, hint=hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    t0 = time.perf_counter()
    status = solver.solve(model)
    solve_s = time.perf_counter() - t0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        counts = {k: int(solver.value(v)) for k, v in ivars["z"].items()}
        return _ModelSolution(
            status="OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE",
            counts={k: v for k, v in counts.items() if v},
            proxy_us=solver.objective_value / SCALE,
            bound_us=solver.best_objective_bound / SCALE, solve_s=solve_s)
    if status == cp_model.INFEASIBLE:
        msg = (f"CP-SAT proved the job (tp {problem.job.tp}, pp {problem.job.pp}, dp "
               f"{problem.job.dp}) cannot be placed on the free GPUs")
        raise InfeasibleError(msg)
    if status == cp_model.UNKNOWN:
        msg = (f"CP-SAT found no placement within {time_limit_s:g} s; raise `time_limit_s` "
               "or free more GPUs")
        raise SolverTimeoutError(msg)
    msg = f"CP-SAT returned {solver.status_name(status)}; check the model"
    raise SolverTimeoutError(msg)
