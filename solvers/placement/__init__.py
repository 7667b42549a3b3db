"""Job placement with CP-SAT: where a job's ranks go so that its communication is fastest.

A job of ``tp x pp x dp`` ranks (TP groups inside NVLink domains, PP pairs,
DP and EP groups) is placed on the free GPUs of a fabric, deciding per NVLink
domain how many TP groups of each pipeline stage it hosts. The objective is
the job's communication time per step from the collective engine; CP-SAT
optimizes a linear proxy calibrated on that engine, and the result is
re-evaluated by the engine next to three baselines.

Data -> model -> solve -> frozen result, one module each:

* :mod:`~solvers.placement.problem`: :class:`Job`, :class:`Traffic`,
  :func:`job_traffic`, :class:`PlacementProblem`, :func:`placement_problem`
  (domains, slots, locality levels);
* :mod:`~solvers.placement.inputs`: :func:`busy`, :func:`load_busy_file`,
  :func:`random_busy`, :func:`load_jobs_file`;
* :mod:`~solvers.placement.expand`: domain-level placements to ranks on GPUs;
* :mod:`~solvers.placement.cost`: :func:`evaluate_assignment` (engine
  objective), the proxy's calibration tables and the proxy in Python;
* :mod:`~solvers.placement.cpsat`: the CP-SAT model (one function per
  constraint family) and its solve, :data:`SCALE`; no OR-Tools object leaves it;
* :mod:`~solvers.placement.baselines`: first fit, Slurm-like best fit,
  random, and the block fills that hint CP-SAT;
* :mod:`~solvers.placement.solve`: :func:`solve_placement`, :func:`place_job`,
  :class:`PlacementResult`;
* :mod:`~solvers.placement.queue`: :func:`place_queue`, :func:`fragmentation`.

Domains are the keys of :mod:`fabric.locality`.
"""

from solvers.placement.cost import evaluate_assignment
from solvers.placement.cpsat import SCALE
from solvers.placement.inputs import busy, load_busy_file, load_jobs_file, random_busy
from solvers.placement.problem import (
    Job,
    PlacementProblem,
    Traffic,
    job_traffic,
    placement_problem,
)
from solvers.placement.queue import fragmentation, place_queue
from solvers.placement.solve import PlacementResult, place_job, solve_placement

__all__ = [
    "SCALE",
    "Job",
    "PlacementProblem",
    "PlacementResult",
    "Traffic",
    "busy",
    "evaluate_assignment",
    "fragmentation",
    "job_traffic",
    "load_busy_file",
    "load_jobs_file",
    "place_job",
    "place_queue",
    "placement_problem",
    "random_busy",
    "solve_placement",
]
