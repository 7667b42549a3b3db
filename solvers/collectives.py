"""Collective-communication cost engine: how long a collective takes on a fabric, and why.

The model (data -> flows -> routed loads -> time):

1. Ranks map to GPUs (topology order, or a rank file).
2. Each algorithm yields its phases: sets of concurrent GPU-to-GPU flows
   (or GPU-to-switch flows for in-switch reduction), each repeated for the
   algorithm's steps (a ring allreduce is one phase repeated 2(n-1) times).
3. :class:`solvers.routing.Router` routes the flows on the real graph, so
   links shared by several flows (rails, oversubscribed uplinks) slow them
   down.
4. A phase costs the bytes of its busiest link over that link's *usable*
   rate: the raw rate times a per-medium efficiency (NVLink: the GPU part's
   measured usable per-link rate, NCCL's ``topo.h`` figure on Hopper and 94%
   of it on Blackwell; InfiniBand: 48 of 50 GB/s per NDR port; ...), and for
   NVLink SHARP NCCL's per-link figure times the GPU's ``nvlsEfficiency``.
   Protocols LL / LL128 / Simple scale the bandwidth by NCCL's fractions
   (0.5 / 0.92 / 1) and have NCCL's latencies (``tuning.cc``); the cheapest
   is used, with LL judged at NCCL's own LL ceiling (see below).
5. ``time = latency(algo, protocol) + fill + S x (sum over phases of repeat
   x busiest-link seconds per byte) / protocol fraction``. ``algbw`` and
   ``busbw`` follow nccl-tests' definitions.

Mechanisms beyond link rates (each with its source in the catalog):

* **NVLS pipeline fill**: one loop of an NVLS channel moves nHeads x chunk
  bytes (nHeads = min(32, ranks per domain), NCCL's 128 KiB chunk, stepped
  down for small sizes); a single-domain allreduce crosses 3 stages
  (scatter, reduce/broadcast through the switch, gather), NVLSTree adds
  2 log2i(domains) network steps. The first slice crosses every stage before
  the bottleneck streams. Large domains (32 heads on NVL72) fill longer.
* **NVLS heads**: the switch reads every rank's buffer and multicasts the sum
  to every rank (S each way per GPU); only the nHeads heads load and store
  the reduced 1/nHeads slice (S/nHeads more each way), and only their NICs
  carry it across domains (NVLS + SHARP) or up NVLSTree's per-head trees. On
  NVL72, 32 of the 72 GPUs are heads.
* **In-switch reduction**: NVLS sums every element over the domain's ranks
  inside the NVLink switches: (ranks - 1) additions per float32 element
  (nccl-tests' default type) at the switch chips' reduction rate
  (``nvls_reduce_gflops_fp32``, an estimate where published). It binds on
  NVL72 (71 additions per element on 18 chips), not on 8-GPU boxes.
* **LL ceiling**: LL is bound by the CTA, not the link (every 8-byte store
  carries its flag, polled by the receiving CTA): in one domain Ring/LL busbw
  (Tree/LL: algbw at half of it) is at most the ring's CTAs (NCCL's search:
  24 on Hopper, 32 on Blackwell) x 5.875 GB/s (NCCL's Hopper ``llMaxBws``,
  141, over its 24 CTAs): 141 GB/s on Hopper, 188 on Blackwell; across
  domains NCCL's ``llMaxBws`` (39 on two domains, 20.4 beyond). ``auto``
  still picks with NCCL's table (282 on one Blackwell domain, a doubling of
  Hopper's), as NCCL does, and prices the pick at the CTA-bound ceiling.
* **Tree correction**: Tree bandwidth is scaled by NCCL's
  ``treeCorrectionFactor`` for sizes up to 512 MiB.
* **Tree pipeline**: a Tree's slice waits at every hop with Simple, each hop at
  its own speed (the reduce going up has the chain's links to itself), at NCCL's
  own depth estimate with LL128 (``1 + log2i(nodes) + 0.1 x ppn`` each way,
  ``calcCollChunking``), and only at the network hops with LL, whose flagged
  lines are forwarded as they arrive (``prims_ll.h``).
* **What NCCL picks between Ring and Tree**: NCCL rates the Tree from the
  Ring's own graph bandwidth (x 0.92, algbw x 0.5 against n / 2(n-1); on two
  nodes on bwIntra, up to twice bwInter), so past two domains ``auto`` runs the
  Ring for large messages even where the Tree is faster, as NCCL does; the
  pick is priced by this model.
* **NCCL's multi-node rules**: SHARP (CollNet, NVLS across domains) only when
  enabled (``sharp=True``, NCCL_COLLNET_ENABLE=1); NVLS allgather /
  reducescatter only up to 32 ranks per domain; CollNet Direct only up to 8
  and with an NVLink switch, CollNet Chain up to 8 (any number in NCCL
  2.23-2.27), ``auto`` choosing between them as NCCL's tuner does; no SHARP
  across sites; PAT
  for allgather / reducescatter with one rank per domain (x0.75); NVLSTree
  per-channel caps by domain count (NCCL's ``perChMaxNVLSTreeBws`` busbw per NVLS head,
  x the heads, as ``tuning.cc`` multiplies it by the NVLS graph's channels: 8 x 57.7 GB/s
  on two 8-GPU Hopper boxes); NVLS channel counts from the NIC rate on
  Blackwell; log2i tree depths; a ring hop on several domains costs at least
  NCCL's netOverhead. Every network step also pays the graph's own path
  (NICs, switches, cables).
* **WAN**: every phase that crosses a WAN pays the propagation (a tree twice:
  up and down), and each channel keeps at most one buffer in flight, so it
  moves at most ``buffer / RTT`` across (``buffer_bytes``, NCCL_BUFFSIZE).
  ``crosssite`` is the hierarchical cross-site allreduce (reduce-scatter in
  each site, shards across the WAN, allgather in each site).

Each result says which rule set its bandwidth term (``capped_by``).

Every constant comes from the catalog category ``nccl`` (tables
``defaults`` and ``calibration``) with its source; none is fitted to a case.
The rules that changed between NCCL releases (table ``versions``) follow the
release a model is given (``nccl``, default the newest).
"""

import functools
import math
import re
import weakref
from dataclasses import asdict, dataclass
from itertools import repeat
from operator import itemgetter

import numpy as np

from fabric._gc import gc_paused
from fabric.catalog import default_catalog
from fabric.io import read_json_input
from fabric.exceptions import CatalogError, FabricError, ParameterError
from fabric.locality import domain_ids, domain_of, first_appearance
from fabric.schema import KIND_CODE, MEDIA, MEDIUM_CODE
from solvers.routing import Router
from solvers import _collective_plans as plans

__all__ = [
    "OPS",
    "ALGORITHMS",
    "NCCL_ALGORITHMS",
    "OP_ALGORITHMS",
    "CollectiveResult",
    "CollectiveModel",
    "collective",
    "collective_sweep",
    "parse_size",
    "size_range",
    "busbw_factor",
    "load_rank_file",
]

_PAIR_MAX_RANKS = 1 << 16
"""Up to this many ranks ``auto`` routes both Ring and Tree to pick between them as NCCL does
(:meth:`CollectiveModel._best`); past it (a Ring of 2 x 65,536 steps) a Ring whose latency
alone exceeds the best time is not routed. A compute budget, not a model constant."""

_FLOW_BATCH = 1 << 22
"""Flows routed per call of :meth:`solvers.routing.Router.add_flows` (4M: a 1M-GPU ring's 32
channels take 8 calls)."""

OPS = ("allreduce", "allgather", "reducescatter", "broadcast", "reduce", "alltoall", "sendrecv")
"""The collective operations."""

ALGORITHMS = ("ring", "tree", "nvls", "nvlstree", "collnet", "collnetchain", "hierarchical",
              "crosssite", "pat", "p2p")
"""Every algorithm name (``auto`` picks among the eligible ones)."""

OP_ALGORITHMS = {
    "allreduce": ("ring", "tree", "nvls", "nvlstree", "collnet", "collnetchain", "hierarchical",
                  "crosssite"),
    "allgather": ("ring", "nvls", "pat"),
    "reducescatter": ("ring", "nvls", "pat"),
    "broadcast": ("ring",),
    "reduce": ("ring",),
    "alltoall": ("p2p",),
    "sendrecv": ("p2p",),
}
"""Operation -> the algorithms that implement it (as in NCCL)."""

NCCL_ALGORITHMS = ("ring", "tree", "nvls", "nvlstree", "collnet", "collnetchain", "pat", "p2p")
"""The algorithms NCCL itself runs: ``auto`` chooses among these. ``hierarchical`` and
``crosssite`` are compositions a framework can build from NCCL calls; they are priced only
when asked for by name."""

PROTOCOLS = ("LL", "LL128", "Simple")
_SIMPLE_ONLY = ("nvls", "nvlstree", "collnet", "collnetchain", "pat", "p2p")
_MAX_ALLTOALL_RANKS = 4096

_FABRIC_MEMO = weakref.WeakKeyDictionary()
"""Per-router data that depends only on the fabric and the catalog (usable arc rates, SHARP
support), computed once and shared by every model built on the same router."""

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_MULT = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


@dataclass(frozen=True)
class CollectiveResult:
    """One predicted collective (one row of the nccl-tests-like table).

    Attributes
    ----------
    op, algo, protocol : str
        The operation, the algorithm (the one ``auto`` picked) and the protocol.
    ranks : int
        Number of ranks.
    size_bytes : int
        nccl-tests' ``size`` column (see :func:`busbw_factor`).
    time_us, algbw_GBps, busbw_GBps : float
        Predicted time per call and nccl-tests' bandwidths.
    latency_us : float
        The latency part of ``time_us``.
    pipeline_us : float
        The pipeline-fill part of ``time_us`` (NVLS and NVLSTree; 0 otherwise).
    bottleneck : str
        The busiest link of the costliest phase, ``"u -> v (medium)"``, or the
        WAN window when it, not a link, limits the rate.
    capped_by : str
        The rule that set the bandwidth term: ``link`` (the busiest link at its
        usable rate), ``switch_reduction`` (the NVLink switches' in-switch
        reduction rate), ``ll_max_bw`` (the LL protocol's ceiling),
        ``nvlstree_channel_cap`` (NCCL's per-channel NVLSTree cap,
        ``perChMaxNVLSTreeBws``, times the NVLS heads), ``nvls_domain_busbw``
        (NVLS or NVLSTree across domains held to one domain's NVLS busbw, the form
        of NCCL's rating since 2.28.3), or ``wan_window`` (each channel's in-flight
        window over the WAN round trip).
    """

    op: str
    algo: str
    ranks: int
    size_bytes: int
    time_us: float
    algbw_GBps: float
    busbw_GBps: float
    protocol: str = "Simple"
    latency_us: float = 0.0
    pipeline_us: float = 0.0
    bottleneck: str = ""
    capped_by: str = "link"

    def row(self):
        """The seven public keys (``op, algo, ranks, size_bytes, time_us, algbw_GBps, busbw_GBps``)."""
        d = asdict(self)
        return {k: d[k] for k in ("op", "algo", "ranks", "size_bytes", "time_us", "algbw_GBps",
                                  "busbw_GBps")}


