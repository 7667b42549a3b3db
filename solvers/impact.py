"""What the differences between a built fabric and its design cost (``fabric diff --impact``).

:func:`diff_impact` takes a design and the result of
:func:`fabric.discovery.diff.diff_fabrics`, applies the link-level differences to a copy of
the design (:func:`~fabric.discovery.diff.apply_as_built`: missing links removed, degraded
links at their measured rate, moved cables moved) and compares, on the design and on that
as-built graph:

* the **bisection bandwidth** (:func:`~fabric.discovery.diff.bisection_impact`);
* an **allreduce over all GPUs of each group of NVLink domains a difference touches**
  (:func:`~fabric.discovery.diff.touched_domains`, grouped by
  :func:`~fabric.discovery.diff.domain_groups`: each domain a NIC's difference touches
  with one untouched neighbour; all the domains under a switch whose uplink differs),
  priced by :class:`solvers.collectives.CollectiveModel` at large sizes with
  the algorithm forced to ``ring`` by default, whose domain-to-domain hops cross the NICs,
  so that a slower or missing NIC link shows. The loss is what the model gives: a ring
  whose busiest link stays an NVLink one (e.g. an NVL72 rack with half-speed NICs, where
  the ring's 32 channels cross on 32 of the 72 NICs) loses nothing.
"""

from dataclasses import asdict, dataclass

__all__ = ["IMPACT_SIZES", "DiffImpact", "GroupImpact", "diff_impact"]

IMPACT_SIZES = (2**30, 16 * 2**30)
"""Allreduce sizes (bytes) :func:`diff_impact` prices: 1 GiB and 16 GiB."""


@dataclass(frozen=True)
class GroupImpact:
    """One allreduce on one group of NVLink domains, on the design and as built."""

    group: str                  # the domains, e.g. "0+1", "0-30" (diff.domain_label)
    domains: tuple              # the domain keys (site, domain)
    touched: tuple              # those of them a difference touches
    gpus: int
    algo: str
    size_bytes: int
    design_busbw_GBps: float
    as_built_busbw_GBps: float  # None when the as-built run cannot be priced (see note)
    loss_GBps: float            # design - as built (negative: a gain); None as above
    loss_pct: float             # of the design's busbw; None as above
    bottleneck: str             # the as-built run's busiest link
    note: str = ""              # why the as-built run could not be priced, if so


@dataclass(frozen=True)
class DiffImpact:
    """Bisection and per-group allreduce, design against as built."""

    design_gbps: float          # bisection, Gb/s per direction
    as_built_gbps: float
    method: str
    change: float               # relative change of the bisection
    touched_domains: tuple
    allreduce: tuple            # of GroupImpact, by group then size

    def as_dict(self):
        """Plain JSON-ready values (the ``impact`` of ``fabric diff --json``)."""
        d = asdict(self)
        d["touched_domains"] = [list(k) for k in self.touched_domains]
        for row in d["allreduce"]:
            row["domains"] = [list(k) for k in row["domains"]]
            row["touched"] = [list(k) for k in row["touched"]]
        return d


def diff_impact(design, result, *, sizes=IMPACT_SIZES, algo="ring", catalog=None):
    """The cost of the differences of ``result`` (from
    :func:`~fabric.discovery.diff.diff_fabrics` of ``design`` and a built fabric).

    Parameters
    ----------
    design : networkx.Graph
        The designed fabric (with its GPUs).
    result : dict
        :func:`~fabric.discovery.diff.diff_fabrics`'s result.
    sizes : sequence of int
        Allreduce sizes in bytes (default :data:`IMPACT_SIZES`).
    algo : str
        The allreduce algorithm, forced on both graphs (default ``ring``).

    Returns
    -------
    DiffImpact
        An as-built run the model cannot price (a GPU whose NIC lost its only link has
        no route: the model does not fail over to another NIC as NCCL may) has
        ``as_built_busbw_GBps``, ``loss_GBps`` and ``loss_pct`` None and a ``note``.
    """
    from fabric.discovery.diff import (
        apply_as_built,
        bisection_impact,
        domain_groups,
        domain_label,
        touched_domains,
    )
    from fabric.exceptions import FabricError
    from fabric.locality import domains
    from solvers.collectives import CollectiveModel
    from solvers.routing import Router

    after = apply_as_built(design, result)
    bis = bisection_impact(design, after)
    touched = touched_domains(design, result)
    groups = domain_groups(design, result)
    rows = []
    if groups:
        gpus_of = domains(design)
        hit = set(touched)
        r0, r1 = Router(design), None
        for group in groups:
            ranks = [g for k in group for g in gpus_of[k]]
            label = domain_label(group)
            base = {"group": label, "domains": tuple(group),
                    "touched": tuple(k for k in group if k in hit), "gpus": len(ranks),
                    "algo": algo}
            if len(ranks) < 2:
                continue
            want = CollectiveModel(design, ranks=ranks, router=r0,
                                   catalog=catalog).sweep("allreduce", list(sizes), algo=algo)
            note = ""
            try:
                r1 = r1 or Router(after)
                got = CollectiveModel(after, ranks=ranks, router=r1,
                                      catalog=catalog).sweep("allreduce", list(sizes), algo=algo)
            except (FabricError, ValueError, KeyError, IndexError) as exc:
                got, note = None, f"not priced as built: {str(exc).split(';')[0]}"
            for i, w in enumerate(want):
                b0 = w.busbw_GBps
                b1 = got[i].busbw_GBps if got else None
                loss = b0 - b1 if got else None
                rows.append(GroupImpact(**base, size_bytes=int(w.size_bytes),
                                        design_busbw_GBps=b0, as_built_busbw_GBps=b1,
                                        loss_GBps=loss,
                                        loss_pct=(100.0 * loss / b0 if b0 else 0.0) if got
                                        else None,
                                        bottleneck=got[i].bottleneck if got else "", note=note))
    return DiffImpact(design_gbps=bis["design_gbps"], as_built_gbps=bis["as_built_gbps"],
                      method=bis["method"], change=bis["change"], touched_domains=tuple(touched),
                      allreduce=tuple(rows))
