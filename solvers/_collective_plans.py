"""Private: the flows of each collective algorithm, per byte of the collective's size.

Every builder returns a list of :class:`Phase`; a phase is one set of
concurrent flows repeated ``repeat`` times (the steps of a ring are all
alike, so a ring is one phase repeated 2(n-1) times). Loads are per byte
of the collective's size ``S`` (nccl-tests' ``size`` column), so the time of
any size is ``latency + S * seconds-per-byte``.
"""

import functools
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Phase:
    """Concurrent flows (GPU positions, bytes per byte of S), repeated ``repeat`` times."""

    repeat: int
    src: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dst: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    nbytes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    switch: tuple = ()       # (gpus, egress, ingress) to/from the NVLink switches (NVLS)
    nic: tuple = ()          # (gpus, egress, ingress) to/from the first network switch (SHARP)
    nvls: bool = False       # NVLink arcs run at the NVLS efficiency
    cycle: int = 1           # ranks around a ring: a step's data crosses a WAN once per cycle
    passes: int = 1          # sequential traversals of the phase's paths (tree: reduce up, then
                             # broadcast down, so a WAN on the path is crossed twice)


def _cat(parts, dtype):
    parts = [np.asarray(p, dtype=dtype).ravel() for p in parts]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def ring_orders(groups, channels):
    """Ring orders ``[channels, n]`` of GPU positions, rail-aligned between domains.

    ``groups`` lists each domain's GPU positions in rank order. Channel ``c``
    enters even-numbered domains at local index ``c`` and walks forward,
    leaving at ``c - 1``; odd-numbered domains are walked backward from
    ``c - 1`` to ``c``, so every domain-to-domain hop joins two GPUs of the
    same local index (the same rail). One domain: the rank order itself.
    """
    if len(groups) == 1:
        return np.asarray(groups[0], dtype=np.int64)[None, :]
    c = np.arange(channels)[:, None]
    rows = []
    for d, grp in enumerate(groups):
        grp = np.asarray(grp, dtype=np.int64)
        m = len(grp)
        j = np.arange(m)[None, :]
        local = (c + j) % m if d % 2 == 0 else (c - 1 - j) % m
        rows.append(grp[local])
    return np.concatenate(rows, axis=1)


def ring_phase(orders, repeat, per_flow):
    """One ring step for every channel: rank i sends ``per_flow`` bytes to rank i+1."""
    src = orders.ravel()
    dst = np.roll(orders, -1, axis=1).ravel()
    return Phase(repeat, src, dst, np.full(src.size, per_flow), cycle=orders.shape[1])


def chain_phase(orders, per_flow):
    """Pipelined chain from the first rank of each channel order (broadcast / reduce)."""
    src = orders[:, :-1].ravel()
    dst = orders[:, 1:].ravel()
    return Phase(1, src, dst, np.full(src.size, per_flow))


def btree(n):
    """Parent of each of ``n`` ranks in NCCL's binary tree (root 0 has parent -1)."""
    parent = np.full(n, -1, dtype=np.int64)
    for r in range(1, n):
        bit = r & -r                       # lowest set bit
        up = (r ^ bit) | (bit << 1)
        if up >= n:
            up = r ^ bit
        parent[r] = up
    return parent


@functools.lru_cache(maxsize=64)
def dtree(n):
    """Parents in NCCL's two complementary trees (the second mirrored or shifted)."""
    t0 = btree(n)
    if n % 2 == 0:      # mirror
        mirror = n - 1 - np.arange(n)
        t1 = np.full(n, -1, dtype=np.int64)
        for r in range(n):
            p = t0[mirror[r]]
            t1[r] = -1 if p < 0 else mirror[p]
    else:               # shift by one
        t1 = np.full(n, -1, dtype=np.int64)
        for r in range(n):
            p = t0[(r - 1) % n]
            t1[r] = -1 if p < 0 else (p + 1) % n
    t0.flags.writeable = t1.flags.writeable = False      # cached: shared by every caller
    return t0, t1


def tree_edges(reps, per_tree):
    """Flows of two complementary trees over domain representatives (up and down), as
    lists (``src``, ``dst``, bytes); :func:`tree_edge_arrays` gives them as arrays."""
    src, dst, nb = tree_edge_arrays(reps, per_tree)
    return src.tolist(), dst.tolist(), nb.tolist()


def tree_edge_arrays(reps, per_tree):
    """:func:`tree_edges` as numpy arrays (int64, int64, float)."""
    reps = np.asarray(reps, dtype=np.int64)
    src, dst = [], []
    for parent in dtree(len(reps)):
        child = np.flatnonzero(parent >= 0)
        up, down = reps[child], reps[parent[child]]
        s = np.empty(2 * child.size, dtype=np.int64)
        d = np.empty(2 * child.size, dtype=np.int64)
        s[0::2], s[1::2] = up, down              # child -> parent, then parent -> child
        d[0::2], d[1::2] = down, up
        src.append(s)
        dst.append(d)
    src, dst = np.concatenate(src), np.concatenate(dst)
    return src, dst, np.full(src.size, float(per_tree))