def parse_size(text, *, name="`size` (--size)"):
    """Parse a size like ``8``, ``1K``, ``64MiB``, ``1GiB`` or ``4G`` into bytes (K = 1024).

    Parameters
    ----------
    text : str or int
    name : str
        How error messages name the value (the parameter and its CLI option).

    Returns
    -------
    int
        From 1 byte to 1 PiB (2**50 bytes).

    Raises
    ------
    ParameterError
        When the size is empty, malformed, zero, negative or above 1 PiB.

    Examples
    --------
    >>> parse_size("8"), parse_size("1K"), parse_size("64MiB"), parse_size("4G")
    (8, 1024, 67108864, 4294967296)
    >>> parse_size("2P")
    Traceback (most recent call last):
    ...
    fabric.exceptions.ParameterError: `size` (--size) must be a byte count like 8, 1K, 64MiB, 1GiB or 4G (K = 1024), got '2P'
    """
    limit = 1 << 50                     # 1 PiB: far above any collective or per-step message
    if isinstance(text, bool):
        text = str(text)
    if isinstance(text, int):
        value = text
    else:
        if not str(text).strip():
            msg = (f"{name} is empty; give a byte count like 8, 1K, 64MiB, 1GiB or 4G "
                   f"(K = 1024)")
            raise ParameterError(msg)
        m = _SIZE_RE.match(str(text))
        if not m or (m.group(3) and m.group(3).lower() == "i"):
            shown = str(text) if len(str(text)) <= 40 else str(text)[:40] + "..."
            msg = (f"{name} must be a byte count like 8, 1K, 64MiB, 1GiB or 4G (K = 1024), "
                   f"got {shown!r}")
            raise ParameterError(msg)
        number = float(m.group(1)) * _MULT[m.group(2).lower()]
        if not number <= limit:                 # also catches inf from a huge digit string
            shown = str(text) if len(str(text)) <= 40 else str(text)[:40] + "..."
            msg = (f"{name} must be at most 1 PiB ({limit:,} bytes), got {shown!r}; "
                   f"give a smaller size such as 16G")
            raise ParameterError(msg)
        value = int(number)
    if value <= 0:
        msg = f"{name} must be at least 1 byte (e.g. 8 or 1K), got {text!r}"
        raise ParameterError(msg)
    if value > limit:
        msg = (f"{name} must be at most 1 PiB ({limit:,} bytes), got {value:,}; give a "
               f"smaller size such as 16G")
        raise ParameterError(msg)
    return value


def size_range(text, *, factor=4):
    """Sizes of a ``MIN:MAX`` sweep, multiplying by ``factor`` (nccl-tests ``-f``).

    Raises
    ------
    ParameterError
        When the range is malformed or MIN > MAX.

    Examples
    --------
    >>> size_range("8:1K")
    [8, 32, 128, 512]
    """
    lo, sep, hi = str(text).partition(":")
    if not sep:
        msg = f"`--sweep` takes MIN:MAX like 8:16G, got {text!r}"
        raise ParameterError(msg)
    lo = parse_size(lo, name="`--sweep` MIN")
    hi = parse_size(hi, name="`--sweep` MAX")
    if lo > hi:
        msg = f"`--sweep` MIN must not exceed MAX, got {text!r}"
        raise ParameterError(msg)
    out = []
    s = lo
    while s <= hi:
        out.append(s)
        s *= factor
    return out


def busbw_factor(op, n):
    """nccl-tests' busbw / algbw factor for ``op`` on ``n`` ranks.

    Examples
    --------
    >>> busbw_factor("allreduce", 8), busbw_factor("alltoall", 4)
    (1.75, 0.75)
    """
    if op == "allreduce":
        return 2.0 * (n - 1) / n
    if op in ("allgather", "reducescatter", "alltoall"):
        return (n - 1) / n
    return 1.0


def load_rank_file(path, gpus):
    """Read a rank file: a JSON list of GPU names, or ``{"assignment": {rank: gpu}}``.

    Parameters
    ----------
    path : str or Path
    gpus : collection of str
        The GPU names of the fabric.

    Returns
    -------
    list of str
        GPU name of each rank, rank 0 first.

    Raises
    ------
    ParameterError
        When the file is unreadable, not UTF-8 or not JSON, names an unknown
        GPU, or repeats one; when the ranks of an assignment are not 0..n-1.
        Messages name the CLI option, ``--ranks``.
    """
    fix = 'write a JSON list of GPU names or {"assignment": {"0": "d0-gpu0", ...}}'
    data = read_json_input(path, option="--ranks", fix=fix)
    if isinstance(data, dict) and isinstance(data.get("assignment"), dict):
        try:
            items = sorted((int(k), v) for k, v in data["assignment"].items())
        except (TypeError, ValueError):
            msg = f"`--ranks` file `{path}`: assignment keys must be rank numbers 0..n-1"
            raise ParameterError(msg) from None
        if [k for k, _ in items] != list(range(len(items))):
            msg = (f"`--ranks` file `{path}`: assignment ranks must be exactly "
                   f"0..{len(items) - 1}")
            raise ParameterError(msg)
        names = [v for _, v in items]
    elif isinstance(data, list):
        names = data
    else:
        msg = (f"`--ranks` file `{path}` must hold a JSON list of GPU names or "
               '{"assignment": {"0": "d0-gpu0", ...}}')
        raise ParameterError(msg)
    return _check_names(names, gpus, f"`--ranks` file `{path}`")


def _check_names(names, gpus, where):
    known = set(gpus)
    seen = set()
    if not names:
        msg = f"{where} lists no GPUs; give at least 2"
        raise ParameterError(msg)
    for g in names:
        if not isinstance(g, str) or g not in known:   # isinstance first: g may be a list
            example = ", ".join(list(gpus)[:3])
            msg = f"{where} names {g!r}, which is not a GPU of this fabric (GPUs look like {example})"
            raise ParameterError(msg)
        if g in seen:
            msg = f"{where} names GPU `{g}` twice; each rank needs its own GPU"
            raise ParameterError(msg)
        seen.add(g)
    return list(names)


class _Constants:
    """The NCCL model constants from the catalog (tables nccl.defaults and nccl.calibration)."""

    def __init__(self, catalog):
        try:
            self.d = catalog.part("nccl", "defaults")
            self.c = catalog.part("nccl", "calibration")
            self.v = catalog.part("nccl", "versions")
        except CatalogError as exc:
            msg = f"the catalog lacks the NCCL model constants: {exc}"
            raise FabricError(msg) from None

    def base(self, algo, proto):
        if algo in ("nvls", "nvlstree", "collnet", "collnetchain"):
            return self.c["base_latency_us_nvls_collnet"]
        kind = "tree" if algo == "tree" else "ring"
        return self.d[f"base_latency_us_{kind}_{proto.lower()}"]

    def hop(self, where, algo, proto):
        kind = "tree" if algo == "tree" else "ring"
        return self.d[f"hop_latency_us_{where}_{kind}_{proto.lower()}"]

    def fraction(self, proto):
        return self.c[f"proto_bw_fraction_{proto.lower()}"]

    def nvls_channels(self, family, k_domains):
        if family == "hopper":
            return int(self.d["nvls_channels_hopper"])
        where = "one_domain" if k_domains == 1 else "multi_domain"
        return int(self.d[f"nvls_channels_{family}_{where}"])

    def ll_max_busbw(self, family, k_domains):
        """NCCL's own LL ceiling (``llMaxBws``): what its tuner assumes when it picks."""
        if k_domains == 1:
            return self.d[f"ll_max_busbw_GBps_{family}_one_domain"]
        return self.d["ll_max_busbw_GBps_two_domains" if k_domains == 2
                      else "ll_max_busbw_GBps_many_domains"]

    def ll_busbw(self, family, k_domains):
        """The LL ceiling the run reaches: in one domain the ring CTAs times the LL rate of
        one CTA (LL is bound by the CTA, not the link); across domains NCCL's table."""
        if k_domains == 1:
            return (self.d[f"ring_ctas_{family}_one_domain"]
                    * self.c["ll_busbw_per_cta_GBps"])
        return self.ll_max_busbw(family, k_domains)


