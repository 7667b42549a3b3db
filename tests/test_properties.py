"""Property tests: any parameter set a preset accepts yields a valid fabric.

Builders either raise ParameterError (a clear refusal) or return a graph that
passes validate_fabric through the generic graph path, with the GPU count the
parameters ask for (rounded up, never down) and every port budget respected.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fabric
import topologies
from fabric.exceptions import ParameterError

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def check(G, asked_gpus=None):
    fabric.validate_fabric(G)
    gpus = sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    if asked_gpus is not None:
        assert gpus >= asked_gpus
    for n, d in G.nodes(data=True):
        if d["kind"] in ("leaf", "spine", "core", "wan", "nvswitch"):
            assert G.degree(n, weight="links") <= d["ports"]
    return gpus


@SETTINGS
@given(k=st.integers(2, 14), tiers=st.sampled_from([2, 3]),
       switch=st.sampled_from(["QM9700", "Q3400", "SN5600"]), frac=st.floats(0.01, 1.0))
def test_fat_tree(k, tiers, switch, frac):
    full = k ** 3 // 4 if tiers == 3 else k * k // 2
    gpus = max(1, int(full * frac))
    try:
        G = topologies.fat_tree_graph(k, tiers=tiers, switch=switch, gpus=gpus)
    except ParameterError as exc:
        # odd k, or a switch without the NIC's 400G port speed (Q3400 is 800G only)
        assert k % 2 == 1 or (switch == "Q3400" and "use `nic`=cx8" in str(exc))
        return
    check(G, gpus)


@SETTINGS
@given(gpus=st.integers(1, 3000), planes=st.sampled_from([1, 2, 4, 8]),
       system=st.sampled_from(["gb300-nvl72", "gb200-nvl72"]),
       agg=st.booleans(), agg_planes=st.booleans())
def test_fairwater(gpus, planes, system, agg, agg_planes):
    G = topologies.fairwater_graph(gpus, planes=planes, system=system, aggregate_nvswitch=agg,
                                   aggregate_planes=agg_planes)
    n = check(G, gpus)
    assert n - gpus < 72                      # rounded up to whole racks only


@SETTINGS
@given(sus=st.integers(1, 6), oversub=st.sampled_from([1.0, 1.5, 2.0, 3.0, 7.0]),
       planes=st.sampled_from([1, 2, 4, 8]), system=st.sampled_from(["hgx-b200", "gb300-nvl72"]),
       tiers=st.sampled_from([None, 2, 3]))
def test_spectrum_x(sus, oversub, planes, system, tiers):
    try:
        G = topologies.spectrum_x_graph(sus, planes=planes, oversubscription=oversub,
                                        system=system, tiers=tiers, aggregate_nvswitch=True)
    except ParameterError as exc:
        # refusals must name what to change
        assert any(w in str(exc) for w in ("`planes`", "`tiers`", "port mode", "`oversubscription`"))
        return
    check(G)


@SETTINGS
@given(preset=st.sampled_from(["superpod-h100", "superpod-b200"]), sus=st.integers(1, 12),
       tiers=st.sampled_from([None, 3]))
def test_superpods(preset, sus, tiers):
    G = topologies.build_preset(preset, {"sus": sus, "tiers": tiers, "aggregate_nvswitch": True})
    check(G)


@SETTINGS
@given(racks=st.integers(1, 40), preset=st.sampled_from(["superpod-gb200", "azure-gb300"]))
def test_rack_presets(racks, preset):
    G = topologies.build_preset(preset, {"racks": racks, "aggregate_nvswitch": True})
    assert check(G) == 72 * racks


@SETTINGS
@given(sites=st.integers(1, 3), gpus=st.integers(72, 1500), planes=st.sampled_from([1, 2, 8]),
       km=st.floats(0, 5000), wan=st.floats(400, 40000),
       site=st.sampled_from(["fairwater", "azure-gb300", "superpod-gb200"]))
def test_superfactory(sites, gpus, planes, km, wan, site):
    try:
        G = topologies.superfactory_graph(sites, site=site, site_gpus=gpus, planes=planes,
                                          distance_km=km, wan_gbps=wan, aggregate_nvswitch=True)
    except ParameterError as exc:
        assert "free ports" in str(exc)       # the only refusal: WAN wider than the reserve
        return
    check(G, sites * gpus)


@SETTINGS
@given(trays=st.integers(1, 18), planes=st.integers(1, 8), agg=st.booleans(),
       preset=st.sampled_from(["gb200-nvl72", "gb300-nvl72"]))
def test_nvl72(trays, planes, agg, preset):
    try:
        G = topologies.build_preset(preset, {"trays": trays, "planes": planes,
                                             "aggregate_nvswitch": agg})
    except ParameterError as exc:
        assert "`planes` must be between 1 and" in str(exc)
        return
    assert check(G) == 4 * trays


def _invariants(G):
    """What the aggregated form must keep: bandwidths, structure metrics, parts, power."""
    from fabric import metrics
    s = fabric.fabric_summary(G)
    return {"bisection_gbps": metrics.bisection_bandwidth(G)["bisection_gbps"],
            "oversubscription": metrics.oversubscription(G),
            "bom": metrics.bill_of_materials(G),
            "parts": s["parts_by_kind"], "links": s["links_by_medium"],
            "per_gpu": fabric.per_gpu_bandwidth(G)}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.sampled_from(["fairwater", "spectrum-x", "superpod-gb200", "superpod-h100",
                               "azure-gb300"]),
       gpus=st.integers(1, 2000), planes=st.sampled_from([1, 2, 4, 8]),
       system=st.sampled_from(["gb300-nvl72", "gb200-nvl72"]))
def test_aggregated_form_keeps_invariants(preset, gpus, planes, system):
    params = {"gpus": gpus}
    if preset == "fairwater":
        params.update(planes=planes, system=system)
    elif preset == "spectrum-x":
        params.update(planes=planes, system=system)
    try:
        detailed = topologies.build_preset(preset, params)
    except ParameterError:
        return
    agg = topologies.build_preset(preset, {**params, "aggregate_nvswitch": True})
    assert agg.number_of_edges() < detailed.number_of_edges()
    assert _invariants(agg) == _invariants(detailed)
