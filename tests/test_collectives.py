"""Collective engine: structural invariants, hand-derived checks and every error path."""

import json

import pytest

import fabric
import topologies
from fabric.exceptions import FabricError, ParameterError
from solvers.collectives import (NCCL_ALGORITHMS, OP_ALGORITHMS, OPS, CollectiveModel,
                                 busbw_factor, collective, load_rank_file, parse_size,
                                 size_range)

GiB = 2 ** 30


@pytest.fixture(scope="module")
def h100():
    return topologies.dgx_h100_graph()


@pytest.fixture(scope="module")
def pod():
    return topologies.build_preset("superpod-h100", {"gpus": "32"})


def _nvlink_rate(G):
    part = fabric.default_catalog().part("gpu", G.nodes["d0-gpu0"]["part"])
    return part["nvlink_links"] * part["usable_nvlink_link_GBps"]


@pytest.mark.parametrize("preset,gpus", [("dgx-h100", 8), ("hgx-b200", 8), ("gb200-nvl72", 72),
                                         ("gb200-nvl72", 4)])
def test_ring_busbw_is_link_rate_for_large_sizes(preset, gpus):
    G = topologies.build_preset(preset)
    r = collective(G, "allreduce", 64 * GiB, algo="ring", gpus=gpus)
    assert r.busbw_GBps == pytest.approx(_nvlink_rate(G), rel=0.01)


def test_nvls_hand_derived(h100):
    # per GPU S(n+1)/n each way over 18 x 20.6 x 0.85 GB/s
    n = 8
    B = 18 * 20.6 * 0.85
    r = collective(h100, "allreduce", 64 * GiB, algo="nvls")
    assert r.algbw_GBps == pytest.approx(B * n / (n + 1), rel=0.01)
    assert r.busbw_GBps == pytest.approx(2 * (n - 1) / (n + 1) * B, rel=0.01)


def test_nvls_uses_nccl_rate_and_ring_the_usable_rate_on_blackwell():
    """NVLS: 18 x 40.1 (NCCL's SM100 figure) x 0.74 per GPU; ring: 18 x 37.76 (measured)."""
    G = topologies.build_preset("hgx-b200")
    part = fabric.default_catalog().part("gpu", G.nodes["d0-gpu0"]["part"])
    assert part["usable_nvlink_link_GBps"] < part["nccl_nvlink_link_GBps"]
    n = 8
    B = 18 * part["nccl_nvlink_link_GBps"] * part["nvls_efficiency"]
    nvls = collective(G, "allreduce", 64 * GiB, algo="nvls")
    assert nvls.algbw_GBps == pytest.approx(B * n / (n + 1), rel=0.01)
    ring = collective(G, "allreduce", 64 * GiB, algo="ring")
    assert ring.busbw_GBps == pytest.approx(18 * part["usable_nvlink_link_GBps"], rel=0.01)


@pytest.mark.parametrize("preset,gpus,ctas,ceiling", [("dgx-h100", 8, 24, 141.0),
                                                      ("gb200-nvl72", 4, 32, 188.0)])
def test_ll_ceiling_is_ctas_times_the_per_cta_rate(preset, gpus, ctas, ceiling):
    """One domain: LL busbw <= ring CTAs x 5.875 GB/s (Hopper: NCCL's 141; Blackwell 188, where
    NCCL's table says 282). `auto` still picks LL where NCCL's table does, at 4 MiB on GB200."""
    k = fabric.default_catalog()
    per_cta = k.part("nccl", "calibration")["ll_busbw_per_cta_GBps"]
    assert ctas * per_cta == pytest.approx(ceiling)
    m = CollectiveModel(topologies.build_preset(preset), gpus=gpus)
    assert m.ll_busbw_GBps == pytest.approx(ceiling)
    size = 4 * 2 ** 20
    r = m.evaluate("allreduce", size, algo="ring")
    lat = 6.6 + 2 * (gpus - 1) * 0.6                      # NCCL's Ring/LL latency on NVLink
    if preset == "gb200-nvl72":
        # NCCL's table: LL 10.2 + 1.5 x 4 MiB / 282 GB/s = 32.5 us beats LL128 (~35 us)
        assert r.protocol == "LL" and r.capped_by == "ll_max_bw"
    if r.protocol == "LL":
        assert r.time_us == pytest.approx(lat + busbw_factor("allreduce", gpus) * size
                                          / (ceiling * 1e3), rel=1e-9)
        assert r.busbw_GBps < ceiling


def test_alltoall_busbw_formula_single_domain(h100):
    r = collective(h100, "alltoall", 64 * GiB)
    # each GPU sends (n-1)/n S over its NVLink: busbw = link rate
    assert r.busbw_GBps == pytest.approx(_nvlink_rate(h100), rel=0.01)
    assert r.busbw_GBps == pytest.approx(r.algbw_GBps * busbw_factor("alltoall", 8))


def test_alltoall_across_nodes_is_nic_bound(pod):
    # 4 nodes x 8: each NIC carries (n-g)/n S at 48 GB/s -> busbw = 48 (n-1)/(n-g)
    r = CollectiveModel(pod, gpus=32).evaluate("alltoall", 64 * GiB)
    assert r.busbw_GBps == pytest.approx(48 * 31 / 24, rel=0.02)


def test_multinode_ring_uses_every_rail(pod):
    # 8 rings, one per rail: busbw = 8 NICs x 48 GB/s
    r = CollectiveModel(pod, gpus=32).evaluate("allreduce", 64 * GiB, algo="ring")
    assert r.busbw_GBps == pytest.approx(8 * 48, rel=0.01)
    assert "infiniband" in r.bottleneck


def test_two_node_nvlstree_exceeds_the_network(pod):
    # published.md §1.1 item 2: on 2 nodes NVLSTree busbw exceeds the NICs' 8 x 48; the
    # model bounds it by NCCL's tuner figure for NVLSTree (8 heads x 57.7 GB/s, tuning.cc)
    m = CollectiveModel(pod, gpus=16, sharp=False)
    assert 8 * 48 < m.evaluate("allreduce", 16 * GiB, algo="nvlstree").busbw_GBps <= 8 * 57.7
    assert m.evaluate("allreduce", 16 * GiB).algo == "nvlstree"


def test_sendrecv_across_nodes_is_nic_bound(pod):
    gpus = fabric.gpu_nodes(pod)
    one = CollectiveModel(pod, ranks=[gpus[0], gpus[9]]).evaluate("sendrecv", 16 * GiB)
    assert one.busbw_GBps == pytest.approx(48, rel=0.02)


@pytest.mark.parametrize("op", OPS)
def test_every_op_runs_and_time_grows(op, h100):
    m = CollectiveModel(h100)
    rows = m.sweep(op, size_range("8:1G"))
    times = [r.time_us for r in rows]
    assert times == sorted(times)
    assert all(r.busbw_GBps == pytest.approx(r.algbw_GBps * busbw_factor(op, 8)) for r in rows)


