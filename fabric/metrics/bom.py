"""Bill of materials, power and cost of a fabric (``bom``, ``power_w``, ``cost_usd``)."""

import math
from collections import Counter, defaultdict
from itertools import compress, repeat
from operator import itemgetter, methodcaller

import numpy as np

from fabric.catalog import default_catalog
from fabric.edges import EdgeTable
from fabric.exceptions import CatalogError
from fabric.locality import first_appearance
from fabric.schema import NETWORK_MEDIA, NODE_KINDS

__all__ = ["bill_of_materials"]

def _part_field(cat, category, key, field):
    try:
        return cat.part(category, key).field(field)
    except CatalogError:
        return None


_CATEGORY = {"gpu": "gpu", "cpu": "cpu", "nic": "nic", "nvswitch": "nvswitch", "leaf": "switch",
             "spine": "switch", "core": "switch", "wan": "switch"}
_CATEGORIES = list(dict.fromkeys(_CATEGORY.get(k, "system" if k == "host" else None)
                                 for k in NODE_KINDS))
_CATEGORY_CODE = [_CATEGORIES.index(_CATEGORY.get(k, "system" if k == "host" else None))
                  for k in NODE_KINDS]
"""Per node kind code: its position in ``_CATEGORIES`` (``"system"`` for hosts)."""


def _parts(t):
    """Parts of the nodes of the edge table ``t``: ``(parts, gpus, racks, rack_gpu)``.

    ``parts``: category (``"system"`` for hosts) -> Counter of part -> count, both in
    order of first appearance, a virtual node counting as its ``chips`` of
    ``chips_part``; ``gpus``: the GPU count; ``racks``: the ``(site, rack)`` of the GPUs
    in compute trays (hosts whose part ends in ``-tray``); ``rack_gpu``: node mask of
    the GPUs in those racks. Columns read at C speed, counted by numpy.
    """
    attrs = t.attrs
    host_code, gpu_code = NODE_KINDS.index("host"), NODE_KINDS.index("gpu")
    part = t.column("part")
    tray = np.zeros(len(part), dtype=bool)           # hosts that are compute trays
    hosts = np.flatnonzero(t.kind == host_code)
    tray[hosts] = np.fromiter(map(methodcaller("endswith", "-tray"),
                                  map(part.__getitem__, hosts.tolist())), bool, len(hosts))
    # a virtual node counts as its `chips` of `chips_part`
    counted = np.array(part, dtype=object)
    virtual = np.flatnonzero((counted == "virtual") & (t.kind != host_code))
    at = list(map(attrs.__getitem__, virtual.tolist()))
    counted[virtual] = list(map(dict.get, at, repeat("chips_part"), repeat("virtual")))
    weight = np.ones(len(part), np.int64)
    weight[virtual] = np.fromiter(map(dict.get, at, repeat("chips"), repeat(1)), np.int64,
                                  len(at))
    del at
    # (category, part) pairs as integers, numbered in order of first appearance
    names = first_appearance(counted.tolist())
    code = (np.array(_CATEGORY_CODE)[t.kind] * len(names)
            + np.fromiter(map(names.__getitem__, counted.tolist()), np.int64, len(part)))
    uniq, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    total = np.bincount(inverse.reshape(-1), weights=weight, minlength=len(uniq))
    names = list(names)
    parts = defaultdict(Counter)
    for j in np.argsort(first, kind="stable").tolist():
        c, p = divmod(int(uniq[j]), len(names))
        if _CATEGORIES[c] is not None:
            parts[_CATEGORIES[c]][names[p]] += int(total[j])
    is_gpu = t.kind == gpu_code
    gpu_attrs = list(compress(attrs, is_gpu.tolist()))
    in_tray = tray[np.fromiter(map(t.index.__getitem__, map(itemgetter("host"), gpu_attrs)),
                               np.int64, len(gpu_attrs))].tolist()
    located = list(zip(map(dict.get, gpu_attrs, repeat("site")),
                       map(dict.get, gpu_attrs, repeat("rack"))))
    racks = {key for key, ok in zip(located, in_tray) if ok and key[1] is not None}
    rack_gpu = np.zeros(len(part), dtype=bool)
    if racks:
        rack_gpu[np.flatnonzero(is_gpu)] = np.fromiter(map(racks.__contains__, located), bool,
                                                       len(located))
    return parts, int(is_gpu.sum()), racks, rack_gpu


