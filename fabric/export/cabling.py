"""The cabling plan of a fabric: one CSV row per physical network link, port to port.

``fabric export --format cabling-csv`` writes :func:`write_cabling_csv`. Columns:

========== ==============================================================
a_device   the ``a_end`` of the edge (the lower tier end: NIC, then leaf...)
a_port     its port (1-based; see :mod:`fabric.ports`)
b_device   the other end
b_port     its port
cable_part the edge's ``cable`` (catalog key), empty when unknown
reach_class ``copper`` or ``optic`` (by the catalog type of the part; without a
           part: copper up to 3 m, optic beyond; empty without a length)
length_m   the edge's ``length_m`` (``%g``), empty when unknown
plane      the plane of the switch end (else of the other end), empty if none
tier       the link's tier: the higher tier of its ends (NIC 0, leaf 1, spine 2,
           core 3, WAN 4): 1 = NIC-leaf, 2 = leaf-spine, 3 = spine-core, 4 = WAN
========== ==============================================================

An edge with ``links = L`` gives ``L`` rows (port ``a_port + i`` to
``b_port + i``): a row is one port-to-port link (a twin-port 800G OSFP module
carries two such rows). Rows are sorted by the rack of ``a_device`` (devices
without a rack last), then ``a_device`` in natural name order, then
``a_port``. The output is a deterministic function of the graph.
"""

import csv

import numpy as np

__all__ = ["CABLING_COLUMNS", "cabling_rows", "write_cabling_csv", "reach_class"]

CABLING_COLUMNS = ("a_device", "a_port", "b_device", "b_port", "cable_part", "reach_class",
                   "length_m", "plane", "tier")
"""The header of the cabling CSV."""

COPPER_MAX_M = 3.0
"""Without a catalog part, links up to this length count as copper (passive DAC reach)."""

_CHUNK = 1 << 16


def reach_class(cable, length_m, catalog=None):
    """``"copper"`` or ``"optic"`` for a cable part (catalog ``type``) or, without one,
    for a length; ``""`` when neither tells.

    Examples
    --------
    >>> reach_class("dac-800g-2m", None), reach_class("osfp-800g-sr8", 20.0)
    ('copper', 'optic')
    >>> reach_class(None, 2.0), reach_class(None, 30.0), reach_class(None, None)
    ('copper', 'optic', '')
    """
    if cable:
        from fabric.catalog import default_catalog
        from fabric.exceptions import CatalogError

        catalog = catalog or default_catalog()
        try:
            typ = str(catalog.part("cable", cable).get("type", ""))
        except (CatalogError, KeyError):
            typ = ""
        if typ.startswith("copper"):
            return "copper"
        if typ:
            return "optic"          # optic_mm, optic_sm, coherent (a DWDM optic)
    if length_m is None:
        return ""
    return "copper" if length_m <= COPPER_MAX_M else "optic"


def cabling_rows(G, catalog=None):
    """Every physical network link of ``G`` as a tuple of :data:`CABLING_COLUMNS` values
    (str and int; ``""`` for unknown), in the order of the CSV.

    Port numbers come from the edges (:func:`fabric.ports.assign_ports`); a graph
    whose network edges lack them is numbered on a copy (``G`` is not modified).
    Vectorized over the edges; Python builds only the output tuples.
    """
    from itertools import repeat

    from fabric.ports import TIER_OF_KIND, _network_edges, assign_ports, natural_key

    names, index, u, v, ds = _network_edges(G)
    if not ds:
        return []
    ends = list(map(dict.get, ds, repeat("a_end")))
    if None in ends:
        H = G.copy()
        assign_ports(H)
        return cabling_rows(H, catalog)
    m = len(ds)
    attrs = [G.nodes[n] for n in names]
    tier = np.array([TIER_OF_KIND[d["kind"]] for d in attrs], np.int64)
    plane = np.array([d["plane"] if isinstance(d.get("plane"), int) else -1 for d in attrs],
                     np.int64)
    rack = np.array([d["rack"] if isinstance(d.get("rack"), int) else -1 for d in attrs],
                    np.int64)
    a = np.fromiter(map(index.__getitem__, ends), np.int64, m)
    b = np.where(a == u, v, u)
    pa = np.fromiter(map(dict.__getitem__, ds, repeat("a_port")), np.int64, m)
    pb = np.fromiter(map(dict.__getitem__, ds, repeat("b_port")), np.int64, m)
    lk = np.fromiter(map(dict.__getitem__, ds, repeat("links")), np.int64, m)
    hi = np.where(tier[b] >= tier[a], b, a)
    lo = np.where(tier[b] >= tier[a], a, b)
    plane_e = np.where(plane[hi] >= 0, plane[hi], plane[lo])
    tier_e = np.maximum(tier[a], tier[b])
    cables = list(map(dict.get, ds, repeat("cable")))
    lengths = list(map(dict.get, ds, repeat("length_m")))
    kinds = {}
    for key in set(zip(cables, lengths)):
        cable, length = key
        kinds[key] = (cable or "", reach_class(cable, length, catalog),
                      "" if length is None else f"{length:g}")
    extra = list(map(kinds.__getitem__, zip(cables, lengths)))
    rank = np.empty(len(names), np.int64)
    rank[sorted(range(len(names)), key=lambda i: natural_key(names[i]))] = np.arange(len(names))
    rack_key = np.where(rack < 0, np.iinfo(np.int64).max, rack)
    e = np.repeat(np.arange(m), lk)
    offset = np.arange(len(e)) - np.repeat(np.cumsum(lk) - lk, lk)
    ae, be = a[e], b[e]
    port_a, port_b = pa[e] + offset, pb[e] + offset
    order = np.lexsort((port_a, rank[ae], rack_key[ae]))
    planes = ["" if x < 0 else x for x in plane_e.tolist()]
    tiers = tier_e.tolist()
    return [(names[x], p, names[y], q, *extra[k], planes[k], tiers[k]) for x, p, y, q, k in
            zip(ae[order].tolist(), port_a[order].tolist(), be[order].tolist(),
                port_b[order].tolist(), e[order].tolist())]


def write_cabling_csv(G, path, catalog=None):
    """Write the cabling plan of ``G`` to ``path`` as CSV (atomically; see the module).

    Examples
    --------
    >>> import os, tempfile, topologies
    >>> path = os.path.join(tempfile.mkdtemp(), "cables.csv")
    >>> write_cabling_csv(topologies.build_preset("fat-tree", {"k": 4}), path)
    >>> lines = open(path).read().splitlines()
    >>> lines[0]
    'a_device,a_port,b_device,b_port,cable_part,reach_class,length_m,plane,tier'
    >>> lines[1]
    'h0-nic,1,p0-leaf0,1,osfp-800g-sr8,optic,20,0,1'
    >>> len(lines) - 1
    48
    """
    from fabric.io import atomic_write

    rows = cabling_rows(G, catalog)             # before opening: no partial file on error
    with atomic_write(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CABLING_COLUMNS)
        for i in range(0, len(rows), _CHUNK):
            w.writerows(rows[i:i + _CHUNK])
