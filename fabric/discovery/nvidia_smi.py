"""``nvidia-smi topo -m``: a host's GPUs and which NIC each one is nearest.

The matrix (one per host)::

            GPU0    GPU1    NIC0    NIC1    CPU Affinity    NUMA Affinity   GPU NUMA ID
    GPU0     X      NV18    PXB     NODE    0-55,112-167    0               N/A
    GPU1    NV18     X      NODE    PXB     0-55,112-167    0               N/A
    NIC0    PXB     NODE     X      NODE
    NIC1    NODE    PXB     NODE     X

    Legend: X = Self, SYS/NODE/PHB/PXB/PIX = PCIe paths from farthest to nearest,
    NV# = a bonded set of # NVLinks

    NIC Legend:
      NIC0: mlx5_0
      NIC1: mlx5_1

:func:`parse_topo_matrix` reads it; :func:`attach_gpus` adds a host's GPUs to a discovered
fabric: GPU ``i`` is ``<host>-gpu<i>`` (``part = "unknown"``: the matrix does not name the
model; ``nvlink_links`` = its largest ``NV#``), joined over PCIe to its nearest NIC of the
host (PIX, then PXB, PHB, NODE, SYS), else to the host's CPU node. NVLink is not modelled
(the matrix gives link counts, not their generation or rate): a note says so. With GPUs a
discovered fabric passes the strict validation every command applies to fabric files.
"""

import re

__all__ = ["parse_topo_matrix", "attach_gpus", "topo_matrix_text"]

_NEAR = ("PIX", "PXB", "PHB", "NODE", "SYS")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LEGEND = re.compile(r"^\s*(NIC\d+)\s*:\s*(\S+)\s*$")


def parse_topo_matrix(text, *, source="<text>"):
    """``{"gpus": [...], "nics": {"NIC0": "mlx5_0", ...}, "matrix": {(row, col): rel}}``.

    Raises
    ------
    FabricFormatError
        When there is no matrix header (a line naming GPU0).

    Examples
    --------
    >>> m = parse_topo_matrix("\\tGPU0\\tGPU1\\tNIC0\\tCPU Affinity\\n"
    ...     "GPU0\\t X \\tNV18\\tPXB\\t0-55\\nGPU1\\tNV18\\t X \\tSYS\\t0-55\\n"
    ...     "NIC0\\tPXB\\tSYS\\t X \\n\\nNIC Legend:\\n\\n  NIC0: mlx5_0\\n")
    >>> m["gpus"], m["nics"], m["matrix"][("GPU0", "NIC0")], m["matrix"][("GPU0", "GPU1")]
    (['GPU0', 'GPU1'], {'NIC0': 'mlx5_0'}, 'PXB', 'NV18')
    """
    from fabric.exceptions import FabricFormatError

    lines = [_ANSI.sub("", ln).rstrip() for ln in text.splitlines()]
    # the header names GPU0 first; the GPU0 row follows its label with " X " (self)
    head = next((i for i, ln in enumerate(lines) if ln.split()[:1] == ["GPU0"] and
                 ln.split()[1:2] != ["X"]), None)
    if head is None:
        msg = f"`{source}` has no `nvidia-smi topo -m` matrix (a header line naming GPU0)"
        raise FabricFormatError(msg)
    cols = [c for c in lines[head].split() if re.fullmatch(r"(GPU|NIC|mlx5_)\d+", c)]
    matrix, gpus = {}, []
    for ln in lines[head + 1:]:
        cells = ln.split()
        if not cells or not re.fullmatch(r"(GPU|NIC|mlx5_)\d+", cells[0]):
            if cells and cells[0].startswith("Legend"):
                break
            continue
        row = cells[0]
        if row.startswith("GPU"):
            gpus.append(row)
        for col, rel in zip(cols, cells[1:1 + len(cols)]):
            matrix[(row, col)] = rel
    nics = {}
    for ln in lines:
        m = _LEGEND.match(ln)
        if m:
            nics[m.group(1)] = m.group(2)
    for c in cols:
        if c.startswith("mlx5_"):
            nics.setdefault(c, c)                   # old drivers name NICs in the header
    return {"gpus": gpus, "nics": nics, "matrix": matrix}


