"""Builders: pure functions that return validated fabric graphs, and the preset registry."""

from topologies.nvlink import *  # noqa: F403
from topologies.registry import *  # noqa: F403
from topologies import nvlink as _nvlink, registry as _registry

__all__ = [*_nvlink.__all__, *_registry.__all__]
