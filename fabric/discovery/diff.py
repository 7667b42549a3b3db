"""As built vs as designed: compare the physical network links of two fabrics port by port.

:func:`diff_fabrics` matches devices **by name** (give discovery tools a node-name map,
or descriptions that carry the design's names, as :mod:`fabric.export` writes them) and
every physical link by its two ``(device, port)`` ends. A difference is one of:

``missing``         a designed link is not there (``detail`` says when a device is absent)
``extra``           a link between designed devices the design does not have
``miscabled``       a cable on the wrong port: the right two devices on other ports, or
                    one end on the right port and the other on a device of another kind
``swapped``         two links between the same devices with their ports exchanged
``wrong-rail``      one end right, the other on a device of the same kind in another rail
``wrong-plane``     ... in another plane
``degraded``        the right ports, at a rate (width x speed) below the design's
``unknown-device``  a link to a device the design does not have

Physical links come from the edges' port numbers (:mod:`fabric.ports`; a discovered
fabric's ``port_map`` when it has one). Only network media count.

A virtual WAN router group (one ``kind = "wan"``, ``part = "virtual"`` node standing for
``chips`` routers, as the ``superfactory`` preset builds them) is compared as its
individual routers ``<group>-r1`` .. ``<group>-r<chips>``, on either side, by the one rule
of :mod:`fabric.discovery.wan` that the LLDP writer uses too: a design with virtual groups
and an as-built fabric with the routers (``fabric import lldp-json``) are identical when
the cables are; a difference names the router and its port. :func:`apply_as_built` and
the domain helpers map a router back to its group.

For ``fabric diff --impact``: :func:`apply_as_built` (the design with the differences
applied), :func:`bisection_impact`, :func:`touched_domains` and :func:`domain_groups`
(which NVLink domains to price an allreduce on); :mod:`solvers.impact` prices them.
"""

from dataclasses import asdict, dataclass

__all__ = ["Difference", "DIFF_KINDS", "network_links", "physical_links", "diff_fabrics",
           "format_diff",
           "apply_as_built", "bisection_impact", "touched_domains", "domain_groups",
           "domain_label"]

DIFF_KINDS = ("missing", "extra", "miscabled", "swapped", "wrong-rail", "wrong-plane",
              "degraded", "unknown-device")
"""Every kind of difference, in report order."""

_REL_TOL = 1e-9


@dataclass(frozen=True)
class Difference:
    """One difference. ``design`` and ``as_built`` are ``"dev[port] - dev[port]"`` (or
    ``""`` when that side has no link)."""

    kind: str
    device: str                 # the device the difference is filed under (the a-end)
    port: int
    design: str
    as_built: str
    detail: str


def network_links(G, *, expand_wan=True):
    """Every physical network link of ``G`` once: a list of ``(a, a_port, b, b_port, gbps,
    medium)``. Ports come from a discovered fabric's ``port_map``, else from the edges'
    ``a_end``/``a_port``/``b_port`` (:func:`fabric.ports.assign_ports` numbers a copy of a
    graph whose edges lack them). With ``expand_wan`` the ends on a virtual WAN router
    group are its routers' (:mod:`fabric.discovery.wan`)."""
    from fabric.discovery.wan import expand_end, wan_groups
    from fabric.ports import assign_ports

    groups = wan_groups(G) if expand_wan else {}
    end = expand_end(groups) if groups else None
    out = _network_links(G, groups, end)
    if out is None:                                  # an edge without port numbers
        out = _network_links(assign_ports(G.copy()), groups, end)
    return out


def _network_links(G, groups, end):
    """:func:`network_links`, or None when a network edge has no port numbers."""
    from fabric.schema import NETWORK_MEDIA

    out = []
    for u, v, d in G.edges(data=True):
        medium = d.get("medium")
        if medium not in NETWORK_MEDIA:
            continue
        if "port_map" in d:
            a = d.get("port_map_a", u)
            b = v if a == u else u
            rows = []
            for item in str(d["port_map"]).split(";"):
                ports, _, rate = item.partition("@")
                p, _, q = ports.partition("=")
                rate = float(rate) if rate else 0.0        # 0: the tool reported no rate
                rows.append((a, int(p), b, int(q), rate, medium))
        elif "a_end" not in d:
            return None
        else:
            links = d["links"]
            per = d["bandwidth_gbps"] / links
            a = d["a_end"]
            b = v if a == u else u
            rows = [(a, d["a_port"] + i, b, d["b_port"] + i, per, medium) for i in range(links)]
        if end is not None and (a in groups or b in groups):
            rows = [(*end(x, p), *end(y, q), g, m) for x, p, y, q, g, m in rows]
        out.extend(rows)
    return out


