"""Accuracy of the collective engine against published nccl-tests measurements.

Every case of ``../shared/validation/published.md`` that maps to a preset is
predicted and compared; the table is printed (``pytest -s``) and the bounds
of issue 4 are asserted: large-message busbw within 10 % for grade-A cases
and 20 % for the others, small-message (<= 64 KiB) latency within 30 %.

Large-message points are each case's headline number (the bold value, or
the largest size of its sweep). Mid sizes, 1 MiB to 256 MiB, of every
nccl-tests sweep (I01, I02, I03, I15, §2.3) are asserted on the time per call
within 30 %, the bound of the latency cases: these sizes mix the latency and
the bandwidth regime, and published runs of one system disagree by 35 % and
more there (1 MiB on 8 x H100/H200: 25.3 us in §2.3, 27.4 us in I01, 34.7 us
in I03, 46 us in §2.3's NCCL 2.27.7 PyTorch run). The model reaches them
through NCCL's NVLS pipeline fill and LL bandwidth ceiling (see
:mod:`solvers.collectives`); without them five of these points were 30-36 %
too fast. The PyTorch-harness sweeps (I10, M07: 20-30 us of host time per
call, EFA for M07) are printed for information only.

Excluded, with the reason:

* M01, M02, L08, L11: AWS EFA (SRD over 32 x 100G / 8 x 400G EFA) is not
  modelled (no EFA NIC or switch in the catalog; 2-node Tree/NVLSTree over
  EFA).
* M06: H20 is not in the catalog.
* M11: DGX A100 is not in the catalog (no NVLink3 system preset).
* L02: CUDA-graph launches (``-G 10``, NCCL 2.20.5) on 2 GPUs, grade C;
  NCCL's NVLS latency constant (25 us) describes non-graph launches.
* L04 (ND GB200 v6, 4 GPUs, 1 KiB, derived 15 us from a 2-digit busbw):
  NCCL's LL ring latency model gives 10.2 us; the GB200 run's 1 KiB-65 KiB
  floor (15-17 us, NCCL 2.25.1 on a Grace host) is host-side launch time,
  which the model does not include. Printed, not asserted.
* L05 PyTorch 2.27.7 point (40 us): PyTorch adds 20-30 us of host overhead
  per call (published.md §1.1.6); the nccl-tests 2.30.7 point is asserted.
* I06 forced NVLS at 2-4 GPUs: the measured busbw (~370) equals the ring
  figure, above the NVLS wire bound 2(n-1)/(n+1) x link rate; NCCL ran ring
  (I05, grade A, shows NCCL choosing ring at 4 GPUs). NVLS at 5-8 GPUs and
  ring at 2-8 GPUs are asserted.
* I10 1-4 GiB and I15 1 GiB points: below their own plateau (PyTorch bench /
  Azure run); the headline 8-16 GiB points are asserted.
"""

import functools

import pytest

import topologies
from solvers.collectives import CollectiveModel

GiB = 2 ** 30
KiB = 1024