def attach_gpus(G, host, text, *, source="<text>"):
    """Add ``host``'s GPUs from its ``nvidia-smi topo -m`` text to the discovered fabric
    ``G`` (in place; see the module) and return ``G``.

    Raises
    ------
    ParameterError
        When ``G`` has no host node ``host``.
    """
    from fabric.exceptions import ParameterError

    if G.nodes.get(host, {}).get("kind") != "host":
        hosts = sorted(n for n, k in G.nodes(data="kind") if k == "host")
        msg = (f"`{source}`: no host `{host}` in the discovered fabric (name the file after "
               f"the host); hosts: {', '.join(hosts[:10])}{' ...' if len(hosts) > 10 else ''}")
        raise ParameterError(msg)
    topo = parse_topo_matrix(text, source=source)
    nic_nodes = {}
    for n, d in G.nodes(data=True):
        if d.get("kind") == "nic" and d.get("host") == host:
            nic_nodes[n] = n
            nic_nodes[n.removeprefix(f"{host}-")] = n
    cpu = next((n for n in G[host] if G.nodes[n].get("kind") == "cpu"), None)
    notes = G.graph.setdefault("notes", [])
    for g in topo["gpus"]:
        name = f"{host}-{g.lower()}"
        row = {c: r for (rw, c), r in topo["matrix"].items() if rw == g}
        nv = max((int(r[2:]) for r in row.values() if r.startswith("NV") and r[2:].isdigit()),
                 default=0)
        G.add_node(name, kind="gpu", part="unknown", host=host, nvlink_links=nv)
        best = None
        for col, rel in row.items():
            nic = nic_nodes.get(topo["nics"].get(col, col))
            if nic is not None and rel in _NEAR:
                key = (_NEAR.index(rel), nic)
                best = min(best, key) if best else key
        if best is not None:
            nic = best[1]
            bw = G.nodes[nic]["ports"] * G.nodes[nic]["port_gbps"]
            G.add_edge(name, nic, medium="pcie", links=1, bandwidth_gbps=float(bw),
                       latency_ns=0.0)
        elif cpu is not None:
            G.add_edge(name, cpu, medium="pcie", links=1, bandwidth_gbps=1.0, latency_ns=0.0)
            notes.append(f"{name}: no NIC of {host} in its matrix row; joined to {cpu}")
    note = ("nvidia-smi topo -m: GPUs joined to their nearest NIC over PCIe; NVLink not "
            "modelled (link counts kept in `nvlink_links`), GPU models unknown")
    if note not in notes:
        notes.append(note)
    for i, n in enumerate(notes):
        if n.startswith("discovery sees no GPUs"):
            notes[i] = "discovery sees GPUs only through nvidia-smi topo -m"
    return G


def topo_matrix_text(G, host):
    """An ``nvidia-smi topo -m`` matrix of ``host`` of the design ``G``: its GPUs (in
    natural order), their NVLink counts (``NV#`` between GPUs of one NVLink domain) and
    ``PIX`` to the NIC each GPU reaches over PCIe (``SYS`` to the others)."""
    from fabric.ports import natural_key

    gpus = sorted((n for n, d in G.nodes(data=True) if d["kind"] == "gpu" and
                   d.get("host") == host), key=natural_key)
    nics = sorted((n for n, d in G.nodes(data=True) if d["kind"] == "nic" and
                   d.get("host") == host), key=natural_key)
    cols = [f"GPU{i}" for i in range(len(gpus))] + [f"NIC{i}" for i in range(len(nics))]
    near = {g: {m for m in G[g] if G.nodes[m]["kind"] == "nic"} for g in gpus}
    lines = ["\t" + "\t".join(cols) + "\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID"]
    for i, g in enumerate(gpus):
        cells = []
        for j, h in enumerate(gpus):
            cells.append(" X " if i == j else f"NV{G.nodes[g]['nvlink_links']}")
        cells += ["PIX" if n in near[g] else "SYS" for n in nics]
        lines.append(f"GPU{i}\t" + "\t".join(cells) + "\t0-55\t0\t\tN/A")
    for i, n in enumerate(nics):
        cells = ["PIX" if n in near[g] else "SYS" for g in gpus]
        cells += [" X " if i == j else "SYS" for j in range(len(nics))]
        lines.append(f"NIC{i}\t" + "\t".join(cells))
    lines += ["", "Legend:", "", "  X    = Self",
              "  PIX  = Connection traversing at most a single PCIe bridge",
              "  NV#  = Connection traversing a bonded set of # NVLinks", "", "NIC Legend:", ""]
    lines += [f"  NIC{i}: {n}" for i, n in enumerate(nics)]
    return "\n".join(lines) + "\n"
