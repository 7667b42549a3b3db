"""Tests of solvers.placement: CP-SAT placement against brute force, baselines, errors."""

import itertools
import json

import pytest

import topologies
from fabric.exceptions import InfeasibleError, ParameterError
from fabric.locality import gpu_nodes
from solvers import placement as pl
from solvers.placement.cost import _calibrate, _Coster, _proxy_cost
from solvers.placement.expand import _dom_of_from_counts


@pytest.fixture(scope="module")
def gb200():
    return topologies.build_preset("superpod-gb200", {"racks": 4})


def _small_problem(G, tp=8, pp=2, dp=3, free_per_domain=(16, 24, 8, 24)):
    """Busy everything but the first GPUs of each domain (domains 0-3)."""
    gpus = gpu_nodes(G)
    by_dom = {}
    for g in gpus:
        by_dom.setdefault(G.nodes[g]["domain"], []).append(g)
    free = set()
    for d, n in zip(sorted(by_dom), free_per_domain):
        free.update(by_dom[d][:n])
    busy = frozenset(g for g in gpus if g not in free)
    traffic = pl.Traffic(tp_bytes=2**28, pp_bytes=2**27, dp_bytes=2**30)
    return pl.placement_problem(G, pl.Job(tp, pp, dp), traffic, busy=busy)


def _all_counts(problem):
    """Every z[s, d] matrix: each stage places dp groups, domains within their slots."""
    doms = [d for d, s in enumerate(problem.slots) if s > 0]
    S, dp = problem.job.pp, problem.job.dp
    rows = [r for r in itertools.product(*(range(min(problem.slots[d], dp) + 1) for d in doms))
            if sum(r) == dp]
    for combo in itertools.product(rows, repeat=S):
        if all(sum(combo[s][i] for s in range(S)) <= problem.slots[d] for i, d in enumerate(doms)):
            yield {(s, d): combo[s][i] for s in range(S) for i, d in enumerate(doms)
                   if combo[s][i]}


def test_cpsat_optimal_matches_brute_force(gb200):
    p = _small_problem(gb200)
    r = pl.solve_placement(p, time_limit_s=20, seed=0)
    assert r.status == "OPTIMAL"
    assert r.gap == 0.0
    coster = _Coster(p)
    t_dp, t_pp = _calibrate(p, coster)
    const = r.breakdown_us["tp"] + r.breakdown_us["ep"]
    best_proxy = min(_proxy_cost(p, c, t_dp, t_pp) for c in _all_counts(p)) + const
    assert r.proxy_us == pytest.approx(best_proxy, rel=1e-6)
    # Engine objective: brute force over every domain-level placement.
    best_engine = min(pl.evaluate_assignment(p, _dom_of_from_counts(p, c), coster)[0]
                      for c in _all_counts(p))
    assert r.objective_us <= best_engine * 1.02


def test_assignment_is_valid(gb200):
    p = _small_problem(gb200)
    r = pl.solve_placement(p, time_limit_s=10, seed=0)
    gpus = list(r.assignment.values())
    assert sorted(r.assignment) == list(range(p.job.gpus))
    assert len(set(gpus)) == len(gpus)
    assert not set(gpus) & p.busy
    for base in range(0, p.job.gpus, p.job.tp):      # TP groups inside one domain
        doms = {gb200.nodes[r.assignment[base + t]]["domain"] for t in range(p.job.tp)}
        assert len(doms) == 1


def test_baselines_within_gap(gb200):
    p = _small_problem(gb200)
    r = pl.solve_placement(p, time_limit_s=10, seed=0)
    assert set(r.baselines) == {"first_fit", "best_fit_tree", "random"}
    for b in r.baselines.values():
        assert b["proxy_us"] >= r.proxy_us * (1 - r.gap) - 1e-6
        assert b["objective_us"] >= r.objective_us * (1 - r.gap) * 0.98


def test_infeasible_message(gb200):
    # 3 of every 8 GPUs free: 27 per domain, 3 groups of 8 per domain, 12 in all
    busy = {g for g in gpu_nodes(gb200) if int(g.rsplit("gpu", 1)[1]) % 8 < 5}
    with pytest.raises(InfeasibleError, match=r"needs 13 TP groups of 8 inside single "
                                              r"NVLink domains; only 4 domains have 8 free GPUs, "
                                              r"offering 12 groups"):
        pl.place_job(gb200, gpus=104, tp=8, busy=busy, time_limit_s=5)
    with pytest.raises(InfeasibleError, match="needs 112 GPUs; only 108 of 288 are free"):
        pl.place_job(gb200, gpus=112, tp=8, busy=busy, time_limit_s=5)


