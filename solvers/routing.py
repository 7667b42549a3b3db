"""Routing: map GPU-to-GPU flows to per-link loads on a fabric graph.

Rules (the ones NCCL traffic follows on the systems fabric models):

* Inside one NVLink domain a flow goes over NVLink: GPU -> NVLink switch
  chip(s) -> GPU, split over the parallel chips in proportion to the
  bandwidth of the GPU's edge to each chip (``min`` of the two ends' edges).
  Domains with several switch tiers (NVL36x2) use shortest paths over the
  NVLink subgraph, split over the physical links.
* Between domains a flow leaves through the source GPU's own NIC (its rail),
  is split evenly over the NIC's network ports (planes; a port of plane ``p``
  reaches the destination NIC's port of the same plane), and is split evenly
  over the shortest up/down paths of the network (ECMP over physical links:
  a cable bundle of ``links`` counts as ``links`` paths). Paths are counted
  by dynamic programming over the upward cones of the two attachment
  switches (no enumeration); pairs whose cones do not meet (e.g. across a
  WAN) use a breadth-first shortest-path DAG.
* Host and CPU nodes never carry collective traffic.

Loads are bytes per *arc* (one direction of an edge); links are full duplex.
Flows between the same pair of attachment switches are aggregated, and the
upward and downward halves of routes that share their top set are
aggregated per switch, so a ring over 100k GPUs routes in seconds.
"""

import functools
from collections import defaultdict
from itertools import chain, count, repeat
from operator import itemgetter

import numpy as np

from fabric._gc import gc_paused
from fabric.edges import EdgeTable, stable_argsort
from fabric.exceptions import FabricError, ParameterError
from fabric.locality import domain_ids
from fabric.schema import KIND_CODE, MEDIUM_CODE, NETWORK_KINDS, NETWORK_MEDIA, NODE_KINDS

__all__ = ["Router", "route_flows"]

_TIER_OF_KIND = {"leaf": 1, "spine": 2, "core": 3, "wan": 4}