@pytest.mark.parametrize("algo", OP_ALGORITHMS["allreduce"])
def test_every_allreduce_algorithm_on_scaleout(algo, pod):
    m = CollectiveModel(pod, gpus=32, sharp=True)
    if algo == "crosssite":                       # one site: refused, and says why
        with pytest.raises(ParameterError, match="at least 2 sites"):
            m.evaluate("allreduce", "1G", algo=algo)
        return
    r = m.evaluate("allreduce", "1G", algo=algo)
    assert r.algo == algo and r.time_us > 0


def test_auto_is_the_fastest(h100):
    m = CollectiveModel(h100)
    for size in (8, 2 ** 20, 2 ** 30):
        best = m.evaluate("allreduce", size)
        for algo, why in m.eligible("allreduce").items():
            if why is None and algo in NCCL_ALGORITHMS:      # auto models NCCL's own choice
                assert best.time_us <= m.evaluate("allreduce", size, algo=algo).time_us + 1e-9


def test_small_message_latency_is_nccl_ring_ll(h100):
    # tuning.cc: base 6.6 + 2(n-1) x 0.6 us
    assert collective(h100, "allreduce", 8).time_us == pytest.approx(6.6 + 14 * 0.6, rel=1e-3)


def test_parse_size():
    assert parse_size("8") == 8
    assert parse_size("1K") == 1024
    assert parse_size("64MiB") == 64 * 2 ** 20
    assert parse_size("1GiB") == GiB
    assert parse_size("4G") == 4 * GiB
    assert parse_size(" 2kb ") == 2048
    for bad in ("0", "-1", "1X", "", "K", "1.5.2G", "1Ki"):
        with pytest.raises(ParameterError, match="size"):
            parse_size(bad)


def test_errors(h100):
    m = CollectiveModel(h100)
    with pytest.raises(ParameterError, match="unknown `op`.*allreduce"):
        m.evaluate("allreduce2", 8)
    with pytest.raises(ParameterError, match="unknown `algo`.*ring"):
        m.evaluate("allreduce", 8, algo="magic")
    with pytest.raises(ParameterError, match="does not implement broadcast.*ring"):
        m.evaluate("broadcast", 8, algo="tree")
    with pytest.raises(FabricError, match="NVLSTree needs ranks in at least 2"):
        m.evaluate("allreduce", 8, algo="nvlstree")
    with pytest.raises(FabricError, match="CollNet.*2 NVLink domains"):
        m.evaluate("allreduce", 8, algo="collnet")
    with pytest.raises(ParameterError, match="at most 8"):
        CollectiveModel(h100, gpus=9)
    with pytest.raises(ParameterError, match="at least 2"):
        CollectiveModel(h100, gpus=1)


def test_nvls_without_nvlink_sharp_is_refused(h100):
    cat = fabric.default_catalog()
    part = cat.part("nvswitch", "nvswitch3")
    no_sharp = type(part)(part.category, part.key, {**part.fields,
                                                   "sharp": fabric.Value(False, "test", "L", True)})
    data = {c: {k: cat.part(c, k) for k in cat.keys(c)} for c in cat.categories()}
    data["nvswitch"]["nvswitch3"] = no_sharp
    cat2 = fabric.Catalog(data, version="test", sources=())
    m = CollectiveModel(h100, catalog=cat2)
    with pytest.raises(FabricError, match="no NVLink SHARP.*--algo ring"):
        m.evaluate("allreduce", 8, algo="nvls")
    assert m.evaluate("allreduce", "8G").algo == "ring"


def test_collnet_without_sharp_switches(pod):
    m = CollectiveModel(pod, gpus=32, sharp=False)
    with pytest.raises(FabricError, match="SHARP"):
        m.evaluate("allreduce", 8, algo="collnet")


def test_rank_files(h100, tmp_path):
    gpus = fabric.gpu_nodes(h100)
    f = tmp_path / "ranks.json"
    f.write_text(json.dumps(gpus[:4][::-1]))
    assert load_rank_file(f, gpus) == gpus[:4][::-1]
    f.write_text(json.dumps({"assignment": {"1": gpus[3], "0": gpus[5]}}))
    assert load_rank_file(f, gpus) == [gpus[5], gpus[3]]
    for bad, match in ((["d0-gpu0", "d0-gpu0"], "twice"), (["nope"], "not a GPU"),
                       ({"assignment": {"0": gpus[0], "2": gpus[1]}}, "exactly 0..1"),
                       ({"x": 1}, "JSON list")):
        f.write_text(json.dumps(bad))
        with pytest.raises(ParameterError, match=match):
            load_rank_file(f, gpus)
    f.write_text("{not json")
    with pytest.raises(ParameterError, match="not JSON"):
        load_rank_file(f, gpus)


def test_ranks_change_the_domains(pod):
    gpus = fabric.gpu_nodes(pod)
    inside = CollectiveModel(pod, ranks=gpus[:8]).evaluate("allreduce", "16G", algo="ring")
    spread = CollectiveModel(pod, ranks=gpus[0:32:8]).evaluate("allreduce", "16G", algo="ring")
    assert inside.busbw_GBps > 300 and spread.busbw_GBps == pytest.approx(48, rel=0.02)


def test_binary_rank_file_names_the_option(h100, tmp_path):
    f = tmp_path / "bin.log"
    f.write_bytes(b"\x00\xff\xfe\x80" * 50)
    with pytest.raises(ParameterError, match=r"`--ranks` file `.*bin\.log` is not UTF-8 JSON"):
        load_rank_file(f, fabric.gpu_nodes(h100))


def test_ineligible_algo_is_parameter_error_listing_eligible(h100):
    m = CollectiveModel(h100)
    with pytest.raises(ParameterError, match=r"`algo` \(--algo\) 'collnet' cannot run allreduce.*"
                                             r"eligible here: ring, tree, nvls, hierarchical"):
        m.evaluate("allreduce", 8, algo="collnet")
    with pytest.raises(ParameterError, match=r"NVLSTree needs ranks.*use --algo ring or tree"):
        m.evaluate("allreduce", 8, algo="nvlstree")


def test_messages_name_the_cli_options(h100):
    m = CollectiveModel(h100)
    with pytest.raises(ParameterError, match=r"`op` \(--op\)"):
        m.evaluate("gather", 8)
    with pytest.raises(ParameterError, match=r"`algo` \(--algo\)"):
        m.evaluate("allreduce", 8, algo="magic")
    with pytest.raises(ParameterError, match=r"`size` \(--size\)"):
        m.evaluate("allreduce", "12Q")
    with pytest.raises(ParameterError, match=r"`--sweep` MIN"):
        size_range("0:8")
    with pytest.raises(ParameterError, match=r"`gpus` \(--gpus\)"):
        CollectiveModel(h100, gpus=9)
    with pytest.raises(ParameterError, match=r"`ranks` \(--ranks\)"):
        CollectiveModel(h100, ranks=["d0-gpu0"])
    with pytest.raises(ParameterError, match=r"`tp-bytes`"):
        parse_size("-1", name="`tp-bytes`")


