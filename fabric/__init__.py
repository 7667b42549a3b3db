"""fabric: network-fabric topology modeler and optimizer for AI supercomputers.

The model: the graph schema, the hardware catalog, validation, analysis and
import/export. Builders live in :mod:`topologies`, optimizers in :mod:`solvers`.
"""

from fabric.exceptions import *  # noqa: F403
from fabric.schema import *  # noqa: F403
from fabric.catalog import *  # noqa: F403
from fabric.validate import *  # noqa: F403
from fabric.metrics import *  # noqa: F403
from fabric.io import *  # noqa: F403
from fabric.analysis import *  # noqa: F403
from fabric.scheduler import *  # noqa: F403
from fabric.drawing import *  # noqa: F403
from fabric import catalog as _catalog, exceptions as _exceptions, io as _io
from fabric import metrics as _metrics, schema as _schema, validate as _validate
from fabric import analysis as _analysis
from fabric import drawing as _drawing, scheduler as _scheduler

__version__ = "0.1.0"

__all__ = [*_exceptions.__all__, *_schema.__all__, *_catalog.__all__, *_validate.__all__,
           *_metrics.__all__, *_io.__all__, *_analysis.__all__,
           *_scheduler.__all__, *_drawing.__all__]
