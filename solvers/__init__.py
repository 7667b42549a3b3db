"""Solvers: collective-communication costs, throughput (LP), placement (CP-SAT), the report.

No OR-Tools object leaves this package; every solver returns plain frozen results.
Note: ``solvers.throughput`` the attribute is the :func:`throughput` function (re-exported);
the module stays importable as ``import solvers.throughput``.
"""

import sys

from solvers.collectives import *  # noqa: F403
from solvers.nccl_results import *  # noqa: F403
from solvers.throughput import *  # noqa: F403
from solvers.placement import *  # noqa: F403

__all__ = [name for module in ("collectives", "nccl_results", "throughput", "placement")
           for name in sys.modules[f"solvers.{module}"].__all__]