def tree_allreduce(groups, channels, *, chains_as_totals=False):
    """Double binary tree: intra-domain chains plus inter-domain trees, all pipelined.

    Channel ``c`` chains each domain from its local index ``c`` onward (two trees of
    1/(2C) each, reduce up then broadcast down: every chain link carries both
    directions) and joins the chains' heads by two complementary trees.

    With ``chains_as_totals`` the chains are given as each GPU's total bytes to and
    from its NVLink switches (``Phase.switch``) instead of GPU-to-GPU flows: the
    same loads on single-tier NVLink domains (the router's fast path sums a GPU's
    flows the same way), without tens of millions of flows on a million GPUs.
    """
    per = 1.0 / channels
    arrs = [np.asarray(g, dtype=np.int64) for g in groups]
    if chains_as_totals:
        return [_tree_with_chain_totals(arrs, channels, per)]
    same = len({a.size for a in arrs}) == 1
    block = np.stack(arrs) if same else None
    parts_src, parts_dst, parts_nb = [], [], []
    for c in range(channels):
        if same:
            m = block.shape[1]
            chains = [np.roll(block, -(c % m), axis=1)]
        else:
            chains = [np.roll(a, -(c % a.size))[None, :] for a in arrs]
        heads = []
        for ch in chains:
            a, b = ch[:, :-1], ch[:, 1:]
            # per chain link: b -> a (up) then a -> b (down), group by group
            parts_src.append(np.stack([b, a], axis=-1).ravel())
            parts_dst.append(np.stack([a, b], axis=-1).ravel())
            parts_nb.append(np.full(parts_src[-1].size, per))
            heads += ch[:, 0].tolist()
        if len(groups) > 1:
            s, d, w = tree_edges(heads, per / 2)
            parts_src.append(s)
            parts_dst.append(d)
            parts_nb.append(w)
    return [Phase(1, _cat(parts_src, np.int64), _cat(parts_dst, np.int64),
                  _cat(parts_nb, float), passes=2)]


def _tree_with_chain_totals(arrs, channels, per):
    """:func:`tree_allreduce` with the chains as per-GPU totals (see there)."""
    # a GPU sends and receives `per` on each chain link it touches: 2 per channel inside
    # the chain, 1 at its start (local index c mod m) and its end ((c - 1) mod m)
    c = np.arange(channels)
    gpus, links = [], []
    for grp in arrs:
        m = grp.size
        if m < 2:
            continue
        starts = np.bincount(c % m, minlength=m)
        ends = np.bincount((c - 1) % m, minlength=m)
        gpus.append(grp)
        links.append(2 * channels - starts - ends)
    # k additions of `per`, summed one by one as the router sums a GPU's flows
    table = np.zeros(2 * channels + 1)
    for k in range(1, table.size):
        table[k] = table[k - 1] + per
    gpus = _cat(gpus, np.int64)
    total = table[_cat(links, np.int64)]
    order = np.argsort(gpus, kind="stable")
    gpus, total = gpus[order], total[order]
    trees = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))]
    if len(arrs) > 1:
        sizes = np.array([grp.size for grp in arrs])
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        flat = np.concatenate(arrs)
        for ch in range(channels):
            heads = flat[starts + ch % sizes]       # each domain's local index ch mod size
            trees.append(tree_edge_arrays(heads, per / 2))
    src, dst, nb = (np.concatenate(x) for x in zip(*trees))
    return Phase(1, src, dst, nb, switch=(gpus, total, total.copy()), passes=2)


def nvls_intra(groups, heads):
    """NVLink SHARP reduce (multimem ld_reduce) and multicast store in each NVLink domain.

    The switch reads every GPU's whole buffer and multicasts the result to every GPU
    (S each way per GPU). Only NCCL's NVLS heads, the first ``min(heads, size)`` GPUs
    of each domain (``nHeads`` <= NCCL_MAX_NVLS_ARITY, 32; other ranks have headRank
    -1 and skip the reduce warps, ``src/device/all_reduce.h``), load the reduced slice
    of 1/nHeads and store it back: S/nHeads more each way on a head.

    Returns
    -------
    switch : tuple
        ``(nodes, out, in)``: per GPU, the bytes to and from the switch per byte of S.
    head_slice : numpy.ndarray
        Per GPU of ``nodes``: 1/nHeads on a head, 0 elsewhere (what a head sends to and
        receives from the network when NVLS spans domains).
    """
    nodes = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
    head_slice = np.zeros(nodes.size)
    start = 0
    for g in groups:
        h = min(int(heads), len(g))
        head_slice[start:start + h] = 1.0 / h
        start += len(g)
    amount = 1.0 + head_slice
    return (nodes, amount, amount.copy()), head_slice


def collnet_chain(groups, channels):
    """CollNet Chain (NCCL ``collnetChain``, with IB SHARP): in every domain channel ``c``
    is a chain from local rank ``c`` (its head, the GPU of the channel's NIC) through the
    others. The reduce flows toward the head, the head sends the channel's share to the
    network's switches and receives the reduced result, and the broadcast flows back down
    the chain: 1/channels of S on every link of a chain each way, and on its head's NIC."""
    per = 1.0 / channels
    src, dst, heads = [], [], []
    for grp in groups:
        grp = np.asarray(grp, dtype=np.int64)
        for c in range(channels):
            order = np.roll(grp, -(c % len(grp)))          # head first
            src += [order[1:], order[:-1]]                 # reduce up, broadcast down
            dst += [order[:-1], order[1:]]
            heads.append(order[0])
    src, dst = _cat(src, np.int64), _cat(dst, np.int64)
    nodes, count = np.unique(np.asarray(heads, dtype=np.int64), return_counts=True)
    amount = count * per
    return Phase(1, src, dst, np.full(src.size, per), nic=(nodes, amount, amount.copy()),
                 passes=2)


def all_pairs(grp, per_pair):
    """Every ordered pair of distinct GPUs in ``grp``."""
    grp = np.asarray(grp, dtype=np.int64)
    m = len(grp)
    a = np.repeat(grp, m)
    b = np.tile(grp, m)
    keep = a != b
    return a[keep], b[keep], np.full(int(keep.sum()), per_pair)