@pytest.fixture(scope="module")
def fairwater_pair():
    params = {"gpus": "576", "planes": "2"}
    return (topologies.build_preset("fairwater", params),
            topologies.build_preset("fairwater", {**params, "aggregate_nvswitch": "1"}))


@pytest.mark.parametrize(("op", "algo", "every"), [
    ("allreduce", "ring", 1), ("allreduce", "hierarchical", 1), ("allreduce", "auto", 1),
    ("alltoall", "p2p", 1), ("allgather", "ring", 1), ("reducescatter", "auto", 1),
    # one GPU per compute tray: the aggregated tray NIC must not lend it its neighbours' ports
    ("allreduce", "ring", 4), ("alltoall", "p2p", 4), ("allgather", "ring", 4)])
def test_aggregated_form_prices_collectives_identically(fairwater_pair, op, algo, every):
    detailed, agg = fairwater_pair
    ranks = fabric.gpu_nodes(detailed)[::every]
    assert ranks == fabric.gpu_nodes(agg)[::every]
    a = collective(detailed, op, GiB, algo=algo, ranks=ranks)
    b = collective(agg, op, GiB, algo=algo, ranks=ranks)
    assert b.algo == a.algo
    assert b.time_us == pytest.approx(a.time_us, rel=1e-9)


# ----------------------------------------------------------- mid sizes: pipeline, LL, tree

_SWEEPS = [("dgx-h100", {}, 8, {}, "nvls"), ("dgx-h100", {}, 8, {}, "ring"),
           ("dgx-h100", {}, 8, {}, "auto"), ("hgx-b200", {}, 8, {}, "nvls"),
           ("gb200-nvl72", {}, 4, {}, "ring"),
           ("superpod-h100", {"gpus": "16"}, 16, {"sharp": False}, "nvlstree"),
           ("superpod-h100", {"gpus": "32"}, 32, {"sharp": False}, "auto")]


@pytest.mark.parametrize(("preset", "params", "gpus", "kwargs", "algo"), _SWEEPS)
def test_busbw_rises_with_size_for_a_fixed_algorithm(preset, params, gpus, kwargs, algo):
    m = CollectiveModel(topologies.build_preset(preset, params), gpus=gpus, **kwargs)
    busbw = [r.busbw_GBps for r in m.sweep("allreduce", size_range("8:64G", factor=2), algo=algo)]
    assert all(b <= after * (1 + 1e-12) for b, after in zip(busbw, busbw[1:]))


@pytest.mark.parametrize(("preset", "params", "gpus", "kwargs", "algo"), [
    ("dgx-h100", {}, 8, {}, "nvls"), ("hgx-b200", {}, 8, {}, "nvls"),
    ("superpod-h100", {"gpus": "16"}, 16, {"sharp": False}, "nvlstree")])
def test_pipeline_fill_saturates_and_vanishes_against_bandwidth(preset, params, gpus, kwargs,
                                                                algo):
    m = CollectiveModel(topologies.build_preset(preset, params), gpus=gpus, **kwargs)
    rows = m.sweep("allreduce", [2 ** k for k in range(16, 41, 2)], algo=algo)
    fill = [r.pipeline_us for r in rows]
    bandwidth = [r.time_us - r.latency_us - r.pipeline_us for r in rows]
    share = [f / b for f, b in zip(fill, bandwidth)]
    steps, _, _ = m._pipeline("allreduce", algo, 2 ** 16)
    # one slice per channel: the first slice is the whole transfer, crossing every step
    # (up to rounding S / channels up to whole bytes)
    assert share[0] == pytest.approx(steps - 1, rel=1e-3)
    assert fill == sorted(fill) and fill[-1] == pytest.approx(fill[-2])   # grows, then saturates
    # non-increasing (several small sizes are one slice per channel: share exactly steps - 1)
    assert all(a >= b - 1e-9 for a, b in zip(share, share[1:])) and share[-1] < 1e-4


def test_only_multi_step_pipelines_have_a_fill(h100):
    m = CollectiveModel(h100)
    assert m.evaluate("allreduce", "256M", algo="nvls").pipeline_us > 0
    assert m.evaluate("allgather", "256M", algo="nvls").pipeline_us == 0    # one switch step
    assert m.evaluate("allreduce", "256M", algo="ring").pipeline_us == 0    # slice-pipelined


@pytest.mark.parametrize(("preset", "params", "gpus", "kwargs", "key"), [
    ("dgx-h100", {}, 8, {}, "nvls_channels_hopper"),
    ("hgx-b200", {}, 8, {}, "nvls_channels_blackwell_one_domain"),
    ("gb200-nvl72", {}, 72, {}, "nvls_channels_blackwell_one_domain"),
    ("superpod-h100", {"gpus": "32"}, 32, {}, "nvls_channels_hopper"),
    # 4 x 8 B200 with 400G NICs (50 GB/s): NCCL 2.30's sm100 tuning takes 24 channels
    ("superpod-b200", {"gpus": "32"}, 32, {}, "nvls_channels_blackwell_one_domain")])
