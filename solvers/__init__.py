"""Solvers: collective-communication costs, throughput (LP) and placement (CP-SAT).

No OR-Tools object leaves this package; every solver returns plain frozen results.
"""

__all__ = []