def physical_links(G, *, expand_wan=True):
    """``{frozenset({(dev, port), (dev, port)}): (a, a_port, b, b_port, gbps)}`` over the
    network links of ``G``, one entry per physical link (see :func:`network_links`; the
    routers of a virtual WAN group stand for it unless ``expand_wan`` is false)."""
    return {frozenset(((a, p), (b, q))): (a, p, b, q, g)
            for a, p, b, q, g, _ in network_links(G, expand_wan=expand_wan)}


def _fmt(link):
    if link is None:
        return ""
    a, p, b, q, _ = link
    return f"{a}[{p}] - {b}[{q}]"


def diff_fabrics(design, as_built):
    """Compare the physical network links of ``design`` and ``as_built`` (graphs).

    Raises
    ------
    FabricError
        When no device name of one is a device name of the other.

    Returns
    -------
    dict
        ``identical`` (bool), ``differences`` (list of :class:`Difference` as dicts, in
        :data:`DIFF_KINDS` order, then device and port), ``counts`` (kind -> number),
        ``links_design``, ``links_as_built``, ``links_matched`` and ``unknown_devices``
        (names in the as-built fabric only).
    """
    from fabric.discovery.wan import wan_routers
    from fabric.ports import natural_key

    D, A = physical_links(design), physical_links(as_built)
    routers = wan_routers(design)

    def known(n):
        return n in routers or n in design.nodes

    def attrs(n):
        return routers[n] if n in routers else design.nodes[n]

    d_names = {n for ln in D.values() for n in (ln[0], ln[2])}
    a_names = {n for ln in A.values() for n in (ln[0], ln[2])}
    if D and A and not d_names & a_names:
        from fabric.exceptions import FabricError

        msg = (f"the design and the as-built fabric have no device name in common (design "
               f"e.g. {sorted(d_names, key=natural_key)[0]!r}, as built e.g. "
               f"{sorted(a_names, key=natural_key)[0]!r}); devices are matched by name: give "
               "`fabric diff --map FILE` (device names to GUIDs), the discovery tool a "
               "node-name map (ibnetdiscover --node-name-map), or descriptions that carry "
               "the design's names")
        raise FabricError(msg)
    out = []

    def add(kind, link, actual, detail):
        dev, port = (link or actual)[:2]
        out.append(Difference(kind, dev, port, _fmt(link), _fmt(actual), detail))

    common = D.keys() & A.keys()
    for key in common:
        want, got = D[key], A[key]
        if 0 < got[4] < want[4] * (1 - _REL_TOL):
            add("degraded", want, got, f"{got[4]:g} Gb/s, designed {want[4]:g} Gb/s")
    d_rest = {k: D[k] for k in D.keys() - common}
    a_rest = {k: A[k] for k in A.keys() - common}
    d_at = {end: k for k in d_rest for end in k}          # (device, port) -> link key
    a_at = {end: k for k in a_rest for end in k}

    def ends(w, first):
        """(first, its port, the other device, its port) of a design link."""
        return (w[0], w[1], w[2], w[3]) if w[0] == first else (w[2], w[3], w[0], w[1])

    # 1. Swapped pairs: two designed cables of one device with their far ends exchanged.
    for k in sorted(d_rest, key=lambda k: d_rest[k][:4]):
        if k not in d_rest:
            continue
        w = d_rest[k]
        for keep in (w[0], w[2]):
            _, kp, lost, lp = ends(w, keep)
            m = a_at.get((keep, kp))
            if m is None or m not in a_rest:
                continue
            _, _, o, op = ends(a_rest[m], keep) if a_rest[m][0] == keep or a_rest[m][2] == keep \
                else (None, None, None, None)
            k2 = d_at.get((o, op))
            if k2 is None or k2 == k or k2 not in d_rest or keep not in (d_rest[k2][0],
                                                                         d_rest[k2][2]):
                continue
            _, kp2, _, _ = ends(d_rest[k2], keep)
            m2 = a_at.get((keep, kp2))
            if m2 is None or m2 == m or m2 not in a_rest or (lost, lp) not in m2:
                continue
            add("swapped", w, _orient(a_rest[m], w[0]),
                f"the cables on ports {kp} and {kp2} of {keep} are exchanged "
                f"(with {_fmt(d_rest[k2])})")
            del a_rest[m], a_rest[m2], d_rest[k], d_rest[k2]
            break
    # 2. The right two devices on other ports: miscabled.
    by_pair_d, by_pair_a = {}, {}
    for k, ln in d_rest.items():
        by_pair_d.setdefault(frozenset((ln[0], ln[2])), []).append(k)
    for k, ln in a_rest.items():
        by_pair_a.setdefault(frozenset((ln[0], ln[2])), []).append(k)
    for pair in sorted(by_pair_d.keys() & by_pair_a.keys(), key=lambda p: sorted(p)):
        left_a = sorted(by_pair_a[pair], key=lambda k: a_rest[k][:4])
        for k in sorted(by_pair_d[pair], key=lambda k: d_rest[k][:4]):
            if not left_a:
                break
            w = d_rest[k]
            # prefer the as-built link that keeps one of the designed ends
            pick = next((m for m in left_a if {(w[0], w[1]), (w[2], w[3])} & m), left_a[0])
            left_a.remove(pick)
            add("miscabled", w, _orient(a_rest[pick], w[0]), "right devices, wrong port")
            del d_rest[k], a_rest[pick]
    # 3. One end right, the other elsewhere: unknown device, wrong plane/rail, or miscabled.
    for k in sorted(d_rest, key=lambda k: d_rest[k][:4]):
        w = d_rest[k]
        for keep in (w[0], w[2]):
            _, kp, lost, _ = ends(w, keep)
            m = a_at.get((keep, kp))
            if m is None or m not in a_rest:
                continue
            got = _orient(a_rest[m], keep)
            other = got[2]
            if not known(other):
                kind, detail = "unknown-device", (f"{other} is not in the design; designed "
                                                  f"{lost}")
            elif attrs(other).get("kind") != attrs(lost).get("kind"):
                kind, detail = "miscabled", (f"goes to {other} ({attrs(other).get('kind')}), "
                                             f"designed {lost} ({attrs(lost).get('kind')})")
            elif attrs(other).get("plane") != attrs(lost).get("plane"):
                kind, detail = "wrong-plane", (f"goes to {other} (plane "
                                               f"{attrs(other).get('plane')}), designed {lost} "
                                               f"(plane {attrs(lost).get('plane')})")
            elif attrs(other).get("rail") != attrs(lost).get("rail"):
                kind, detail = "wrong-rail", (f"goes to {other} (rail {attrs(other).get('rail')}),"
                                              f" designed {lost} (rail {attrs(lost).get('rail')})")
            else:
                kind, detail = "miscabled", f"goes to {other}, designed {lost}"
            add(kind, w, _orient(a_rest[m], w[0]), detail)
            del a_rest[m], d_rest[k]
            break
    unknown = {n for ln in A.values() for n in (ln[0], ln[2]) if not known(n)}
    present = set(as_built.nodes) | set(wan_routers(as_built))
    all_at = {end: k for k in A for end in k}
    for k, w in d_rest.items():
        absent = [n for n in (w[0], w[2]) if n not in present]
        busy = [f"{n}[{p}] holds {_fmt(A[all_at[(n, p)]])}" for n, p in ((w[0], w[1]), (w[2], w[3]))
                if (n, p) in all_at]
        add("missing", w, None, f"{absent[0]} not found" if absent else
            "; ".join(busy) if busy else "no link on either port")
    for k, got in a_rest.items():
        new = [n for n in (got[0], got[2]) if not known(n)]
        if new:
            add("unknown-device", None, got, f"{' and '.join(new)} not in the design")
        else:
            add("extra", None, got, "not in the design")
    order = {k: i for i, k in enumerate(DIFF_KINDS)}
    out.sort(key=lambda x: (order[x.kind], natural_key(x.device), x.port, x.design, x.as_built))
    counts = {k: 0 for k in DIFF_KINDS}
    for x in out:
        counts[x.kind] += 1
    return {"identical": not out, "differences": [asdict(x) for x in out],
            "counts": {k: n for k, n in counts.items() if n},
            "links_design": len(D), "links_as_built": len(A), "links_matched": len(common),
            "unknown_devices": sorted(unknown, key=natural_key)}


