"""Solvers: collective-communication costs, throughput (LP) and placement (CP-SAT).

No OR-Tools object leaves this package; every solver returns plain frozen results.
"""

from solvers.collectives import *  # noqa: F403
from solvers.nccl_results import *  # noqa: F403
from solvers import collectives as _collectives, nccl_results as _nccl_results

__all__ = [*_collectives.__all__, *_nccl_results.__all__]
