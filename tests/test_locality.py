"""fabric.locality: domain_ids against domain_of, on presets and hand-changed graphs."""

import random

import numpy as np
import pytest

import topologies
from fabric.locality import domain_ids, domain_of, domains, gpu_nodes

PRESETS = [
    ("dgx-h100", {}),
    ("gb200-nvl72", {}),
    ("nvl36x2", {}),
    ("fat-tree", {"k": "4"}),
    ("superpod-h100", {"sus": "2"}),
    ("superpod-gb200", {"racks": "4", "aggregate_nvswitch": "true"}),
    ("spectrum-x", {}),
    ("fairwater", {"gpus": "1000"}),
    ("superfactory", {"sites": "3", "site_gpus": "500"}),
    ("superfactory", {"site": "superpod-gb200", "site_gpus": "500",
                      "aggregate_nvswitch": "true"}),
]


def _reference(G, nodes):
    """Ids and keys numbered from domain_of, key by key, in order of first appearance."""
    number = {}
    ids = [number.setdefault(domain_of(G, n), len(number)) for n in nodes]
    return ids, list(number)


def _check(G, nodes):
    ids, keys = domain_ids(G, nodes, return_keys=True)
    ref_ids, ref_keys = _reference(G, nodes)
    assert ids.dtype == np.int64
    assert ids.tolist() == ref_ids
    assert keys == ref_keys
    assert [keys[i] for i in ids.tolist()] == list(map(domain_of, [G] * len(nodes), nodes))
    assert domain_ids(G, nodes).tolist() == ref_ids
    assert domain_ids(G, iter(nodes), attrs=[G.nodes[n] for n in nodes]).tolist() == ref_ids
    return ids, keys


@pytest.fixture(scope="module", params=PRESETS, ids=lambda p: f"{p[0]}{p[1] or ''}")
def preset(request):
    name, params = request.param
    return topologies.build_preset(name, params)


def test_domain_ids_gpus(preset):
    ids, keys = _check(preset, gpu_nodes(preset))
    # dense, numbered in order of first appearance
    assert sorted(set(ids.tolist())) == list(range(len(keys)))
    assert (np.diff(np.maximum.accumulate(ids)) <= 1).all() and ids[0] == 0
    assert keys == list(domains(preset))
    assert all(type(x) is int for k in keys for x in k)           # the builders' int keys


def test_domain_ids_mixed_kinds_and_order(preset):
    """GPUs and NICs together, in a shuffled order: the first appearance decides."""
    nodes = [n for n, k in preset.nodes(data="kind") if k in ("gpu", "nic")]
    random.Random(7).shuffle(nodes)
    _check(preset, nodes)


def test_domain_ids_key_by_key(preset):
    """Host-keyed GPUs (no ``domain``) and non-int domains take the key-by-key path: the same
    ids as domain_of."""
    G = preset.copy()
    gpus = gpu_nodes(G)
    for g in gpus[::5]:
        del G.nodes[g]["domain"]
    _check(G, gpus)
    H = preset.copy()
    for g in gpus:
        H.nodes[g]["domain"] = f"d{H.nodes[g]['domain']}"
    ids, keys = _check(H, gpus)
    assert ids.tolist() == domain_ids(preset, gpus).tolist()      # same grouping as int keys


def test_domain_ids_edge_cases():
    G = topologies.build_preset("superpod-h100", {"sus": "1"})
    ids, keys = domain_ids(G, [], return_keys=True)
    assert ids.dtype == np.int64 and ids.size == 0 and keys == []
    gpus = gpu_nodes(G)
    for g in gpus[:8]:
        G.nodes[g]["domain"] = 2**70                               # beyond int64: key by key
    _check(G, gpus)
    G.nodes[gpus[0]]["domain"] = True                              # a bool is not an int key
    _check(G, gpus)