def _orient(link, first):
    """``link`` with ``first`` as its a-end when it is one of its ends."""
    a, p, b, q, g = link
    return (b, q, a, p, g) if b == first and a != first else link


def format_diff(result):
    """The text table of :func:`diff_fabrics`'s result."""
    rows = result["differences"]
    head = (f"design {result['links_design']:,} links, as built {result['links_as_built']:,}, "
            f"matched {result['links_matched']:,}")
    if not rows:
        return "\n".join([f"{head}: identical", *_format_impact(result)])
    counts = ", ".join(f"{n} {k}" for k, n in result["counts"].items())
    widths = [max(len("kind"), *(len(r["kind"]) for r in rows)),
              max(len("design"), *(len(r["design"]) for r in rows)),
              max(len("as built"), *(len(r["as_built"]) for r in rows))]
    lines = [f"{head}; {len(rows)} difference(s): {counts}",
             f"{'kind':<{widths[0]}}  {'design':<{widths[1]}}  {'as built':<{widths[2]}}  detail"]
    for r in rows:
        lines.append(f"{r['kind']:<{widths[0]}}  {r['design'] or '-':<{widths[1]}}  "
                     f"{r['as_built'] or '-':<{widths[2]}}  {r['detail']}")
    lines.extend(_format_impact(result))
    return "\n".join(lines)


