"""Solvers: collective-communication costs, throughput (LP), placement (CP-SAT).

No OR-Tools object leaves this package; every solver returns plain frozen
results. Names are loaded on first use (PEP 562), so importing ``solvers``
imports neither OR-Tools nor numpy.
``solvers.<module>`` names a submodule once it is imported; reach the
functions through their modules (``from solvers.throughput import throughput``).
"""

from fabric._lazy import lazy_names

_PUBLIC = {
    "collectives": ("OPS", "ALGORITHMS", "NCCL_ALGORITHMS", "OP_ALGORITHMS", "CollectiveResult",
                    "CollectiveModel", "collective", "collective_sweep", "parse_size", "size_range", "busbw_factor",
                    "load_rank_file"),
    "nccl_results": ("MeasuredRow", "NcclTestsRun", "parse_nccl_tests", "compare_results",
                     "run_release"),
    "throughput": ("PATTERNS", "GLOP_MAX_VARS", "ThroughputResult", "traffic_matrix",
                   "LPSolution", "solve_throughput", "ecmp_utilization", "collective_lower_bound"),
    "placement": ("Job", "Traffic", "PlacementProblem", "PlacementResult", "job_traffic",
                  "load_busy_file", "random_busy", "busy", "placement_problem",
                  "solve_placement", "evaluate_assignment", "place_job", "fragmentation",
                  "load_jobs_file", "place_queue"),
}
"""Submodule -> the public names it provides at package level (checked against ``__all__``)."""

_names, __getattr__, __dir__ = lazy_names(__name__, _PUBLIC)

__all__ = _names
