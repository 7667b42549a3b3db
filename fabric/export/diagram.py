"""Diagrams of a fabric with matplotlib: a one-page summary, or one NVLink domain chip by chip.

The **summary** draws tiers as rows (compute at the bottom, then leaf,
spine, core and WAN at the top) and sites as labelled columns. Repeated
units collapse into one box with a count ("1,389 x GB200 NVL72"): each box
stands for every NVLink domain of one system type, or every switch of one
kind and part, in a site. Links between boxes are aggregated, coloured by
medium and labelled with their count, per-link rate and total bandwidth.
Its cost is one pass over the edges, so a 100k-GPU fabric draws in seconds.

The **rack** detail draws one NVLink domain: its hosts (trays or servers) as
labelled groups of GPU and CPU chips, the NICs, the NVLink switch chips and
every link between them, plus a box for the scale-out switches the NICs
reach.

Text stays text in SVG (``svg.fonttype = "none"``) so labels can be found
and searched. matplotlib is imported on first use only. NVLink domains are
the domain keys of :mod:`fabric.locality`.

:func:`fabric_diagram` returns the matplotlib Figure; :func:`draw_fabric`
writes it (formats ``svg`` and ``png`` of :func:`fabric.export.export`).
"""

from collections import Counter, defaultdict
from pathlib import Path

from fabric.exceptions import FabricError, FabricFormatError, ParameterError
from fabric.export import DIAGRAM_FORMATS
from fabric.io import atomic_write
from fabric.locality import domain_of, domains

__all__ = ["DETAILS", "MEDIUM_COLORS", "fabric_diagram", "draw_fabric"]

DETAILS = ("auto", "summary", "rack")
"""Diagram kinds: ``auto`` draws ``rack`` for a single NVLink domain, else ``summary``."""

MEDIUM_COLORS = {"nvlink": "#5a8f00", "c2c": "#8a2be2", "pcie": "#8c8c8c",
                 "infiniband": "#1f77b4", "ethernet": "#e67300", "wan": "#d62728"}
"""Line colour per link medium (a darker cousin of :data:`fabric.export.dot.DOT_COLORS`)."""

_COMPUTE = ("gpu", "cpu", "host", "nic", "nvswitch")
_ROWS = ("compute", "leaf", "spine", "core", "wan")
_ROW_TITLE = {"compute": "compute", "leaf": "leaf", "spine": "spine",
              "core": "core", "wan": "WAN"}
_FONT = 10


def _fmt_rate(gbps):
    """Gb/s with a unit that keeps 1-4 significant digits: 800G, 1.8 Tb/s, 7.4 Pb/s."""
    for unit, scale in (("Pb/s", 1e6), ("Tb/s", 1e3)):
        if gbps >= scale:
            return f"{gbps / scale:,.3g} {unit}"
    return f"{gbps:,.4g} Gb/s"


def _link_rate(gbps):
    return f"{gbps:g}G"


def _system_label(part, hosts, gpus, gpu_part):
    """A readable name of one NVLink domain's system: ``GB200 NVL72``, ``DGX H100``."""
    if part.endswith("-tray"):
        base = part[: -len("-tray")].upper().replace("-", " ")
        return base if "NVL" in base else f"{gpu_part} NVL{gpus}"
    label = part.upper().replace("-", " ")
    return label if hosts == 1 else f"{hosts} x {label}"