def test_channels_never_exceed_the_configured_count(preset, params, gpus, kwargs, key):
    m = CollectiveModel(topologies.build_preset(preset, params), gpus=gpus, **kwargs)
    d = fabric.default_catalog().part("nccl", "defaults")
    assert m.nvls_channels == d[key] <= m.max_channels
    heads = min(32, m.g)
    assert m.slice_bytes == heads * d["nvls_chunk_bytes"]
    for size in (8, 2 ** 20, 2 ** 24, 2 ** 34):
        _, channels, slice_bytes = m._pipeline("allreduce", "nvls", size)
        assert channels == m.nvls_channels
        # NCCL's chunk (calcCollChunking): 128 KiB, 64K / 32K / 16K below 64 / 8 / 2 x
        # channels x heads x chunk; a slice is heads x chunk, or the channel's whole share
        chunk = 2 ** 17
        for factor, floor in ((64, 2 ** 16), (8, 2 ** 15), (2, 2 ** 14)):
            if size < factor * channels * heads * chunk and chunk > floor:
                chunk = floor
        assert slice_bytes == min(heads * chunk, -(-size // channels))
        assert 1 <= slice_bytes <= m.slice_bytes


def test_channels_are_capped_at_maxchannels(h100, tmp_path):
    f = tmp_path / "many.toml"
    f.write_text("[nccl.defaults]\nnvls_channels_hopper = 64\n")
    m = CollectiveModel(h100, catalog=fabric.load_catalog(f))
    assert m.nvls_channels == m.max_channels == 32


@pytest.mark.parametrize(("preset", "params", "gpus", "kwargs", "key"), [
    ("dgx-h100", {}, 8, {}, "ll_max_busbw_GBps_hopper_one_domain"),
    ("gb200-nvl72", {}, 4, {}, "ll_max_busbw_GBps_blackwell_one_domain"),
    ("superpod-h100", {"gpus": "16"}, 16, {"sharp": False}, "ll_max_busbw_GBps_two_domains"),
    ("superpod-h100", {"gpus": "32"}, 32, {"sharp": False}, "ll_max_busbw_GBps_many_domains")])
def test_ll_stays_under_nccl_ll_ceiling(preset, params, gpus, kwargs, key):
    m = CollectiveModel(topologies.build_preset(preset, params), gpus=gpus, **kwargs)
    d = fabric.default_catalog().part("nccl", "defaults")
    cap = d[key]
    sizes = size_range("1K:1G", factor=2)
    ll = [r for r in m.sweep("allreduce", sizes, algo="ring") if r.protocol == "LL"]
    assert ll and all(r.busbw_GBps < cap for r in ll)
    tree = [r for r in m.sweep("allreduce", sizes, algo="tree") if r.protocol == "LL"]
    assert all(r.algbw_GBps < d["tree_algbw_per_busbw"] * cap for r in tree)


def test_tree_is_slower_per_byte_at_mid_sizes(pod):
    # NCCL's treeCorrectionFactor lowers Tree bandwidth up to 64 B x 2^23 = 512 MiB only
    m = CollectiveModel(pod, gpus=32)
    per_byte = [(r.time_us - r.latency_us) / r.size_bytes
                for r in m.sweep("allreduce", [2 ** 23, 2 ** 33], algo="tree")]
    assert per_byte[0] > per_byte[1]


def test_blackwell_multi_domain_nvls_channels_follow_nic_rate():
    """ncclNvlsTreeSm100Tuning: 32 channels on 2 domains (NIC >= 48 GB/s), 24 on more with
    48-96 GB/s NICs; NVLSTree's per-channel cap is NCCL's 2-node or 3+-node figure."""
    G = topologies.build_preset("superpod-b200", {"gpus": "64"})
    d = fabric.default_catalog().part("nccl", "defaults")
    two, four = CollectiveModel(G, gpus=16), CollectiveModel(G, gpus=32)
    assert (two.nvls_channels, four.nvls_channels) == (32, 24)
    assert two.nvlstree_cap_GBps == d["nvlstree_per_channel_GBps_blackwell_two_domains"] == 96.0
    assert four.nvlstree_cap_GBps == d["nvlstree_per_channel_GBps_blackwell_many_domains"]


def test_nvlstree_cap_is_per_nvls_head():
    """tuning.cc: NVLSTree busBw = graphs[NVLS]->nChannels x min(intra, inter,
    perChMaxNVLSTreeBw), and the NVLS graph's channels are its heads (one per GPU with a NIC:
    8 on a DGX H100), not the 16 NVLS CTAs. Two boxes: 8 x 57.7 GB/s busbw, the bandwidth
    term exactly; three or more: 8 x 45.5."""
    G = topologies.build_preset("superpod-h100", {"gpus": "32"})
    d = fabric.default_catalog().part("nccl", "defaults")
    for gpus, key in ((16, "two_domains"), (32, "many_domains")):
        m = CollectiveModel(G, gpus=gpus)
        assert (m.nvls_heads, m.nvls_channels) == (8, 16)
        cap = 8 * d[f"nvlstree_per_channel_GBps_hopper_{key}"]
        r = m.evaluate("allreduce", "16GiB", algo="nvlstree")
        assert r.capped_by == "nvlstree_channel_cap" and "x 8 heads" in r.bottleneck
        bw_term_us = r.time_us - r.latency_us - r.pipeline_us
        busbw_term = r.size_bytes / (bw_term_us * 1e3) * busbw_factor("allreduce", gpus)
        assert busbw_term == pytest.approx(cap, rel=1e-9)
        assert r.busbw_GBps < cap


def test_nvls_across_domains_keeps_one_domains_busbw(pod, tmp_path):
    """NVLS across domains is held to one domain's NVLS busbw (the form of NCCL's rating
    since 2.28.3): 4 x 8 H100 with IB SHARP keep one box's busbw, 2(n-1)/(n+1) x 18 x 20.6
    x 0.85 with n = 8 (test_nvls_hand_derived), i.e. 7/8 x 32/31 of its algbw. Without the
    bound the links alone allow one box's algbw (the SHARP network side carries 1/8 of S
    per NIC each way and does not bind)."""
    n = 8
    box_busbw = 2 * (n - 1) / (n + 1) * 18 * 20.6 * 0.85
    r = CollectiveModel(pod, gpus=32, sharp=True).evaluate("allreduce", "64GiB", algo="nvls")
    assert r.capped_by == "nvls_domain_busbw" and "one 8-GPU domain" in r.bottleneck
    bw_term_us = r.time_us - r.latency_us - r.pipeline_us
    term_busbw = r.size_bytes / (bw_term_us * 1e3) * busbw_factor("allreduce", 32)
    assert term_busbw == pytest.approx(box_busbw, rel=0.01)
    f = tmp_path / "off.toml"
    f.write_text("[nccl.defaults]\nnvls_busbw_across_domains_at_most_one_domains = false\n")
    off = CollectiveModel(pod, gpus=32, sharp=True, catalog=fabric.load_catalog(f))
    free = off.evaluate("allreduce", "64GiB", algo="nvls")
    assert free.capped_by == "link"
    box_algbw = box_busbw / busbw_factor("allreduce", n)
    assert free.algbw_GBps == pytest.approx(box_algbw, rel=0.01)
    assert r.algbw_GBps == pytest.approx(box_algbw * (n - 1) / n * 32 / 31, rel=0.01)


def test_nvlstree_across_racks_keeps_one_racks_nvls_busbw():
    """Two GB200 NVL72 racks, NVLSTree: one rack's NVLS is bound by in-switch reduction, 71
    additions per float on 18 chips (algbw 18 x rate x 4 / 71), so its busbw is 2 x 71/72 of
    that, i.e. 2 x 4 x 18 x rate / 72 = 2 x rate per chip (900 GB/s at 450 GFLOP/s); across
    the racks the bandwidth term keeps exactly that busbw."""
    G = topologies.build_preset("superpod-gb200", {"racks": "2", "aggregate_nvswitch": "true"})
    rate = fabric.default_catalog().part("nvswitch", "nvlink5-switch")["nvls_reduce_gflops_fp32"]
    r = CollectiveModel(G).evaluate("allreduce", "64GiB", algo="nvlstree")
    assert r.ranks == 144 and r.capped_by == "nvls_domain_busbw"
    bw_term_us = r.time_us - r.latency_us - r.pipeline_us
    term_busbw = r.size_bytes / (bw_term_us * 1e3) * busbw_factor("allreduce", 144)
    assert term_busbw == pytest.approx(2 * rate, rel=1e-6)


def test_nccl_eligibility_rules_on_nvl72():
    """NVLS allgather needs <= 32 ranks per domain; PAT needs one rank per domain; CollNet
    needs <= 8 ranks per domain; SHARP (CollNet, NVLS across domains) is off by default."""
    rack = CollectiveModel(topologies.gb200_nvl72_graph())
    ok = rack.eligible("allgather")
    assert ok["ring"] is None and "32" in ok["nvls"] and "one rank per" in ok["pat"]
    small = CollectiveModel(topologies.gb200_nvl72_graph(), gpus=32)
    assert small.eligible("allgather")["nvls"] is None
    pod = topologies.build_preset("superpod-gb200", {"racks": "2", "aggregate_nvswitch": "true"})
    m = CollectiveModel(pod)
    assert "SHARP is disabled" in m.eligible("allreduce")["nvls"]
    assert m.evaluate("allreduce", "1G").algo in ("nvlstree", "tree", "ring")
    assert "at most 8" in CollectiveModel(pod, sharp=True).eligible("allreduce")["collnet"]
    one_per = CollectiveModel(pod, ranks=[n for n, d in pod.nodes(data=True)
                                          if d["kind"] == "gpu" and n.endswith("gpu0")])
    assert one_per.k_domains == one_per.n == 2
    r = one_per.evaluate("allgather", "1G", algo="pat")
    ring = one_per.evaluate("allgather", "1G", algo="ring")
    # PAT moves the ring's bytes at NCCL's 0.75 factor
    assert r.time_us - r.latency_us == pytest.approx((ring.time_us - ring.latency_us) / 0.75,
                                                      rel=1e-9)


def test_nvl72_nvls_is_capped_by_in_switch_reduction_and_8_gpu_box_by_links():
    """71 additions per float on 18 chips bind on an NVL72 rack; 7 on 2 chips do not on HGX."""
    rack = CollectiveModel(topologies.gb200_nvl72_graph()).evaluate("allreduce", "16G",
                                                                     algo="nvls")
    box = CollectiveModel(topologies.hgx_b200_graph()).evaluate("allreduce", "16G", algo="nvls")
    assert rack.capped_by == "switch_reduction" and "reduction" in rack.bottleneck
    assert box.capped_by == "link"
    rate = fabric.default_catalog().part("nvswitch", "nvlink5-switch")["nvls_reduce_gflops_fp32"]
    # hand-derived: algbw = 18 chips x rate x 4 bytes / 71 additions per element
    algbw = 18 * rate * 1e9 * 4 / 71 / 1e9
    data_us = rack.time_us - rack.latency_us - rack.pipeline_us
    assert rack.size_bytes / (data_us * 1e3) == pytest.approx(algbw, rel=1e-9)


@pytest.mark.parametrize("preset,params", [("superpod-gb200", {"racks": "2"}),
                                           ("superpod-gb200", {"racks": "2",
                                                               "aggregate_nvswitch": "true"}),
                                           ("fairwater", {"gpus": "144"})])
def test_nic_rate_seen_by_nccl_matches_per_gpu_bandwidth(preset, params):
    from fabric.metrics import per_gpu_bandwidth

    G = topologies.build_preset(preset, params)
    m = CollectiveModel(G)
    bw = per_gpu_bandwidth(G)
    assert m._nic_GBps() == pytest.approx(min(bw[g][1] for g in m.rank_names) / 8, rel=1e-12)


def test_a_user_gpu_part_without_a_measured_rate_uses_nccls(tmp_path):
    """`usable_nvlink_link_GBps` is optional: a user's part without it runs at NCCL's figure."""
    shipped = fabric.default_catalog().part("gpu", "GB200")
    fields = {k: shipped[k] for k in ("name", "arch", "nvlink_generation", "nvlink_links",
                                      "nvlink_link_gbps", "nccl_nvlink_link_GBps",
                                      "nvls_efficiency", "host_link", "host_link_gbps",
                                      "memory_GB", "power_w")}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"gpu": {"MYGPU": fields}}))
    catalog = fabric.load_catalog(path)
    G = topologies.build_preset("gb200-nvl72", {"trays": "1"})
    for g in [n for n, d in G.nodes(data=True) if d["kind"] == "gpu"]:
        G.nodes[g]["part"] = "MYGPU"
    r = CollectiveModel(G, gpus=4, catalog=catalog).evaluate("allreduce", 64 * GiB, algo="ring")
    assert r.busbw_GBps == pytest.approx(18 * shipped["nccl_nvlink_link_GBps"], rel=0.01)