# (id, preset, overrides, gpus, model kwargs, op, algo, size, kind, measured, grade, note)
# kind "bw": busbw in GB/s; "lat" (<= 64 KiB) and "mid" (1-256 MiB): time in us.
CASES = [
    ("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 8 * GiB, "bw", 480.16, "A", "DGX H100"),
    ("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 16 * GiB, "bw", 479.90, "A", ""),
    ("I01/L01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 8, "lat", 13.67, "A", ""),
    ("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 1 * KiB, "lat", 16.94, "A", ""),
    ("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 64 * KiB, "lat", 19.54, "A", ""),
    ("I02", "dgx-h100", {}, 8, {}, "allreduce", "nvls", 8 * GiB, "bw", 478.87, "A", "ND H100 v5"),
    ("I02/L03", "dgx-h100", {}, 8, {}, "allreduce", "nvls", 1 * KiB, "lat",
     1024 * 1.75 / 0.07e3, "A", "derived"),
    ("I03", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "nvls", 8 * GiB, "bw", 479.98, "A",
     "ND H200 v5"),
    ("I04", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "auto", 16 * GiB, "bw", 480.0, "A", ""),
    ("I04", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "ring", 16 * GiB, "bw", 367.2, "A",
     "NVLS off"),
    ("I04", "dgx-h100", {"gpu": "H200"}, 8, {}, "allgather", "auto", 16 * GiB, "bw", 361.4, "A", ""),
    ("I04", "dgx-h100", {"gpu": "H200"}, 8, {}, "reducescatter", "auto", 16 * GiB, "bw", 362.9,
     "A", ""),
    *[("I05", "dgx-h100", {"gpu": "H200"}, n, {}, "allreduce", "auto", 8 * GiB, "bw", d, "A",
       f"{n} GPUs default")
      for n, d in ((4, 363.3), (5, 414.2), (6, 435.6), (7, 460.0), (8, 473.1))],
    *[("I05", "dgx-h100", {"gpu": "H200"}, n, {}, "allreduce", "ring", 8 * GiB, "bw", d, "A",
       f"{n} GPUs NVLS off")
      for n, d in ((4, 363.3), (5, 364.4), (6, 365.1), (7, 365.7), (8, 365.6))],
    *[("I06", "dgx-h100", {}, n, {}, "allreduce", "ring", 4 * GiB, "bw", 367.5, "C",
       f"{n} GPUs ring") for n in range(2, 9)],
    *[("I06", "dgx-h100", {}, n, {}, "allreduce", "nvls", 4 * GiB, "bw", d, "C", f"{n} GPUs NVLS")
      for n, d in ((5, 420.0), (6, 440.0), (7, 460.0), (8, 480.0))],
    ("I10", "hgx-b200", {}, 8, {}, "allreduce", "auto", 16 * GiB, "bw", 845.67, "A", "P6-B200"),
    ("I10", "hgx-b200", {}, 8, {}, "allreduce", "auto", 8 * GiB, "bw", 839.07, "A", ""),
    ("I12", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "auto", 4 * GiB, "bw", 475.0, "C", ""),
    ("I13", "dgx-h100", {}, 8, {}, "allreduce", "auto", 16 * GiB, "bw", 476.0, "C", ""),
    ("I14", "dgx-h100", {}, 8, {}, "allgather", "auto", 16 * GiB, "bw", 360.0, "B", ""),
    ("I14", "dgx-h100", {}, 8, {}, "allreduce", "ring", 16 * GiB, "bw", 360.0, "B",
     "no NVLS in that run"),
    ("I15", "gb200-nvl72", {"trays": "1"}, 4, {}, "allreduce", "ring", 8 * GiB, "bw", 679.61, "A",
     "ND GB200 v6"),
    ("S2.3", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "auto", 16 * GiB, "bw", 480.70, "A",
     "NCCL 2.30.7"),
    ("S2.3/L05", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "auto", 32 * KiB, "lat",
     32768 * 1.75 / 3.20e3, "A", "derived, NCCL 2.30.7"),
    ("M07", "superpod-b200", {"gpus": "32"}, 32, {"sharp": False}, "allreduce", "auto", 16 * GiB,
     "bw", 381.80, "A", "4 x 8 B200, no SHARP (EFA)"),
    ("M10", "superpod-h100", {"gpus": "32"}, 32, {"sharp": False}, "allreduce", "auto", 16 * GiB,
     "bw", 370.0, "B", "GTC25, no SHARP"),
    ("M10", "superpod-h100", {"gpus": "32"}, 32, {"sharp": False}, "allreduce", "auto", 16 * GiB,
     "bw", 380.0, "B", "GTC24, no SHARP"),
    ("M10", "superpod-h100", {"gpus": "32"}, 32, {}, "allreduce", "auto", 16 * GiB, "bw", 480.0, "B",
     "with IB SHARP"),
    ("M12", "superpod-h100", {"gpus": "64"}, 64, {}, "allreduce", "collnet", 16 * GiB, "bw", 450.0,
     "B", "CollNet enabled"),
]

MiB = 2 ** 20


def _time_from_busbw(size, busbw, n):
    """Allreduce time per call (us) from a published busbw: S x 2(n-1)/n / busbw."""
    return size * 2 * (n - 1) / n / (busbw * 1e3)


# Mid sizes (1 MiB - 256 MiB) of the nccl-tests sweeps, kind "mid": time per call in us.
MID = [
    *[("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", s * MiB, "mid", t, "A", "§2.1")
      for s, t in ((1, 27.37), (4, 54.19), (16, 123.8), (64, 324.7), (256, 1112.5))],
    *[("I02", "dgx-h100", {}, 8, {}, "allreduce", "nvls", s * MiB, "mid",
       _time_from_busbw(s * MiB, b, 8), "A", "§2.2 from busbw")
      for s, b in ((1, 43.70), (4, 128.73), (16, 234.45), (64, 361.78), (256, 423.38))],
    *[("I03", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "nvls", s * MiB, "mid",
       _time_from_busbw(s * MiB, b, 8), "A", "§2.2 from busbw")
      for s, b in ((1, 52.96), (4, 138.44), (16, 240.41), (64, 368.11), (256, 432.24))],
    *[("I15", "gb200-nvl72", {"trays": "1"}, 4, {}, "allreduce", "ring", s * MiB, "mid",
       _time_from_busbw(s * MiB, b, 4), "A", "§2.2 from busbw")
      for s, b in ((1, 80.48), (4, 146.27), (16, 331.09), (64, 550.73), (256, 593.53))],
    *[("S2.3", "dgx-h100", {"gpu": "H200"}, 8, {}, "allreduce", "auto", s * MiB, "mid",
       _time_from_busbw(s * MiB, b, 8), "A", "NCCL 2.30.7, from busbw")
      for s, b in ((1, 72.45), (16, 242.45), (64, 369.82))],
]

# Printed for information, not asserted (see the module docstring).
INFO = [
    ("L04", "gb200-nvl72", {"trays": "1"}, 4, {}, "allreduce", "ring", 1 * KiB, "lat",
     1024 * 1.5 / 0.10e3, "A", "host-bound, excluded"),
    ("I15", "gb200-nvl72", {"trays": "1"}, 4, {}, "allreduce", "ring", 1 * GiB, "bw", 646.87, "A",
     "below plateau"),
    ("I10", "hgx-b200", {}, 8, {}, "allreduce", "auto", 4 * GiB, "bw", 740.64, "A", "below plateau"),
    ("I01", "dgx-h100", {}, 8, {}, "allreduce", "auto", 1 * GiB, "bw", 466.33, "A", "mid"),
    *[("I10", "hgx-b200", {}, 8, {}, "allreduce", "auto", s * MiB, "mid",
       _time_from_busbw(s * MiB, b, 8), "A", "PyTorch harness")
      for s, b in ((1, 36.06), (4, 76.48), (16, 254.96), (64, 400.60), (256, 646.11))],
    *[("M07", "superpod-b200", {"gpus": "32"}, 32, {"sharp": False}, "allreduce", "auto", s * MiB,
       "mid", _time_from_busbw(s * MiB, b, 32), "A", "PyTorch harness, EFA")
      for s, b in ((1, 5.37), (4, 18.90), (16, 64.43), (64, 156.74), (256, 229.09))],
    ("M12", "superpod-h100", {"gpus": "64"}, 64, {}, "allreduce", "auto", 16 * GiB, "bw", 450.0,
     "B", "auto picks NVLS+SHARP"),
]


@functools.lru_cache(maxsize=None)
def _graph(preset, overrides):
    return topologies.build_preset(preset, dict(overrides))


@functools.lru_cache(maxsize=None)
def _model(preset, overrides, gpus, kwargs):
    return CollectiveModel(_graph(preset, overrides), gpus=gpus, **dict(kwargs))


def _predict(case):
    cid, preset, over, gpus, kw, op, algo, size, kind, measured, grade, note = case
    m = _model(preset, tuple(sorted(over.items())), gpus, tuple(sorted(kw.items())))
    r = m.evaluate(op, size, algo=algo)
    pred = r.busbw_GBps if kind == "bw" else r.time_us
    err = (pred - measured) / measured
    bound = 0.30 if kind in ("lat", "mid") else (0.10 if grade == "A" else 0.20)
    return r, pred, err, bound


def _fmt_size(s):
    for unit, div in (("GiB", GiB), ("MiB", 2 ** 20), ("KiB", KiB)):
        if s >= div:
            return f"{s / div:g}{unit}"
    return f"{s}B"


def test_accuracy_table(capsys):
    """Print every case; assert the bounds on the asserted ones."""
    lines = [f"{'case':<9}{'preset':<15}{'n':>3} {'op':<13}{'algo':<14}{'size':>7} {'what':<6}"
             f"{'measured':>9}{'predicted':>10}{'error':>8} {'bound':>6}  note"]
    failures = []
    for table, asserted in ((CASES, True), (MID, True), (INFO, False)):
        for case in table:
            r, pred, err, bound = _predict(case)
            cid, preset, _, gpus, _, op, algo, size, kind, measured, grade, note = case
            what = "busbw" if kind == "bw" else "us"
            algo_txt = f"{algo}->{r.algo}" if algo == "auto" else algo
            flag = f"{bound:.0%}" if asserted else "info"
            lines.append(f"{cid:<9}{preset:<15}{gpus:>3} {op:<13}{algo_txt:<14}{_fmt_size(size):>7} "
                         f"{what:<6}{measured:>9.2f}{pred:>10.2f}{err:>+8.1%} {flag:>6}  {note}")
            if asserted and abs(err) > bound:
                failures.append(lines[-1])
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert not failures, "cases outside their bound:\n" + "\n".join(failures)


@pytest.mark.parametrize("n", [5, 6, 7, 8])
def test_nvls_busbw_grows_with_gpu_count(n):
    """NVLS busbw = 2(n-1)/(n+1) x usable rate: grows with n (I05/I06), algbw nearly flat."""
    m = _model("dgx-h100", (), n, ())
    smaller = _model("dgx-h100", (), n - 1, ())
    a = m.evaluate("allreduce", 8 * GiB, algo="nvls")
    b = smaller.evaluate("allreduce", 8 * GiB, algo="nvls")
    assert a.busbw_GBps > b.busbw_GBps
    assert abs(a.algbw_GBps - b.algbw_GBps) / a.algbw_GBps < 0.05
