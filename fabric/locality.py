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
    ids, keys = domain_ids(G, names, attrs=list(compress(node.values(), chosen)),
                           return_keys=True)
    # group at C speed: stable-sort the nodes by their domain id
    grouped = list(map(names.__getitem__, np.argsort(ids, kind="stable").tolist()))
    ends = np.cumsum(np.bincount(ids, minlength=len(keys))).tolist()
    return {key: grouped[lo:hi] for key, lo, hi in zip(keys, [0, *ends], ends)}


def domain_ids(G, nodes, *, attrs=None, return_keys=False):
    """Dense integer domain ids of ``nodes``: ``0..k-1`` in order of first appearance.

    The vectorized form of :func:`domain_of` for numpy code: two nodes share an id
    exactly when they share a domain key, and the ids number the keys as they first
    appear in ``nodes`` (so the same nodes in the same order always get the same ids).

    Parameters
    ----------
    G : networkx.Graph
    nodes : iterable
        Node names of ``G``.
    attrs : list of dict, optional
        The attribute dicts of ``nodes`` (``G.nodes[n]`` of each, in the same order), when
        the caller holds them already; by default read from ``G``.
    return_keys : bool
        Also return the domain key of each id.

    Returns
    -------
    ids : numpy.ndarray
        One ``int64`` id per node.
    keys : list of tuple
        Only with ``return_keys``: ``keys[i]`` is the domain key (:func:`domain_of`) of id ``i``.

    Notes
    -----
    When every node's ``site`` and ``domain`` is an int (as the builders set them), the
    keys are numbered by numpy, without a tuple per node; otherwise key by key. Both give
    the same ids and keys.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superpod-h100", {"sus": "1"})
    >>> gpus = gpu_nodes(G)
    >>> ids, keys = domain_ids(G, gpus, return_keys=True)
    >>> len(gpus), len(keys), int(ids.max()) + 1   # 31 DGX H100 of 8 GPUs
    (248, 31, 31)
    >>> keys[ids[9]] == domain_of(G, gpus[9])
    True
    """
    if attrs is None:
        nodes = list(nodes)
        attrs = list(map(G._node.__getitem__, nodes))
    numbered = _int_numbered(attrs) if attrs else None
    if numbered is not None:              # the names are not needed: not listed
        return numbered if return_keys else numbered[0]
    keys = _keys(list(nodes), attrs)
    number = first_appearance(keys)
    ids = np.fromiter(map(number.__getitem__, keys), dtype=np.int64, count=len(keys))
    return (ids, list(number)) if return_keys else ids


def _int_numbered(attrs):
    """``(ids, keys)`` of :func:`domain_ids` by numpy when every ``site`` and ``domain`` of
    the attribute dicts ``attrs`` is an int (fitting int64), else None."""
    doms = list(map(dict.get, attrs, repeat("domain")))
    sites = list(map(dict.get, attrs, repeat("site"), repeat(0)))
    if set(map(type, doms)) | set(map(type, sites)) != {int}:
        return None
    try:
        d = np.fromiter(doms, np.int64, len(doms))
        s = np.fromiter(sites, np.int64, len(sites))
    except OverflowError:
        return None
    # (site, domain) pairs as one code each: each column ranked, then combined
    d_vals, d = np.unique(d, return_inverse=True)
    s_vals, s = np.unique(s, return_inverse=True)
    codes, first, inv = np.unique(s.reshape(-1) * len(d_vals) + d.reshape(-1),
                                  return_index=True, return_inverse=True)
    # the codes numbered by first appearance
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(first), np.int64)
    rank[order] = np.arange(len(first))
    codes = codes[order]
    keys = list(zip(s_vals[codes // len(d_vals)].tolist(), d_vals[codes % len(d_vals)].tolist()))
    return rank[inv.reshape(-1)], keys


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