def test_nvls_heads_carry_the_reduced_slice():
    """NCCL's NVLS heads (at most 32 per domain) load and store the reduced 1/nHeads slice;
    the other ranks only feed the switch and take the multicast: S each way."""
    G = topologies.build_preset("gb200-nvl72")
    m = CollectiveModel(G, gpus=72)
    (phase,) = m._phases("allreduce", "nvls")
    nodes, out, into = phase.switch
    assert len(nodes) == 72 and set(nodes.tolist()) == set(m.pos.tolist())
    assert sorted(out.tolist()) == [1.0] * 40 + [1.0 + 1 / 32] * 32
    assert out.tolist() == into.tolist()
    # an 8-GPU box: every rank is a head
    (phase,) = CollectiveModel(topologies.build_preset("dgx-h100"))._phases("allreduce", "nvls")
    assert phase.switch[1].tolist() == [1.0 + 1 / 8] * 8
    # across domains (NVLS + SHARP): the heads' slices cross the network, nothing else
    G = topologies.build_preset("superpod-gb200", {"racks": "2", "aggregate_nvswitch": "true"})
    m = CollectiveModel(G, sharp=True)
    (phase,) = m._phases("allreduce", "nvls")
    sent = dict(zip(phase.nic[0].tolist(), phase.nic[1].tolist()))
    assert sorted(sent.values()) == [0.0] * 80 + [1 / 32] * 64
    assert sum(sent.values()) == pytest.approx(2.0)   # each domain sends S once


def test_nvlink_switch_links_take_their_own_sites_gpu_efficiency():
    """Switch-to-switch NVLink (nvl36x2) runs at the efficiency of its own domain's GPUs,
    found by domain key (site, domain): two sites that both number their domain 0, one
    with Hopper GPUs, keep their own rates."""
    import networkx as nx
    import numpy as np

    from fabric.schema import KIND_CODE, MEDIUM_CODE

    A = topologies.build_preset("nvl36x2")
    B = nx.relabel_nodes(A, {n: f"b-{n}" for n in A})
    for name, d in B.nodes(data=True):
        d["site"] = 1
        if d["kind"] == "gpu":
            d["part"] = "H100"
    for _, d in A.nodes(data=True):
        d["site"] = 0
    G = nx.compose(A, B)
    G.graph.update(A.graph)
    m = CollectiveModel(G)
    r = m.router
    nv = np.flatnonzero(r.arc_medium == MEDIUM_CODE["nvlink"])
    kind_u, kind_v = r.kind_code[r.arc_u[nv]], r.kind_code[r.arc_v[nv]]
    ratio = m.rate[nv] / r.arc_cap_GBps[nv]
    site = np.array([G.nodes[r.nodes[i]]["site"] for i in r.arc_u[nv].tolist()])
    sw, gpu = KIND_CODE["nvswitch"], KIND_CODE["gpu"]
    for s in (0, 1):
        between_switches = ratio[(site == s) & (kind_u == sw) & (kind_v == sw)]
        from_gpus = ratio[(site == s) & (kind_u == gpu)]
        assert len(between_switches) == 36 and len(set(from_gpus.tolist())) == 1
        assert set(between_switches.tolist()) == set(from_gpus.tolist())
    assert ratio[(site == 0) & (kind_u == gpu)][0] != ratio[(site == 1) & (kind_u == gpu)][0]