def _summary_model(G):
    """Boxes (repeated units) and aggregated links between them; one pass over the graph."""
    host_part = {}
    for n, d in G.nodes(data=True):
        if d.get("kind") == "host":
            host_part.setdefault(domain_of(G, n), d.get("part", "host"))
    dom_stats = defaultdict(Counter)
    key = {}
    boxes = {}
    for n, d in G.nodes(data=True):
        kind = d.get("kind")
        site = d.get("site")
        if kind in _COMPUTE:
            dk = domain_of(G, n)
            system = host_part.get(dk, "unhosted")
            k = ("compute", site, system)
            st = dom_stats[dk]
            st[kind] += d.get("chips", 1) if kind == "nvswitch" else 1
            if kind == "gpu":
                st["gpu_part:" + d.get("part", "?")] += 1
        elif kind in _ROWS:
            k = (kind, site, d.get("part", "?"))
        else:
            k = ("other", site, kind)
        key[n] = k
        b = boxes.get(k)
        if b is None:
            b = boxes[k] = {"row": k[0], "site": site, "part": k[2], "count": 0,
                            "domains": set(), "planes": set(), "pods": set(), "ports": 0,
                            "port_gbps": 0.0, "chips": 0, "chips_part": d.get("chips_part")}
        if kind in _COMPUTE:
            b["domains"].add(dk)
        else:
            b["count"] += 1
            b["chips"] += d.get("chips", 1)
            if "plane" in d:
                b["planes"].add(d["plane"])
            if "pod" in d:
                b["pods"].add(d["pod"])
            b["ports"] = max(b["ports"], d.get("ports", 0))
            b["port_gbps"] = max(b["port_gbps"], d.get("port_gbps", 0.0))
    # host GPUs without a host node are grouped under "unhosted"
    links = defaultdict(lambda: defaultdict(lambda: [0, 0.0, Counter(), 0.0]))
    for u, v, d in G.edges(data=True):
        ku, kv = key[u], key[v]
        if ku == kv:
            continue
        pair = (ku, kv) if _ROWS.index(ku[0]) <= _ROWS.index(kv[0]) or "other" in (
            ku[0], kv[0]) else (kv, ku)
        rec = links[pair][d.get("medium", "?")]
        n = d.get("links", 1)
        rec[0] += n
        rec[1] += d.get("bandwidth_gbps", 0.0)
        rec[2][d.get("bandwidth_gbps", 0.0) / max(n, 1)] += n
        rec[3] = max(rec[3], d.get("latency_ns", 0.0))
    for k, b in boxes.items():
        if k[0] != "compute":
            continue
        doms = [dom_stats[dk] for dk in b["domains"]]
        b["count"] = len(doms)
        first = doms[0]
        gpu_part = next((p.split(":", 1)[1] for p in first if p.startswith("gpu_part:")), "GPU")
        b["gpus"] = sum(s["gpu"] for s in doms)
        b["hosts"] = sum(s["host"] for s in doms)
        b["nvswitch"] = sum(s["nvswitch"] for s in doms)
        b["gpus_each"] = first["gpu"]
        b["hosts_each"] = first["host"]
        b["uniform"] = all(s["gpu"] == first["gpu"] and s["host"] == first["host"] for s in doms)
        b["label"] = _system_label(k[2], first["host"], first["gpu"], gpu_part)
        b["gpu_part"] = gpu_part
    return boxes, links


