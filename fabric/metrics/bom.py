"""Bill of materials, power and cost of a fabric (``bom``, ``power_w``, ``cost_usd``)."""

import math
from collections import Counter, defaultdict
from operator import methodcaller

import numpy as np

from fabric.catalog import default_catalog
from fabric.edges import EdgeTable
from fabric.exceptions import CatalogError
from fabric.schema import NETWORK_MEDIA, NODE_KINDS

__all__ = ["bill_of_materials"]

def _part_field(cat, category, key, field):
    try:
        return cat.part(category, key).field(field)
    except CatalogError:
        return None


_CATEGORY = {"gpu": "gpu", "cpu": "cpu", "nic": "nic", "nvswitch": "nvswitch", "leaf": "switch",
             "spine": "switch", "core": "switch", "wan": "switch"}


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
    parts = defaultdict(Counter)
    racks = set()
    gpus = 0
    for n, d in G.nodes(data=True):
        k = d["kind"]
        if k == "host":
            parts["system"][d["part"]] += 1
            continue
        category = _CATEGORY.get(k)
        if category is None:
            continue
        if d["part"] == "virtual":
            parts[category][d.get("chips_part", "virtual")] += d.get("chips", 1)
        else:
            parts[category][d["part"]] += 1
        if k == "gpu":
            gpus += 1
            if d.get("rack") is not None and G.nodes[d["host"]]["part"].endswith("-tray"):
                racks.add((d.get("site"), d["rack"]))
    cables, optics, tiers = Counter(), Counter(), Counter()
    t = table if table is not None else EdgeTable(G)
    rank = {"nic": 0, "leaf": 1, "spine": 2, "core": 3, "wan": 4}
    sel = np.flatnonzero(t.mask(*NETWORK_MEDIA))
    cab = list(map(methodcaller("get", "cable"), map(t.data.__getitem__, sel.tolist())))
    code = {c: i for i, c in enumerate(dict.fromkeys(cab))}
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
        rack_gpu = np.zeros(len(t.names), dtype=bool)
        for i, name in enumerate(t.names):
            d = G.nodes[name]
            if d["kind"] == "gpu" and (d.get("site"), d.get("rack")) in racks:
                rack_gpu[i] = True
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
