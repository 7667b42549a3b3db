"""Slurm topology files: ``topology.conf`` (tree or block plugin) and ``topology.yaml``.

* :func:`slurm_topology_tree`: ``topology/tree``, one ``SwitchName=`` per switch
  group of :func:`fabric.export.hierarchy.network_tree`.
* :func:`slurm_topology_block`: ``topology/block`` (Slurm >= 23.11), one block
  per NVLink domain.
* :func:`slurm_topology_yaml`: ``topology.yaml`` (Slurm >= 25.05) holding both.

Each returns the file's text; :func:`fabric.export.export` writes it
(formats ``slurm-tree``, ``slurm-block``, ``slurm-yaml``). Host names come
from :func:`fabric.export.hosts.host_names`.
"""

from fabric.exceptions import ParameterError
from fabric.export.hierarchy import network_tree, nvlink_blocks
from fabric.export.hosts import (
    DEFAULT_HOSTNAME_PATTERN,
    compress_hostlist,
    file_header,
    yaml_quote,
)

__all__ = ["slurm_topology_tree", "slurm_topology_block",
           "slurm_topology_yaml"]


def slurm_topology_tree(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Slurm ``topology.conf`` text for the ``topology/tree`` plugin.

    One ``SwitchName=`` line per switch group of :func:`~fabric.export.hierarchy.network_tree`, with
    ``Nodes=`` (compressed host lists) on the lowest tier and ``Switches=``
    above, and ``LinkSpeed=`` the members' port rate in Gb/s (Slurm does not
    use it for scheduling). Set ``TopologyPlugin=topology/tree`` in slurm.conf.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`.

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_tree(topologies.build_preset("superpod-h100"))
    >>> [line for line in text.splitlines() if line.startswith("SwitchName")]
    ['SwitchName=leaf-g0 Nodes=node[0001-0031] LinkSpeed=400', 'SwitchName=spine-g0 Switches=leaf-g0 LinkSpeed=400']
    """
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    lines = [*file_header(G, "Slurm topology.conf (topology/tree), plane-0 network"),
             "# a group of interchangeable switches is one SwitchName; its members are listed",
             ""]
    for s in tree:
        if len(s["members"]) > 1:
            lines.append(f"# {s['name']}: {len(s['members'])} {s['kind']} switches "
                         f"{compress_hostlist(s['members'])}")
        elif s["kind"] == "nvlink":
            lines.append(f"# {s['name']}: the NVLink switch system of one NVLink domain")
        parts = [f"SwitchName={s['name']}"]
        if s["hosts"]:
            parts.append(f"Nodes={compress_hostlist(s['hosts'])}")
        if s["switches"]:
            parts.append(f"Switches={compress_hostlist(s['switches'])}")
        if s["link_gbps"]:
            parts.append(f"LinkSpeed={s['link_gbps']:.0f}")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def _block_sizes(blocks):
    base = min(len(h) for _, h in blocks)
    total = sum(len(h) for _, h in blocks)
    sizes = [base]
    while sizes[-1] * 2 <= total and len(sizes) < 16:
        sizes.append(sizes[-1] * 2)
    return sizes


def slurm_topology_block(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN):
    """Slurm ``topology.conf`` text for the ``topology/block`` plugin (Slurm >= 23.11).

    One ``BlockName=`` per NVLink domain (:func:`nvlink_blocks`), then
    ``BlockSizes=`` the smallest block's host count and its power-of-two
    multiples up to the host count (Slurm's rule: each size a power of two
    times the one before). Blocks are listed in network order, since Slurm
    aggregates consecutive blocks into the larger sizes.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`.

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.
    ParameterError
        When ``hostname_pattern`` is invalid.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_block(topologies.build_preset("superpod-gb200", {"racks": "2"}))
    >>> print(text.split("\\n", 3)[3])
    BlockName=nvl0 Nodes=node[0001-0018]
    BlockName=nvl1 Nodes=node[0019-0036]
    BlockSizes=18,36
    <BLANKLINE>
    """
    blocks = nvlink_blocks(G, hostname_pattern=hostname_pattern)
    lines = file_header(G, "Slurm topology.conf (topology/block), one block per NVLink domain")
    for name, hosts in blocks:
        lines.append(f"BlockName={name} Nodes={compress_hostlist(hosts)}")
    lines.append(f"BlockSizes={','.join(map(str, _block_sizes(blocks)))}")
    return "\n".join(lines) + "\n"


def slurm_topology_yaml(G, *, hostname_pattern=DEFAULT_HOSTNAME_PATTERN, default="tree"):
    """Slurm ``topology.yaml`` (Slurm >= 25.05) holding the tree and the block topology.

    Parameters
    ----------
    G
        A fabric graph with hosts.
    hostname_pattern
        See :func:`fabric.export.hosts.host_names`.
    default
        ``"tree"`` or ``"block"``: which topology is ``cluster_default``.

    Returns
    -------
    str
        YAML: a list of two topologies, ``tree`` and ``block``.

    Raises
    ------
    ParameterError
        When ``default`` is neither, or ``hostname_pattern`` is invalid.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> text = slurm_topology_yaml(topologies.build_preset("gb200-nvl72"))
    >>> [line.strip() for line in text.splitlines() if line.lstrip().startswith("- ")][:4]
    ['- topology: tree', '- switch: nvl-d0', '- topology: block', '- 18']
    """
    if default not in ("tree", "block"):
        msg = f"`default` must be 'tree' or 'block', got {default!r}"
        raise ParameterError(msg)
    tree = network_tree(G, hostname_pattern=hostname_pattern)
    blocks = nvlink_blocks(G, hostname_pattern=hostname_pattern)
    lines = [*file_header(G, "Slurm topology.yaml (tree and block)")]
    lines += ["- topology: tree", f"  cluster_default: {str(default == 'tree').lower()}",
              "  tree:", "    switches:"]
    for s in tree:
        lines.append(f"      - switch: {s['name']}")
        if s["switches"]:
            lines.append(f"        children: {yaml_quote(compress_hostlist(s['switches']))}")
        if s["hosts"]:
            lines.append(f"        nodes: {yaml_quote(compress_hostlist(s['hosts']))}")
    lines += ["- topology: block", f"  cluster_default: {str(default == 'block').lower()}",
              "  block:", "    block_sizes:"]
    lines += [f"      - {n}" for n in _block_sizes(blocks)]
    lines.append("    blocks:")
    for name, hosts in blocks:
        lines.append(f"      - block: {name}")
        lines.append(f"        nodes: {yaml_quote(compress_hostlist(hosts))}")
    return "\n".join(lines) + "\n"

