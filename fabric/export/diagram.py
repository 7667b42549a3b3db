"""Diagrams of a fabric with matplotlib: a one-page summary, or one NVLink domain chip by chip.

The **summary** draws tiers as rows (compute at the bottom, then leaf,
spine, core and WAN at the top) and sites as labelled columns. Repeated
units collapse into one box with a count ("1,389 x GB200 NVL72"): each box
stands for every NVLink domain of one system type, or every switch of one
kind and part, in a site. Links between boxes are aggregated, coloured by
medium and labelled with their count, per-link rate and total bandwidth.
Its cost is one pass over the edges, so a 100k-GPU fabric draws in seconds.

The **rack** detail draws one NVLink domain as its vendor does: compute trays
(or servers) in rack order with the NVLink switch trays in the middle, each
tray's GPU and CPU chips with their C2C links visible, its NICs as one box,
and NVLink as one bundle per (tray, switch tray) pair labelled with its link
count, plus a box for the scale-out switches the NICs reach.

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
    # scalar parameters only: no Python list or dict reprs on a diagram
    args = ", ".join(f"{k}={v}" for k, v in params.items()
                     if v is not None and not isinstance(v, (list, tuple, dict)))
    ax.text(0.15, height - 0.2, title or G.graph.get("builder", "fabric"),
            fontsize=_FONT + 4, fontweight="bold", va="top")
    ax.text(0.15, height - 0.55, subtitle, fontsize=_FONT, va="top", color="#333333")
    limit = int(ax.figure.get_figwidth() * 12)
    if len(args) > limit:
        args = args[: limit - 3] + "..."
    if args and title is None:
        ax.text(0.15, height - 0.8 - 0.18 * subtitle.count("\n"), args, fontsize=_FONT - 1,
                va="top", color="#666666")


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
    frame_top = 0.25 + len(rows) * row_h + 0.05
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
            if same_row and ka[1] != kb[1] and len(sites) > 1:
                my = frame_top + 0.3                 # above the site frames, clear of them
            elif same_row:
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


def _select_domain(G, domain):
    doms = list(domains(G, kinds=("gpu", "nvswitch")))
    if not doms:
        msg = "the fabric has no NVLink domain (no `gpu` nodes) to draw with `detail='rack'`"
        raise FabricError(msg)
    if domain is None:
        return doms[0]
    matches = [k for k in doms if k[1] == domain]
    if not matches:
        ids = sorted({k[1] for k in doms if not isinstance(k[1], str)})
        span = f"{ids[0]}-{ids[-1]}" if ids and ids == list(range(ids[0], ids[-1] + 1)) \
            else ", ".join(map(str, ids[:20]))
        msg = (f"`domain` (--domain) must be one of the fabric's NVLink domains "
               f"({span}), got {domain!r}")
        raise ParameterError(msg)
    return matches[0]


def _tray_chips(G, chips, mset):
    """Chips of one tray in drawing order, each CPU between its C2C GPUs; C2C pairs."""
    cpus = [c for c in chips if G.nodes[c]["kind"] == "cpu"]
    gpus = [c for c in chips if G.nodes[c]["kind"] == "gpu"]
    order, pairs, placed = [], [], set()
    for c in cpus:
        mates = [g for g, e in G[c].items() if e.get("medium") == "c2c" and g in mset
                 and g not in placed and G.nodes[g]["kind"] == "gpu"]
        mates.sort(key=gpus.index)
        half = (len(mates) + 1) // 2
        order += mates[:half] + [c] + mates[half:]
        placed.update(mates)
        pairs += [(g, c) for g in mates]
    order = [g for g in gpus if g not in placed] + order
    return order, pairs


def _rack_figure(G, title, domain):
    from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    dk = _select_domain(G, domain)
    members = domains(G, kinds=_COMPUTE)[dk]
    mset = set(members)
    hosts = [n for n in members if G.nodes[n]["kind"] == "host"]
    chips_of, nics_of = defaultdict(list), defaultdict(list)
    for n in members:
        d = G.nodes[n]
        if d["kind"] in ("gpu", "cpu"):
            chips_of[d.get("host")].append(n)
        elif d["kind"] == "nic":
            nics_of[d.get("host")].append(n)
    host_order = hosts or sorted(chips_of, key=str)
    switches = [n for n in members if G.nodes[n]["kind"] == "nvswitch"]
    sw_trays = defaultdict(list)                   # switch tray -> its chips
    for i, n in enumerate(switches):
        sw_trays[G.nodes[n].get("switch_tray", f"chip{i}")].append(n)
    tray_keys = list(sw_trays)
    # rack order: compute trays, the switch trays in the middle (NVIDIA's NVL72 rack holds
    # 10 compute trays above its 9 NVLink switch trays and 8 below)
    n_up = 0 if not tray_keys else min(len(host_order), -(-len(host_order) * 5 // 9))
    units = ([("host", h) for h in host_order[:n_up]] + [("switch", t) for t in tray_keys]
             + [("host", h) for h in host_order[n_up:]])
    unit_of = {}
    for kind, key in units:
        for n in (sw_trays[key] if kind == "switch" else chips_of[key] + nics_of[key]):
            unit_of[n] = (kind, key)
    layout = {h: _tray_chips(G, chips_of[h], mset) for h in host_order}
    chip_w, chip_h, gap = 0.46, 0.36, 0.16
    n_items = max([len(o) for o, _ in layout.values()] + [len(v) for v in sw_trays.values()]
                  + [1])
    label_w, nic_w, note_w = 1.45, 1.25, 2.6
    tray_w = n_items * (chip_w + gap) + nic_w + note_w + 0.3
    pitch, tray_h = 0.74, 0.62
    x0 = label_w
    x_r = x0 + tray_w
    # NVLink bundles: one per pair of units (tray <-> switch tray), with its link count
    bundles, rates = Counter(), Counter()
    c2c = []
    for u in members:
        for v, e in G[u].items():
            if v not in mset or str(u) > str(v):
                continue
            if e.get("medium") == "c2c":
                c2c.append(e)
                continue
            if e.get("medium") != "nvlink" or unit_of.get(u) is None or unit_of.get(v) is None:
                continue
            a, b = unit_of[u], unit_of[v]
            if a == b:
                continue
            pair = (a, b) if units.index(a) < units.index(b) else (b, a)
            bundles[pair] += e.get("links", 1)
            rates[e.get("bandwidth_gbps", 0.0) / max(e.get("links", 1), 1)] += 1
    max_dy = max((abs(units.index(a) - units.index(b)) for a, b in bundles), default=0) * pitch
    width = x_r + 0.5 + 0.25 * max_dy ** 0.9 + 0.8
    outside, out_media = Counter(), Counter()
    for n in members:
        for m, e in G[n].items():
            if m not in mset:
                outside[G.nodes[m].get("kind", "?"), G.nodes[m].get("part", "?")] += 1
                out_media[e.get("medium"), e.get("bandwidth_gbps", 0.0) / max(e.get("links", 1), 1)] \
                    += e.get("links", 1)
    top = 1.5 + (1.0 if outside else 0.0)
    height = top + len(units) * pitch + 0.4
    fig, ax = _new_figure(max(width, 12.0), height)
    width = max(width, 12.0)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    y_of = {u: height - top - (i + 1) * pitch for i, u in enumerate(units)}
    pos = {}
    sw_index = {n: i for i, n in enumerate(switches)}
    per_tray = Counter()
    for a, b in bundles:
        per_tray[a] += 1
        per_tray[b] += 1
    for unit in units:
        kind, key = unit
        y = y_of[unit]
        fc = "#f4f6fa" if kind == "host" else "#e3ecf8"
        ax.add_patch(FancyBboxPatch((x0, y), tray_w, tray_h, zorder=0, fc=fc, ec="#7a869a",
                                    lw=1.0, boxstyle="round,pad=0.01,rounding_size=0.05"))
        name = str(key) if kind == "host" else (
            f"switch tray {key}" if not str(key).startswith("chip") else "NVLink switch")
        ax.text(x0 - 0.1, y + tray_h / 2, name, fontsize=_FONT - 1, ha="right", va="center",
                fontweight="bold" if kind == "switch" else "normal")
        chips = layout[key][0] if kind == "host" else sw_trays[key]
        cy = y + 0.1
        for i, c in enumerate(chips):
            cx = x0 + 0.15 + i * (chip_w + gap)
            pos[c] = (cx, cy)
            d = G.nodes[c]
            fc = {"gpu": "#b7e07a", "cpu": "#d9c2f0"}.get(d["kind"], "#cfe0f3")
            ax.add_patch(Rectangle((cx, cy), chip_w, chip_h, fc=fc, ec="#333333", lw=0.8,
                                   zorder=2))
            n_chips = d.get("chips", 1)
            if d["kind"] == "nvswitch":
                label = f"x{n_chips}" if n_chips > 1 else f"S{sw_index[c]}"
            else:
                label = (f"{n_chips}xC" if n_chips > 1 else
                         ("G" if d["kind"] == "gpu" else "C") + c.rsplit(d["kind"], 1)[-1])
            ax.text(cx + chip_w / 2, cy + chip_h / 2, label, fontsize=_FONT - 2, ha="center",
                    va="center", zorder=3)
        xn = x0 + 0.15 + n_items * (chip_w + gap)
        if kind == "host" and nics_of[key]:
            nics = nics_of[key]
            count = sum(G.nodes[n].get("chips", 1) for n in nics)
            part = G.nodes[nics[0]].get("chips_part") or G.nodes[nics[0]].get("part", "")
            ax.add_patch(Rectangle((xn, cy), nic_w - 0.15, chip_h, fc="#fde2bf", ec="#333333",
                                   lw=0.8, zorder=2))
            ax.text(xn + (nic_w - 0.15) / 2, cy + chip_h / 2, f"{count} x {part} NIC",
                    fontsize=_FONT - 2, ha="center", va="center", zorder=3)
        mine = [(p, n) for p, n in bundles.items() if unit in p]
        if mine:
            counts = Counter(n for _, n in mine)
            total = sum(n for _, n in mine)
            other = "switch trays" if kind == "host" else "trays"
            if len(mine) == 1:
                other = other[:-1]
            if len(counts) == 1:
                text = f"NVLink: {len(mine)} {other} x {next(iter(counts))} links = {total}"
            else:
                text = f"NVLink: {total} links to {len(mine)} {other}"
            ax.text(x_r - 0.1, y + tray_h / 2, text, fontsize=_FONT - 2, ha="right",
                    va="center", color=MEDIUM_COLORS["nvlink"], zorder=3)
    # C2C: short connectors between each CPU and its GPUs, drawn over the tray
    segs = 0
    for h in host_order:
        order, pairs = layout[h]
        for g, c in pairs:
            (gx, gy), (cx, cy) = pos[g], pos[c]
            i, j = order.index(g), order.index(c)
            if abs(i - j) == 1:
                xa = (gx if i < j else cx) + chip_w
                xb = cx if i < j else gx
                ax.plot([xa, xb], [gy + chip_h / 2] * 2, color=MEDIUM_COLORS["c2c"], lw=3.0,
                        solid_capstyle="butt", zorder=4)
            else:
                yt = gy + chip_h
                ax.plot([gx + chip_w / 2, gx + chip_w / 2, cx + chip_w / 2, cx + chip_w / 2],
                        [yt, yt + 0.07, yt + 0.07, yt], color=MEDIUM_COLORS["c2c"], lw=1.6,
                        zorder=4)
            segs += 1
    # NVLink bundles: arcs on the right of the rack, width by link count
    most = max(bundles.values(), default=1)
    for (a, b), n in bundles.items():
        ya, yb = y_of[a] + tray_h / 2, y_of[b] + tray_h / 2
        ia, ib = units.index(a), units.index(b)
        ya += (ib / max(len(units), 1) - 0.5) * tray_h * 0.7
        yb += (ia / max(len(units), 1) - 0.5) * tray_h * 0.7
        bulge = 0.5 + 0.25 * abs(ya - yb) ** 0.9
        path = MPath([(x_r, ya), (x_r + bulge, ya), (x_r + bulge, yb), (x_r, yb)],
                     [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4])
        ax.add_patch(PathPatch(path, fc="none", ec=MEDIUM_COLORS["nvlink"],
                               lw=0.6 + 1.4 * n / most, alpha=0.55, zorder=1))
    media, notes = [], {}
    if bundles:
        media.append("nvlink")
        counts = Counter(bundles.values())
        rate = rates.most_common(1)[0][0]
        kinds = ", ".join(f"{c:,} of {n}" for n, c in sorted(counts.items()))
        notes["nvlink"] = (f"nvlink: {len(bundles):,} bundles ({kinds} links) "
                           f"x {_link_rate(rate)}")
    if c2c:
        media.append("c2c")
        e = c2c[0]
        notes["c2c"] = f"c2c: {len(c2c):,} x {_link_rate(e.get('bandwidth_gbps', 0.0))}"
    if outside:
        kinds = ", ".join(f"{c:,} links to {k} {p}" for (k, p), c in outside.most_common(3))
        bw = ", ".join(f"{c:,} x {_link_rate(r)} {m}" for (m, r), c in out_media.most_common(2))
        y_out = height - top + 0.15
        ax.add_patch(FancyBboxPatch((x0, y_out), tray_w, 0.7,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    fc="#dde8f5", ec="#333333", zorder=2))
        ax.text(x0 + tray_w / 2, y_out + 0.35, f"scale-out network (from the NICs): {kinds}\n{bw}",
                fontsize=_FONT, ha="center", va="center", zorder=3)
        (m, r), c = out_media.most_common(1)[0]
        if m not in media:
            media.append(m)
            notes[m] = f"{m}: {c:,} x {_link_rate(r)}"
    gpus = sum(1 for n in members if G.nodes[n]["kind"] == "gpu")
    site, dom = G.nodes[members[0]].get("site"), dk[1]      # no site attribute: one site
    where = f"site {site}, " if site is not None else ""
    sw_chips = sum(G.nodes[n].get("chips", 1) for n in switches)
    trays = "tray" if any(str(G.nodes[h].get("part", "")).endswith("-tray")
                          for h in hosts) else "host"
    trays += "s" if len(host_order) != 1 else ""
    _heading(ax, G, height, title, f"{where}NVLink domain {dom}: {gpus} GPUs in "
             f"{len(host_order)} {trays}, {sw_chips} NVLink switch chips"
             + (f" in {len(tray_keys)} switch trays" if len(tray_keys) > 1 else "")
             + "\nG = GPU, C = CPU, S = NVLink switch chip; PCIe links not drawn")
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
