"""Locality: the one vocabulary for "where is this node" (site, NVLink domain, host).

Every module that groups GPUs by NVLink domain or by site asks here, so a
domain means the same thing in routing, metrics, the solvers and the exports.

A *domain key* is ``(site, domain)``: the node's ``site`` attribute (``0``
when the fabric has one site) and its ``domain`` attribute (the NVLink
domain number the builders assign). A GPU without a ``domain`` attribute
(e.g. a hand-made graph) is its host's own domain, keyed
``(site, "host:" + host)``.

Examples
--------
>>> import topologies
>>> G = topologies.build_preset("fat-tree", {"k": 4})
>>> g = gpu_nodes(G)[0]
>>> domain_of(G, g), site_of(G, g)
((0, 0), 0)
>>> len(domains(G))          # k**3/4 single-GPU hosts, each its own domain
16
"""

from itertools import compress, count, repeat
from operator import eq, itemgetter

import numpy as np

__all__ = ["gpu_nodes", "site_of", "domain_of", "domains", "domain_ids"]


def gpu_nodes(G):
    """GPU node names in topology (insertion) order.

    Examples
    --------
    >>> import topologies
    >>> len(gpu_nodes(topologies.dgx_h100_graph()))
    8
    """
    node = G._node
    return list(compress(node, map(eq, map(dict.get, node.values(), repeat("kind")),
                                   repeat("gpu"))))


def site_of(G, node):
    """The site a node belongs to (``0`` on a single-site fabric)."""
    return G.nodes[node].get("site", 0)


def _key(node, d):
    dom = d.get("domain")
    if dom is None:
        return (d.get("site", 0), f"host:{d.get('host', node)}")
    return (d.get("site", 0), dom)


def domain_of(G, node):
    """The domain key ``(site, domain)`` of a node (see the module docstring)."""
    return _key(node, G.nodes[node])


def domains(G, *, kinds=("gpu",)):
    """``{domain key: [node names]}`` of the nodes of ``kinds``, both in topology order."""
    node = G._node
    chosen = list(map(kinds.__contains__, map(itemgetter("kind"), node.values())))
    names = list(compress(node, chosen))
    keys = _keys(names, list(compress(node.values(), chosen)))
    # group at C speed: number the keys by first appearance, stable-sort the nodes by it
    number = first_appearance(keys)
    ids = np.fromiter(map(number.__getitem__, keys), np.int64, len(keys))
    grouped = list(map(names.__getitem__, np.argsort(ids, kind="stable").tolist()))
    ends = np.cumsum(np.bincount(ids, minlength=len(number))).tolist()
    return {key: grouped[lo:hi] for key, lo, hi in zip(number, [0, *ends], ends)}


def domain_ids(G, nodes):
    """Dense integer domain ids (``0..k-1``, in order of first appearance) of ``nodes``.

    The vectorized form of :func:`domain_of` for numpy code: two nodes share
    an id exactly when they share a domain key.
    """
    nodes = list(nodes)
    keys = _keys(nodes, list(map(G._node.__getitem__, nodes)))
    number = first_appearance(keys)
    return np.fromiter(map(number.__getitem__, keys), dtype=np.int64, count=len(nodes))


def _keys(names, attrs):
    """Domain keys of the nodes ``names`` with attribute dicts ``attrs``: (site, domain)
    pairs at C speed, key by key when some node is host-keyed (no ``domain``)."""
    doms = list(map(dict.get, attrs, repeat("domain")))
    if None in doms:
        return list(map(_key, names, attrs))
    return list(zip(map(dict.get, attrs, repeat("site"), repeat(0)), doms))


def first_appearance(items):
    """``{item: 0, 1, 2 ...}`` numbering the distinct ``items`` in order of first appearance
    (shared by the metrics and the collective engine; not part of ``__all__``)."""
    return dict(zip(dict.fromkeys(items), count()))