def _box_text(b):
    if b["row"] == "compute":
        head = f"{b['count']:,} x {b['label']}"
        if b["gpus"] == 0:
            return [head, "no GPUs (management)"]
        each = f"{b['gpus_each']} GPUs" if b["uniform"] else f"{b['gpus']:,} GPUs in all"
        if b["uniform"] and b["hosts_each"] > 1:
            each += f", {b['hosts_each']} trays" if "NVL" in b["label"] else \
                f", {b['hosts_each']} hosts"
        lines = [head, f"{each} each" if b["uniform"] else each]
        if b["count"] > 1:
            lines.append(f"{b['gpus']:,} GPUs, {b['hosts']:,} hosts")
        if b["nvswitch"]:
            lines.append(f"{b['nvswitch']:,} NVLink switch chips")
        return lines
    if b["row"] == "other":
        return [f"{b['count']:,} x {b['part']}"]
    per_switch = b["ports"]
    if b["part"] == "virtual" and b["row"] == "wan":
        lines = [f"{b['count']:,} x WAN router group" if b["count"] > 1 else "WAN router group"]
        if b["chips_part"]:
            lines.append(f"{b['chips']:,} x {b['chips_part']}")
    elif b["part"] == "virtual":
        # aggregated planes: name the physical switches and their own ports
        copies = max(1, b["chips"] // max(b["count"], 1))
        per_switch = b["ports"] // copies
        lines = [f"{b['chips']:,} x {b['chips_part'] or 'switch'} {b['row']}",
                 f"({b['count']:,} virtual nodes, {copies} planes each)"]
    else:
        lines = [f"{b['count']:,} x {b['part']} {b['row']}"]
    if per_switch:
        lines.append(f"{per_switch} x {_link_rate(b['port_gbps'])} ports")
    extra = []
    if len(b["planes"]) > 1:
        extra.append(f"{len(b['planes'])} planes")
    if len(b["pods"]) > 1:
        extra.append(f"{len(b['pods'])} pods")
    if extra:
        lines.append(", ".join(extra))
    return lines


def _new_figure(width, height):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    return fig, ax


def _legend(ax, media, *, loc="upper right", notes=None):
    from matplotlib.lines import Line2D

    handles = [Line2D([0], [0], color=MEDIUM_COLORS.get(m, "black"), lw=3,
                      label=(notes or {}).get(m, m)) for m in media]
    if handles:
        ax.legend(handles=handles, loc=loc, fontsize=_FONT, title="link medium",
                  title_fontsize=_FONT, frameon=True)


def _heading(ax, G, height, title, subtitle):
    params = G.graph.get("params", {})
    args = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    ax.text(0.15, height - 0.2, title or G.graph.get("builder", "fabric"),
            fontsize=_FONT + 4, fontweight="bold", va="top")
    ax.text(0.15, height - 0.55, subtitle, fontsize=_FONT, va="top", color="#333333")
    limit = int(ax.figure.get_figwidth() * 12)
    if len(args) > limit:
        args = args[: limit - 3] + "..."
    if args and title is None:
        ax.text(0.15, height - 0.8, args, fontsize=_FONT - 1, va="top", color="#666666")


def _title(G):
    params = G.graph.get("params", {})
    args = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{G.graph.get('builder', 'fabric')}({args})"


def _summary_figure(G, title):
    from matplotlib.patches import FancyBboxPatch

    boxes, links = _summary_model(G)
    sites = sorted({b["site"] for b in boxes.values()}, key=lambda s: (s is None, s))
    rows = [r for r in _ROWS if any(b["row"] == r for b in boxes.values())]
    if any(b["row"] == "other" for b in boxes.values()):
        rows.insert(0, "other")
    row_y = {r: i for i, r in enumerate(rows)}
    box_w, box_h, gap = 3.3, 0.9, 0.45          # inches
    row_h = 1.9
    # columns: per site, as wide as its widest row
    col_boxes = {}
    for s in sites:
        for r in rows:
            col_boxes[s, r] = sorted((k for k, b in boxes.items()
                                      if b["site"] == s and b["row"] == r),
                                     key=lambda k: -boxes[k]["count"])
    site_w = {s: max(len(col_boxes[s, r]) for r in rows) * (box_w + gap) + gap for s in sites}
    margin_l, margin_r = 1.7, 2.9
    width = margin_l + sum(site_w.values()) + 0.4 * (len(sites) - 1) + margin_r
    height = len(rows) * row_h + 1.8
    fig, ax = _new_figure(width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    pos = {}
    x0 = margin_l
    for s in sites:
        w = site_w[s]
        if s is not None or len(sites) > 1:
            ax.add_patch(FancyBboxPatch((x0 - 0.1, 0.25), w + 0.2, len(rows) * row_h + 0.05,
                                        boxstyle="round,pad=0.02,rounding_size=0.15",
                                        fc="#f4f6fa", ec="#7a869a", lw=1.2, ls="--", zorder=0))
            ax.text(x0 + 0.05, 0.32, f"site {s}" if s is not None else "site",
                    fontsize=_FONT + 1, fontweight="bold", color="#44546a", va="bottom")
        for r in rows:
            ks = col_boxes[s, r]
            y = 0.45 + row_y[r] * row_h + (row_h - box_h) / 2
            n = len(ks)
            for i, k in enumerate(ks):
                cx = x0 + w / 2 + (i - (n - 1) / 2) * (box_w + gap)
                pos[k] = (cx, y)
        x0 += w + 0.4
    for r in rows:
        y = 0.45 + row_y[r] * row_h + row_h / 2
        ax.text(0.15, y, _ROW_TITLE.get(r, r), fontsize=_FONT + 1, fontweight="bold",
                va="center", ha="left", color="#333333", wrap=True)
    # links first (under the boxes)
    media_seen = []
    for (ka, kb), per_medium in links.items():
        (xa, ya), (xb, yb) = pos[ka], pos[kb]
        same_row = boxes[ka]["row"] == boxes[kb]["row"]
        for j, (medium, (n, bw, rates, lat)) in enumerate(sorted(per_medium.items())):
            if medium not in media_seen:
                media_seen.append(medium)
            color = MEDIUM_COLORS.get(medium, "black")
            off = (j - (len(per_medium) - 1) / 2) * 0.25
            if same_row:
                p0, p1 = (xa + box_w / 2, ya + box_h / 2 + off), (xb - box_w / 2, yb + box_h / 2 + off)
            else:
                lo, hi = ((xa, ya), (xb, yb)) if ya < yb else ((xb, yb), (xa, ya))
                p0, p1 = (lo[0] + off, lo[1] + box_h), (hi[0] + off, hi[1])
            ax.plot([p0[0], p1[0]], [p0[1], p1[1]], color=color, lw=2.2, zorder=1)
            rate, _ = rates.most_common(1)[0]
            text = f"{n:,} x {_link_rate(rate)} = {_fmt_rate(bw)}"
            if medium == "wan" and lat:
                text += f", {lat / 1e6:,.2f} ms"
            mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
            if same_row:
                my += box_h / 2 + 0.2
            ax.text(mx, my, text, fontsize=_FONT - 1, ha="center", va="center", color=color,
                    zorder=3, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": color,
                                    "lw": 0.6})
    for k, (cx, y) in pos.items():
        b = boxes[k]
        fc = "#e8f3d6" if b["row"] == "compute" else "#dde8f5" if b["row"] != "wan" else "#fbe3e3"
        ax.add_patch(FancyBboxPatch((cx - box_w / 2, y), box_w, box_h,
                                    boxstyle="round,pad=0.02,rounding_size=0.08", fc=fc,
                                    ec="#333333", lw=1.0, zorder=2))
        lines = _box_text(b)
        ax.text(cx, y + box_h - 0.12, lines[0], fontsize=_FONT + 1, fontweight="bold",
                ha="center", va="top", zorder=4)
        if len(lines) > 1:
            ax.text(cx, y + box_h - 0.34, "\n".join(lines[1:]), fontsize=_FONT - 1,
                    ha="center", va="top", zorder=4, linespacing=1.15)
    gpus = sum(b.get("gpus", 0) for b in boxes.values())
    switches = sum(b["chips"] for b in boxes.values() if b["row"] in ("leaf", "spine", "core"))
    _heading(ax, G, height, title, f"{gpus:,} GPUs, {switches:,} scale-out switches; each "
             f"box stands for the count of identical units it names")
    _legend(ax, media_seen)
    return fig


def _rack_figure(G, title, domain):
    from matplotlib.collections import LineCollection
    from matplotlib.patches import FancyBboxPatch, Rectangle

    doms = list(domains(G, kinds=("gpu", "nvswitch")))
    if not doms:
        msg = "the fabric has no NVLink domain (no `gpu` nodes) to draw with `detail='rack'`"
        raise FabricError(msg)
    if domain is None:
        dk = doms[0]
    else:
        matches = [k for k in doms if k[1] == domain]
        if not matches:
            ids = sorted({k[1] for k in doms if not isinstance(k[1], str)})
            span = f"{ids[0]}-{ids[-1]}" if ids and ids == list(range(ids[0], ids[-1] + 1)) \
                else ", ".join(map(str, ids[:20]))
            msg = (f"`domain` (--domain) must be one of the fabric's NVLink domains "
                   f"({span}), got {domain!r}")
            raise ParameterError(msg)
        dk = matches[0]
    members = domains(G, kinds=_COMPUTE)[dk]
    mset = set(members)
    hosts = [n for n in members if G.nodes[n]["kind"] == "host"]
    chips_of = defaultdict(list)
    for n in members:
        d = G.nodes[n]
        if d["kind"] in ("gpu", "cpu"):
            chips_of[d.get("host")].append(n)
    nics_of = defaultdict(list)
    for n in members:
        d = G.nodes[n]
        if d["kind"] == "nic":
            nics_of[d.get("host")].append(n)
    switches = [n for n in members if G.nodes[n]["kind"] == "nvswitch"]
    host_order = hosts or sorted(chips_of, key=str)
    chip_w, chip_gap = 0.36, 0.06
    per_host = max((len(chips_of[h]) for h in host_order), default=1)
    per_host = max(per_host, max((len(nics_of[h]) for h in host_order), default=1))
    host_w = per_host * (chip_w + chip_gap) + 0.2
    # hosts in two rows around the NVLink switch row (as trays sit around an NVL72's
    # switch trays); a single host sits below the switches
    upper = host_order[: len(host_order) // 2]
    lower = host_order[len(host_order) // 2:]
    per_row = max(len(upper), len(lower))
    sw_pitch = 0.85
    width = max(12.0, 1.0 + per_row * (host_w + 0.15), 1.0 + len(switches) * sw_pitch)
    outside = Counter()
    out_media = Counter()
    for n in members:
        for m, e in G[n].items():
            if m not in mset:
                outside[G.nodes[m].get("kind", "?"), G.nodes[m].get("part", "?")] += 1
                out_media[e.get("medium"), e.get("bandwidth_gbps", 0.0) / max(e.get("links", 1), 1)] \
                    += e.get("links", 1)
    host_h = 1.25
    y_lower, y_sw = 0.55, 0.55 + host_h + 1.1
    y_upper = y_sw + 0.5 + 1.1
    height = (y_upper + host_h if upper else y_sw + 0.5) + (1.9 if outside else 1.2)
    fig, ax = _new_figure(width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    pos = {}

    def place_row(row, y0, chips_top):
        x = (width - len(row) * (host_w + 0.15)) / 2
        for h in row:
            ax.add_patch(FancyBboxPatch((x, y0), host_w, host_h,
                                        boxstyle="round,pad=0.02,rounding_size=0.06",
                                        fc="#f4f6fa", ec="#7a869a", lw=1.0, zorder=0))
            ax.text(x + host_w / 2, y0 - 0.06, str(h), fontsize=_FONT - 2, ha="center",
                    va="top")
            y_chip = y0 + (host_h - 0.5 - 0.08 if chips_top else 0.08)
            y_nic = y0 + (0.1 if chips_top else host_h - 0.4)
            for i, c in enumerate(chips_of[h]):
                cx = x + 0.1 + i * (chip_w + chip_gap)
                kind = G.nodes[c]["kind"]
                pos[c] = (cx + chip_w / 2, y_chip if chips_top else y_chip + 0.5)
                ax.add_patch(Rectangle((cx, y_chip), chip_w, 0.5, fc="#b7e07a" if kind == "gpu"
                                       else "#d9c2f0", ec="#333333", lw=0.8, zorder=2))
                n_chips = G.nodes[c].get("chips", 1)
                label = (f"{n_chips}xC" if n_chips > 1 else
                         ("G" if kind == "gpu" else "C") + c.rsplit(kind, 1)[-1])
                ax.text(cx + chip_w / 2, y_chip + 0.25, label,
                        fontsize=_FONT - 2, ha="center", va="center", zorder=3)
            for i, nic in enumerate(nics_of[h]):
                cx = x + 0.1 + i * (chip_w + chip_gap)
                pos[nic] = (cx + chip_w / 2, y_nic + 0.3 if chips_top else y_nic)
                ax.add_patch(Rectangle((cx, y_nic), chip_w, 0.3, fc="#fde2bf", ec="#333333",
                                       lw=0.8, zorder=2))
                n_chips = G.nodes[nic].get("chips", 1)
                ax.text(cx + chip_w / 2, y_nic + 0.15, f"{n_chips}xNIC" if n_chips > 1 else "NIC",
                        fontsize=_FONT - 3, ha="center", va="center", zorder=3)
            x += host_w + 0.15

    place_row(lower, y_lower, chips_top=True)
    place_row(upper, y_upper, chips_top=False)
    sw_w = sw_pitch - 0.1
    sx0 = (width - len(switches) * sw_pitch) / 2
    for i, s in enumerate(switches):
        d = G.nodes[s]
        cx = sx0 + i * sw_pitch
        pos[s] = (cx + sw_w / 2, y_sw + 0.25)
        ax.add_patch(Rectangle((cx, y_sw), sw_w, 0.5, fc="#cfe0f3", ec="#333333", lw=0.8,
                               zorder=2))
        label = f"x{d['chips']}" if d.get("chips", 1) > 1 else f"S{i}"
        ax.text(cx + sw_w / 2, y_sw + 0.25, label, fontsize=_FONT - 1, ha="center",
                va="center", zorder=3)
    if switches:
        ax.text(sx0 - 0.15, y_sw + 0.25, "NVLink\nswitch chips", fontsize=_FONT,
                fontweight="bold", ha="right", va="center")
    segs = defaultdict(list)
    notes = {}
    edge_rates = defaultdict(Counter)
    for u in members:
        for v, e in G[u].items():
            if v not in mset or str(u) > str(v) or u not in pos or v not in pos:
                continue
            segs[e["medium"]].append((pos[u], pos[v]))
            edge_rates[e["medium"]][(e["links"], e["bandwidth_gbps"] / max(e["links"], 1))] += 1
    for medium, ss in segs.items():
        ax.add_collection(LineCollection(ss, colors=MEDIUM_COLORS.get(medium, "black"),
                                         linewidths=0.8 if len(ss) > 200 else 1.4,
                                         alpha=0.35 if len(ss) > 200 else 0.9, zorder=1))
        (links, rate), count = edge_rates[medium].most_common(1)[0]
        notes[medium] = f"{medium}: {count:,} x ({links} x {_link_rate(rate)})"
    media = list(segs)
    if outside:
        (kind, part), n = outside.most_common(1)[0]
        kinds = ", ".join(f"{c:,} links to {k} {p}" for (k, p), c in outside.most_common(3))
        bw = ", ".join(f"{c:,} x {_link_rate(r)} {m}" for (m, r), c in out_media.most_common(2))
        y_out = height - 1.6
        ax.add_patch(FancyBboxPatch((width / 2 - 4.0, y_out), 8.0, 0.7,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    fc="#dde8f5", ec="#333333", zorder=2))
        ax.text(width / 2, y_out + 0.35, f"scale-out network (from the NICs): {kinds}\n{bw}",
                fontsize=_FONT, ha="center", va="center", zorder=3)
        out_medium = out_media.most_common(1)[0][0][0]
        if out_medium not in media:
            media.append(out_medium)
            (m, r), c = out_media.most_common(1)[0]
            notes[out_medium] = f"{out_medium}: {c:,} x {_link_rate(r)}"
    gpus = sum(1 for n in members if G.nodes[n]["kind"] == "gpu")
    site, dom = G.nodes[members[0]].get("site"), dk[1]      # no site attribute: one site
    where = f"site {site}, " if site is not None else ""
    _heading(ax, G, height, title, f"{where}NVLink domain {dom}: {gpus} GPUs in "
             f"{len(host_order)} host(s), {len(switches)} NVLink switch node(s); "
             f"G = GPU, C = CPU")
    _legend(ax, media, notes=notes)
    return fig


def fabric_diagram(G, *, detail="auto", title=None, domain=None):
    """Draw ``G`` as a matplotlib Figure (no pyplot state; nothing is shown).

    Parameters
    ----------
    G
        A fabric graph; not modified.
    detail
        ``"summary"``: tiers as rows, sites as columns, repeated units as one
        box with a count. ``"rack"``: one NVLink domain chip by chip.
        ``"auto"`` (default): ``rack`` when the fabric is one NVLink domain
        or ``domain`` is given.
    title
        Title text (default: the builder and its parameters).
    domain
        The NVLink ``domain`` id to draw chip by chip (default: the first; in
        a multi-site fabric the first site's); refused with ``detail="summary"``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ParameterError
        When ``detail`` or ``domain`` is not accepted.
    FabricError
        When ``detail="rack"`` and the fabric has no GPU.

    Examples
    --------
    >>> import topologies
    >>> fig = fabric_diagram(topologies.build_preset("superpod-h100"))
    >>> any("x DGX H100" in t.get_text() for t in fig.axes[0].texts)
    True
    """
    if detail not in DETAILS:
        msg = f"`detail` must be one of {', '.join(DETAILS)}, got {detail!r}"
        raise ParameterError(msg)
    if detail == "summary" and domain is not None:
        msg = "`domain` (--domain) selects the NVLink domain of `detail='rack'`; drop one of them"
        raise ParameterError(msg)
    if detail == "auto":
        doms = domains(G)
        network = any(d.get("kind") in ("leaf", "spine", "core", "wan")
                      for _, d in G.nodes(data=True))
        detail = "rack" if domain is not None or (len(doms) == 1 and not network) else "summary"
    if detail == "rack":
        return _rack_figure(G, title, domain)
    if G.number_of_nodes() == 0:
        msg = "the fabric is empty: nothing to draw"
        raise FabricError(msg)
    return _summary_figure(G, title)


def draw_fabric(G, path, *, fmt=None, detail="auto", title=None, domain=None):
    """Write a diagram of ``G`` (SVG or PNG) to ``path`` atomically.

    Parameters
    ----------
    G
        A fabric graph; not modified.
    path
        The file to write (a temporary file renamed into place when complete).
    fmt
        ``"svg"`` or ``"png"`` (default: from the suffix of ``path``).
    detail, title, domain
        See :func:`fabric_diagram`.

    Raises
    ------
    FabricFormatError
        When the format is not svg or png.
    ParameterError
        When ``detail`` or ``domain`` is not accepted.
    FabricError
        When the file cannot be written, or there is nothing to draw.

    Examples
    --------
    >>> import os, tempfile, topologies
    >>> path = os.path.join(tempfile.mkdtemp(), "rack.svg")
    >>> draw_fabric(topologies.build_preset("gb200-nvl72"), path)
    >>> text = open(path).read()
    >>> text.count(">G0<"), text.count(">G71<"), text.count(">S17<")
    (1, 1, 1)
    """
    import matplotlib

    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in DIAGRAM_FORMATS:
        msg = f"unknown diagram format `{fmt}`; formats: {', '.join(DIAGRAM_FORMATS)}"
        raise FabricFormatError(msg)
    fig = fabric_diagram(G, detail=detail, title=title, domain=domain)
    # A fixed hash salt and no date: the same fabric gives a byte-identical SVG on every run.
    metadata = {"Date": None} if fmt == "svg" else None
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans",
                                "svg.hashsalt": "fabric"}):
        with atomic_write(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=100, facecolor="white", metadata=metadata)
