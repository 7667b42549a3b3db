"""Kubernetes exports: node labels (YAML, script) and a Kueue Topology that nest."""

import re

import pytest

import topologies
from fabric.exceptions import ParameterError
from fabric.export import kubernetes
from fabric.export.hosts import host_names


def test_k8s_labels_and_kueue_nest():
    G = topologies.build_preset("superfactory", {"site_gpus": "1152"})
    labels = kubernetes.k8s_node_labels(G)
    assert len(labels) == len(host_names(G))
    kueue = kubernetes.kueue_topology(G)
    levels = re.findall(r"nodeLabel: (\S+)", kueue)
    assert levels[-1] == "kubernetes.io/hostname"
    assert levels[0] == "network.topology.nvidia.com/datacenter"
    assert "network.topology.nvidia.com/accelerator" in levels
    for outer, inner in zip(levels[:-2], levels[1:-1]):   # each level nests in the one above
        parent = {}
        for kv in labels.values():
            assert parent.setdefault(kv[inner], kv[outer]) == kv[outer]
    for kv in labels.values():
        for v in kv.values():
            assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?", v)
    text = kubernetes.k8s_labels_yaml(G)
    assert text.count("kind: Node") == len(labels)
    assert "apiVersion: kueue.x-k8s.io/v1beta2" in kueue
    with pytest.raises(ParameterError, match="api_version"):
        kubernetes.kueue_topology(G, api_version="v2")
