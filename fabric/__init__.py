"""fabric: network-fabric topology modeler and optimizer for AI supercomputers.

The model: the graph schema (:mod:`fabric.schema`), the locality vocabulary
(:mod:`fabric.locality`), the hardware catalog, validation, metrics
(:mod:`fabric.metrics`), file formats (:mod:`fabric.io`) and exports.
Builders live in :mod:`topologies`, optimizers in :mod:`solvers`.

Names are loaded on first use (PEP 562), so ``import fabric`` is cheap and a
command that needs no graph never imports numpy, networkx or scipy.
"""

from fabric._lazy import lazy_names

__version__ = "0.1.0"

_PUBLIC = {
    "exceptions": ("FabricError", "ParameterError", "FabricValidationError", "CatalogError",
                   "FabricFormatError", "InfeasibleError", "SolverTimeoutError"),
    "schema": ("SCHEMA_VERSION", "NODE_KINDS", "SWITCH_KINDS", "NETWORK_KINDS", "MEDIA",
               "NETWORK_MEDIA", "NODE_ATTRS", "EDGE_ATTRS", "MEDIUM_ENDPOINTS", "KIND_CODE",
               "MEDIUM_CODE"),
    "locality": ("gpu_nodes", "site_of", "domain_of", "domains", "domain_ids"),
    "catalog": ("Value", "Part", "Catalog", "load_catalog", "default_catalog"),
    "validate": ("validate_fabric", "validate_parts", "FabricWarning"),
    "metrics": ("fabric_summary", "per_gpu_bandwidth", "bisection_bandwidth", "oversubscription",
                "hop_histogram", "path_diversity", "bill_of_materials", "fail", "fail_links",
                "fail_switch", "fabric_metrics", "EXACT_EDGE_LIMIT"),
    "io": ("FORMATS", "atomic_write", "read_json_input", "write_json", "read_json",
           "write_graphml", "read_graphml", "write_fabric", "read_fabric"),
    "export": ("EXPORT_FORMATS", "export_fabric", "export_options"),
}
"""Submodule -> the public names it provides at package level (tests/test_package.py checks
that this matches each submodule's ``__all__``)."""

_names, __getattr__, __dir__ = lazy_names(__name__, _PUBLIC)

__all__ = ["__version__", *_names]