def bill_of_materials(G, *, catalog=None, table=None):
    """Parts, cables and optics of a fabric, with power (W) and cost (USD, estimate).

    Counting rules: a virtual (aggregated) node counts as its ``chips`` parts;
    every physical copper link is one cable; every optical link is one fiber
    and occupies its bandwidth at both ends in optics of the edge's ``cable``
    part (a twin-port 800G module serves two 400G links or eight 100G plane
    links: modules = 2 x link Gb/s / module Gb/s); the NVL72 copper spine is
    counted per NVLink link of a rack (as the catalog prices it). Power sums catalog ``power_w`` of GPUs, CPUs, NVLink switch
    chips, NICs, switches and optics; cost sums ``price_usd`` where the catalog
    has one (every price there is an estimate).

    Returns
    -------
    dict
        ``parts`` (category -> part -> count), ``cables`` (part -> count),
        ``optics`` (part -> modules, by bandwidth at both link ends),
        ``links_by_tier`` (``"nic-leaf"``, ``"leaf-spine"``... -> physical links), ``power_w`` (``total``, ``per_gpu``,
        ``by_category``), ``cost_usd`` (``total``, ``per_gpu``, ``estimate``,
        ``unpriced`` parts).

    Examples
    --------
    >>> import topologies
    >>> bom = bill_of_materials(topologies.superpod_h100_graph(1))
    >>> bom["parts"]["switch"]["QM9700"], bom["parts"]["gpu"]["H100"]
    (12, 248)
    """
    cat = catalog or default_catalog()
    t = table if table is not None else EdgeTable(G)
    parts, gpus, racks, rack_gpu = _parts(t)
    cables, optics, tiers = Counter(), Counter(), Counter()
    rank = {"nic": 0, "leaf": 1, "spine": 2, "core": 3, "wan": 4}
    sel = np.flatnonzero(t.mask(*NETWORK_MEDIA))
    cab = list(map(methodcaller("get", "cable"), map(t.data.__getitem__, sel.tolist())))
    code = first_appearance(cab)
    names_of = list(code)
    cc = np.fromiter(map(code.__getitem__, cab), np.int64, len(cab))
    nk = len(NODE_KINDS) + 1
    key = (t.kind[t.u[sel]].astype(np.int64) * nk + t.kind[t.v[sel]]) * max(len(code), 1) + cc
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=t.links[sel])
    gbps = np.bincount(inv, weights=t.bw[sel])
    by_key = {}
    for k, n_links, rate in zip(uniq.tolist(), sums.tolist(), gbps.tolist()):
        pair, c = divmod(k, max(len(code), 1))
        by_key[(pair // nk, pair % nk, names_of[c])] = (int(n_links), rate)
    module_gbps = defaultdict(float)
    for (ku, kv, c), (n_links, rate) in by_key.items():
        a, b = sorted((NODE_KINDS[ku], NODE_KINDS[kv]), key=rank.get)
        tiers[f"{a}-{b}"] += n_links
        if c is None:
            continue
        kind = _part_field(cat, "cable", c, "type")
        kind = kind.value if kind else "optic"
        if kind.startswith("copper"):
            cables[c] += n_links
        else:
            module_gbps[c] += 2 * rate                 # both ends of every link
            cables["fiber"] += n_links
    for c, total in module_gbps.items():
        cap = _part_field(cat, "cable", c, "rate_gbps")
        optics[c] += math.ceil(total / float(cap.value) - 1e-9) if cap else 0
    if racks:
        # the NVL72 copper spine is catalogued per NVLink5 link: count the rack NVLink links
        nv = t.mask("nvlink") & (rack_gpu[t.u] | rack_gpu[t.v])
        cables["nvlink-copper-spine"] += int(t.links[nv].sum())
    power = Counter()
    cost = 0.0
    unpriced = set()
    for category, counter in parts.items():
        for part, n in counter.items():
            cat_name = "system" if category == "system" else category
            if category != "system":
                p = _part_field(cat, cat_name, part, "power_w")
                if p is not None:
                    power[category] += float(p.value) * n
            price = _part_field(cat, cat_name, part, "price_usd")
            if price is not None and category != "system":
                cost += float(price.value) * n
            elif category != "system":
                unpriced.add(part)
    for part, n in optics.items():
        p = _part_field(cat, "cable", part, "power_w")
        if p is not None:
            power["optics"] += float(p.value) * n
        price = _part_field(cat, "cable", part, "price_usd")
        if price is not None:
            cost += float(price.value) * n
        else:
            unpriced.add(part)
    for part, n in cables.items():
        if part in ("fiber",):
            continue
        price = _part_field(cat, "cable", part, "price_usd")
        if price is not None:
            cost += float(price.value) * n
        else:
            unpriced.add(part)
    total = sum(power.values())
    return {
        "parts": {c: dict(sorted(v.items())) for c, v in sorted(parts.items())},
        "cables": dict(sorted(cables.items())),
        "optics": dict(sorted(optics.items())),
        "links_by_tier": dict(sorted(tiers.items(), key=lambda kv: kv[0].split("-")[0] and
                                     (rank[kv[0].split("-")[0]], kv[0]))),
        "power_w": {"total": round(total, 1), "per_gpu": round(total / max(gpus, 1), 1),
                    "by_category": {k: round(v, 1) for k, v in sorted(power.items())},
                    "note": "sum of catalog part powers (GPU TDP, CPUs, NVLink chips, NICs, "
                            "switches, optics); excludes cooling, power conversion and storage"},
        "cost_usd": {"total": round(cost), "per_gpu": round(cost / max(gpus, 1)),
                     "estimate": True, "unpriced": sorted(unpriced)},
    }