def test_tp_larger_than_domain():
    G = topologies.build_preset("superpod-h100")
    with pytest.raises(ParameterError, match="largest domain of this fabric has 8 GPUs"):
        pl.place_job(G, gpus=32, tp=16, pp=2)


@pytest.mark.parametrize(("gpus", "tp", "pp", "dp"), [(64, 8, 2, 3), (65, 8, 2, None)])
def test_gpus_must_equal_product(gb200, gpus, tp, pp, dp):
    with pytest.raises(ParameterError, match="`gpus`"):
        pl.place_job(gb200, gpus=gpus, tp=tp, pp=pp, dp=dp)


def test_busy_file_errors(tmp_path, gb200):
    f = tmp_path / "busy.json"
    f.write_text(json.dumps({"busy": ["d0-gpu0", "nope"]}))
    with pytest.raises(ParameterError, match="unknown GPU"):
        pl.load_busy_file(f, gb200)
    f.write_text("{not json")
    with pytest.raises(ParameterError, match="not JSON"):
        pl.load_busy_file(f, gb200)
    f.write_text(json.dumps({"free": []}))
    with pytest.raises(ParameterError, match="must hold a list"):
        pl.load_busy_file(f, gb200)
    f.write_text(json.dumps(["d0-gpu0", "d0-gpu1"]))
    assert pl.load_busy_file(f, gb200) == {"d0-gpu0", "d0-gpu1"}


def test_random_busy_marks_whole_hosts(gb200):
    busy = pl.random_busy(gb200, 0.25, seed=3)
    hosts = {gb200.nodes[g]["host"] for g in busy}
    assert len(hosts) == round(0.25 * 72)
    assert all(g in busy for g in gpu_nodes(gb200) if gb200.nodes[g]["host"] in hosts)


def test_traffic_formulas():
    t = pl.job_traffic(8, 4, 16, model_params=70e9)
    assert t.dp_bytes == int(2 * 70e9 / 32)
    assert pl.job_traffic(8, 4, 16, model_params=70e9, dp_bytes=5).dp_bytes == 5
    with pytest.raises(ParameterError, match="dp_op"):
        pl.job_traffic(8, 1, 1, dp_op="ring")


def test_queue_reports_utilization_and_fragmentation(gb200):
    rows = pl.place_queue(gb200, [{"gpus": 64, "tp": 8, "pp": 2}, {"gpus": 128, "tp": 4, "pp": 4},
                                  {"gpus": 4096, "tp": 8}], time_limit_s=3)
    assert [r["status"] for r in rows][:2] == ["placed", "placed"]
    assert rows[2]["status"].startswith("not placed: needs 4,096 GPUs")
    assert rows[0]["utilization"] == pytest.approx(64 / 288)
    assert rows[1]["utilization"] == pytest.approx(192 / 288)
    assert all(0 <= r["fragmentation"] <= 1 for r in rows)


def test_proxy_tracks_engine_and_beats_first_fit(gb200):
    # first fit splits stage 1 over domains 0 and 1 (3 + 3 groups); one domain holds it all
    p = _small_problem(gb200, tp=8, pp=2, dp=6, free_per_domain=(72, 24, 72, 72))
    r = pl.solve_placement(p, time_limit_s=10, seed=0)
    ff = r.baselines["first_fit"]
    assert r.objective_us == pytest.approx(r.proxy_us, rel=0.02)
    assert ff["objective_us"] == pytest.approx(ff["proxy_us"], rel=0.02)
    assert r.objective_us < ff["objective_us"]
    assert min(r.pattern["dp_kmin"]) > min(ff["pattern"]["dp_kmin"])


@pytest.mark.parametrize(("pp", "dp", "free"), [(3, 4, (40, 32, 24, 16)), (2, 5, (72, 40, 16, 8))])
def test_capacity_cuts_keep_the_proxy_optimum(gb200, pp, dp, free):
    # Fragmented domains: only some stages can have every domain hold >= k of their
    # TP groups. The model's capacity and PP cuts must not cut off the proxy optimum
    # (brute force over every domain-level placement), and CP-SAT must prove it.
    p = _small_problem(gb200, pp=pp, dp=dp, free_per_domain=free)
    r = pl.solve_placement(p, time_limit_s=20, seed=0)
    assert r.status == "OPTIMAL" and r.gap == 0.0
    coster = _Coster(p)
    t_dp, t_pp = _calibrate(p, coster)
    const = r.breakdown_us["tp"] + r.breakdown_us["ep"]
    best_proxy = min(_proxy_cost(p, c, t_dp, t_pp) for c in _all_counts(p)) + const
    assert r.proxy_us == pytest.approx(best_proxy, rel=1e-6)
