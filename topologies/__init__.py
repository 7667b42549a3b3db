"""Builders: pure functions that return validated fabric graphs, and the preset registry."""

from topologies.nvlink import *  # noqa: F403
from topologies.scaleout import *  # noqa: F403
from topologies.registry import *  # noqa: F403
from topologies.spec import *  # noqa: F403
from topologies import nvlink as _nvlink, registry as _registry, scaleout as _scaleout
from topologies import spec as _spec

__all__ = [*_nvlink.__all__, *_scaleout.__all__, *_registry.__all__, *_spec.__all__]