# ---------------------------------------------------------------- Tree against Ring, as NCCL
@pytest.fixture(scope="module")
def pod16():
    return topologies.build_preset("superpod-h100", {"gpus": "16"})


def test_auto_runs_the_ring_past_two_domains_where_nccl_rates_the_tree_below_it(pod):
    """4 x 8 H100 without NVLS, 16 GiB: NCCL's tuner rates Tree busBw x 0.92, algbw x 0.5
    against the Ring's n / 2(n-1) from the same graph, so it runs the Ring (the price is the
    Ring's); by hand, NCCL's Tree time is the Ring's bandwidth term x (1 / 0.92) x (n / (n-1))
    plus the Tree's latency."""
    m = CollectiveModel(pod, gpus=32, nvls=False)
    size = 16 * GiB
    ring = m.evaluate("allreduce", size, algo="ring")
    tree = m.evaluate("allreduce", size, algo="tree")
    auto = m.evaluate("allreduce", size)
    assert auto.algo == "ring" and auto.time_us == ring.time_us
    n = 32
    ring_bw = ring.time_us - ring.latency_us - ring.pipeline_us
    nccl_tree = m._tree_as_nccl("Simple", size, tree.latency_us, {"Simple": ring_bw})
    assert nccl_tree == pytest.approx(tree.latency_us + ring_bw * n / (2 * (n - 1)) / (0.92 * 0.5))
    assert nccl_tree > ring.time_us


def test_auto_prefers_the_tree_on_two_domains(pod16):
    """Two nodes: NCCL's Tree runs on bwIntra, which its search raises to twice bwInter, so
    its Tree looks 0.92 x 2 x 0.5 / (n / 2(n-1)) = 1.73x the Ring's bandwidth on 16 ranks."""
    m = CollectiveModel(pod16, gpus=16, nvls=False)
    assert m.evaluate("allreduce", 16 * GiB).algo == "tree"
    nccl = m._tree_as_nccl("Simple", 16 * GiB, 0.0, {"Simple": 1000.0})
    assert nccl == pytest.approx(1000.0 * (16 / 30) / (0.92 * 2 * 0.5))


def test_ll_tree_fill_is_the_network_hops_only(pod16):
    """Tree/LL on 2 x 8 H100 at 64 KiB: the chain streams LL lines; each of the 2 network hops
    (up, down) waits for one chunk, min(LL step 32 KiB, 64 KiB / 8 channels) = 8 KiB, at the
    channel's NIC (400 Gb/s = 50 GB/s): 2 x 8192 B / 50 GB/s = 0.328 us."""
    m = CollectiveModel(pod16, gpus=16)
    size = 64 * 1024
    r = m.evaluate("allreduce", size, algo="tree")
    fill = m._pipeline_fill("allreduce", "tree", size, 1.0, "LL")
    assert fill == pytest.approx(2 * 8192 / 50e3)
    assert r.protocol == "LL" and r.pipeline_us == pytest.approx(fill)


def test_ll128_tree_fill_follows_nccls_depth(pod16):
    """LL128: NCCL's own depth, 1 + log2i(nodes) + 0.1 x ranks per node = 2.8 chunks one way
    on 2 x 8, crossed twice: (5.6 - 1) slices of the bottleneck."""
    m = CollectiveModel(pod16, gpus=16)
    assert m._ll128_tree_depth() == pytest.approx(2.8)
    steps, nc, slice_bytes = m._pipeline("allreduce", "tree", 2 ** 20, "LL128")
    fill = m._pipeline_fill("allreduce", "tree", 2 ** 20, 1e-6, "LL128")
    assert fill == pytest.approx(4.6 * slice_bytes * nc * 1e-6)


def test_protocols_limit_what_auto_and_algorithms_use(pod16):
    """NCCL_PROTO: without LL128 neither `auto` nor the Tree uses it; names in any case."""
    every = CollectiveModel(pod16, gpus=16)
    some = CollectiveModel(pod16, gpus=16, protocols="ll,SIMPLE")
    assert some.protocols == ("LL", "Simple")
    assert every.evaluate("allreduce", 2 ** 20).protocol == "LL128"
    for size in (8, 2 ** 20, 2 ** 26, 16 * GiB):
        assert some.evaluate("allreduce", size).protocol in ("LL", "Simple")
        assert some.evaluate("allreduce", size, algo="tree").protocol in ("LL", "Simple")
    with pytest.raises(ParameterError, match="protocols.*LL129"):
        CollectiveModel(pod16, gpus=16, protocols=["LL129"])
    with pytest.raises(ParameterError, match="at least one"):
        CollectiveModel(pod16, gpus=16, protocols=[])
    with pytest.raises(ParameterError, match="at least one"):
        CollectiveModel(pod16, gpus=16, protocols="^LL,LL128,Simple")
    with pytest.raises(ParameterError, match="must be names"):
        CollectiveModel(pod16, gpus=16, protocols=5)
    assert CollectiveModel(pod16, gpus=16, protocols="^ll128").protocols == ("LL", "Simple")
    with pytest.raises(ParameterError, match="nvlstree cannot run.*needs Simple"):
        CollectiveModel(pod16, gpus=16, protocols=("LL",)).evaluate("allreduce", GiB,
                                                                    algo="nvlstree")


def test_ring_and_tree_are_both_judged_whatever_their_latency():
    """4 GB200 racks, NVLS off, no LL128: the Ring's latency (574 steps) exceeds the Tree's
    price at small sizes, yet `auto` must still weigh the two as NCCL does (the Ring's
    bandwidth sets the Tree's NCCL rating), at every size; and its time grows with size."""
    G = topologies.build_preset("superpod-gb200", {"racks": "4", "aggregate_nvswitch": "1"})
    m = CollectiveModel(G, nvls=False, protocols="LL,Simple")
    ring_plan, tree_plan = m._plan("allreduce", "ring"), m._plan("allreduce", "tree")
    times = []
    for size in [2 ** k for k in range(20, 31)]:
        ring = {p: m._priced("allreduce", "ring", p, size, ring_plan, m._ll_floor)
                for p in m.protocols}
        tree = {p: m._priced("allreduce", "tree", p, size, tree_plan, m._ll_floor)
                for p in m.protocols}
        ring_bw = {p: t[0] - t[1] - t[2] for p, t in ring.items()}
        view = {p: m._tree_as_nccl(p, size, tree[p][1], ring_bw) for p in m.protocols}
        p = min(view, key=view.get)
        ring_best = min(ring, key=lambda q: ring[q][0])
        expect = ("ring", ring_best) if ring[ring_best][0] < view[p] else ("tree", p)
        r = m.evaluate("allreduce", size)
        assert (r.algo, r.protocol) == expect, size
        times.append(r.time_us)
    assert times == sorted(times)