def _format_impact(result):
    if "impact" not in result:
        return []
    im = result["impact"]
    lines = [f"bisection: design {im['design_gbps']:,.0f} Gb/s, as built "
             f"{im['as_built_gbps']:,.0f} Gb/s ({im['change']:+.1%}, {im['method']})"]
    rows = im.get("allreduce")
    if rows is not None:
        lines.extend(_format_allreduce(im, rows))
    return lines


def _format_allreduce(im, rows):
    if not rows:
        return ["allreduce: no NVLink domain is touched by a difference"]
    out = [f"allreduce busbw ({rows[0]['algo']}, all GPUs of each group of NVLink domains; "
           f"{len(im.get('touched_domains', ()))} domain(s) touched):"]
    w = max(len("group"), *(len(r["group"]) for r in rows))
    out.append(f"  {'group':<{w}}  {'GPUs':>5}  {'size':>6}  {'design':>9}  {'as built':>9}  "
               f"{'loss GB/s':>9}  {'loss':>7}")
    for r in rows:
        size = r["size_bytes"] / 2**30
        after = r["as_built_busbw_GBps"]
        line = (f"  {r['group']:<{w}}  {r['gpus']:>5}  {size:>4g}Gi  "
                f"{r['design_busbw_GBps']:>9.1f}  " +
                (f"{after:>9.1f}  {r['loss_GBps']:>9.1f}  {r['loss_pct']:>6.1f}%"
                 if after is not None else f"{'-':>9}  {'-':>9}  {'-':>7}"))
        if r.get("note"):
            line += f"  ({r['note']})"
        out.append(line)
    return out


def bisection_impact(design, as_built):
    """Bisection bandwidth of ``design`` and of ``as_built`` (e.g. :func:`apply_as_built`'s
    graph), by the method the design's size picks: ``design_gbps``, ``as_built_gbps``,
    ``method``, ``change`` (relative)."""
    from fabric.metrics import bisection_bandwidth

    before = bisection_bandwidth(design)
    after = bisection_bandwidth(as_built, method=before["method"])
    b0, b1 = before["bisection_gbps"], after["bisection_gbps"]
    return {"design_gbps": b0, "as_built_gbps": b1, "method": before["method"],
            "change": (b1 - b0) / b0 if b0 else 0.0}