class CollectiveModel:
    """A fabric, a rank placement and the catalog constants, ready to cost collectives.

    Parameters
    ----------
    G
        A fabric graph.
    ranks
        GPU names in rank order; default: the first ``gpus`` GPUs in
        topology order (all GPUs when ``gpus`` is None).
    gpus
        Number of ranks when ``ranks`` is not given.
    catalog
        A :class:`fabric.Catalog` (the shipped one by default).
    router
        A :class:`solvers.routing.Router` of ``G`` to reuse (optional).
    sharp
        Allow InfiniBand SHARP (CollNet, and NVLS across domains) where the
        switches support it, as NCCL does with ``NCCL_COLLNET_ENABLE=1`` and a
        SHARP plugin. Default ``False``: a default NCCL run, where multi-domain
        allreduce uses NVLSTree, Tree or Ring (``src/init.cc`` resets an unset
        ``NCCL_COLLNET_ENABLE`` to 0).
    nvls
        Allow NVLink SHARP (NVLS, NVLSTree) where the switches support it; ``False``
        models ``NCCL_NVLS_ENABLE=0``.
    buffer_bytes
        ``NCCL_BUFFSIZE`` of the Simple protocol (default: the catalog's 4 MiB).
        A connection keeps at most one buffer in flight, so over a WAN each
        channel moves at most ``buffer_bytes / RTT``: a larger buffer (tuned
        NCCL, distance-aware Ethernet) recovers WAN bandwidth.
    protocols
        The protocols NCCL may use, as ``NCCL_PROTO`` allows them: a sequence of
        ``"LL"``, ``"LL128"``, ``"Simple"`` (any case), default all three
        (``NCCL_PROTO=^LL128`` is ``("LL", "Simple")``). As in NCCL, any given
        list that allows LL128 (``"^LL"`` too: NCCL_PROTO sets 0 or 1, never the
        default 2) turns it on even where the release keeps it off by default.
    nccl
        The NCCL release whose rules apply, ``"2.26"`` (or ``"2.26.2"``,
        ``"2.26.2-1"``), from the catalog's ``nccl.versions`` ``oldest`` to
        ``newest`` (2.18 to 2.30); default the newest. What changes with it
        (each rule with its NCCL source in the catalog): PAT exists from 2.23;
        Blackwell needs 2.25; before 2.27 LL128 is off by default on B300/GB300
        (compute capability 10.3) and across domains whose NIC sits behind the
        Grace CPU (GB200: ``PATH_PHB``), and one Blackwell domain runs 32 NVLS
        channels, not 24; CollNet Chain takes more than 8 ranks per domain only
        from 2.23 to 2.27; before 2.30 every multi-domain Blackwell communicator
        runs 32 NVLS channels. The
        tuning constants (latencies, LL ceilings, Tree factors, the NVLSTree
        per-head cap, whose table NCCL has from 2.28 on while the NVLSTree kernel's
        work split is the same since 2.18.1 for unregistered buffers) are 2.30's for
        every version. Releases
        after 2.30 are refused (2.31 and 2.32 change Blackwell's Ring and Tree
        ratings on two domains and the Ring/Simple latency in one Blackwell domain).

    Attributes
    ----------
    nvls_channels : int
        NCCL's NVLS channel count for these ranks' GPU family and domain
        count, never above ``max_channels`` (NCCL's ``MAXCHANNELS``).
    nvls_heads : int
        NCCL's NVLS heads per domain, min(32, ranks per domain) (an assumption
        across domains, where NCCL's search may find fewer).
    slice_bytes : int
        The NVLS pipeline's largest slice per channel: nvls_heads x NCCL's NVLS
        chunk (128 KiB).

    Raises
    ------
    ParameterError
        More ranks than GPUs, fewer than 2 ranks, unknown or repeated GPUs.

    Examples
    --------
    >>> import topologies
    >>> m = CollectiveModel(topologies.dgx_h100_graph())
    >>> r = m.evaluate("allreduce", 8 * 2**30, algo="ring")
    >>> round(r.busbw_GBps)
    370
    """

    def __init__(self, G, *, ranks=None, gpus=None, catalog=None, router=None, sharp=False,
                 buffer_bytes=None, nvls=True, protocols=None, nccl=None):
        with gc_paused():
            self.protocols_setting = _check_protocols(protocols)
            self._protocols_named = protocols is not None
            self._setup(G, ranks, gpus, catalog, router, sharp, buffer_bytes, nvls, nccl)

    def _setup(self, G, ranks, gpus, catalog, router, sharp, buffer_bytes, nvls, nccl):
        self.G = G
        self.sharp = bool(sharp)
        self.nvls = bool(nvls)
        self.catalog = catalog or default_catalog()
        self.k = _Constants(self.catalog)
        self.nccl = _check_nccl(nccl, self.k.v)
        self.nccl_label = "%d.%d" % self.nccl
        self.router = router or Router(G)
        r = self.router
        if ranks is None:
            total = len(r.gpus)
            n = total if gpus is None else int(gpus)
            if n > total:
                msg = (f"`gpus` (--gpus) asks for {n} ranks but the fabric has {total} GPUs; "
                       f"use at most {total}")
                raise ParameterError(msg)
            if n < 2:
                msg = f"`gpus` (--gpus) must be at least 2 (a collective needs 2 ranks), got {n}"
                raise ParameterError(msg)
            self.pos = np.arange(n, dtype=np.int64)
        else:
            names = _check_names(list(ranks), r.gpus, "`ranks` (--ranks)")
            if len(names) < 2:
                msg = "`ranks` (--ranks) must name at least 2 GPUs"
                raise ParameterError(msg)
            self.pos = np.array([r.gpu_index[g] for g in names], dtype=np.int64)
        self.n = len(self.pos)
        dom = r.gpu_domain[self.pos]
        # ranks grouped by NVLink domain: domains in order of first appearance, ranks in rank
        # order inside each
        _, first, inv = np.unique(dom, return_index=True, return_inverse=True)
        rank_of_dom = np.argsort(np.argsort(first, kind="stable"), kind="stable")[inv]
        by_dom = np.argsort(rank_of_dom, kind="stable")
        cuts = np.flatnonzero(np.diff(rank_of_dom[by_dom])) + 1
        self.groups = np.split(self.pos[by_dom], cuts)
        self.k_domains = len(self.groups)
        sizes = {len(g) for g in self.groups}
        self.uniform = len(sizes) == 1
        self.g = min(sizes)                 # ranks per domain: the fewest, and the most
        self.g_max = max(sizes)
        sites = list(map(dict.get, map(r.gpu_attrs.__getitem__, self.pos.tolist()),
                         repeat("site"), repeat(0)))
        site_code = first_appearance(sites)
        codes = np.fromiter(map(site_code.__getitem__, sites), dtype=np.int64, count=self.n)
        # site code of every router GPU position (-1: not a rank)
        self.site_of_pos = np.full(len(r.gpus), -1, dtype=np.int64)
        self.site_of_pos[self.pos] = codes
        self.sites = len(site_code)
        by_site = np.argsort(codes, kind="stable")
        cuts = np.flatnonzero(np.diff(codes[by_site])) + 1
        self.site_groups = [grp.tolist() for grp in np.split(self.pos[by_site], cuts)]
        self.channels = 1 if self.k_domains == 1 else int(min(self.g, self.k.c["max_channels"]))
        self._rates()
        self._plans = {}
        self._pipeline_constants()
        buf = self.k.d["simple_buffer_bytes"] if buffer_bytes is None else buffer_bytes
        if isinstance(buf, bool) or not isinstance(buf, (int, float)) or not math.isfinite(buf) \
                or not 4096 <= buf <= 2 ** 34:
            msg = (f"`buffer_bytes` (--buffer) must be a size from 4 KiB to 16 GiB, got {buf!r}")
            raise ParameterError(msg)
        self.windows = {"Simple": float(buf), "LL": float(self.k.d["ll_window_bytes"]),
                        "LL128": float(self.k.d["ll128_window_bytes"])}

    # ----------------------------------------------------------- efficiencies
    @property
    def rank_names(self):
        """GPU names of the communicator's ranks, in rank order."""
        return [self.router.gpus[p] for p in self.pos.tolist()]

    def _gpu_part(self, name):
        return self.catalog.part("gpu", self.G.nodes[name]["part"])

    def _nic_GBps(self):
        """Network rate of one rank's NIC in GB/s (NCCL's ``comm->minNetBw``), the slowest of
        the first rank of every domain: the NIC's cabled network links (its ports when
        uncabled) shared equally among the GPUs attached to it, as
        :func:`fabric.metrics.per_gpu_bandwidth` counts it, computed locally."""
        G = self.G
        rates = []
        for grp in self.groups:
            g = self.router.gpus[int(grp[0])]
            total = 0.0
            for nic in G.adj[g]:
                d = G.nodes[nic]
                if d["kind"] != "nic":
                    continue
                net = sum(e["bandwidth_gbps"] for e in G.adj[nic].values()
                          if e["medium"] in ("infiniband", "ethernet"))
                if not net:
                    net = d.get("ports", 0) * d.get("port_gbps", 0.0) * d.get("chips", 1)
                sharers = sum(1 for w in G.adj[nic] if G.nodes[w]["kind"] == "gpu") or 1
                total += net / sharers
            rates.append(total)
        return min(rates) / 8.0 if rates else 0.0

    def _nvls_channel_count(self, family):
        """NCCL's NVLS channel count for these ranks (``src/transport/nvls.cc``).

        Hopper: 16. Blackwell in one NVLink domain (a whole NVL72 clique is one
        NCCL node): 24 (32 before NCCL 2.27). Blackwell across domains
        (``ncclNvlsTreeSm100Tuning``, NCCL 2.30): 32 on two domains with a NIC
        of >= 48 GB/s; 24 for NICs of >= 96 GB/s with <= 8 ranks per domain; 32
        for >= 96 GB/s with more; 24 for 48-96 GB/s; otherwise (and before 2.30)
        the catalog's multi-domain default (32).
        """
        return self._nvls_channels_in(self.nccl, family)

    def _nvls_channels_in(self, version, family):
        """:meth:`_nvls_channel_count` under NCCL release ``version`` ((major, minor))."""
        if family == "hopper":
            return self.k.nvls_channels(family, self.k_domains)
        if self.k_domains == 1:
            if version < self._release("nvls_channels_sm100_one_domain_since"):
                return self.k.nvls_channels(family, 2)          # NVLS_NCHANNELS_SM100
            return self.k.nvls_channels(family, 1)
        if version < self._release("nvls_tree_sm100_tuning_since"):
            return self.k.nvls_channels(family, self.k_domains)
        nic = self._nic_GBps()
        if self.k_domains == 2 and nic >= 48:
            return 32
        if nic >= 96:
            return 24 if self.g <= 8 else 32
        if nic >= 48:
            return 24
        return self.k.nvls_channels(family, self.k_domains)

    def _release(self, key):
        """The NCCL release (major, minor) of the catalog's ``nccl.versions`` ``key``."""
        return _release_tuple(self.k.v[key])

    def _protocols_in(self, version):
        """The protocols a run may use under NCCL ``version``: the ``protocols`` setting, less
        LL128 where that release keeps it off by default. NCCL checks only protocols left at
        their default (NCCL_PROTO sets 0 or 1, the default is 2), so a given setting stands.
        Before 2.27: no LL128 on Blackwell Ultra (sm_103) at all, nor across domains whose
        NICs sit behind the CPU (GB200/GB300)."""
        protos = self.protocols_setting
        if self._protocols_named:
            return protos
        off = version < self._release("ll128_sm103_since") and self._sm103
        off = off or (self.k_domains > 1 and version < self._release("ll128_over_c2c_since")
                      and self._nic_behind_cpu)
        return tuple(p for p in protos if p != "LL128") if off else protos

    def rules_in(self, nccl=None):
        """What NCCL release ``nccl`` (default: this model's) decides that can change the price
        of these ranks: ``(protocols, NVLS channels or None, PAT available or None, CollNet
        Chain above 8 ranks per domain or None)``, None where the rule has nothing to act on
        (NVLS off or unsupported; PAT needs one rank per domain; the Chain rule needs SHARP
        and more than 8 ranks per domain). Equal rules price these ranks alike."""
        version = self.nccl if nccl is None else _check_nccl(nccl, self.k.v)
        memo = self.__dict__.setdefault("_rules_memo", {})
        if version not in memo:
            memo[version] = self._rules(version)
        return memo[version]

    def _rules(self, version):
        """:meth:`rules_in` of a checked release, uncached."""
        nvls = None
        if self._nvls_support() is None:
            nvls = min(self._nvls_channels_in(version, self.family), self.max_channels)
        pat = self._pat_in(version) if self.k_domains == self.n else None
        chain = None
        if self.sharp and self.k_domains > 1 and self.g > int(self.k.d["collnet_max_local_ranks"]):
            chain = self._chain_above_limit_in(version)
        return self._protocols_in(version), nvls, pat, chain

    def _pat_in(self, version):
        """Whether NCCL ``version`` has PAT."""
        return version >= self._release("pat_since")

    def _chain_above_limit_in(self, version):
        """Whether NCCL ``version`` runs CollNet Chain above 8 ranks per domain."""
        return (self._release("collnetchain_any_local_ranks_since") <= version
                < self._release("collnetchain_local_ranks_limit_since"))

    def _pipeline_constants(self):
        """NVLS channel count, nominal slice and LL ceilings for these ranks (NCCL per GPU family).

        NCCL takes the oldest compute capability of the communicator: any
        Hopper (or unknown) GPU among the ranks selects the Hopper constants.
        """
        r = self.router
        families = set()
        self._nic_behind_cpu = self._sm103 = False
        for grp in self.groups:
            spec = self._gpu_part(r.gpus[int(grp[0])])
            arch = str(spec.get("arch", ""))
            families.add("blackwell" if arch.startswith("blackwell") else "hopper")
            # NCCL before 2.27: a NIC behind the CPU (host link C2C: GB200/GB300) is
            # PATH_PHB; Blackwell Ultra (B300/GB300, sm_103) is off the LL128 list
            self._nic_behind_cpu |= spec.get("host_link") == "c2c"
            self._sm103 |= arch == "blackwell-ultra"
        family = "hopper" if "hopper" in families else "blackwell"
        self.family = family
        if "blackwell" in families and self.nccl < self._release("blackwell_since"):
            since = self.k.v["blackwell_since"]
            msg = (f"`nccl` (--nccl) {self.nccl_label}: NCCL runs Blackwell GPUs from "
                   f"{since} on; give {since} or later")
            raise ParameterError(msg, param="nccl")
        self.protocols = self._protocols_in(self.nccl)
        d = self.k.d
        self.max_channels = int(self.k.c["max_channels"])
        self.nvls_channels = min(self._nvls_channel_count(family), self.max_channels)
        where = "two_domains" if self.k_domains == 2 else "many_domains"
        self.nvlstree_cap_GBps = d[f"nvlstree_per_channel_GBps_{family}_{where}"]
        self.nvls_heads = min(int(d["nvls_max_heads"]), self.g)
        self.slice_bytes = self.nvls_heads * int(d["nvls_chunk_bytes"])
        # The LL ceiling as a floor on us per byte of S: Ring busbw <= ceiling (nccl-tests'
        # busbw factor is NCCL's nsteps / nranks), Tree algbw <= 0.5 x ceiling; the
        # hierarchical algorithm runs Ring kernels, so the Ring ceiling applies to it too.
        # Two ceilings: NCCL's table (llMaxBws), with which `auto` picks the protocol as
        # NCCL does, and the one the run reaches, which prices it.
        self.ll_busbw_GBps = self.k.ll_busbw(family, self.k_domains)
        nccl_GBps = self.k.ll_max_busbw(family, self.k_domains)
        self._ll_floor = self._ll_floors(self.ll_busbw_GBps)
        # the same object where the two agree (Hopper, several domains): LL priced once
        self._ll_floor_nccl = (self._ll_floor if nccl_GBps == self.ll_busbw_GBps
                               else self._ll_floors(nccl_GBps))

    def _ll_floors(self, ceiling_GBps):
        """``{algo: {op: us per byte of S}}`` of an LL busbw ceiling (Ring, hierarchical, Tree)."""
        ll = ceiling_GBps * 1e3
        ring = {op: busbw_factor(op, self.n) / ll for op in OPS}
        tree = 1.0 / (self.k.d["tree_algbw_per_busbw"] * ll)
        return {"ring": ring, "hierarchical": ring, "tree": dict.fromkeys(OPS, tree)}

    def _rates(self):
        """Usable rate of every arc (GB/s) for ordinary and for NVLS traffic.

        They depend on the fabric and the catalog only, so they are computed
        once per router and catalog and shared by every model built on them.
        """
        memo = _FABRIC_MEMO.setdefault(self.router, {})
        key = ("collective_rates", self.catalog)
        cached = memo.get(key)
        if cached is None:
            cached = memo[key] = self._compute_rates()
        self.rate, self.rate_nvls, self._nvls_eff = cached

    def _compute_rates(self):
        r = self.router
        G = self.G
        c = self.k.c
        eff = np.ones(len(MEDIUM_CODE))
        for medium in ("pcie", "c2c", "infiniband", "ethernet", "wan"):
            eff[MEDIUM_CODE[medium]] = c[f"link_efficiency_{medium}"]
        base = r.usable_rate(eff)
        # NVLink, per raw link rate: SM-driven copies (ring, tree, send/recv) move at the GPU
        # part's measured usable rate; NVLink SHARP at NCCL's own per-link figure times its
        # nvlsEfficiency (NCCL calibrates NVLS relative to that figure)
        node_nv = np.ones(len(r.nodes))
        node_ls = np.ones(len(r.nodes))
        node_nvls = np.zeros(len(r.nodes))
        attrs = r.gpu_attrs
        parts = list(map(itemgetter("part"), attrs))
        by_part = {}
        for part in dict.fromkeys(parts):
            spec = self.catalog.part("gpu", part)
            raw = spec["nvlink_link_gbps"] / 8.0
            # a catalog part without a measured rate takes NCCL's figure
            usable = spec.get("usable_nvlink_link_GBps", spec["nccl_nvlink_link_GBps"])
            by_part[part] = (usable / raw,
                             spec["nccl_nvlink_link_GBps"] / raw * spec["nvls_efficiency"],
                             spec["nvls_efficiency"])
        switches = np.flatnonzero(r.kind_code == KIND_CODE["nvswitch"])
        if len(by_part) == 1:
            # one GPU part: every GPU and every NVLink switch takes its efficiencies
            both = np.concatenate([r.gpu_node, switches])
            node_nv[both], node_ls[both], node_nvls[both] = next(iter(by_part.values()))
        else:
            code = {part: i for i, part in enumerate(by_part)}
            codes = np.fromiter(map(code.__getitem__, parts), dtype=np.int64, count=len(parts))
            table = np.array(list(by_part.values()))
            node_nv[r.gpu_node] = table[codes, 0]
            node_ls[r.gpu_node] = table[codes, 1]
            node_nvls[r.gpu_node] = table[codes, 2]
            # each NVLink domain's first GPU gives its switches' efficiencies (the first
            # GPU's for switches of no GPU's domain)
            ids, keys = domain_ids(G, r.gpus, attrs=attrs, return_keys=True)
            ids = ids.tolist()
            first = dict(zip(reversed(ids), reversed(range(len(ids)))))
            dom_eff = {keys[d]: by_part[parts[i]] for d, i in first.items()}
            for i in switches.tolist():
                node_nv[i], node_ls[i], node_nvls[i] = dom_eff.get(
                    domain_of(G, r.nodes[i]), by_part[parts[0]])
        nv = np.flatnonzero(r.arc_medium == MEDIUM_CODE["nvlink"])
        tail = r.arc_u[nv]
        gpu_end = np.where(r.kind_code[tail] == KIND_CODE["gpu"], tail, r.arc_v[nv])
        cap = r.arc_cap_GBps[nv]
        rate = base.copy()
        rate[nv] = cap * node_nv[gpu_end]
        rate_nvls = rate.copy()
        rate_nvls[nv] = cap * node_ls[gpu_end]
        return rate, rate_nvls, node_nvls

    # ----------------------------------------------------------- eligibility
    def _nvls_support(self):
        """None when every rank's NVLink switches have NVLink SHARP, else the reason."""
        if not self.nvls:
            return "NVLS is disabled (nvls=False, as NCCL_NVLS_ENABLE=0)"
        G = self.G
        r = self.router
        for grp in self.groups:
            g = r.gpus[int(grp[0])]
            if self._nvls_eff[r.index[g]] <= 0:
                return f"GPU part `{G.nodes[g]['part']}` has no NVLink SHARP efficiency"
            chips = self._nvlink_switches(g)
            if not chips:
                return f"GPU `{g}` is not attached to an NVLink switch"
            for w in chips:
                attrs = G.nodes[w]
                part = attrs.get("chips_part") or attrs["part"]
                if not self.catalog.part("nvswitch", part).get("sharp", False):
                    return f"NVLink switch part `{part}` has no NVLink SHARP"
        return None

    def _nvlink_switches(self, g):
        """The NVLink switches GPU ``g`` is linked to."""
        G = self.G
        return [w for w, d in G.adj[g].items()
                if d["medium"] == "nvlink" and G.nodes[w]["kind"] == "nvswitch"]

    def _no_nvswitch(self):
        """True when a rank's GPU has no NVLink switch (NCCL's nvsCount 0)."""
        return any(not self._nvlink_switches(self.router.gpus[int(grp[0])])
                   for grp in self.groups)

    def _collnet_direct_factor(self):
        """NCCL's GPU-per-NIC correction of CollNet Direct (``tuning.cc``): ``f = ppn /
        heads``, then ``f - (f - 1) / 2``; heads: the distinct NICs of a domain's ranks."""
        G = self.G
        grp = self.groups[0]
        nics = {w for p in grp.tolist() for w in G.adj[self.router.gpus[p]]
                if G.nodes[w]["kind"] == "nic"}
        f = len(grp) / max(1, len(nics))
        return f - (f - 1) / 2

    def _sharp_support(self):
        """None when every network switch supports SHARP (in-network reduction), else the reason."""
        if not self.sharp:
            return "SHARP is disabled (sharp=False, as in a default NCCL run)"
        if self.sites > 1:
            return (f"the ranks span {self.sites} sites, and a SHARP reduction tree ends at a "
                    f"site's own switches (the WAN routers do not aggregate)")
        memo = _FABRIC_MEMO.setdefault(self.router, {})
        key = ("collective_sharp", self.catalog)
        if key not in memo:
            memo[key] = self._fabric_sharp_support()
        return memo[key]

    def _fabric_sharp_support(self):
        G = self.G
        parts = {d.get("chips_part") or d["part"] for _, d in G.nodes(data=True)
                 if d["kind"] in ("leaf", "spine", "core")}
        if not parts:
            return "the fabric has no scale-out switches"
        for p in sorted(parts):
            try:
                v = self.catalog.part("switch", p).get("sharp_version", 0)
            except CatalogError:
                v = 0
            if not v:
                return f"switch part `{p}` has no SHARP (sharp_version 0)"
        return None

    def eligible(self, op):
        """``{algorithm: None or reason it cannot run}`` for ``op`` on these ranks."""
        out = {}
        for algo in OP_ALGORITHMS[op]:
            out[algo] = self._why_not(op, algo)
        return out

    def _why_not(self, op, algo):
        multi = self.k_domains > 1
        d = self.k.d
        if algo == "nvls":
            reason = self._nvls_support()
            if reason:
                return reason
            if multi and op != "allreduce":
                return "NVLS across NVLink domains exists only for allreduce"
            arity = int(d["nvls_max_local_ranks_non_allreduce"])
            if op != "allreduce" and self.g > arity:
                return (f"NCCL runs NVLS {op} with at most {arity} ranks per NVLink domain "
                        f"(NCCL_MAX_NVLS_ARITY); this communicator has {self.g}")
            if multi:
                sharp = self._sharp_support()
                if sharp:
                    return ("NVLS across NVLink domains needs in-network reduction (IB SHARP) "
                            f"and {sharp}")
                if not self.uniform:
                    return "NVLS across domains needs the same number of ranks in every domain"
            return None
        if algo == "nvlstree":
            if not multi:
                return "NVLSTree needs ranks in at least 2 NVLink domains (NCCL disables it on one)"
            reason = self._nvls_support()
            if reason:
                return reason
            return None if self.uniform else "NVLSTree needs the same number of ranks per domain"
        if algo in ("collnet", "collnetchain"):
            if not multi:
                return "CollNet (IB SHARP) needs ranks in at least 2 NVLink domains"
            sharp = self._sharp_support()
            if sharp:
                return sharp
            most = int(d["collnet_max_local_ranks"])
            if self.g_max > most and not (
                    algo == "collnetchain" and self._chain_above_limit_in(self.nccl)):
                return (f"NCCL runs {'CollNet Chain' if algo == 'collnetchain' else 'CollNet'} "
                        f"with at most {most} ranks per NVLink domain (NCCL_MAX_DIRECT_ARITY + 1"
                        + ("; Chain takes more from 2.23 to 2.27" if algo == "collnetchain"
                           else "") + ")")
            if algo == "collnet" and self._no_nvswitch():
                return ("CollNet Direct needs an NVLink switch in every domain (NCCL disables "
                        "it when nvsCount is 0); CollNet Chain runs without one")
            return None if self.uniform else "CollNet needs the same number of ranks per domain"
        if algo == "hierarchical" and not self.uniform:
            return "hierarchical needs the same number of ranks in every NVLink domain"
        if algo == "pat":
            if not self._pat_in(self.nccl):
                return (f"PAT arrived in NCCL {self.k.v['pat_since']} "
                        f"(this run follows NCCL {self.nccl_label})")
            if self.k_domains != self.n:
                return ("PAT runs with one rank per NVLink domain (NCCL: nNodes == nRanks); "
                        f"here {self.n} ranks in {self.k_domains} domain(s)")
            return None
        if algo == "crosssite":
            if self.sites < 2:
                return "crosssite needs ranks in at least 2 sites"
            if len({len(grp) for grp in self.site_groups}) != 1:
                return "crosssite needs the same number of ranks at every site"
            return None
        if op == "alltoall" and self.n > _MAX_ALLTOALL_RANKS:
            return f"alltoall is modelled up to {_MAX_ALLTOALL_RANKS} ranks"
        return None

    # ----------------------------------------------------------- plans
    def _phases(self, op, algo):
        """Phases of (op, algo) and (nsteps, inter-domain steps) for the latency formula."""
        n, k, C, groups = self.n, self.k_domains, self.channels, self.groups
        if algo == "ring" and op == "allreduce":
            orders = plans.ring_orders(groups, C)
            return [plans.ring_phase(orders, 2 * (n - 1), 1.0 / (n * C))]
        if algo in ("ring", "pat") and op in ("allgather", "reducescatter"):
            # PAT moves the same bytes per rank as the ring (the engine applies NCCL's PAT factor)
            orders = plans.ring_orders(groups, C)
            return [plans.ring_phase(orders, n - 1, 1.0 / (n * C))]
        if algo == "crosssite":
            return self._crosssite_phases()
        if algo == "ring":           # broadcast, reduce: pipelined chain from rank 0
            orders = plans.ring_orders(groups, C)
            return [plans.chain_phase(orders, 1.0 / C)]
        if algo == "tree":
            # single-tier NVLink domains: the chains as per-GPU totals (same loads)
            return plans.tree_allreduce(groups, C,
                                        chains_as_totals=self.router.nvlink_fast(self.pos))
        if algo == "nvls" and op in ("allgather", "reducescatter"):
            pos = self.pos
            small, big = np.full(n, 1.0 / n), np.ones(n)
            sw = (pos, small, big) if op == "allgather" else (pos, big, small)
            return [plans.Phase(1, switch=sw, nvls=True)]
        if algo == "nvls":
            switch, head_slice = plans.nvls_intra(groups, self.nvls_heads)
            if k == 1:
                return [plans.Phase(1, switch=switch, nvls=True)]
            # across domains (NVLS + CollNet): each head's slice goes out and back in
            return [plans.Phase(1, switch=switch, nic=(switch[0], head_slice, head_slice),
                                nvls=True)]
        if algo == "nvlstree":
            h = self.nvls_heads
            block = np.stack(groups)                 # uniform: [domain, local index]
            # one tree across domains per NVLS head, each carrying its 1/nHeads slice
            trees = [plans.tree_edge_arrays(block[:, j], 1.0 / (2 * h)) for j in range(h)]
            return [plans.Phase(1, *(np.concatenate(x) for x in zip(*trees)),
                                switch=plans.nvls_intra(groups, h)[0],
                                nvls=True, passes=2)]
        if algo == "collnet":
            g = self.g
            parts = [plans.all_pairs(grp, 2.0 / g) for grp in groups]
            sl = np.full(n, 1.0 / g)
            return [plans.Phase(1, plans._cat([p[0] for p in parts], np.int64),
                                plans._cat([p[1] for p in parts], np.int64),
                                plans._cat([p[2] for p in parts], float), nic=(self.pos, sl, sl),
                                passes=2)]
        if algo == "collnetchain":
            return [plans.collnet_chain(groups, C)]
        if algo == "hierarchical":
            g = self.g
            intra = plans.ring_orders(groups, 1) if k == 1 else np.concatenate(
                [np.asarray(grp, dtype=np.int64)[None, :] for grp in groups], axis=0)
            phases = []
            if g > 1:
                # each domain's own ring: rank i -> i+1 inside the domain
                src = intra.ravel()
                dst = np.roll(intra, -1, axis=1).ravel()
                phases.append(plans.Phase(g - 1, src, dst, np.full(src.size, 1.0 / g)))
            if k > 1:
                rails = intra.T                                    # [g, k]: same local index
                src = rails.ravel()
                dst = np.roll(rails, -1, axis=1).ravel()
                phases.append(plans.Phase(2 * (k - 1), src, dst, np.full(src.size, 1.0 / (g * k)),
                                          cycle=k))
            if g > 1:
                phases.append(plans.Phase(g - 1, phases[0].src, phases[0].dst, phases[0].nbytes))
            return phases
        if op == "alltoall":
            a, b, w = plans.all_pairs(self.pos, 1.0 / n)
            return [plans.Phase(1, a, b, w)]
        # sendrecv: rank i -> i + 1
        return [plans.Phase(1, self.pos, np.roll(self.pos, -1), np.ones(n))]

    def _switch_reduce_rate(self):
        """Additions per us the NVLink switches of one domain can do (NVLS in-switch reduction),
        or None when the catalog gives no rate for the switch part. The slowest domain counts."""
        memo = _FABRIC_MEMO.setdefault(self.router, {})
        key = ("switch_reduce", self.catalog)
        if key not in memo:
            per_dom = {}
            r = self.router
            nodes = self.G._node
            for name in map(r.nodes.__getitem__,
                            np.flatnonzero(r.kind_code == KIND_CODE["nvswitch"]).tolist()):
                d = nodes[name]
                part = d.get("chips_part", d["part"]) if d["part"] == "virtual" else d["part"]
                rate = self.catalog.part("nvswitch", part).get("nvls_reduce_gflops_fp32")
                dom = domain_of(self.G, name)
                if rate is None:
                    per_dom[dom] = None
                elif per_dom.get(dom, 0.0) is not None:
                    per_dom[dom] = per_dom.get(dom, 0.0) + d.get("chips", 1) * float(rate) * 1e3
            memo[key] = per_dom
        per_dom = memo[key]
        rates = [per_dom.get(domain_of(self.G, self.router.gpus[int(grp[0])])) for grp in self.groups]
        if not rates or any(r is None for r in rates):
            return None
        return min(rates)

    def _crosssite_phases(self):
        """Hierarchical cross-site allreduce: reduce-scatter inside each site (a ring over the
        site's ranks), allreduce of each shard across sites (a ring over the ranks of the same
        local index), allgather inside each site (the first ring again)."""
        sites = self.site_groups
        s, m = len(sites), len(sites[0])
        C = self.channels
        rows = []
        for grp in sites:
            doms = {}
            for p in grp:
                doms.setdefault(int(self.router.gpu_domain[p]), []).append(p)
            rows.append(plans.ring_orders(list(doms.values()), C))
        width = min(r.shape[1] for r in rows)
        orders = np.concatenate([r[:, :width] for r in rows], axis=0)
        phases = []
        if m > 1:
            intra = plans.ring_phase(orders, m - 1, 1.0 / (m * rows[0].shape[0]))
            intra.cycle = 1
            phases.append(intra)
        across = np.array(sites, dtype=np.int64).T                  # [m, s]: same local index
        src = across.ravel()
        dst = np.roll(across, -1, axis=1).ravel()
        phases.append(plans.Phase(2 * (s - 1), src, dst, np.full(src.size, 1.0 / (m * s)),
                                  cycle=s))
        if m > 1:
            phases.append(phases[0])
        return phases

    @functools.cached_property
    def _net_path_us(self):
        """One-way latency of the graph's own path between two domains of the communicator:
        the NICs and switches on it (catalog ``latency_ns``) and its in-datacenter cables
        (WAN propagation is counted separately). 0 on one domain."""
        if self.k_domains < 2:
            return 0.0
        import networkx as nx

        G = self.G
        a = self.router.gpus[int(self.groups[0][0])]
        b = self.router.gpus[int(self.groups[1][0])]
        view = nx.subgraph_view(G, filter_node=lambda x: G.nodes[x]["kind"] not in
                                ("cpu", "host"))
        try:
            path = nx.bidirectional_shortest_path(view, a, b)
        except nx.NetworkXNoPath:
            msg = (f"no network path from `{a}` to `{b}` (GPUs of two NVLink domains of the "
                   "communicator); is the fabric partitioned?")
            raise FabricError(msg) from None
        ns = 0.0
        for x in path[1:-1]:
            d = G.nodes[x]
            if d["kind"] in ("nic", "leaf", "spine", "core", "wan"):
                part = d.get("chips_part", d["part"]) if d["part"] == "virtual" else d["part"]
                cat = "nic" if d["kind"] == "nic" else "switch"
                try:
                    ns += float(self.catalog.part(cat, part).get("latency_ns", 0.0) or 0.0)
                except CatalogError:
                    pass
        for x, y in zip(path[:-1], path[1:]):
            e = G.edges[x, y]
            if e["medium"] in ("infiniband", "ethernet"):
                ns += e.get("latency_ns", 0.0)
        return ns * 1e-3

    def _latency(self, op, algo, proto):
        """NCCL's latency model (tuning.cc) for (op, algo, protocol), in us, plus the graph's own
        path latency (NICs, switches, cables) for every network step.

        On more than one domain a ring's intra-domain hop costs at least NCCL's
        ``netOverhead`` (1 us, x3 for Simple), and with one rank per domain the
        network term is the Tree one (``tuning.cc``: ppn == 1).
        """
        k = self.k
        n, nodes = self.n, self.k_domains
        base = k.base(algo, proto)
        path = self._net_path_us
        net_algo = "tree" if (nodes > 1 and nodes == n) else algo
        if algo in ("ring",):
            if op == "allreduce":
                steps, inter = 2 * (n - 1), 2 * (nodes - 1)
            else:
                steps, inter = n - 1, nodes - 1
            intra = k.hop("nvlink", algo, proto)
            if nodes > 1:
                intra = max(intra, k.d["net_overhead_us"] * (3 if proto == "Simple" else 1))
            return base + (steps - inter) * intra + inter * (k.hop("net", net_algo, proto) + path)
        log2i = nodes.bit_length() - 1                     # NCCL's log2i: integer floor
        if algo == "tree":
            return base + 2 * ((n / nodes - 1) * k.hop("nvlink", algo, proto)
                               + log2i * (k.hop("net", algo, proto) + path))
        if algo == "pat":
            return (k.d["base_latency_us_pat_simple"]
                    + log2i * (k.d["hop_latency_us_net_tree_simple"] + path)
                    / k.d["pat_net_latency_divisor"]
                    + n * k.d["pat_latency_us_per_rank"])
        if algo == "crosssite":
            m = len(self.site_groups[0])
            doms = self.k_domains // self.sites
            intra = 0.0
            if m > 1:
                intra = (k.base("ring", proto) + (m - doms) * k.hop("nvlink", "ring", proto)
                         + (doms - 1) * k.hop("net", "ring", proto))
            across = k.base("ring", proto) + 2 * (self.sites - 1) * (k.hop("net", "ring", proto)
                                                                     + path)
            return 2 * intra + across
        if algo == "nvls":
            lat = k.d["hop_latency_us_nvlink_nvls_simple"]
            return lat + (k.d["hop_latency_us_net_nvls_simple"] + path if nodes > 1 else 0.0)
        if algo == "nvlstree":
            return (base + k.d["hop_latency_us_nvlink_nvls_simple"]
                    + 2 * log2i * (k.d["hop_latency_us_net_nvlstree_simple"] + path))
        if algo == "collnet":
            ppn = self.g
            return (base + 2 * (min(1, ppn - 1) * k.c["hop_latency_us_nvlink_collnet_simple"]
                                + (ppn - 1) * k.c["collnet_latency_us_per_local_peer"])
                    + k.d["hop_latency_us_net_collnet_simple"] + path)
        if algo == "collnetchain":
            return (base + 2 * (self.g - 1) * k.d["hop_latency_us_nvlink_collnetchain_simple"]
                    + k.d["hop_latency_us_net_collnetchain_simple"] + path)
        if algo == "hierarchical":
            g = self.g
            intra = (k.base("ring", proto) + (g - 1) * k.hop("nvlink", "ring", proto)) if g > 1 else 0
            inter = (k.base("ring", proto) + 2 * (nodes - 1) * (k.hop("net", "ring", proto) + path)
                     if nodes > 1 else 0)
            return 2 * intra + inter
        # p2p: one send/recv per peer, issued together
        where = "net" if nodes > 1 else "nvlink"
        return k.base("ring", "Simple") + k.hop(where, "ring", "Simple") + path

    def _plan(self, op, algo):
        """(us per byte of S, bottleneck text, long-haul propagation us, WAN window coefficient,
        the rule of the costliest phase: ``link``, ``switch_reduction`` or
        ``nvls_domain_busbw``, see :meth:`_nvls_domain_bound`).

        The window coefficient ``w`` is, summed over phases, the bytes per byte of
        S that one connection carries across the WAN times the round trip (us):
        with ``W`` bytes in flight per connection, the WAN costs at least
        ``S * w / W`` us.
        """
        key = (op, algo)
        hit = self._plans.get(key)
        if hit is not None:
            return hit
        r = self.router
        us_per_byte = 0.0
        worst = (-1.0, "", "link")
        prop_us = 0.0
        window = 0.0
        site = self.site_of_pos
        for ph in self._phases(op, algo):
            loads = r.new_loads()
            lat_ns = 0.0
            # flows in batches: the router's temporaries scale with the batch, not with a
            # phase of tens of millions of flows (one batch up to _FLOW_BATCH flows)
            for i in range(0, ph.src.size, _FLOW_BATCH):
                j = i + _FLOW_BATCH
                lat_ns = max(lat_ns, r.add_flows(loads, ph.src[i:j], ph.dst[i:j], ph.nbytes[i:j]))
            if ph.switch:
                r.add_switch_flows(loads, *ph.switch)
            if ph.nic:
                r.add_nic_flows(loads, *ph.nic)
            rate = self.rate_nvls if ph.nvls else self.rate
            t = loads / rate                      # bytes / (GB/s) = ns per byte of S
            e = r.busiest_arc(t)
            per = float(t[e]) * 1e-3              # us per byte of S, one step
            medium = MEDIA[int(r.arc_medium[e])]            # MEDIUM_CODE is MEDIA's index
            neck = f"{r.nodes[r.arc_u[e]]} -> {r.nodes[r.arc_v[e]]} ({medium})"
            rule = "link"
            reduces = ph.nvls and ph.switch and (op in ("allreduce", "reducescatter"))
            red = self._switch_reduce_rate() if reduces else None
            # every element is summed over the domain's ranks inside the switches:
            # (g - 1) additions per float32 element (nccl-tests' default type)
            red_per = (self.g - 1) / 4.0 / red if red else 0.0
            if red_per > per:
                per, rule = red_per, "switch_reduction"
                neck = (f"NVLink switch reduction ({red / 1e3:,.0f} GFLOP/s fp32 per domain, "
                        f"{self.g} ranks)")
            # the bound is on the whole collective: NVLS and NVLSTree phases run once
            if (reduces and op == "allreduce" and self.k_domains > 1 and self.g > 1
                    and ph.repeat == 1
                    and self.k.d["nvls_busbw_across_domains_at_most_one_domains"]):
                per, neck, rule = self._nvls_domain_bound(ph, rate, red_per, per, neck, rule)
            us_per_byte += ph.repeat * per
            if ph.repeat * per > worst[0]:
                worst = (ph.repeat * per, neck, rule)
            # long-haul propagation: a ring's data crosses each site boundary once per cycle;
            # a tree crosses it going up (reduce) and again coming down (broadcast)
            crossings = ph.repeat * min(1.0, self.sites / ph.cycle) if ph.cycle > 1 else ph.repeat
            prop_us += ph.passes * crossings * lat_ns * 1e-3
            if lat_ns > 0 and ph.src.size:
                cross = site[ph.src] != site[ph.dst]
                if cross.any():
                    window += ph.repeat * float(ph.nbytes[cross].max()) * 2 * lat_ns * 1e-3
        hit = (us_per_byte, worst[1], prop_us, window, worst[2])
        self._plans[key] = hit
        return hit

    def _nvls_domain_bound(self, ph, rate, red_per, per, neck, rule):
        """Bound ``per`` (us per byte of S) of an NVLS or NVLSTree allreduce across domains:
        its busbw is at most one domain's NVLS busbw (``red_per``: the switch-reduction
        term :meth:`_plan` computed for the phase, 0 without one).

        This is the form of NCCL's rating since 2.28.3 ("Improved NVLS/NVLSTree
        tuning prediction", ``src/graph/tuning.cc`` ncclTopoTuneModel): busBw = nHeads
        x a per-head bandwidth, turned into algbw with nccl-tests' ratio nRanks /
        nsteps, so at a fixed per-head bandwidth the busbw, not the algbw, is the
        same on any domain count (2.19.1-2.27.7 converted with a flat 5/6 and 2.18.1
        with 0.75: the same algbw). NCCL's own per-head figure is not used: its
        multi-node NVLS search caps bwIntra near the NIC rate (8 x 48 = 384 GB/s on
        4 x 8 H100 with SHARP, under the published 480). The model takes one
        domain's NVLS busbw from its own links and switch reduction (this phase's
        switch flows alone), applies the bound to every ``--nccl`` as it does NCCL's
        other tuning constants, and keeps its own network side (with SHARP each NIC
        carries 1/nHeads of S each way, which does not bind on 400G NICs). No
        mechanism is known: the kernels' work split is the same since 2.18.1 for
        unregistered buffers. The evidence is published: M10 (480 with IB SHARP on 4 x
        8 H100) motivated it; M12, M01, CW92 and CW2 lie at or under it (see the
        catalog entry ``nvls_busbw_across_domains_at_most_one_domains``, which turns
        the bound off).
        """
        r = self.router
        loads = r.new_loads()
        r.add_switch_flows(loads, *ph.switch)
        t = loads / rate
        one = max(float(t[r.busiest_arc(t)]) * 1e-3, red_per)
        n, g = self.n, self.g
        bound = one * (n - 1) * g / (n * (g - 1))
        if bound > per:
            busbw = 2.0 * (g - 1) / g / one * 1e-3                 # GB/s
            per, rule = bound, "nvls_domain_busbw"
            neck = (f"NVLS across domains at most one {g}-GPU domain's NVLS busbw "
                    f"({busbw:,.0f} GB/s; NCCL 2.28.3+ rating form)")
        return per, neck, rule

    # ----------------------------------------------------------- evaluation
    def _check(self, op, algo):
        if op not in OPS:
            msg = f"unknown `op` (--op) {op!r}; use one of: {', '.join(OPS)}"
            raise ParameterError(msg)
        names = (*OP_ALGORITHMS[op], "auto")
        if algo not in ALGORITHMS and algo != "auto":
            msg = f"unknown `algo` (--algo) {algo!r}; for {op} use one of: {', '.join(names)}"
            raise ParameterError(msg)
        if algo != "auto" and algo not in OP_ALGORITHMS[op]:
            msg = (f"`algo` (--algo) {algo!r} does not implement {op}; use one of: "
                   f"{', '.join(names)}")
            raise ParameterError(msg)

    def evaluate(self, op, size, *, algo="auto"):
        """Predict one collective.

        Parameters
        ----------
        op : str
            One of :data:`OPS`.
        size : int or str
            nccl-tests' ``size`` (bytes, or a string for :func:`parse_size`).
        algo : str
            One of :data:`OP_ALGORITHMS` ``[op]`` or ``"auto"`` (the fastest eligible).

        Returns
        -------
        CollectiveResult

        Raises
        ------
        ParameterError
            Unknown op or algorithm, a malformed size, or an algorithm that
            cannot run on these ranks (e.g. NVLS without NVLink SHARP, CollNet
            without SHARP switches); the message says why and lists the
            eligible algorithms.
        FabricError
            ``algo="auto"`` and no algorithm can run ``op`` on these ranks.

        Examples
        --------
        >>> import topologies
        >>> m = CollectiveModel(topologies.dgx_h100_graph())
        >>> r = m.evaluate("allreduce", "8GiB")
        >>> r.algo, 470 < r.busbw_GBps < 500
        ('nvls', True)
        """
        return self.sweep(op, [size], algo=algo)[0]

    def sweep(self, op, sizes, *, algo="auto"):
        """Predict ``op`` at every size in ``sizes``; see :meth:`evaluate`.

        Examples
        --------
        >>> import topologies
        >>> m = CollectiveModel(topologies.gb200_nvl72_graph(), gpus=4)
        >>> [r.algo for r in m.sweep("allreduce", [8, 2**33])]
        ['ring', 'ring']
        """
        with gc_paused():
            return self._sweep(op, sizes, algo)

    def _sweep(self, op, sizes, algo):
        self._check(op, algo)
        sizes = [parse_size(s) for s in sizes]
        if algo == "auto":
            status = self.eligible(op)
            cands = [a for a, why in status.items() if why is None and a in NCCL_ALGORITHMS]
            if not cands:
                why = "; ".join(f"{a}: {w}" for a, w in status.items())
                msg = f"no algorithm can run {op} on these ranks ({why})"
                raise FabricError(msg)
        else:
            why = self._why_not(op, algo)
            if why:
                ok = [a for a, w in self.eligible(op).items() if w is None]
                if ok:
                    hint = (f"; eligible here: {', '.join(ok)} "
                            f"(use --algo {' or '.join(ok)} or auto)")
                else:
                    hint = f"; no algorithm can run {op} on these ranks"
                msg = f"`algo` (--algo) {algo!r} cannot run {op} on these ranks: {why}{hint}"
                raise ParameterError(msg)
            cands = [algo]
        return [self._best(op, cands, s) for s in sizes]

    def _tree_correction(self, proto, size):
        """NCCL's Tree bandwidth factor at ``size`` (``treeCorrectionFactor``, 1 past the table)."""
        table = self.k.d[f"tree_correction_factor_{proto.lower()}"]
        i = (int(size) >> 6).bit_length() - 1           # log2i(nBytes >> 6); -1 below 64 B
        return float(table[i]) if 0 <= i < len(table) else 1.0

    def _nvls_chunk(self, algo, size, nc, heads):
        """NCCL's NVLS / NVLSTree chunk for ``size`` bytes (``calcCollChunking``)."""
        d = self.k.d
        chunk = int(d["nvls_chunk_bytes"])
        ops = nc * heads
        if algo == "nvls":
            for factor, floor in ((64, 65536), (8, 32768), (2, 16384)):
                if size < factor * ops * chunk and chunk > floor:
                    chunk = floor
            return chunk
        if self.k_domains >= 4:
            chunk = min(chunk, int(d["nvlstree_max_chunk_bytes_4plus"]))
        for factor, floor in ((32, 262144), (16, 131072), (4, 65536), (1, 32768)):
            if size < factor * ops * chunk and chunk > floor:
                chunk = floor
        return chunk

    def _collnet_chain_chunk(self, size, nc):
        """NCCL's CollNet Chain chunk (``calcCollChunking``): min(256 KiB, one Simple step),
        halved while a channel has fewer than 64, 8, 1 x depth chunks (depth: ranks per
        domain) down to 128, 64, 32 KiB."""
        d = self.k.d
        chunk = min(int(d["collnetchain_max_chunk_bytes"]),
                    int(self.windows["Simple"] // int(d["nccl_steps"])))
        depth = self.g_max
        for factor, floor in ((64, 131072), (8, 65536), (1, 32768)):
            while size // (nc * chunk) < depth * factor and chunk > floor:
                chunk //= 2
        return chunk

    def _tree_chunk(self, proto, size, nc):
        """NCCL's Tree chunk (``calcCollChunking``): one step of the protocol's buffer (its
        data part), LL128 halved while a channel has too few chunks for the tree's depth."""
        d = self.k.d
        steps = int(d["nccl_steps"])
        if proto == "LL":
            return self.windows["LL"] / steps
        if proto == "Simple":
            return self.windows["Simple"] / steps
        chunk = self.windows["LL128"] / steps
        nodes, ppn = self.k_domains, self.n / self.k_domains
        depth = 1 + (nodes.bit_length() - 1) + 0.1 * ppn
        while size // (nc * chunk) < depth * 64 / ppn and chunk > 131072:
            chunk /= 2
        while size // (nc * chunk) < depth * 16 / ppn and chunk > 32768:
            chunk /= 2
        return chunk

    def _pipeline(self, op, algo, size, proto="Simple"):
        """NCCL's pipeline for (op, algo) at ``size``: (stages, channels, slice bytes).

        One loop of an NVLS channel moves ``nHeads x chunk`` bytes
        (``src/device/all_reduce.h``), with nHeads = min(32, ranks per domain)
        and NCCL's chunk (128 KiB, smaller for small sizes). Single-domain
        allreduce crosses 3 stages (scatter, reduce/broadcast through the
        switch, gather); NVLS allgather / reducescatter 1 (no fill); NVLSTree
        adds 2 log2i(domains) network steps. A Tree is a chain through each
        domain's ranks joined by a tree across domains, so a chunk (one step of
        the protocol's buffer) crosses 2 ((ranks per domain - 1) + log2i(domains))
        hops, reduce up and broadcast down: with Simple a 72-GPU chain fills long
        (LL and LL128 wait at fewer of them: :meth:`_pipeline_fill`). Other
        algorithms have no fill (``stages`` 0): a ring's steps are pipelined
        slice by slice.
        """
        if algo == "collnetchain":
            nc = self.channels
            return 2 * self.g_max, nc, min(self._collnet_chain_chunk(int(size), nc),
                                    -(-int(size) // nc))
        if algo == "tree":
            ppn = self.n // self.k_domains
            stages = 2 * ((ppn - 1) + (self.k_domains.bit_length() - 1))
            nc = self.channels
            return stages, nc, min(self._tree_chunk(proto, int(size), nc), -(-int(size) // nc))
        if algo == "nvls":
            stages = int(self.k.d["nvls_allreduce_stages"]) if op == "allreduce" else 1
        elif algo == "nvlstree":
            stages = 2 + 2 * (self.k_domains.bit_length() - 1)   # 2 log2i(nNodes)
        else:
            return 0, 0, 0
        nc = self.nvls_channels
        heads = self.nvls_heads
        unit = heads * self._nvls_chunk(algo, int(size), nc, heads)
        return stages, nc, min(unit, -(-int(size) // nc))

    def _pipeline_fill(self, op, algo, size, us_per_byte, proto="Simple"):
        """Pipeline fill (us): the first slice crosses every step before the bottleneck streams.

        A slice of ``s`` bytes on one of ``nc`` channels moves at 1/nc of the
        bottleneck rate, i.e. in ``s * nc * us_per_byte``; the fill is
        ``(stages - 1)`` such slices (a pipeline's first item crosses every
        stage before the bottleneck streams). It is at most ``(stages - 1) x
        nHeads x chunk x nc`` bytes' worth, so it vanishes against the
        bandwidth term for large sizes, and grows with the heads of large
        NVLink domains (32 heads of 128 KiB on NVL72 vs 8 on an 8-GPU box).
        This fill is the project's model: NCCL's own tuner has no fill term.
        """
        steps, nc, slice_bytes = self._pipeline(op, algo, size, proto)
        if steps <= 1:
            return 0.0
        if algo == "tree" and proto == "LL":
            return self._line_tree_fill(slice_bytes)
        if algo == "tree" and proto == "LL128":
            steps = 2 * self._ll128_tree_depth()
        if algo == "tree" and proto == "Simple":
            return self._chain_tree_fill(slice_bytes, nc, us_per_byte)
        if algo == "collnetchain":
            return self._chain_tree_fill(slice_bytes, nc, us_per_byte, net_stages=2)
        return (steps - 1) * slice_bytes * nc * us_per_byte

    def _chain_tree_fill(self, slice_bytes, nc, us_per_byte, net_stages=None):
        """Fill of a Tree run with Simple, in us: the sum of its stages' own times.

        A pipeline's first chunk crosses every stage at that stage's own speed,
        and the bottleneck then streams: ``sum(t_s) - t_bottleneck`` on top of the
        bandwidth term (for equal stages, the ``(stages - 1) x t`` of
        :meth:`_pipeline_fill`). A Simple chunk is forwarded only whole (the step
        flag follows the data), so each hop of a domain's chain waits for it. One
        step of the chain moves a chunk of every channel, ``nc x slice`` bytes,
        through each GPU's NVLink egress:

        * reduce, going up: the links carry this pass alone, so a hop takes
          ``nc x slice / L``, with L the GPU's usable NVLink egress;
        * broadcast, coming down: the reduce streams beside it at the steady rate
          R (bytes of S per us; each GPU sends S up and S down), leaving
          ``L - R`` (never faster than the reduce stream's own stage);
        * the 2 log2i(domains) network hops take the steady stage time.

        No stage is slower than the steady one, so this fill is at most
        :meth:`_pipeline_fill`'s uniform one; where NVLink is the bottleneck
        (L = 2R) the reduce half fills at twice the steady speed.

        That assumes the reduce pass can use the link share the broadcast leaves
        idle. NCCL splits each channel's threads between the two passes
        (``runTreeSplit``), so a hop is never faster than one channel's slice at
        the catalog's per-channel Tree rate (NCCL's one-node ``perChMaxTreeBws``,
        as algbw): with few channels (a 4-GPU partition) that floor decides. The
        longest chain (largest domain) sets the count of hops. ``net_stages`` counts the
        network stages (default the Tree's 2 log2i(domains); a CollNet Chain's head sends
        to the switches and receives from them: 2). A CollNet Chain splits its threads the
        same way (reduce up, broadcast down), so the same per-channel floor bounds its hops;
        NCCL has no per-channel CollNet figure, so the Tree's stands in. ``nc`` is the
        model's channel count (NCCL may run more CollNet channels: 1.5x, ``connect.cc``).
        """
        ppn_hops = self.g_max - 1
        net_hops = (self.k_domains.bit_length() - 1) if net_stages is None else net_stages // 2
        t_b = slice_bytes * nc * us_per_byte
        stages = 2 * (ppn_hops + net_hops)
        egress = self._nvlink_egress_GBps() * 1e3            # bytes per us
        if stages <= 1 or ppn_hops == 0 or egress <= 0:
            return max(stages - 1, 0) * t_b
        per_channel = (self.k.d[f"tree_per_channel_busbw_GBps_{self.family}_one_domain"]
                       * self.k.d["tree_algbw_per_busbw"] * 1e3)
        floor = slice_bytes / per_channel
        chunk = nc * slice_bytes
        steady = 1.0 / us_per_byte
        t_up = min(t_b, max(floor, chunk / egress))
        t_down = t_b if egress <= steady else min(t_b, max(floor, chunk / (egress - steady)))
        stage_times = [t_up, t_down] + ([t_b] if net_hops else [])
        total = ppn_hops * (t_up + t_down) + 2 * net_hops * t_b
        return max(0.0, total - max(stage_times))

    def _nvlink_egress_GBps(self):
        """Usable NVLink egress of one rank's GPU (GB/s, the rates the flows are priced at),
        the smallest over the ranks' GPUs; 0 without NVLink."""
        key = ("nvlink_egress", self.catalog)
        memo = _FABRIC_MEMO.setdefault(self.router, {})
        if key not in memo:
            r = self.router
            nv = np.flatnonzero(r.arc_medium == MEDIUM_CODE["nvlink"])
            memo[key] = np.bincount(r.arc_u[nv], weights=self.rate[nv], minlength=len(r.nodes))
        return float(memo[key][self.router.gpu_node[self.pos]].min())

    def _ll128_tree_depth(self):
        """NCCL's pipeline depth of an LL128 Tree, in chunks, one way (``calcCollChunking``:
        ``1 + log2i(nNodes) + 0.1 x ppn``): a network hop waits for a chunk, an NVLink
        hop of the chain streams LL128 lines and costs a tenth of one. The Tree crosses
        it twice (reduce up, broadcast down)."""
        ppn = self.n / self.k_domains
        return 1 + (self.k_domains.bit_length() - 1) + 0.1 * ppn

    def _line_tree_fill(self, slice_bytes):
        """Fill of a Tree run with LL, in us.

        LL carries a flag in every 8-byte store, and the receiving thread reduces and
        forwards each line as soon as its flag arrives (``src/device/prims_ll.h``), so
        the chain through a domain's ranks streams: its per-hop latencies are NCCL's
        (in :meth:`_latency`), with no slice to wait for. A network hop does not
        stream: the proxy posts a step's buffer only once the GPU has filled it
        (``src/transport/net.cc``), so each of the 2 log2i(domains) network hops of the
        tree (reduce up, broadcast down) waits for one chunk, which crosses at its
        rank's NIC rate (across domains a Tree has at most as many channels as a domain
        has ranks, so at least one NIC per channel; NCCL may run two channels on one
        NIC, which would double this sub-microsecond term). Simple waits for a slice
        at every hop, LL128 for NCCL's own depth estimate (:meth:`_pipeline_fill`).
        """
        hops = 2 * (self.k_domains.bit_length() - 1)
        nic = self._nic_GBps()
        if hops == 0 or nic <= 0:
            return 0.0
        return hops * slice_bytes / (nic * 1e3)            # GB/s = bytes / ns

    def _best(self, op, cands, size):
        """The fastest (algorithm, protocol) of ``cands``; ties go to the earlier candidate.

        NCCL picks by its own table. Where the model knows that table to differ from
        the run, the choice follows NCCL and the price is the model's:

        * LL: NCCL's ceiling (``llMaxBws``, 282 GB/s on one Blackwell domain against
          the CTA-bound 188), so a protocol NCCL over-rates is picked and priced at
          what it delivers;
        * Ring against Tree (allreduce across domains): NCCL rates the Tree from the
          Ring's own graph bandwidth (:meth:`_tree_as_nccl`), so past two domains it
          runs the Ring for large messages even where the Tree would be faster. Both
          are judged first (an exact tie goes to the Tree, NCCL's algorithm 0), and
          their pick then competes with the other algorithms at its price.

        Every other term (including the NVLink rate) is the model's own.

        The other candidates are tried in order of their latency (a lower bound of
        their time: every other term is non-negative), and one whose latency already
        exceeds the best time is never routed. Past :data:`_PAIR_MAX_RANKS` ranks the
        Ring is skipped so too (on a million ranks its 2 million steps rule it out
        before its flows are routed), and the Tree is then judged at its own price.
        """
        protos_of = {algo: [p for p in (("Simple",) if algo in _SIMPLE_ONLY else PROTOCOLS)
                            if p in self.protocols] for algo in cands}
        runnable = [a for a in cands if protos_of[a]]
        if not runnable:
            what = cands[0] if len(cands) == 1 else f"{op} (auto)"
            msg = (f"{what} cannot run with protocols {', '.join(self.protocols)} "
                   f"(`protocols`, --proto): "
                   f"{'it needs' if len(cands) == 1 else 'allow'} Simple")
            raise ParameterError(msg)
        cands = runnable
        floor = {algo: min(self._latency(op, algo, p) for p in protos_of[algo]) for algo in cands}
        rank = {algo: i for i, algo in enumerate(cands)}
        pair = ("tree" in cands and "ring" in cands and op == "allreduce"
                and self.k_domains > 1 and self.n <= _PAIR_MAX_RANKS)
        cpair = "collnet" in cands and "collnetchain" in cands
        judged = {}            # algo -> (time as auto judges it, rank, algo, proto, priced)
        priced_of = {}         # (algo, proto) -> (judged time, priced), for the pair

        def judge(algo):
            plan = self._plan(op, algo)
            for proto in protos_of[algo]:
                priced = self._priced(op, algo, proto, size, plan, self._ll_floor)
                chosen = priced[0]
                if (proto == "LL" and algo in self._ll_floor
                        and self._ll_floor_nccl is not self._ll_floor):
                    chosen = self._priced(op, algo, proto, size, plan, self._ll_floor_nccl)[0]
                priced_of[algo, proto] = (chosen, priced)
                if algo not in judged or chosen < judged[algo][0]:
                    judged[algo] = (chosen, rank[algo], algo, proto, priced)

        if pair:
            judge("ring")
            judge("tree")
            ring_bw = {p: t - pr[1] - pr[2] for (a, p), (t, pr) in priced_of.items()
                       if a == "ring"}
            view = {p: self._tree_as_nccl(p, size, priced_of["tree", p][1][1], ring_bw)
                    for p in protos_of["tree"]}
            p = min(view, key=lambda q: (view[q], PROTOCOLS.index(q)))
            if judged["ring"][0] < view[p]:
                del judged["tree"]
            else:
                del judged["ring"]
                chosen, priced = priced_of["tree", p]
                judged["tree"] = (chosen, rank["tree"], "tree", p, priced)
        if cpair:
            judge("collnet")
            judge("collnetchain")
            del judged[self._collnet_as_nccl(size, priced_of)]
        best_t = min((j[0] for j in judged.values()), default=math.inf)
        for algo in sorted(cands, key=lambda a: (floor[a], rank[a])):
            if ((pair and algo in ("ring", "tree")) or (cpair and algo.startswith("collnet"))
                    or floor[algo] > best_t):
                continue
            judge(algo)
            best_t = min(best_t, judged[algo][0])
        best = min(judged.values(), key=lambda x: (x[0], x[1]))
        _, _, algo, proto, (t, lat, fill, bottleneck, capped) = best
        algbw = size / (t * 1e3)                 # bytes / us / 1e3 = GB/s
        return CollectiveResult(op=op, algo=algo, ranks=self.n, size_bytes=int(size),
                                time_us=float(t), algbw_GBps=float(algbw),
                                busbw_GBps=float(algbw * busbw_factor(op, self.n)),
                                protocol=proto, latency_us=float(lat), pipeline_us=float(fill),
                                bottleneck=bottleneck, capped_by=capped)

    def _collnet_as_nccl(self, size, priced_of):
        """The CollNet algorithm NCCL's tuner would not run at ``size``: "collnet" (Direct)
        or "collnetchain".

        NCCL rates both from the same CollNet graph bandwidth (``tuning.cc``): Chain at
        it, Direct at it over its GPU-per-NIC factor and x 0.85 on sm90 and later
        (``collnet_direct_busbw_factor``), each plus its own latency. The common
        bandwidth is read back from the model's Chain term, so with one NIC per GPU
        Direct wins on latency for small messages and Chain for large ones (about 20 MB
        on 8 x H100). The pick is then priced by the model.
        """
        t_c, pr_c = priced_of["collnetchain", "Simple"]
        _, pr_d = priced_of["collnet", "Simple"]
        band = t_c - pr_c[1] - pr_c[2]                   # the Chain's bandwidth term, us
        if band <= 0:
            return "collnetchain"
        direct = band * self._collnet_direct_factor() / self.k.d["collnet_direct_busbw_factor"]
        return "collnet" if pr_c[1] + band < pr_d[1] + direct else "collnetchain"

    def _tree_as_nccl(self, proto, size, latency, ring_bw):
        """The time NCCL's tuner gives a Tree allreduce with ``proto`` (us), from the Ring's.

        NCCL rates both from the same graph bandwidth B (``tuning.cc``
        ``ncclTopoTuneModel``). The Ring's algbw is B x its protocol fraction x
        nRanks / nsteps; the Tree's is 0.5 x B x 0.92 (x 1/3.8 more for LL, capped at
        ``llMaxBw``; x 120/128 for LL128), with B on bwIntra on two nodes (at most
        twice bwInter, ``search.cc``) and on bwInter beyond, then scaled by
        ``treeCorrectionFactor``. B is read back from the Ring's bandwidth term
        (``ring_bw``: us per protocol at this size, as ``auto`` judges it; Simple
        first, whose fraction is 1 and which no ceiling caps). So past two domains NCCL
        runs the Ring for large messages even where a Tree would be faster
        (NVIDIA/nccl#1801: 3 GB200 racks, Tree 20% faster at 16 GiB, Ring picked), and on
        two it prefers the Tree. NCCL's per-channel Tree caps (``perChMaxTreeBw``) are
        not modelled: on two Hopper nodes they would rate the Tree ~6% lower.
        """
        d = self.k.d
        ratio = self.n / (2.0 * (self.n - 1))            # Ring algbw / busBw (allreduce)
        base = next((q for q in ("Simple", "LL128", "LL") if q in ring_bw), None)
        if base is None or ring_bw[base] <= 0:
            return latency
        B = size / (ring_bw[base] * self.k.fraction(base) * ratio)     # bytes / us
        if self.k_domains <= 2:
            B *= d["tree_bw_intra_over_inter_two_domains"]
        busbw = d[f"tree_busbw_factor_{proto.lower()}"] * B
        if proto == "LL":
            busbw = min(busbw, self.k.ll_max_busbw(self.family, self.k_domains) * 1e3)
        algbw = busbw * d["tree_algbw_per_busbw"] * self._tree_correction(proto, size)
        return latency + size / algbw

    def _priced(self, op, algo, proto, size, plan, ll_floor):
        """(time us, latency us, fill us, bottleneck, rule) of one (algorithm, protocol) at
        ``size``, with ``ll_floor`` as the LL ceiling (see :meth:`_ll_floors`)."""
        per_byte, bottleneck, prop_us, window, rule = plan
        lat = self._latency(op, algo, proto) + prop_us
        if (algo == "ring" and proto == "Simple" and op == "allreduce"
                and self.k_domains > 1 and size / (self.channels * self.n) >= 64):
            lat *= self.k.c["ring_simple_multinode_latency_factor"]
        us_per_byte = per_byte / self.k.fraction(proto)
        capped, neck = rule, bottleneck
        if algo == "pat":
            us_per_byte /= self.k.d["pat_bw_factor"]
        if proto == "LL" and algo in ll_floor and ll_floor[algo][op] > us_per_byte:
            us_per_byte, capped = ll_floor[algo][op], "ll_max_bw"
            ceiling = (f"{self.k.d['tree_algbw_per_busbw'] * self.ll_busbw_GBps:g} GB/s algbw"
                       if algo == "tree" else f"{self.ll_busbw_GBps:g} GB/s busbw")
            neck = f"LL ceiling {ceiling}{bottleneck and ' above ' + bottleneck}"
        # NCCL's treeCorrectionFactor is its own account of a Tree's mid-size losses:
        # it scales the bandwidth term, not the fill (which would count them twice)
        correction = self._tree_correction(proto, size) if algo == "tree" else 1.0
        us_per_byte /= correction
        if algo == "nvlstree":
            # NCCL's busBw = graphs[NVLS]->nChannels x min(intra, inter, perChMaxNVLSTreeBw)
            # (tuning.cc); the NVLS graph's channels are its heads (connect.cc nvlsHeads), not
            # the NVLS CTAs (nvlsChannels)
            cap = busbw_factor(op, self.n) / (self.nvls_heads * self.nvlstree_cap_GBps * 1e3)
            if cap > us_per_byte:
                us_per_byte, capped = cap, "nvlstree_channel_cap"
                neck = (f"NCCL NVLSTree cap {self.nvlstree_cap_GBps:g} GB/s busbw per NVLS "
                        f"head x {self.nvls_heads} heads")
        if window > 0:
            w = window / self.windows[proto]
            if w > us_per_byte:
                us_per_byte, capped = w, "wan_window"
                neck = (f"WAN window: {self.windows[proto] / 2**20:g} MiB in flight per "
                        f"channel per round trip ({proto})")
        fill = self._pipeline_fill(op, algo, size, us_per_byte * correction, proto)
        return lat + fill + size * us_per_byte, lat, fill, neck, capped


_RELEASE = re.compile(r"v?(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(?:\.(?:0|[1-9][0-9]{0,3}))?"
                      r"(?:-[0-9A-Za-z]{1,8})?", re.ASCII)


def _release_tuple(text):
    """``"2.26"``, ``"2.26.2"`` or ``"2.26.2-1"`` (ASCII digits) as (2, 26); None when it is
    not such a text."""
    if not isinstance(text, str):
        return None
    m = _RELEASE.fullmatch(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def _check_nccl(nccl, versions):
    """The NCCL release (major, minor) of ``nccl`` (None: the catalog's newest), checked
    against the catalog's ``nccl.versions`` range."""
    oldest, newest = versions["oldest"], versions["newest"]
    if nccl is None:
        return _release_tuple(newest)
    if isinstance(nccl, bool) or not isinstance(nccl, str):
        msg = (f"`nccl` (--nccl) must be an NCCL release such as \"2.26\" or \"2.26.2\", "
               f"got {type(nccl).__name__}")
        raise ParameterError(msg, param="nccl")
    version = _release_tuple(nccl)
    if version is None:
        msg = (f"`nccl` (--nccl) must be an NCCL release such as 2.26 or 2.26.2, "
               f"got {nccl[:40]!r}")
        raise ParameterError(msg, param="nccl")
    if not _release_tuple(oldest) <= version <= _release_tuple(newest):
        later = (f" (releases after {newest} are not followed yet)"
                 if version > _release_tuple(newest) else "")
        msg = (f"`nccl` (--nccl) {nccl.strip()}: the model follows NCCL {oldest} to {newest}"
               f"{later}; give a release in that range")
        raise ParameterError(msg, param="nccl")
    return version


def _check_protocols(protocols):
    """The allowed protocols in :data:`PROTOCOLS` order, from NCCL_PROTO-like input: a
    sequence of names or a comma-separated string, any case; a string starting with ``^``
    names the protocols to leave out (``"^LL128"``)."""
    if protocols is None:
        return PROTOCOLS
    exclude = False
    if isinstance(protocols, str):
        text = protocols.strip()
        exclude = text.startswith("^")
        protocols = [p for p in text.lstrip("^").split(",") if p.strip()]
    elif not isinstance(protocols, (list, tuple, set, frozenset)):
        msg = (f"`protocols` (--proto) must be names of {', '.join(PROTOCOLS)}, "
               f"got {type(protocols).__name__}")
        raise ParameterError(msg)
    names = {p.lower(): p for p in PROTOCOLS}
    chosen = set()
    for p in protocols:
        key = p.strip().lower() if isinstance(p, str) else None
        if key not in names:
            msg = (f"`protocols` (--proto): unknown protocol {str(p)[:40]!r}; "
                   f"use some of {', '.join(PROTOCOLS)}, comma-separated (^ to leave them out)")
            raise ParameterError(msg)
        chosen.add(names[key])
    if exclude:
        chosen = set(PROTOCOLS) - chosen
    if not chosen:
        msg = f"`protocols` (--proto) must leave at least one of {', '.join(PROTOCOLS)}"
        raise ParameterError(msg)
    return tuple(p for p in PROTOCOLS if p in chosen)


def collective(G, op, size, *, algo="auto", ranks=None, gpus=None, catalog=None, sharp=False):
    """Predict one collective on fabric ``G`` (see :class:`CollectiveModel`).

    Parameters
    ----------
    G
        A fabric graph.
    op, size, algo
        As for :meth:`CollectiveModel.evaluate`.
    ranks, gpus, catalog, sharp
        As for :class:`CollectiveModel`.

    Returns
    -------
    CollectiveResult

    Raises
    ------
    ParameterError
        Unknown op/algorithm, malformed size, bad ranks, an algorithm the
        fabric cannot run on these ranks.
    FabricError
        ``algo="auto"`` and no algorithm can run ``op``.

    Examples
    --------
    >>> import topologies
    >>> r = collective(topologies.hgx_b200_graph(), "allreduce", "16GiB")
    >>> r.algo, round(r.busbw_GBps, -1)
    ('nvls', 830.0)
    """
    model = CollectiveModel(G, ranks=ranks, gpus=gpus, catalog=catalog, sharp=sharp)
    return model.evaluate(op, size, algo=algo)


def collective_sweep(G, op, sizes, *, algo="auto", ranks=None, gpus=None, catalog=None,
                     sharp=False):
    """Predict ``op`` at each of ``sizes`` on fabric ``G``; a list of :class:`CollectiveResult`.

    Raises
    ------
    ParameterError, FabricError
        As for :func:`collective`.

    Examples
    --------
    >>> import topologies
    >>> rows = collective_sweep(topologies.dgx_h100_graph(), "allgather", size_range("1M:1G"))
    >>> len(rows), rows[-1].algo
    (6, 'ring')
    """
    model = CollectiveModel(G, ranks=ranks, gpus=gpus, catalog=catalog, sharp=sharp)
    return model.sweep(op, sizes, algo=algo)
