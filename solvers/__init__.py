"""Solvers: collective-communication costs, throughput (LP), placement (CP-SAT).

No OR-Tools object leaves this package; every solver returns plain frozen
results. Names are loaded on first use (PEP 562), so importing ``solvers``
imports neither OR-Tools nor numpy.
``solvers.<module>`` names a submodule once it is imported; reach the
functions through their modules (``from solvers.throughput import throughput``).
"""

import importlib

_PUBLIC = {
    "collectives": ("OPS", "ALGORITHMS", "NCCL_ALGORITHMS", "OP_ALGORITHMS", "CollectiveResult",
                    "CollectiveModel", "collective", "collective_sweep", "parse_size", "size_range", "busbw_factor",
                    "load_rank_file"),
    "nccl_results": ("MeasuredRow", "NcclTestsRun", "parse_nccl_tests", "compare_results"),
    "throughput": ("PATTERNS", "GLOP_MAX_VARS", "ThroughputResult", "traffic_matrix",
                   "LPSolution", "solve_throughput", "ecmp_utilization", "collective_lower_bound"),
    "placement": ("Job", "Traffic", "PlacementProblem", "PlacementResult", "job_traffic",
                  "load_busy_file", "random_busy", "busy", "placement_problem",
                  "solve_placement", "evaluate_assignment", "place_job", "fragmentation",
                  "load_jobs_file", "place_queue"),
}
"""Submodule -> the public names it provides at package level (checked against ``__all__``)."""

_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = list(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'solvers' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"solvers.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