def _names_of(side, group_of=None):
    """Device names of a ``"dev[port] - dev[port]"`` string (none for ``""``); a router of a
    virtual WAN group by its group when ``group_of`` (:func:`~fabric.discovery.wan.router_groups`)
    is given."""
    if not side:
        return ()
    a, b = side.split(" - ")
    names = a[:a.rindex("[")], b[:b.rindex("[")]
    if group_of:
        names = tuple(group_of.get(n, n) for n in names)
    return names


def _touches(design, result):
    """(domain keys in the design's order, {domain: GPUs}, the domains each NIC difference
    touches, the domain sets under each switch-to-switch difference)."""
    from fabric.discovery.wan import router_groups
    from fabric.locality import domain_of, domains
    from fabric.ports import TIER_OF_KIND

    nodes = design.nodes
    group_of = router_groups(design)
    gpu_doms = domains(design)
    host_doms = {}
    for key, gpus in gpu_doms.items():
        for g in gpus:
            host_doms.setdefault(nodes[g].get("host", g), set()).add(key)
            for nb in design[g]:
                if nodes[nb].get("kind") == "nic":
                    host_doms.setdefault(("nic", nb), set()).add(key)

    def nic_doms(n):
        found = host_doms.get(("nic", n)) or host_doms.get(nodes[n].get("host", n))
        if found:
            return found
        key = domain_of(design, n)
        return {key} if key in gpu_doms else set()

    below = {}                                # switch -> domains of the NICs under it

    def under(x):
        if x in below:
            return below[x]
        below[x] = set()                      # guards against cycles of equal tiers
        t = TIER_OF_KIND.get(nodes[x].get("kind"))
        out = set()
        for nb in design[x]:
            k = nodes[nb].get("kind")
            if k == "nic":
                out |= nic_doms(nb)
            elif t is not None and TIER_OF_KIND.get(k, t) < t:
                out |= under(nb)
        below[x] = out
        return out

    by_nic, by_switch = set(), []
    for r in result["differences"]:
        for side in (r["design"], r["as_built"]):
            ends = [n for n in _names_of(side, group_of) if n in nodes and
                    nodes[n].get("kind") in TIER_OF_KIND]
            nics = [n for n in ends if nodes[n]["kind"] == "nic"]
            if nics:                                # a NIC's link: that NIC's domain(s)
                for n in nics:
                    by_nic |= nic_doms(n)
            elif ends:                              # between switches: all below the lower
                t = min(TIER_OF_KIND[nodes[n]["kind"]] for n in ends)
                below_low = set().union(*(under(n) for n in ends
                                          if TIER_OF_KIND[nodes[n]["kind"]] == t))
                if below_low:                       # (both ends of a link between peers:
                    by_switch.append(frozenset(below_low))      # the sites of a WAN link)
    return list(gpu_doms), gpu_doms, by_nic, by_switch


def touched_domains(design, result):
    """NVLink domain keys (:func:`fabric.locality.domain_of`) of ``design`` that a
    difference of ``result`` touches, in the design's domain order.

    A domain is touched when a differing link (its designed or its as-built form) ends
    at one of the domain's NICs (a NIC of a host with GPUs of the domain), or joins two
    switches above them: the link's lower end is a switch those NICs reach going only
    upward in tier (leaf, spine, core), or either end of a link between two switches of
    one tier (the WAN routers of two sites; a router stands for its group). A NIC's link
    does not touch the other domains of its leaf.
    """
    order, _, by_nic, by_switch = _touches(design, result)
    hit = by_nic.union(*by_switch)
    return [k for k in order if k in hit]


def domain_groups(design, result):
    """The groups of NVLink domains to price an allreduce on, for the differences of
    ``result``: each domain a NIC's difference touches with one neighbour (the next domain
    in the design's order that no NIC difference touches, cyclically; the next domain
    when there is none), and, for a difference between two switches, all the domains under
    the lower switch (its leaf-mates; with a neighbour when that is one domain; under both
    ends of a site-to-site WAN link).

    Returns a list of lists of domain keys, each in domain order, without repeats.
    """
    order, _, by_nic, by_switch = _touches(design, result)
    pos = {k: i for i, k in enumerate(order)}
    out, seen = [], set()

    def add(group):
        group = sorted(group, key=pos.get)
        if tuple(group) not in seen:
            seen.add(tuple(group))
            out.append(group)

    def partner(key):
        i = pos[key]
        rest = [order[(i + j) % len(order)] for j in range(1, len(order))]
        return next((k for k in rest if k not in by_nic), rest[0] if rest else None)

    for key in sorted(by_nic, key=pos.get):
        p = partner(key)
        add({key} | ({p} if p is not None else set()))
    for doms in by_switch:
        if len(doms) == 1:
            (key,) = doms
            p = partner(key)
            doms = doms | ({p} if p is not None else set())
        add(doms)
    return out


