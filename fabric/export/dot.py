"""Graphviz DOT export: nodes clustered by site, pod, rack and host, edges coloured by medium.

:func:`write_dot` writes the file (format ``dot`` of :func:`fabric.export.export`
and of :func:`fabric.io.write_fabric`); render it with Graphviz
(``dot -Tsvg f.dot -o f.svg``). There is no DOT reader.
"""

from collections import defaultdict

from fabric.io import atomic_write

__all__ = ["DOT_COLORS", "write_dot"]


def _dot_id(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(*lines):
    return '"' + "\\n".join(x.replace("\\", "").replace('"', "'") for x in lines) + '"'


DOT_COLORS = {"nvlink": "#76b900", "c2c": "#8a2be2", "pcie": "#999999",
              "infiniband": "#1f77b4", "ethernet": "#ff7f0e", "wan": "#d62728"}
"""Edge colour per link medium (black for others)."""


def write_dot(G, path):
    """Write ``G`` as Graphviz DOT, grouping nodes in clusters by site, rack, pod and host.

    Nodes that have a ``host`` go in that host's cluster, inside their rack's
    cluster, inside their site's; switches of a rack (NVLink chips) go in the
    rack cluster; scale-out switches of a pod (leaves and spines of a
    scalable unit) go in a pod cluster inside their site's. Edges are
    coloured by medium (:data:`DOT_COLORS`) and labelled with their rate.

    Parameters
    ----------
    G
        A fabric graph; not modified.
    path
        The file to write (a temporary file renamed into place when complete).

    Raises
    ------
    FabricError
        When the file cannot be written.

    Examples
    --------
    >>> import tempfile, os, topologies
    >>> path = os.path.join(tempfile.mkdtemp(), "f.dot")
    >>> write_dot(topologies.dgx_h100_graph(), path)
    >>> open(path).read().count('subgraph "cluster_')
    2
    """
    tree = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for n, d in G.nodes(data=True):
        site = d.get("site")
        rack = d.get("rack")
        if rack is None and d.get("pod") is not None:
            rack = ("pod", d["pod"])
        host = d.get("host")
        tree[site][rack][host].append((n, d))
    lines = [f"graph {_dot_id(G.graph.get('builder', 'fabric'))} {{",
             "  graph [compound=true, fontname=Helvetica, rankdir=BT];",
             "  node [fontname=Helvetica, fontsize=10, shape=box, style=rounded];",
             "  edge [fontname=Helvetica, fontsize=8];"]
    shapes = {"gpu": "box", "nvswitch": "hexagon", "nic": "ellipse", "cpu": "box3d",
              "host": "folder", "leaf": "hexagon", "spine": "hexagon", "core": "hexagon",
              "wan": "doubleoctagon"}

    def emit_node(n, d, indent):
        label = _dot_label(str(n), f"{d.get('kind')} {d.get('part')}")
        lines.append(f"{indent}{_dot_id(n)} [label={label}, "
                     f"shape={shapes.get(d.get('kind'), 'box')}];")

    def open_cluster(name, label, indent):
        """Open subgraph ``cluster_<name>`` labelled ``label``; return its members' indent."""
        lines.append(f"{indent}subgraph {_dot_id(f'cluster_{name}')} {{")
        lines.append(f"{indent}  label={_dot_id(label)};")
        return indent + "  "

    for site, racks in tree.items():
        indent = "  "
        if site is not None:
            indent = open_cluster(f"site_{site}", f"site {site}", indent)
        for rack, hosts in racks.items():
            rindent = indent
            if isinstance(rack, tuple):
                rindent = open_cluster(f"pod_{site}_{rack[1]}", f"pod {rack[1]}", rindent)
            elif rack is not None:
                rindent = open_cluster(f"rack_{site}_{rack}", f"rack {rack}", rindent)
            for host, members in hosts.items():
                hindent = rindent
                if host is not None:
                    hindent = open_cluster(f"host_{host}", host, hindent)
                for n, d in members:
                    emit_node(n, d, hindent)
                if host is not None:
                    lines.append(f"{rindent}}}")
            if rack is not None:
                lines.append(f"{indent}}}")
        if site is not None:
            lines.append("  }")
    for u, v, d in G.edges(data=True):
        medium = d.get("medium")
        label = f"{d.get('links')}x {d.get('bandwidth_gbps', 0):g}G"
        lines.append(f"  {_dot_id(u)} -- {_dot_id(v)} [color={_dot_id(DOT_COLORS.get(medium, 'black'))}, "
                     f"label={_dot_id(label)}];")
    lines.append("}")
    with atomic_write(path) as fh:
        fh.write("\n".join(lines))
        fh.write("\n")
