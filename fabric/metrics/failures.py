"""Failures: copies of a fabric with links or switches failed (``fabric info --fail``)."""

import math
import random

from fabric.exceptions import ParameterError
from fabric.schema import NETWORK_KINDS, NETWORK_MEDIA

__all__ = ["fail_links", "fail_switch", "fail"]

def fail_links(G, fraction, *, seed=0, media=NETWORK_MEDIA):
    """Copy of ``G`` with a seeded random ``fraction`` of its physical network links failed.

    Each edge loses the failed share of its ``links`` (and bandwidth); edges
    left with no link are removed.

    Raises
    ------
    ParameterError
        When ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> import topologies
    >>> G = topologies.fat_tree_graph(4)
    >>> H = fail_links(G, 0.5, seed=1)
    >>> sum(d["links"] for *_, d in H.edges(data=True) if d["medium"] == "infiniband")
    24
    """
    if not 0 <= fraction <= 1:
        msg = f"`fraction` of failed links must be between 0 and 1, got {fraction}"
        raise ParameterError(msg)
    H = G.copy()
    pool = []
    for u, v, d in H.edges(data=True):
        if d["medium"] in media:
            pool.extend([(u, v)] * d["links"])
    rng = random.Random(seed)
    k = round(fraction * len(pool))
    for u, v in rng.sample(pool, k):
        d = H[u][v]
        per = d["bandwidth_gbps"] / d["links"]
        d["links"] -= 1
        d["bandwidth_gbps"] = float(per * d["links"])
    for u, v in [(u, v) for u, v, d in H.edges(data=True) if d["links"] == 0]:
        H.remove_edge(u, v)
    H.graph["notes"] = [*H.graph.get("notes", []),
                        f"failed {k:,} of {len(pool):,} network links (seed {seed})"]
    return H


def fail_switch(G, name=None, *, kind="spine", seed=0):
    """Copy of ``G`` with one switch removed: ``name``, or a seeded random switch of ``kind``.

    Raises
    ------
    ParameterError
        When the named node is not a switch, or the fabric has no switch of ``kind``.
    """
    if name is None:
        pool = [n for n, k in G.nodes(data="kind") if k == kind]
        if not pool:
            present = sorted({k for _, k in G.nodes(data="kind")
                              if k in ("nvswitch", *NETWORK_KINDS)})
            msg = (f"the fabric has no `{kind}` switch to fail; its switch kinds: "
                   f"{', '.join(present) or 'none'}")
            raise ParameterError(msg)
        name = random.Random(seed).choice(pool)
    elif name not in G or G.nodes[name]["kind"] not in ("nvswitch", *NETWORK_KINDS):
        msg = f"`{name}` is not a switch of this fabric"
        raise ParameterError(msg)
    H = G.copy()
    H.remove_node(name)
    chips = G.nodes[name].get("chips", 1)
    what = (f" (a virtual node of the aggregated form: {chips} x "
            f"{G.nodes[name].get('chips_part', 'switch')} fail together)" if chips > 1 else "")
    H.graph["notes"] = [*H.graph.get("notes", []), f"failed switch {name}{what}"]
    return H


def fail(G, spec, *, seed=0):
    """Copy of ``G`` with the failure ``spec`` applied (``fabric info --fail SPEC``).

    Parameters
    ----------
    G
        A fabric graph.
    spec : str
        ``links=FRACTION`` (a seeded random fraction of the physical network
        links, see :func:`fail_links`), ``switch=KIND`` (one seeded random
        switch of kind leaf, spine, core, nvswitch or wan) or ``switch=NAME``
        (that switch).
    seed : int
        Seed of the random choice.

    Raises
    ------
    ParameterError
        When ``spec`` is none of these forms, or its fraction is not a finite
        number in [0, 1].

    Examples
    --------
    >>> import topologies
    >>> H = fail(topologies.fat_tree_graph(4), "switch=core", seed=0)
    >>> sum(1 for _, k in H.nodes(data="kind") if k == "core")
    3
    """
    key, sep, value = str(spec).partition("=")
    if key == "links" and sep:
        try:
            fraction = float(value)
        except ValueError:
            fraction = math.nan
        if not 0 <= fraction <= 1:
            msg = f"`--fail links=F` takes a fraction between 0 and 1, got {value!r}"
            raise ParameterError(msg)
        return fail_links(G, fraction, seed=seed)
    if key == "switch" and sep and value:
        if value in ("nvswitch", *NETWORK_KINDS):
            return fail_switch(G, kind=value, seed=seed)
        return fail_switch(G, value)
    msg = (f"`--fail` takes links=FRACTION, switch=NAME or switch=leaf|spine|core|nvswitch|wan, "
           f"got {spec!r}")
    raise ParameterError(msg)