def domain_label(keys):
    """A short label of a group of domain keys: ``"3+4"``, runs of consecutive domains as
    ``"0-30"``, a domain of site 1 as ``"1:3"``, a host's own domain ``"host:h0"``.

    >>> domain_label([(0, 0), (0, 1), (0, 2), (0, 5), (1, 3), (0, "host:h0")])
    '0-2+5+1:3+host:h0'
    """
    parts, run = [], []

    def flush():
        if run:
            site, a, b = run[0][0], run[0][1], run[-1][1]
            pre = "" if site == 0 else f"{site}:"
            parts.append(f"{pre}{a}" if a == b else f"{pre}{a}+{pre}{b}" if b == a + 1
                         else f"{pre}{a}-{b}")
            run.clear()

    for site, dom in keys:
        if isinstance(dom, int) and run and run[-1][0] == site and run[-1][1] == dom - 1:
            run.append((site, dom))
            continue
        flush()
        if isinstance(dom, int):
            run.append((site, dom))
        else:
            parts.append(f"{dom}" if site == 0 else f"{site}:{dom}")
    flush()
    return "+".join(parts)


def apply_as_built(design, result):
    """A copy of ``design`` with the link-level differences of ``result`` applied: missing
    links removed, degraded links at their measured rate, links to another designed device
    moved there, extra links between designed devices added (for ``fabric diff --impact``).
    A router of a virtual WAN group stands for its group: a link moved between two routers
    of one group changes nothing here."""
    from fabric.discovery.wan import router_groups

    H = design.copy()
    group_of = router_groups(design)

    def parse(s):
        return _names_of(s, group_of)

    def take(u, v, gbps=None):
        d = H.edges[u, v]
        per = d["bandwidth_gbps"] / d["links"]
        cut = per if gbps is None else per - gbps
        if d["links"] == 1 and gbps is None:
            H.remove_edge(u, v)
            return per
        if gbps is None:
            d["links"] -= 1
        d["bandwidth_gbps"] = float(d["bandwidth_gbps"] - cut)
        return per

    def put(u, v, gbps, like):
        if u not in H or v not in H:
            return
        if H.has_edge(u, v):
            d = H.edges[u, v]
            d["links"] += 1
            d["bandwidth_gbps"] = float(d["bandwidth_gbps"] + gbps)
        else:
            H.add_edge(u, v, **{k: x for k, x in like.items()
                                if k in ("medium", "latency_ns", "cable", "length_m")},
                       links=1, bandwidth_gbps=float(gbps))

    for r in result["differences"]:
        if r["kind"] == "missing":
            take(*parse(r["design"]))
        elif r["kind"] == "degraded":
            gbps = float(r["detail"].split(" Gb/s")[0])
            take(*parse(r["design"]), gbps=gbps)
        elif r["kind"] in ("wrong-rail", "wrong-plane", "miscabled") and r["as_built"]:
            u, v = parse(r["design"])
            x, y = parse(r["as_built"])
            if {u, v} != {x, y} and x != y:
                like = dict(H.edges[u, v])
                per = take(u, v)
                put(x, y, per, like)
        elif r["kind"] == "extra":
            x, y = parse(r["as_built"])
            if x == y:
                continue
            like = H.edges[x, y] if H.has_edge(x, y) else next(
                (d for _, _, d in H.edges(x, data=True)
                 if d.get("medium") in ("infiniband", "ethernet")), None)
            if like is not None:
                put(x, y, like["bandwidth_gbps"] / like["links"], like)
    for _, _, d in H.edges(data=True):
        for k in ("a_end", "a_port", "b_port"):
            d.pop(k, None)
    return H
