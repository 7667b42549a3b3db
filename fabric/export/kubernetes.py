"""Kubernetes exports: node topology labels (YAML manifests or a script) and a Kueue Topology.

Labels follow NVIDIA topograph's convention (:data:`K8S_LABEL_KEYS`): the
NVLink domain (``accelerator``), the host's switch group at each tier of
:func:`fabric.export.hierarchy.network_tree` (``leaf``, ``spine``, ``core``)
and the site (``datacenter``). Each function returns the file's text;
:func:`fabric.export.export` writes it (formats ``k8s-labels``,
``k8s-script``, ``kueue-topology``). Host names come from
:func:`fabric.export.hosts.host_names`.
"""

import re

from fabric.exceptions import ParameterError
from fabric.export.hierarchy import network_tree, nvlink_blocks
from fabric.export.hosts import (
    DEFAULT_HOSTNAME_PATTERN,
    clip,
    file_header,
    host_names,
    yaml_quote,
)

__all__ = ["K8S_LABEL_KEYS", "k8s_node_labels", "k8s_labels_yaml",
           "k8s_labels_script", "kueue_topology"]

K8S_LABEL_KEYS = {
    "datacenter": "network.topology.nvidia.com/datacenter",
    "core": "network.topology.nvidia.com/core",
    "spine": "network.topology.nvidia.com/spine",
    "leaf": "network.topology.nvidia.com/leaf",
    "accelerator": "network.topology.nvidia.com/accelerator",
}
"""Kubernetes node label keys, NVIDIA topograph's defaults (outermost level first)."""

_LABELS_TITLE = "Kubernetes node topology labels (NVIDIA topograph keys)"
"""The header title of the label files (:func:`k8s_labels_yaml`, :func:`k8s_labels_script`)."""

_KUEUE_API = ("kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1", "kueue.x-k8s.io/v1alpha1")


def _label_value(s):
    s = re.sub(r"[^A-Za-z0-9._-]", "-", str(s))[:63]
    return s.strip("-._") or "x"


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _check_node_name(name, pattern):
    """Refuse a host name Kubernetes rejects as a Node name (an RFC 1123 subdomain)."""
    labels = name.split(".")
    if len(name) <= 253 and all(_DNS_LABEL.fullmatch(part) for part in labels):
        return
    msg = (f"`hostname_pattern` (--hostname-pattern) {clip(pattern)} gives {clip(name)}, which "
           f"Kubernetes rejects as a node name: it must be an RFC 1123 subdomain (lower-case "
           f"letters, digits, '-' and '.'; each dot-separated label 1-63 characters, starting "
           f"and ending with a letter or digit; at most 253 characters); use a pattern such as "
           f"'node{{index:04d}}' that gives the cluster's node names")
    raise ParameterError(msg)