class Router:
    """A fabric graph indexed for routing many flows at once.

    Build one per graph and reuse it: cones and pair routes are cached.

    Parameters
    ----------
    G
        A fabric graph (see :mod:`fabric.schema`).
    bandwidth
        Edge attribute holding the aggregate rate in Gb/s per direction.
    table
        A prebuilt :class:`fabric.edges.EdgeTable` of ``G`` (built when omitted); the
        router's arcs are its edges in both directions (edge k: arcs 2k and 2k + 1).

    Attributes
    ----------
    gpus : list of str
        GPU names in topology order; flows name GPUs by their position here.
    gpu_attrs : list of dict
        The GPUs' attribute dicts (``G``'s own), in the order of :attr:`gpus`.
    arc_cap_GBps : numpy.ndarray
        Raw rate of every arc in GB/s (``bandwidth_gbps / 8``).
    arc_medium : numpy.ndarray
        Medium code of every arc (:data:`MEDIUM_CODE`).
    arc_rate_medium : numpy.ndarray
        Medium whose link efficiency applies to the arc's rate: its own medium,
        except a GPU's ``pcie`` edge to an aggregated NIC node (``chips`` > 1),
        which the builders cap at the GPU's share of the NIC's network ports;
        when that cap binds, the arc stands for the GPU's own NIC ports and is
        costed like the NIC's network links.
    arc_latency_ns : numpy.ndarray
        Cable latency of every arc.
    cache : dict
        Per-fabric data derived by users of the router (e.g. the collective
        engine's usable arc rates), shared by every model built on it.

    Examples
    --------
    >>> import topologies
    >>> r = Router(topologies.dgx_h100_graph())
    >>> loads = r.new_loads()
    >>> r.add_flows(loads, [0], [1], 1800.0)
    0.0
    >>> round(float(loads.max()), 1)    # the 5-link chips carry 5/18 of the bytes
    500.0
    """

    def __init__(self, G, *, bandwidth="bandwidth_gbps", table=None):
        with gc_paused():
            self._index(G, bandwidth, table)

    def _index(self, G, bandwidth, table):
        self.G = G
        # the arcs are the edges of the fabric's edge table, in both directions
        t = table if table is not None else EdgeTable(G)
        nodes = t.names
        self.nodes = nodes
        self.index = t.index
        n_nodes = len(nodes)
        self._n = n_nodes
        self.kind_code = t.kind
        idx = self.index
        # both directions of every edge, in edge-table order (edge k: arcs 2k = a -> b and
        # 2k + 1 = b -> a)
        src, dst, data = t.u, t.v, t.data
        m = len(data)
        u = np.empty(2 * m, dtype=np.int64)
        v = np.empty(2 * m, dtype=np.int64)
        u[0::2], u[1::2] = src, dst
        v[0::2], v[1::2] = dst, src
        del src, dst
        if callable(bandwidth):
            names = nodes
            rate = np.array([bandwidth(names[a], names[b], d) for a, b, d in
                             zip(u[0::2].tolist(), v[0::2].tolist(), data)], dtype=float)
        elif bandwidth == "bandwidth_gbps":
            rate = t.bw
        else:
            rate = np.fromiter(map(itemgetter(bandwidth), data), float, m)
        cap = np.repeat(rate / 8.0, 2)
        gbps = rate if bandwidth == "bandwidth_gbps" else \
            np.fromiter(map(itemgetter("bandwidth_gbps"), data), float, m)
        self.arc_gbps = np.repeat(gbps, 2)          # bandwidth_gbps of every arc
        med = np.repeat(t.medium, 2)
        self._table_links = t.links
        self._edge_data = data
        self._net_medium = np.zeros(len(MEDIUM_CODE), dtype=bool)
        self._net_medium[_NETWORK_CODES] = True
        self._net_kind = np.zeros(len(KIND_CODE), dtype=bool)
        self._net_kind[[KIND_CODE[x] for x in NETWORK_KINDS]] = True
        # arcs by tail node (CSR): the arcs out of node i are _out_arcs[_out_ptr[i]:_out_ptr[i+1]]
        self._out_arcs = stable_argsort(u, n_nodes)
        self._out_ptr = np.searchsorted(u[self._out_arcs], np.arange(n_nodes + 1))
        self.arc_u, self.arc_v = u, v
        self.arc_cap_GBps = cap
        self.arc_medium = med
        self.arc_rate_medium = _rate_medium(G, med, self._arc_id, idx, kind_code=self.kind_code,
                                            arc_u=u, arc_v=v, arc_gbps=self.arc_gbps,
                                            names=nodes, attrs=t.attrs)
        # the GPUs in topology order: the table's nodes are G's, in G's order
        self.gpu_node = np.flatnonzero(t.kind == KIND_CODE["gpu"])
        self.gpus = list(map(nodes.__getitem__, self.gpu_node.tolist()))
        self.gpu_attrs = list(map(t.attrs.__getitem__, self.gpu_node.tolist()))
        self.gpu_domain = domain_ids(G, self.gpus, attrs=self.gpu_attrs)
        self._tier_np = None
        self._cones = {}
        self._parts = {}
        self._cone_tmpl = {}
        self._side_tmpl = {}
        self._cone_key = {}
        self._tmpl_sig = {}
        self._pair = {}
        self._side = {}
        self._side_key = {}
        self._nv_pair = {}
        self._sig = {}
        self._up = {}
        self._lateral = {}
        self._sig_ids = {}
        self._tops_memo = {}
        self._build_nvlink()
        self._build_nics()

    @functools.cached_property
    def kinds(self):
        """Every node's kind, in node order (built on first use)."""
        return list(map(NODE_KINDS.__getitem__, self.kind_code.tolist()))   # codes index it

    @functools.cached_property
    def gpu_index(self):
        """``{GPU name: position in :attr:`gpus`}`` (built on first use)."""
        return dict(zip(self.gpus, count()))

    @functools.cached_property
    def arc_latency_ns(self):
        """Cable latency of every arc (``latency_ns``, 0 when absent; read on first use)."""
        data = self._edge_data
        return np.repeat(np.fromiter(map(dict.get, data, repeat("latency_ns"), repeat(0.0)),
                                     float, len(data)), 2)

    @functools.cached_property
    def arc_links(self):
        """Physical links of every arc (float)."""
        return np.repeat(self._table_links.astype(float), 2)

    # ------------------------------------------------------------------ basics
    def arc(self, a, b):
        """Arc id of the direction ``a -> b`` (node names); KeyError when no edge."""
        return self._arc_id(self.index[a], self.index[b])

    def _arc_id(self, i, j):
        """Arc id of ``i -> j`` (node indices); KeyError when no edge."""
        lo, hi = self._out_ptr[i], self._out_ptr[i + 1]
        arcs = self._out_arcs[lo:hi]
        k = np.flatnonzero(self.arc_v[arcs] == j)
        if not k.size:
            raise KeyError((self.nodes[i], self.nodes[j]))
        return int(arcs[k[0]])

    def new_loads(self):
        """A zero load vector (bytes per arc)."""
        return np.zeros(len(self.arc_u))

    def loads_dict(self, loads, *, min_bytes=0.0):
        """``{(u, v): bytes}`` of the arcs whose load exceeds ``min_bytes``."""
        hit = np.nonzero(loads > min_bytes)[0]
        return {(self.nodes[self.arc_u[e]], self.nodes[self.arc_v[e]]): float(loads[e])
                for e in hit}

    def nvlink_fast(self, gpu_positions):
        """True when every GPU of ``gpu_positions`` is in a single-tier NVLink domain, where a
        GPU's NVLink flows load only its own links to the switches (so they can be given
        as per-GPU totals, :meth:`add_switch_flows`)."""
        return bool(self._nv_fast[np.asarray(gpu_positions, dtype=np.int64)].all())

    def domains(self, gpu_positions):
        """NVLink-domain key of each GPU position."""
        return self.gpu_domain[np.asarray(gpu_positions, dtype=np.int64)]

    # ------------------------------------------------------------------ NVLink
    def _nv_nbrs(self, node):
        G = self.G
        return [(w, d) for w, d in G.adj[node].items() if d["medium"] == "nvlink"]

    def _build_nvlink(self):
        """Index NVLink domains; single-tier domains get vectorized arc tables.

        A domain is on the fast path when every GPU's NVLink edges all go to
        NVLink switches, every GPU reaches the same switches at the same rates,
        and no switch has NVLink to another switch (one tier). Its GPU -> switch
        arcs are then rows of one array per switch count.
        """
        n_gpu = len(self.gpus)
        self._nv_fast = np.zeros(n_gpu, dtype=bool)
        self._nv_groups = {}          # m -> dict(pos, up, down, share)
        self._nv_row = np.full(n_gpu, -1, dtype=np.int64)
        self._nv_m = np.zeros(n_gpu, dtype=np.int64)
        if n_gpu == 0:
            return
        K = self.kind_code
        u, v = self.arc_u, self.arc_v
        gpu_k, sw_k = KIND_CODE["gpu"], KIND_CODE["nvswitch"]
        gpos = np.full(self._n, -1, dtype=np.int64)
        gpos[self.gpu_node] = np.arange(n_gpu)
        nvl = self.arc_medium == MEDIUM_CODE["nvlink"]
        out_nv = nvl & (K[u] == gpu_k)
        cnt_all = np.bincount(gpos[u[out_nv]], minlength=n_gpu)
        up_arcs = np.flatnonzero(out_nv & (K[v] == sw_k))
        up_arcs = up_arcs[np.lexsort((v[up_arcs], gpos[u[up_arcs]]))]
        owner = gpos[u[up_arcs]]
        cnt_sw = np.bincount(owner, minlength=n_gpu)
        start = np.concatenate(([0], np.cumsum(cnt_sw)[:-1]))
        tiered = np.zeros(self._n, dtype=bool)
        tiered[u[nvl & (K[u] == sw_k) & (K[v] == sw_k)]] = True
        ok_gpu = (cnt_all > 0) & (cnt_all == cnt_sw)
        dom = self.gpu_domain
        dom_size = np.bincount(dom)
        good = np.zeros(n_gpu, dtype=bool)
        tables = {}
        for m in np.unique(cnt_sw[ok_gpu]).tolist():
            rows = np.flatnonzero(ok_gpu & (cnt_sw == m))
            A = up_arcs[start[rows][:, None] + np.arange(m)[None, :]]
            sw = v[A]
            bw = self.arc_gbps[A]
            _, first, inv = np.unique(dom[rows], return_index=True, return_inverse=True)
            same = (sw == sw[first][inv]).all(axis=1) & (bw == bw[first][inv]).all(axis=1)
            same &= ~tiered[sw].any(axis=1)
            # a domain is fast when all its GPUs are good rows of this switch count
            n_good = np.bincount(dom[rows[same]], minlength=len(dom_size))
            keep = same & (n_good[dom[rows]] == dom_size[dom[rows]])
            good[rows[keep]] = True
            tables[m] = (rows[keep], A[keep], bw[keep])
        for m, (pos, A, bw) in tables.items():
            if not pos.size:
                continue
            self._nv_groups[m] = {"pos": pos, "up": A, "down": A ^ 1,
                                  "share": bw / bw.sum(axis=1, keepdims=True)}
            self._nv_row[pos] = np.arange(pos.size)
            self._nv_m[pos] = m
        self._nv_fast = good

    def _add_gpu_switch(self, loads, pos, egress, ingress):
        """Per-GPU bytes to / from its NVLink switches, split by edge bandwidth."""
        pos = np.asarray(pos, dtype=np.int64)
        egress = np.broadcast_to(np.asarray(egress, dtype=float), pos.shape)
        ingress = np.broadcast_to(np.asarray(ingress, dtype=float), pos.shape)
        fast = self._nv_fast[pos]
        for mchips, grp in self._nv_groups.items():
            sel = fast & (self._nv_m[pos] == mchips)
            if not sel.any():
                continue
            rows = self._nv_row[pos[sel]]
            share = grp["share"][rows]
            np.add.at(loads, grp["up"][rows], egress[sel][:, None] * share)
            np.add.at(loads, grp["down"][rows], ingress[sel][:, None] * share)
        for k in np.nonzero(~fast)[0]:
            g = self.gpus[pos[k]]
            nb = [(w, d) for w, d in self._nv_nbrs(g) if self.G.nodes[w]["kind"] == "nvswitch"]
            if not nb:
                msg = f"GPU `{g}` has no NVLink switch; NVLink SHARP needs one"
                raise FabricError(msg)
            tot = sum(d["bandwidth_gbps"] for _, d in nb)
            for w, d in nb:
                f = d["bandwidth_gbps"] / tot
                loads[self.arc(g, w)] += egress[k] * f
                loads[self.arc(w, g)] += ingress[k] * f

    def _nv_route(self, s, t):
        """Arcs and fractions of an NVLink flow between GPU positions s, t (generic domains)."""
        key = (s, t)
        hit = self._nv_pair.get(key)
        if hit is not None:
            return hit
        G = self.G
        src, dst = self.gpus[s], self.gpus[t]

        def nbrs(x):
            for w, d in G.adj[x].items():
                if d["medium"] != "nvlink":
                    continue
                if w == dst or G.nodes[w]["kind"] == "nvswitch":
                    yield w, d

        dag, order = _bfs_dag(src, dst, nbrs)
        if dag is None:
            msg = f"no NVLink path from `{src}` to `{dst}` inside their NVLink domain"
            raise FabricError(msg)
        arcs, fr, lat = self._dag_split(src, dst, dag, order, weight="links")
        hit = (arcs, fr, lat)
        self._nv_pair[key] = hit
        return hit

    def _dag_split(self, src, dst, dag, order, *, weight):
        """Split one unit over a shortest-path DAG; returns (arcs, fractions, max latency ns)."""
        G = self.G
        fwd = {src: 1.0}
        lat = {src: 0.0}
        for x in order:
            for w, d in dag.get(x, ()):
                c = d[weight] if weight else 1
                fwd[w] = fwd.get(w, 0.0) + fwd[x] * c
                lat[w] = max(lat.get(w, 0.0), lat[x] + _prop_ns(d))
        bwd = {dst: 1.0}
        for x in reversed(order):
            tot = 0.0
            for w, d in dag.get(x, ()):
                if w in bwd:
                    tot += (d[weight] if weight else 1) * bwd[w]
            if tot:
                bwd[x] = bwd.get(x, 0.0) + tot
        total = fwd.get(dst, 0.0)
        arcs, fr = [], []
        for x in order:
            for w, d in dag.get(x, ()):
                if w in bwd and x in fwd:
                    c = d[weight] if weight else 1
                    f = fwd[x] * c * bwd[w] / total
                    if f > 0:
                        arcs.append(self.arc(x, w))
                        fr.append(f)
        del G
        return np.array(arcs, dtype=np.int64), np.array(fr), lat.get(dst, 0.0)

    # ------------------------------------------------------------------ NICs
    def _build_nics(self):
        """GPU -> NIC arcs and NIC -> network-port tables (planes).

        The uniform fast path (one NIC per GPU, the same plane list on every
        NIC) is built from the arc arrays; other fabrics use per-GPU NIC lists
        (:attr:`_gpu_nics`, :attr:`_nic_ports`), built on first use.
        """
        self._nics_generic = None
        self._nic_uniform = False
        n_gpu = len(self.gpus)
        if n_gpu == 0:
            return
        K = self.kind_code
        u, v, med = self.arc_u, self.arc_v, self.arc_medium
        nic_k = KIND_CODE["nic"]
        gpos = np.full(self._n, -1, dtype=np.int64)
        gpos[self.gpu_node] = np.arange(n_gpu)
        g2n = np.flatnonzero((med == MEDIUM_CODE["pcie"]) & (K[u] == KIND_CODE["gpu"])
                             & (K[v] == nic_k))
        if np.bincount(gpos[u[g2n]], minlength=n_gpu).max() != 1 or g2n.size != n_gpu:
            return
        g2n = g2n[np.argsort(gpos[u[g2n]], kind="stable")]
        nic_of = v[g2n]
        net = np.flatnonzero(np.isin(med, [MEDIUM_CODE[m] for m in NETWORK_MEDIA])
                             & (K[u] == nic_k))
        if not net.size:
            return
        x = v[net]
        ux = np.unique(x)
        nodes = self.nodes
        plane = np.zeros(self._n, dtype=np.int64)
        plane[ux] = [self.G.nodes[nodes[i]].get("plane", 0) for i in ux.tolist()]
        rank = np.zeros(self._n, dtype=np.int64)
        rank[sorted(ux.tolist(), key=lambda i: str(nodes[i]))] = np.arange(ux.size)
        net = net[np.lexsort((rank[x], plane[x], u[net]))]
        cnt = np.bincount(u[net], minlength=self._n)
        P = int(cnt[nic_of[0]])
        if P == 0 or (cnt[nic_of] != P).any():
            return
        first = np.concatenate(([0], np.cumsum(cnt)[:-1]))
        up = net[first[nic_of][:, None] + np.arange(P)[None, :]]
        planes = plane[v[up]]
        if (planes != planes[0]).any():
            return
        bw = self.arc_gbps[up]
        tot = bw[:, 0].copy()
        for j in range(1, P):
            tot += bw[:, j]
        self._nic_uniform = True
        self._planes = tuple(planes[0].tolist())
        self._g2n, self._n2g = g2n, g2n ^ 1
        self._port_up, self._port_down = up, up ^ 1
        self._port_sw = v[up]
        self._port_share = bw / tot[:, None]

    def _generic_nics(self):
        """Per-GPU NIC names and per-NIC [(plane, switch, Gb/s)] port lists (built once)."""
        if self._nics_generic is None:
            G = self.G
            gpu_nics = [[] for _ in self.gpus]
            nic_ports = {}
            for p, g in enumerate(self.gpus):
                for w, d in G.adj[g].items():
                    if d["medium"] == "pcie" and G.nodes[w]["kind"] == "nic":
                        gpu_nics[p].append(w)
                        if w not in nic_ports:
                            ports = [(G.nodes[x].get("plane", 0), x, dx["bandwidth_gbps"])
                                     for x, dx in G.adj[w].items() if dx["medium"] in NETWORK_MEDIA]
                            ports.sort(key=lambda t: (t[0], str(t[1])))
                            nic_ports[w] = ports
            self._nics_generic = (gpu_nics, nic_ports)
        return self._nics_generic

    @property
    def _gpu_nics(self):
        return self._generic_nics()[0]

    @property
    def _nic_ports(self):
        return self._generic_nics()[1]

    # ------------------------------------------------------------------ flows
    def add_flows(self, loads, src, dst, nbytes):
        """Route flows ``src[i] -> dst[i]`` of ``nbytes[i]`` bytes and add them to ``loads``.

        Parameters
        ----------
        loads
            Load vector from :meth:`new_loads` (modified in place).
        src, dst
            GPU positions (indices into :attr:`gpus`); equal pairs are ignored.
        nbytes
            Bytes per flow (scalar or array).

        Returns
        -------
        float
            The largest long-haul (WAN) propagation latency of the routed
            flows' paths, in ns (0 inside a datacenter).

        Raises
        ------
        FabricError
            When a flow has no path (e.g. GPUs in different NVLink domains
            whose NICs are not cabled to a network).
        """
        src = np.atleast_1d(np.asarray(src, dtype=np.int64))
        dst = np.atleast_1d(np.asarray(dst, dtype=np.int64))
        nbytes = np.broadcast_to(np.asarray(nbytes, dtype=float), src.shape).copy()
        keep = (src != dst) & (nbytes > 0)
        src, dst, nbytes = src[keep], dst[keep], nbytes[keep]
        if src.size == 0:
            return 0.0
        same = self.gpu_domain[src] == self.gpu_domain[dst]
        lat = 0.0
        if same.any():
            lat = max(lat, self._add_intra(loads, src[same], dst[same], nbytes[same]))
        if (~same).any():
            lat = max(lat, self._add_inter(loads, src[~same], dst[~same], nbytes[~same]))
        return lat

    def _add_intra(self, loads, src, dst, nbytes):
        fast = self._nv_fast[src] & self._nv_fast[dst]
        lat = 0.0
        if fast.any():
            n_gpu = len(self.gpus)
            eg = np.bincount(src[fast], weights=nbytes[fast], minlength=n_gpu)
            ing = np.bincount(dst[fast], weights=nbytes[fast], minlength=n_gpu)
            pos = np.nonzero((eg > 0) | (ing > 0))[0]
            self._add_gpu_switch(loads, pos, eg[pos], ing[pos])
        for s, t, b in zip(src[~fast], dst[~fast], nbytes[~fast]):
            arcs, fr, plat = self._nv_route(int(s), int(t))
            np.add.at(loads, arcs, b * fr)
            lat = max(lat, plat)
        return lat

    def _add_inter(self, loads, src, dst, nbytes):
        if not self._nic_uniform:
            return self._add_inter_slow(loads, src, dst, nbytes)
        np.add.at(loads, self._g2n[src], nbytes)
        np.add.at(loads, self._n2g[dst], nbytes)
        P = self._port_up.shape[1]
        share = self._port_share[src]                       # split at the source NIC
        np.add.at(loads, self._port_up[src], nbytes[:, None] * share)
        np.add.at(loads, self._port_down[dst], nbytes[:, None] * share)
        a = self._port_sw[src].ravel()
        b = self._port_sw[dst].ravel()
        w = (nbytes[:, None] * share).ravel()
        diff = a != b
        a, b, w = a[diff], b[diff], w[diff]
        lat = 0.0
        if a.size == 0:
            return lat
        key = a * self._n + b
        uk, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv, weights=w)
        del P
        return lat + self._add_switch_pairs(loads, uk // self._n, uk % self._n, tot)

    def _add_inter_slow(self, loads, src, dst, nbytes):
        lat = 0.0
        pairs = defaultdict(float)
        for s, t, b in zip(src, dst, nbytes):
            s_nics, t_nics = self._gpu_nics[int(s)], self._gpu_nics[int(t)]
            if not s_nics or not t_nics:
                g = self.gpus[int(s)] if not s_nics else self.gpus[int(t)]
                msg = (f"GPU `{g}` has no NIC, so it cannot reach GPUs in other NVLink domains; "
                       "use a fabric with a scale-out network or ranks in one domain")
                raise FabricError(msg)
            gs, gt = self.gpus[int(s)], self.gpus[int(t)]
            for nic in s_nics:
                part = b / len(s_nics)
                loads[self.arc(gs, nic)] += part
                ports = self._nic_ports[nic]
                dn = t_nics[0] if len(t_nics) == 1 else t_nics[hash(nic) % len(t_nics)]
                loads[self.arc(dn, gt)] += part
                dports = self._nic_ports[dn]
                if not ports or not dports:
                    msg = (f"NIC `{nic if not ports else dn}` is not cabled to a network, so "
                           f"`{gs}` cannot reach `{gt}` in another NVLink domain; use a "
                           "scale-out preset (see `fabric presets`) or ranks in one domain")
                    raise FabricError(msg)
                tot = sum(x[2] for x in ports)
                for plane, x, bw in ports:
                    f = part * bw / tot
                    match = [y for y in dports if y[0] == plane] or dports
                    loads[self.arc(nic, x)] += f
                    for _, y, _ in match:
                        loads[self.arc(y, dn)] += f / len(match)
                        if x != y:
                            pairs[(self.index[x], self.index[y])] += f / len(match)
        if pairs:
            keys = list(pairs)
            a = np.array([k[0] for k in keys], dtype=np.int64)
            b = np.array([k[1] for k in keys], dtype=np.int64)
            lat = self._add_switch_pairs(loads, a, b, np.array([pairs[k] for k in keys]))
        return lat

    def add_switch_flows(self, loads, gpus, egress, ingress):
        """Add per-GPU traffic to and from its NVLink switches (NVLink SHARP multicast/reduce).

        Parameters
        ----------
        loads
            Load vector (modified in place).
        gpus
            GPU positions.
        egress, ingress
            Bytes each GPU sends to / receives from its switches (scalar or array).

        Raises
        ------
        FabricError
            When a GPU has no NVLink switch.
        """
        self._add_gpu_switch(loads, gpus, egress, ingress)

    def add_nic_flows(self, loads, gpus, egress, ingress):
        """Add per-GPU traffic to and from its first network switch (in-network reduction).

        The GPU -> NIC -> leaf arcs carry ``egress``; the reverse arcs
        ``ingress``; the reduction tree above the leaf carries one reduced
        stream per link and is not loaded here.

        Raises
        ------
        FabricError
            When a GPU's NIC is not cabled to a network.
        """
        gpus = np.atleast_1d(np.asarray(gpus, dtype=np.int64))
        egress = np.broadcast_to(np.asarray(egress, dtype=float), gpus.shape)
        ingress = np.broadcast_to(np.asarray(ingress, dtype=float), gpus.shape)
        if self._nic_uniform:
            np.add.at(loads, self._g2n[gpus], egress)
            np.add.at(loads, self._n2g[gpus], ingress)
            share = self._port_share[gpus]
            np.add.at(loads, self._port_up[gpus], egress[:, None] * share)
            np.add.at(loads, self._port_down[gpus], ingress[:, None] * share)
            return
        for p, e, i in zip(gpus, egress, ingress):
            g = self.gpus[int(p)]
            nics = self._gpu_nics[int(p)]
            ports = [x for nic in nics for x in self._nic_ports[nic]]
            if not ports:
                msg = f"GPU `{g}` has no NIC cabled to a network"
                raise FabricError(msg)
            for nic in nics:
                loads[self.arc(g, nic)] += e / len(nics)
                loads[self.arc(nic, g)] += i / len(nics)
                tot = sum(x[2] for x in self._nic_ports[nic])
                for _, x, bw in self._nic_ports[nic]:
                    loads[self.arc(nic, x)] += e / len(nics) * bw / tot
                    loads[self.arc(x, nic)] += i / len(nics) * bw / tot

    # ------------------------------------------------------------------ network
    @property
    def _tier_arr(self):
        """Tier of every node: the ``tier`` attribute, else by kind (leaf 1, spine 2, core 3,
        WAN 4; 0 for GPUs, NICs and the rest)."""
        if self._tier_np is None:
            by_code = np.zeros(len(KIND_CODE), dtype=np.int64)
            for kind, t in _TIER_OF_KIND.items():
                by_code[KIND_CODE[kind]] = t
            tiers = by_code[self.kind_code]
            node = self.G._node
            names = self.nodes
            for i in np.flatnonzero(self._net_kind[self.kind_code]).tolist():
                t = node[names[i]].get("tier")
                if t is not None:
                    tiers[i] = t
            self._tier_np = tiers
        return self._tier_np

    def _arcs_where(self, x, keep_tier):
        """Arc ids out of switch ``x`` to network neighbours whose tier passes
        ``keep_tier(tiers, own)`` (an array, in arc order)."""
        arcs = self._out_arcs[self._out_ptr[x]:self._out_ptr[x + 1]]
        w = self.arc_v[arcs]
        tiers = self._tier_arr
        keep = (self._net_medium[self.arc_medium[arcs]] & self._net_kind[self.kind_code[w]]
                & keep_tier(tiers[w], tiers[x]))
        return arcs[keep]

    def _nbrs_where(self, x, keep_tier):
        """Network neighbours of switch ``x`` whose tier passes ``keep_tier(tiers, own)``:
        [(index, edge data, arc id x -> index)], from the arc arrays."""
        arcs = self._arcs_where(x, keep_tier)
        data = self._edge_data
        return [(y, data[e >> 1], e) for y, e in zip(self.arc_v[arcs].tolist(), arcs.tolist())]

    def _lateral_nbrs(self, x):
        """Network neighbours of switch ``x`` on its own tier (e.g. WAN router to WAN router)."""
        hit = self._lateral.get(x)
        if hit is None:
            hit = self._lateral[x] = self._nbrs_where(x, np.equal)
        return hit

    def _up_nbrs(self, x):
        """Network neighbors of switch ``x`` one tier or more above it (cached)."""
        hit = self._up.get(x)
        if hit is None:
            hit = self._up[x] = self._nbrs_where(x, np.greater)
        return hit

    def _cone_parts(self, a):
        """Upward cone of switch ``a`` as (the part above it, a's own uplinks).

        The part above ``a`` (level, paths, latency_ns and ups dicts of the nodes above)
        depends only on ``a``'s up edges, so switches with the same uplinks (the leaves
        of one plane) share one: it is computed once per uplink set and not copied.
        ``a``'s own entries are level 0, 1 path, latency 0 and its uplinks
        [(node, links, arc id)].
        """
        hit = self._parts.get(a)
        if hit is None:
            # a's uplinks from the arc arrays: (node, links, long-haul latency), arc ids
            arcs = self._arcs_where(a, np.greater)
            w = self.arc_v[arcs]
            links = self.arc_links[arcs]
            prop = np.where(self.arc_medium[arcs] == MEDIUM_CODE["wan"],
                            self.arc_latency_ns[arcs], 0.0)
            key = (w.tobytes(), links.tobytes(), prop.tobytes())
            tmpl = self._cone_tmpl.get(key)
            if tmpl is None:
                first = tuple(zip(w.tolist(), links.astype(np.int64).tolist(), prop.tolist()))
                tmpl = self._cone_tmpl[key] = self._cone_above(first)
            root = list(zip(w.tolist(), links.astype(np.int64).tolist(), arcs.tolist()))
            hit = self._parts[a] = (tmpl, root)
            self._cone_key[a] = key
        return hit

    def _cone(self, a):
        """Upward cone of switch ``a`` as whole dicts {node: level}, {node: paths},
        {node: latency_ns}, {node: [(upper node, links, arc id)]}, ``a`` first."""
        hit = self._cones.get(a)
        if hit is not None:
            return hit
        (t_level, t_paths, t_lat, t_ups), root_ups = self._cone_parts(a)
        level = {a: 0}
        level.update(t_level)
        paths = {a: 1.0}
        paths.update(t_paths)
        lat = {a: 0.0}
        lat.update(t_lat)
        ups = {a: root_ups}
        ups.update(t_ups)
        hit = (level, paths, lat, ups)
        self._cones[a] = hit
        return hit

    def _cone_above(self, first):
        """The cone above a switch whose up edges are ``first`` [(node, links, latency_ns)]:
        (level, paths, latency, ups) of the nodes above it; ``ups`` maps a node to its
        [(upper node, links, arc id)]."""
        level, paths, lat, ups = {}, {}, {}, {}
        nxt = []
        for w, c, prop in first:
            if w not in level:
                level[w] = 1
                paths[w] = 0.0
                lat[w] = 0.0
                nxt.append(w)
            paths[w] += 1.0 * c
            lat[w] = max(lat[w], 0.0 + prop)
        frontier = nxt
        depth = 1
        while frontier:
            depth += 1
            nxt = []
            for x in frontier:
                lst = []
                for w, d, e in self._up_nbrs(x):
                    lw = level.get(w)
                    if lw is None:
                        level[w] = depth
                        paths[w] = 0.0
                        lat[w] = 0.0
                        nxt.append(w)
                        lw = depth
                    if lw != depth:
                        continue
                    c = d.get("links", 1)
                    paths[w] += paths[x] * c
                    lat[w] = max(lat[w], lat[x] + _prop_ns(d))
                    lst.append((w, c, e))
                ups[x] = lst
            frontier = nxt
        return level, paths, lat, ups

    def _add_switch_pairs(self, loads, a_arr, b_arr, w_arr):
        """Route aggregated bytes between attachment switches a -> b (a != b)."""
        up_bytes = defaultdict(float)
        down_bytes = defaultdict(float)
        lat = 0.0
        for a, b, w in zip(a_arr.tolist(), b_arr.tolist(), w_arr.tolist()):
            info = self._pair.get((a, b))
            if info is None:
                info = self._pair_route(a, b)
                self._pair[(a, b)] = info
            kind = info[0]
            lat = max(lat, info[-1])
            if kind == "cone":
                up_bytes[info[1]] += w
                down_bytes[info[2]] += w
            else:
                np.add.at(loads, info[1], w * info[2])
        for key, w in up_bytes.items():
            arcs, fr = self._side[key]
            np.add.at(loads, arcs, w * fr)
        for key, w in down_bytes.items():
            arcs, fr = self._side[key]
            np.add.at(loads, arcs, w * fr)
        return lat

    def _cone_sig(self, a):
        """Interned id of a's cone shape (nodes, levels, path counts): equal cones route alike."""
        sig = self._sig.get(a)
        if sig is None:
            self._cone_parts(a)
            ckey = self._cone_key[a]
            sig = self._tmpl_sig.get(ckey)
            if sig is None:
                level, paths, lat = self._cone_tmpl[ckey][:3]
                key = frozenset((x, level[x], paths[x], lat[x]) for x in level)
                sig = self._tmpl_sig[ckey] = self._sig_ids.setdefault(key, len(self._sig_ids))
            self._sig[a] = sig
        return sig

    def _tops(self, a, b):
        """Common top set of a and b: (T, uniform, tid, lat), memoized by the cones' shapes."""
        key = (self._cone_sig(a), self._cone_sig(b))
        hit = self._tops_memo.get(key)
        if hit is not None:
            return hit
        # the parts above a and b: a and b themselves are never a common top here
        (la, pa, lta, _), _ = self._cone_parts(a)
        (lb, pb, ltb, _), _ = self._cone_parts(b)
        small, big = (la, lb) if len(la) <= len(lb) else (lb, la)
        common = [t for t in small if t in big and t != a and t != b]
        if not common:
            hit = (None, False, None, 0.0)
        else:
            dist = {t: la[t] + lb[t] for t in common}
            dmin = min(dist.values())
            T = [t for t in common if dist[t] == dmin]
            lat = max(lta[t] + ltb[t] for t in T)
            wa = [pa[t] for t in T]
            wb = [pb[t] for t in T]
            uniform = min(wa) == max(wa) and min(wb) == max(wb)
            tid = self._side_key.setdefault(frozenset(T), len(self._side_key)) if uniform else None
            hit = (T, uniform, tid, lat)
        self._tops_memo[key] = hit
        return hit

    def _pair_route(self, a, b):
        (ta, tpa, tlta, _), _ = self._cone_parts(a)
        (tb, tpb, tltb, _), _ = self._cone_parts(b)
        pa, pb = tpa, tpb
        T, uniform, tid, lat = (None, False, None, 0.0)
        if b in ta or a in tb:           # one attachment switch above the other
            la, pa, lta, _ = self._cone(a)
            lb, pb, ltb, _ = self._cone(b)
            small, big = (la, lb) if len(la) <= len(lb) else (lb, la)
            common = [t for t in small if t in big]
            dist = {t: la[t] + lb[t] for t in common}
            dmin = min(dist.values())
            T = [t for t in common if dist[t] == dmin]
            lat = max(lta[t] + ltb[t] for t in T)
        else:
            T, uniform, tid, lat = self._tops(a, b)
        if T:
            if uniform:
                up_key = ("u", a, tid)
                down_key = ("d", b, tid)
                if up_key not in self._side:
                    self._side[up_key] = self._side_split(a, {t: 1.0 for t in T}, up=True,
                                                          tops_key=tid)
                if down_key not in self._side:
                    self._side[down_key] = self._side_split(b, {t: 1.0 for t in T}, up=False,
                                                            tops_key=tid)
            else:
                up_key = ("u", a, ("pair", b))
                down_key = ("d", b, ("pair", a))
                self._side[up_key] = self._side_split(a, {t: pb[t] for t in T}, up=True)
                self._side[down_key] = self._side_split(b, {t: pa[t] for t in T}, up=False)
            return ("cone", up_key, down_key, lat)
        # lateral bridge at the top (e.g. WAN router to WAN router); a and b are their
        # cones' level 0 (1 path, latency 0) on top of the shared parts above them
        def above_b(y):
            return 0 if y == b else tb.get(y)

        def pa_(x):
            return 1.0 if x == a else tpa[x]

        def pb_(y):
            return 1.0 if y == b else tpb[y]

        def lta_(x):
            return 0.0 if x == a else tlta[x]

        def ltb_(y):
            return 0.0 if y == b else tltb[y]

        best = None
        bridges = []
        for x in chain((a,), ta):
            lx = 0 if x == a else ta[x]
            for y, d, e in self._lateral_nbrs(x):
                ly = above_b(y)
                if ly is not None:
                    dd = lx + 1 + ly
                    if best is None or dd < best:
                        best, bridges = dd, []
                    if dd == best:
                        bridges.append((x, y, d, e))
        if bridges:
            N = sum(pa_(x) * d.get("links", 1) * pb_(y) for x, y, d, _ in bridges)
            gx = defaultdict(float)
            gy = defaultdict(float)
            arcs, fr = [], []
            for x, y, d, e in bridges:
                c = d.get("links", 1)
                gx[x] += c * pb_(y)
                gy[y] += pa_(x) * c
                arcs.append(e)
                fr.append(pa_(x) * c * pb_(y) / N)
            ua, uf = self._side_split(a, dict(gx), up=True)
            da, df = self._side_split(b, dict(gy), up=False)
            lat = max(lta_(x) + _prop_ns(d) + ltb_(y) for x, y, d, _ in bridges)
            return ("arcs", np.concatenate([ua, np.array(arcs, dtype=np.int64), da]),
                    np.concatenate([uf, np.array(fr), df]), lat)
        # generic shortest paths over the switch network
        src, dst = self.nodes[a], self.nodes[b]
        G = self.G

        def nbrs(x):
            for w, d in G.adj[x].items():
                if d["medium"] in NETWORK_MEDIA and G.nodes[w]["kind"] in NETWORK_KINDS:
                    yield w, d

        dag, order = _bfs_dag(src, dst, nbrs)
        if dag is None:
            msg = f"no network path from switch `{src}` to switch `{dst}`"
            raise FabricError(msg)
        arcs, fr, lat = self._dag_split(src, dst, dag, order, weight="links")
        return ("arcs", arcs, fr, lat)

    def _side_split(self, a, top_weight, *, up, tops_key=None):
        """Fractions on the arcs of a's cone toward tops weighted by ``top_weight``.

        ``up=True`` gives the upward arcs (a -> tops); ``up=False`` the
        downward arcs (tops -> a). Everything but the arc ids depends only on
        ``a``'s uplink set and the top weights (:meth:`_cone`): it is computed once
        per pair of them (``tops_key`` names uniform top weights that ``a`` is not
        one of, so they need not be hashed again), and only ``a``'s own uplink arcs
        are picked per switch.
        """
        _, root_ups = self._cone_parts(a)
        ckey = self._cone_key[a]
        if tops_key is None:
            tops_key = frozenset((x, w) for x, w in top_weight.items() if x != a)
        skey = (ckey, tops_key)
        tmpl = self._side_tmpl.get(skey)
        if tmpl is None:
            tmpl = self._side_tmpl[skey] = self._side_above(ckey, top_weight, root_ups)
        s_arcs, s_num, keep, root_num, root_total = tmpl
        # a itself: its top weight (when it is a top) plus what its uplinks lead to
        total = top_weight.get(a, 0.0)
        if total:
            for x in root_num.tolist():
                total += x
        else:
            total = root_total
        if total <= 0:
            msg = f"switch `{self.nodes[a]}` reaches none of the top switches of its route"
            raise FabricError(msg)
        root_arcs = np.fromiter(map(itemgetter(2), root_ups), np.int64, len(root_ups))
        # the down arc w -> x is the up arc's twin
        arcs = np.concatenate([root_arcs[keep], s_arcs]) ^ (0 if up else 1)
        return arcs, np.concatenate([root_num, s_num]) / total

    def _side_above(self, ckey, top_weight, root_ups):
        """The part of :meth:`_side_split` shared by the switches of uplink set ``ckey``:
        (the arcs above them, their numerators, which of the uplinks ``root_ups`` lead to
        a top, those uplinks' numerators and their sum)."""
        level, paths, _, ups = self._cone_tmpl[ckey]
        g = {}
        for x in sorted(level, key=level.get, reverse=True):
            val = top_weight.get(x, 0.0)
            for w, c, _ in ups.get(x, ()):
                gw = g.get(w)
                if gw:
                    val += c * gw
            if val:
                g[x] = val
        arcs, num = [], []
        for x, lst in ups.items():
            px = paths.get(x, 0.0)
            if not px:
                continue
            for w, c, e in lst:
                gw = g.get(w)
                if gw:
                    arcs.append(e)
                    num.append(px * c * gw)
        # the uplinks (the same nodes and links for every switch of the set)
        keep, root_num, total = [], [], 0.0
        for w, c, _ in root_ups:
            gw = g.get(w)
            keep.append(bool(gw))
            if gw:
                total += c * gw
                root_num.append(1.0 * c * gw)
        return (np.array(arcs, dtype=np.int64), np.array(num, dtype=float),
                np.array(keep, dtype=bool), np.array(root_num, dtype=float), total)

    # ------------------------------------------------------------------ costing
    def busiest_arc(self, values):
        """Index of the largest of ``values`` (one per arc); among arcs within 1e-9 of
        it, a network arc (its own medium) is preferred, so a tie between a GPU's
        share-capped pcie arc to an aggregated NIC and the NIC's network link names
        the network link, as the detailed form would."""
        k = int(np.argmax(values))
        top = values[k]
        if top <= 0:
            return k
        tied = np.flatnonzero(values >= top * (1 - 1e-9))
        if len(tied) > 1:
            net = tied[np.isin(self.arc_medium[tied], _NETWORK_CODES)]
            if len(net):
                return int(net[0])
        return k

    def usable_rate(self, efficiency):
        """Per-arc usable rate in GB/s: raw rate times ``efficiency[medium code]``.

        Parameters
        ----------
        efficiency
            Array or dict medium code -> efficiency factor (1.0 when absent).
        """
        eff = np.ones(len(MEDIUM_CODE))
        if isinstance(efficiency, dict):
            for k, x in efficiency.items():
                eff[k] = x
        else:
            eff[:] = efficiency
        return self.arc_cap_GBps * eff[self.arc_rate_medium]


_NETWORK_CODES = np.array([MEDIUM_CODE[m] for m in NETWORK_MEDIA])


def _rate_medium(G, med, arc_id, idx, *, kind_code, arc_u, arc_v, arc_gbps, names, attrs):
    """``arc_rate_medium`` (see :class:`Router`): aggregated NICs' share-capped pcie arcs,
    found and costed on the arc arrays; a NIC whose network links mix media is costed
    link by link on the graph. ``attrs`` are the nodes' attribute dicts, as ``names``."""
    out = med.copy()
    n_nodes = len(idx)
    nics = [(names[i], i) for i in np.flatnonzero(kind_code == KIND_CODE["nic"]).tolist()
            if attrs[i].get("chips", 1) > 1]
    if nics:
        agg = np.zeros(n_nodes, dtype=bool)
        agg[[i for _, i in nics]] = True
        is_net = np.isin(med, _NETWORK_CODES) & agg[arc_u]
        net_gbps = np.bincount(arc_u[is_net], weights=arc_gbps[is_net], minlength=n_nodes)
        lo = np.full(n_nodes, 127, dtype=np.int64)
        hi = np.full(n_nodes, -1, dtype=np.int64)
        np.minimum.at(lo, arc_u[is_net], med[is_net].astype(np.int64))
        np.maximum.at(hi, arc_u[is_net], med[is_net].astype(np.int64))
        user = (med == MEDIUM_CODE["pcie"]) & agg[arc_v] & (kind_code[arc_u] == KIND_CODE["gpu"])
        users = np.bincount(arc_v[user], minlength=n_nodes)
        ok = (lo == hi) & (users > 0)
        mixed = [(n, i) for n, i in nics if hi[i] >= 0 and lo[i] != hi[i]]
        ua = np.flatnonzero(user & ok[arc_v])
        nic = arc_v[ua]
        share = net_gbps[nic] / users[nic]
        hit = ua[arc_gbps[ua] >= share * (1 - 1e-9)]
        code = lo[arc_v[hit]].astype(out.dtype)
        out[hit] = code
        out[hit ^ 1] = code
        nics = mixed
    for nic, i in nics:
        net = [(d["medium"], d["bandwidth_gbps"]) for d in G.adj[nic].values()
               if d["medium"] in NETWORK_MEDIA]
        users = [(w, d["bandwidth_gbps"]) for w, d in G.adj[nic].items()
                 if d["medium"] == "pcie" and G.nodes[w]["kind"] == "gpu"]
        if not net or not users:
            continue
        share = sum(bw for _, bw in net) / len(users)
        code = MEDIUM_CODE[net[0][0]]
        for g, bw in users:
            if bw >= share * (1 - 1e-9):
                j = idx[g]
                out[arc_id(j, i)] = code
                out[arc_id(i, j)] = code
    return out


def _prop_ns(d):
    """Propagation counted in route latencies: long-haul (WAN) links only.

    In-datacenter cable delays (< 1.5 us end to end) are part of NCCL's
    measured per-hop latencies, which the collective engine adds separately.
    """
    return d.get("latency_ns", 0.0) if d["medium"] == "wan" else 0.0


def _bfs_dag(src, dst, nbrs):
    """Shortest-path DAG from src to dst: ({node: [(next, attrs)]}, nodes in BFS order)."""
    dist = {src: 0}
    order = [src]
    frontier = [src]
    found = False
    while frontier and not found:
        nxt = []
        for x in frontier:
            for w, _ in nbrs(x):
                if w not in dist:
                    dist[w] = dist[x] + 1
                    nxt.append(w)
                    if w == dst:
                        found = True
        order.extend(nxt)
        frontier = nxt
    if dst not in dist:
        return None, None
    # keep only nodes that lie on a shortest path to dst
    dag = {}
    back = {dst}
    for x in reversed(order):
        if dist[x] >= dist[dst]:
            continue
        lst = [(w, d) for w, d in nbrs(x) if dist.get(w) == dist[x] + 1 and w in back]
        if lst:
            dag[x] = lst
            back.add(x)
    return dag, [x for x in order if x in back]


def route_flows(G, flows):
    """Route ``(src_gpu, dst_gpu, bytes)`` flows on ``G``; return ``{(u, v): bytes}`` per arc.

    Parameters
    ----------
    G
        A fabric graph.
    flows
        Iterable of ``(source GPU name, destination GPU name, bytes)``.

    Returns
    -------
    dict
        Bytes carried by each directed link ``(u, v)`` that carries any.

    Raises
    ------
    ParameterError
        When a flow names a node that is not a GPU of ``G``.
    FabricError
        When a flow has no path.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.gb200_nvl72_graph()
    >>> loads = route_flows(G, [("d0-gpu0", "d0-gpu5", 18e6)])
    >>> len(loads), round(loads[("d0-gpu0", "d0-nvsw3")])
    (36, 1000000)
    """
    r = Router(G)
    src, dst, nb = [], [], []
    for s, t, b in flows:
        for g in (s, t):
            if g not in r.gpu_index:
                msg = f"flow endpoint `{g}` is not a GPU of this fabric"
                raise ParameterError(msg)
        src.append(r.gpu_index[s])
        dst.append(r.gpu_index[t])
        nb.append(float(b))
    loads = r.new_loads()
    if src:
        r.add_flows(loads, src, dst, np.array(nb))
    return r.loads_dict(loads)