# --------------------------------------------------------------------------- NCCL releases

@pytest.fixture(scope="module")
def gb200_two_racks():
    return topologies.build_preset("superpod-gb200", {"racks": "2", "aggregate_nvswitch": "true"})


def test_ll128_across_gb200_racks_follows_the_release(gb200_two_racks):
    """Before 2.27 a NIC behind the Grace CPU (PATH_PHB) keeps LL128 off across racks, unless
    NCCL_PROTO names it; one rack and Hopper nodes (NIC on PCIe) keep it."""
    G = gb200_two_racks
    assert CollectiveModel(G, nccl="2.26").protocols == ("LL", "Simple")
    assert CollectiveModel(G, nccl="2.26.2-1").protocols == ("LL", "Simple")
    assert CollectiveModel(G, nccl="2.27").protocols == ("LL", "LL128", "Simple")
    assert CollectiveModel(G).protocols == ("LL", "LL128", "Simple")
    named = CollectiveModel(G, nccl="2.26", protocols="LL,LL128,Simple")
    assert named.protocols == ("LL", "LL128", "Simple")
    assert CollectiveModel(G, gpus=72, nccl="2.26").protocols == ("LL", "LL128", "Simple")
    pod = topologies.build_preset("superpod-h100", {"gpus": "16"})
    assert CollectiveModel(pod, gpus=16, nccl="2.26").protocols == ("LL", "LL128", "Simple")
    # and the run's pick obeys it
    rows = CollectiveModel(G, nccl="2.26", nvls=False).sweep("allreduce", [2 ** 20, 2 ** 26])
    assert all(r.protocol != "LL128" for r in rows)


def test_nvls_channels_in_one_blackwell_domain_follow_the_release():
    """32 NVLS channels before 2.27, 24 after (src/transport/nvls.cc); the NVLS fill is one
    chunk per head per channel per stage, so at 4 GiB (64 KiB chunks under both: 64 x 32 x
    32 x 128 KiB = 8 GiB and 64 x 24 x 32 x 128 KiB = 6 GiB exceed it) it scales 32 : 24."""
    G = topologies.gb200_nvl72_graph()
    old, new = CollectiveModel(G, nccl="2.26"), CollectiveModel(G, nccl="2.27")
    assert (old.nvls_channels, new.nvls_channels, CollectiveModel(G).nvls_channels) == (32, 24, 24)
    a = old.evaluate("allreduce", 4 * GiB, algo="nvls")
    b = new.evaluate("allreduce", 4 * GiB, algo="nvls")
    assert a.pipeline_us / b.pipeline_us == pytest.approx(32 / 24, rel=1e-9)
    h100 = topologies.dgx_h100_graph()
    assert {CollectiveModel(h100, nccl=v).nvls_channels for v in ("2.19", "2.26", "2.30")} == {16}
    assert CollectiveModel(h100).rules_in("2.26") == CollectiveModel(h100).rules_in("2.30")


def test_pat_arrives_in_2_23(pod):
    """PAT (one rank per domain, allgather/reducescatter) exists from NCCL 2.23."""
    ranks = [f"d{i}-gpu0" for i in range(4)]
    assert CollectiveModel(pod, ranks=ranks).eligible("allgather")["pat"] is None
    why = CollectiveModel(pod, ranks=ranks, nccl="2.22").eligible("reducescatter")["pat"]
    assert "2.23" in why and "2.22" in why


@pytest.mark.parametrize("nccl, text", [
    ("2.24", "from 2.25"), ("2.17", "2.18 to 2.30"),
    ("2.31.0", "2.18 to 2.30 (releases after 2.30 are not followed yet)"),
    ("2.x", "such as 2.26"), ("", "such as 2.26"), ("2", "such as 2.26"),
    ("2.\u00b2", "such as 2.26"), ("\uff12.\uff12\uff16", "such as 2.26"),   # ² and fullwidth
    ("02.026", "such as 2.26"), ("2.9-" + "a" * 100, "such as 2.26"),
    (2.26, "got float"), (True, "got bool"),
])
def test_nccl_release_errors(nccl, text):
    with pytest.raises(ParameterError, match=r"`nccl`") as exc:
        CollectiveModel(topologies.gb200_nvl72_graph(), gpus=4, nccl=nccl)
    assert text in str(exc.value)
    assert exc.value.param == "nccl"        # what `fabric compare` tells apart, not the text


def test_simple_tree_fill_is_the_sum_of_its_stages(gb200_two_racks):
    """A Simple Tree's first chunk goes up the chain at the GPU's whole NVLink egress L and
    comes down beside the reduce stream (L - R); with NVLink the bottleneck (L = 2R) the fill
    is (ppn - 1)(t/2 + t) + 2 log2i(domains) t - t, t the steady stage time, and it never
    exceeds the uniform (stages - 1) t."""
    m = CollectiveModel(gb200_two_racks, nvls=False)
    egress = m._nvlink_egress_GBps() * 1e3                  # bytes per us
    slice_bytes, nc = 2 ** 19, 32
    us_per_byte = 2.0 / egress                              # R = L / 2
    t = slice_bytes * nc * us_per_byte
    ppn, k = 72, 2
    want = (ppn - 1) * (t / 2 + t) + 2 * 1 * t - t
    assert m._chain_tree_fill(slice_bytes, nc, us_per_byte) == pytest.approx(want, rel=1e-12)
    stages = 2 * ((ppn - 1) + 1)
    for upb in (us_per_byte, us_per_byte * 1.5, us_per_byte * 3):   # NVLink or network bound
        fill = m._chain_tree_fill(slice_bytes, nc, upb)
        uniform = (stages - 1) * slice_bytes * nc * upb
        assert fill <= uniform * (1 + 1e-12)
        # no chain hop is faster than a chunk of every channel over the whole egress
        floor = 2 * (ppn - 1) * slice_bytes * nc / egress - slice_bytes * nc * upb
        assert fill >= floor - 1e-9


def test_protocol_setting_stands_over_the_release(gb200_two_racks):
    """NCCL_PROTO writes 0 or 1 for every protocol, so any given --proto that allows LL128
    (``^LL`` too) turns it on where the release would keep it off."""
    m = CollectiveModel(gb200_two_racks, nccl="2.26", protocols="^LL")
    assert m.protocols == ("LL128", "Simple")


def test_blackwell_ultra_has_no_ll128_before_2_27():
    """2.25/2.26 list compute capabilities 70, 80, 90, 100, 120 for LL128; B300/GB300 are
    10.3, so even one domain runs without it; B200 (10.0) keeps it."""
    gb300 = topologies.build_preset("gb300-nvl72", {})
    assert CollectiveModel(gb300, nccl="2.26").protocols == ("LL", "Simple")
    assert CollectiveModel(gb300, nccl="2.27").protocols == ("LL", "LL128", "Simple")
    b300 = topologies.build_preset("hgx-b200", {"gpu": "B300"})
    assert CollectiveModel(b300, nccl="2.25").protocols == ("LL", "Simple")
    b200 = topologies.build_preset("hgx-b200", {})
    assert CollectiveModel(b200, nccl="2.25").protocols == ("LL", "LL128", "Simple")


