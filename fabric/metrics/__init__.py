"""Fabric metrics: what ``fabric info`` reports.

Modules: :mod:`~fabric.metrics.counts` (node/link counts, per-GPU
bandwidths), :mod:`~fabric.metrics.bisection` (bisection bandwidth,
oversubscription per tier), :mod:`~fabric.metrics.paths` (hop histogram,
ECMP path diversity), :mod:`~fabric.metrics.bom` (bill of materials, power,
cost) and :mod:`~fabric.metrics.failures` (fabrics with failed links or
switches). :func:`fabric_metrics` composes them over one shared
:class:`~fabric.edges.EdgeTable`.
"""

from fabric._gc import gc_paused
from fabric.edges import EdgeTable
from fabric.metrics.bisection import EXACT_EDGE_LIMIT, bisection_bandwidth, oversubscription
from fabric.metrics.bom import bill_of_materials
from fabric.metrics.counts import fabric_summary, per_gpu_bandwidth
from fabric.metrics.failures import fail, fail_links, fail_switch
from fabric.metrics.paths import _data_csr, hop_histogram, path_diversity

__all__ = ["fabric_summary", "per_gpu_bandwidth", "bisection_bandwidth", "oversubscription",
           "hop_histogram", "path_diversity", "bill_of_materials", "fail", "fail_links",
           "fail_switch", "fabric_metrics", "EXACT_EDGE_LIMIT"]


def fabric_metrics(G, *, catalog=None, sources=16, seed=0, bisection="auto", table=None):
    """Everything ``fabric info`` reports: the summary counts plus the metrics (module notes).

    ``table`` is a prebuilt :class:`fabric.edges.EdgeTable` of ``G`` (built when omitted), so a
    caller that also routes on ``G`` builds the arc arrays once.

    Returns
    -------
    dict
        The keys of :func:`fabric_summary`, and ``bisection_gbps``, ``bisection`` (details), ``oversubscription``,
        ``diameter_hops`` (``max`` and ``histogram``), ``ecmp_paths``, ``bom``,
        ``power_w``, ``cost_usd``.
    """
    with gc_paused():
        return _metrics(G, catalog, sources, seed, bisection, table)


def _metrics(G, catalog, sources, seed, bisection, table):
    t = table if table is not None else EdgeTable(G)
    out = fabric_summary(G, table=t)
    bis = bisection_bandwidth(G, method=bisection, table=t)
    csr = _data_csr(G, t)
    hops = hop_histogram(G, sources=sources, seed=seed, _csr=csr)
    bom = bill_of_materials(G, catalog=catalog, table=t)
    out.update({
        "bisection_gbps": bis["bisection_gbps"],
        "bisection": bis,
        "oversubscription": oversubscription(G, table=t),
        "diameter_hops": {"max": hops["diameter_hops"], "histogram": hops["histogram"],
                          "sources": hops["sources"], "exact": hops["exact"]},
        "ecmp_paths": path_diversity(G, _csr=csr),
        "bom": {k: bom[k] for k in ("parts", "cables", "optics", "links_by_tier")},
        "power_w": bom["power_w"],
        "cost_usd": bom["cost_usd"],
    })
    return out