def k8s_node_labels(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Topology labels per host, in NVIDIA topograph's convention.

    Keys (:data:`K8S_LABEL_KEYS`): ``.../accelerator`` the NVLink domain,
    ``.../leaf``, ``.../spine``, ``.../core`` the host's switch group at each
    tier of :func:`~fabric.export.hierarchy.network_tree`, ``.../datacenter``
    the site (multi-site fabrics). A level a host does not have is left out.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`.

    Returns
    -------
    dict
        Host name -> {label key: value}.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid, or gives a name Kubernetes
        rejects as a node name (not an RFC 1123 subdomain: lower-case letters,
        digits, '-' and '.', labels of at most 63 characters).

    Examples
    --------
    >>> import topologies
    >>> labels = k8s_node_labels(topologies.build_preset("superpod-h100"))
    >>> sorted(k.split("/")[1] for k in labels["node0001"])
    ['accelerator', 'leaf', 'spine']
    """
    names = host_names(G, pattern=hostname_pattern)
    for name in names.values():
        _check_node_name(name, hostname_pattern)
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    block_of = {h: block for block, hosts in nvlink_blocks(G, hostname_pattern=hostname_pattern)
                for h in hosts}
    by_name = {s["name"]: s for s in tree}
    level_of = {"leaf": "leaf", "spine": "spine", "core": "core"}
    out = {}
    hosts_switch = {h: s for s in tree for h in s["hosts"]}
    for h, name in names.items():
        d = G.nodes[h]
        labels = {}
        if "site" in d:
            labels[K8S_LABEL_KEYS["datacenter"]] = f"site{d['site']}"
        labels[K8S_LABEL_KEYS["accelerator"]] = _label_value(block_of[name])
        s = hosts_switch.get(name)
        while s is not None:
            level = level_of.get(s["kind"])
            if level is not None and K8S_LABEL_KEYS[level] not in labels:
                labels[K8S_LABEL_KEYS[level]] = _label_value(s["name"])
            s = by_name.get(s["parent"])
        out[name] = labels
    return out


def k8s_labels_yaml(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Node label manifests (YAML, one ``kind: Node`` document per host).

    Apply to existing nodes with ``kubectl apply --server-side
    --field-manager=fabric -f FILE`` (server-side apply merges only these
    labels), or use :func:`k8s_labels_script` for plain ``kubectl label``.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`; must match the Kubernetes node names.

    Returns
    -------
    str
        Multi-document YAML.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = k8s_labels_yaml(topologies.build_preset("gb200-nvl72"))
    >>> text.count("kind: Node"), "network.topology.nvidia.com/accelerator: nvl0" in text
    (18, True)
    """
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    lines = [*file_header(G, _LABELS_TITLE),
             "# apply: kubectl apply --server-side --field-manager=fabric -f THIS_FILE"]
    for name, kv in labels.items():
        lines += ["---", "apiVersion: v1", "kind: Node", "metadata:", f"  name: {name}",
                  "  labels:"]
        lines += [f"    {k}: {yaml_quote(v)}" for k, v in kv.items()]
    return "\n".join(lines) + "\n"


def k8s_labels_script(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """A shell script of ``kubectl label --overwrite node ...`` commands, one per host.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`; must match the Kubernetes node names.

    Returns
    -------
    str
        The script.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = k8s_labels_script(topologies.build_preset("dgx-h100"))
    >>> text.splitlines()[-1]
    'kubectl label --overwrite node node0001 network.topology.nvidia.com/accelerator=nvl0'
    """
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    lines = ["#!/bin/sh", *file_header(G, _LABELS_TITLE), "set -e"]
    for name, kv in labels.items():
        args = " ".join(f"{k}={v}" for k, v in kv.items())
        lines.append(f"kubectl label --overwrite node {name} {args}")
    return "\n".join(lines) + "\n"


def kueue_topology(G, *, name="fabric", api_version="kueue.x-k8s.io/v1beta2",
                   hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """A Kueue ``Topology`` object whose levels are the labels of :func:`k8s_node_labels`.

    Levels run outermost first (datacenter, core, spine, leaf, accelerator)
    and end with ``kubernetes.io/hostname``. Only labels every host carries
    are used, and only while each level nests inside the one above (Kueue
    requires a hierarchy): a level that would split a domain of the level
    above is left out and named in a comment.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    name
        ``metadata.name`` of the Topology (reference it from a ResourceFlavor's
        ``topologyName``).
    api_version
        ``kueue.x-k8s.io/v1beta2`` (Kueue >= 0.15), ``v1beta1`` or ``v1alpha1`` (older Kueue).
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`.

    Returns
    -------
    str
        YAML of one Topology object.

    Raises
    ------
    ParameterError
        When ``api_version`` or ``name`` is not accepted, or ``hostname_pattern`` is invalid.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> text = kueue_topology(topologies.build_preset("superpod-gb200"))
    >>> [line.split(": ")[1] for line in text.splitlines() if "nodeLabel" in line]
    ['network.topology.nvidia.com/spine', 'network.topology.nvidia.com/accelerator', 'kubernetes.io/hostname']
    """
    if api_version not in _KUEUE_API:
        msg = f"`api_version` must be one of {', '.join(_KUEUE_API)}, got {api_version!r}"
        raise ParameterError(msg)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
        msg = f"`name` must be a DNS subdomain name (lower case, digits, '-', '.'), got {name!r}"
        raise ParameterError(msg)
    labels = k8s_node_labels(G, hostname_pattern=hostname_pattern)
    def nests(inner, outer):
        parent = {}
        return all(parent.setdefault(kv[inner], kv[outer]) == kv[outer]
                   for kv in labels.values())

    present = {k for k in K8S_LABEL_KEYS.values() if all(k in kv for kv in labels.values())}
    levels = []
    for key in (K8S_LABEL_KEYS[k] for k in ("datacenter", "core", "spine")):
        if key in present and (not levels or nests(key, levels[-1])):
            levels.append(key)
    # The NVLink domain (accelerator) and the leaf need not nest either way (rails cross
    # racks); the NVLink domain wins when only one of them can stay.
    leaf, acc = K8S_LABEL_KEYS["leaf"], K8S_LABEL_KEYS["accelerator"]
    choices = [(leaf, acc), (acc, leaf), (acc,), (leaf,), ()]
    for tail in choices:
        chain = [*levels, *tail]
        if all(k in present for k in tail) and all(
                nests(chain[i + 1], chain[i]) for i in range(len(levels) - 1 if levels else 0,
                                                             len(chain) - 1)):
            levels = chain
            break
    dropped = [k for k in (leaf, acc) if k in present and k not in levels]
    lines = file_header(G, "Kueue Topology (topology-aware scheduling)")
    for key in dropped:
        lines.append(f"# left out {key}: its domains do not nest with the other levels")
    lines += [f"apiVersion: {api_version}", "kind: Topology", "metadata:", f"  name: {name}",
              "spec:", "  levels:"]
    lines += [f"    - nodeLabel: {k}" for k in [*levels, "kubernetes.io/hostname"]]
    return "\n".join(lines) + "\n"