def test_multi_domain_nvls_channels_follow_2_30():
    """Before 2.30 every multi-domain Blackwell communicator runs 32 NVLS channels; 2.30 sets
    24 for 48-96 GB/s NICs past two domains (ncclNvlsTreeSm100Tuning)."""
    G = topologies.build_preset("superpod-gb200", {"racks": "3", "aggregate_nvswitch": "true"})
    assert CollectiveModel(G, nccl="2.29").nvls_channels == 32
    assert CollectiveModel(G, nccl="2.30").nvls_channels == 24
    assert CollectiveModel(G, nccl="2.29", nvls=False).rules_in("2.30") == \
        CollectiveModel(G, nccl="2.29", nvls=False).rules_in()      # NVLS off: nothing to act on


def test_tree_fill_follows_the_longest_chain(gb200_two_racks):
    """8 + 2 ranks have the same 8-GPU chain in the first rack as 8 + 8: no shorter fill."""
    G = gb200_two_racks
    eight = [f"d0-gpu{i}" for i in range(8)]
    a = CollectiveModel(G, ranks=eight + [f"d1-gpu{i}" for i in range(8)], protocols="Simple")
    b = CollectiveModel(G, ranks=eight + ["d1-gpu0", "d1-gpu1"], protocols="Simple")
    fa = a.evaluate("allreduce", 2 ** 24, algo="tree").pipeline_us
    fb = b.evaluate("allreduce", 2 ** 24, algo="tree").pipeline_us
    assert fb >= fa * (1 - 1e-9) > 0


def test_tree_fill_is_never_negative():
    """One domain of 3 GPUs with NVLink far faster than the steady rate: the fill is the
    stages' own times less the longest, never below 0."""
    m = CollectiveModel(topologies.dgx_h100_graph(), gpus=3)
    egress = m._nvlink_egress_GBps() * 1e3
    for upb in (10 / egress, 2 / egress, 1.2 / egress, 0.8 / egress):
        assert m._chain_tree_fill(2 ** 19, 1, upb) >= 0.0


def test_collnet_chain_hand_derived():
    """CollNet Chain on 4 x 8 H100 with SHARP: channel c's chain starts at local rank c, so
    with 8 channels every GPU is a head once and a tail once and sends 7/8 S up and 7/8 S
    down over NVLink; each head's NIC moves S/8 each way. The NVLink bound is the time."""
    pod = topologies.build_preset("superpod-h100", {"gpus": "32"})
    m = CollectiveModel(pod, gpus=32, sharp=True)
    assert m.eligible("allreduce")["collnetchain"] is None
    r = m.evaluate("allreduce", 8 * GiB, algo="collnetchain")
    egress = m._nvlink_egress_GBps()
    want_algbw = egress / 1.75                       # GB/s of S
    assert r.algbw_GBps == pytest.approx(want_algbw, rel=0.03)
    assert r.algbw_GBps <= want_algbw * (1 + 1e-9)
    # latency: NCCL's 2 (ppn - 1) x 2.8 + 30 us (plus the graph's own network path)
    lat = m._latency("allreduce", "collnetchain", "Simple")
    assert 2 * 7 * 2.8 + 30 <= lat < 2 * 7 * 2.8 + 30 + 10
    # no SHARP, or one domain: not eligible
    assert "SHARP" in CollectiveModel(pod, gpus=32).eligible("allreduce")["collnetchain"]
    one = CollectiveModel(topologies.dgx_h100_graph(), sharp=True)
    assert "2 NVLink domains" in one.eligible("allreduce")["collnetchain"]


def test_collnet_chain_chunk_follows_nccl():
    """calcCollChunking: min(256 KiB, Simple step), halved below 64/8/1 x depth chunks per
    channel (depth = 8 ranks per node) down to 128/64/32 KiB."""
    pod = topologies.build_preset("superpod-h100", {"gpus": "32"})
    m = CollectiveModel(pod, gpus=32, sharp=True)
    nc = m.channels
    assert m._collnet_chain_chunk(8 * GiB, nc) == 262144           # 4096 chunks >= 512
    assert m._collnet_chain_chunk(256 * 2 ** 20, nc) == 131072     # 128 < 512 -> 128 KiB
    assert m._collnet_chain_chunk(16 * 2 ** 20, nc) == 65536       # 16 < 64 -> 64 KiB
    assert m._collnet_chain_chunk(2 ** 20, nc) == 32768            # 2 < 8 -> 32 KiB


def test_collnet_direct_needs_an_nvlink_switch():
    """NCCL disables CollNet Direct when a node has no NVSwitch (nvsCount 0); Chain runs."""
    m = CollectiveModel(topologies.build_preset("fat-tree", {}), sharp=True)
    e = m.eligible("allreduce")
    assert "NVLink switch" in e["collnet"] and e["collnetchain"] is None


def test_collnet_chain_above_8_ranks_follows_the_release():
    """2.23-2.27 set CollNet Chain up for any number of local ranks; 2.28 limits it to 8."""
    G = topologies.build_preset("superpod-gb200", {"racks": "2", "aggregate_nvswitch": "true"})
    assert CollectiveModel(G, sharp=True, nccl="2.26").eligible("allreduce")["collnetchain"] is None
    why = CollectiveModel(G, sharp=True, nccl="2.28").eligible("allreduce")["collnetchain"]
    assert "at most 8" in why
    assert "at most 8" in CollectiveModel(G, sharp=True, nccl="2.26").eligible("allreduce")["collnet"]


def test_auto_picks_collnet_direct_or_chain_as_nccl_does():
    """NCCL rates Direct at 0.85 x the shared CollNet bandwidth (sm90+) with less latency than
    Chain: Direct for small messages, Chain for large ones; never both judged away."""
    pod = topologies.build_preset("superpod-h100", {"gpus": "64"})
    m = CollectiveModel(pod, gpus=64, sharp=True, nvls=False)
    picks = [m.evaluate("allreduce", s).algo for s in (2 ** 20, 2 ** 30, 8 * GiB)]
    assert picks == ["collnet", "collnetchain", "collnetchain"]


def test_sharp_stops_at_a_site():
    """A SHARP reduction tree ends at a site's switches: no CollNet or NVLS across sites."""
    sf = topologies.build_preset("superfactory", {"site": "superpod-gb200", "site_gpus": "144"})
    ranks = [f"s{s}-d{2 * s}-gpu{i}" for s in (0, 1) for i in range(4)]
    e = CollectiveModel(sf, ranks=ranks, sharp=True).eligible("allreduce")
    for algo in ("collnet", "collnetchain", "nvls"):
        assert "sites" in e[algo], (algo, e[algo])
