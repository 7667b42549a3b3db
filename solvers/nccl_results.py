"""Read nccl-tests output (text table or ``-J`` JSON) and compare it with the model.

The text parser reads the result rows of any ``*_perf`` binary (``#`` lines
are headers; the ``Avg bus bandwidth`` footer is kept); each row carries
out-of-place and in-place time/algbw/busbw. The JSON parser reads the file
written by ``-J FILE`` (``version`` 2: ``config``, ``results`` with
``out_of_place`` / ``in_place`` objects holding ``time``, ``alg_bw``,
``bus_bw``; NVIDIA/nccl-tests ``src/util.cu``).
"""

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from fabric.exceptions import FabricFormatError, ParameterError

__all__ = ["MeasuredRow", "NcclTestsRun", "parse_nccl_tests", "compare_results", "run_release"]

_PROGRAMS = {
    "all_reduce": "allreduce", "all_gather": "allgather", "reduce_scatter": "reducescatter",
    "broadcast": "broadcast", "reduce": "reduce", "alltoall": "alltoall", "sendrecv": "sendrecv",
}


@dataclass(frozen=True)
class MeasuredRow:
    """One measured size: out-of-place and in-place time (us) and bandwidths (GB/s)."""

    size_bytes: int
    count: int
    dtype: str
    time_us: float
    algbw_GBps: float
    busbw_GBps: float
    ip_time_us: float | None = None
    ip_algbw_GBps: float | None = None
    ip_busbw_GBps: float | None = None


@dataclass(frozen=True)
class NcclTestsRun:
    """A parsed nccl-tests run: the op (when known), rank count (when known) and rows, and
    the NCCL release the output names (``nccl-library=22602`` in the header of nccl-tests
    2.13 and later, NCCL's own ``NCCL version 2.26.2`` line, or ``nccl_version`` in
    ``-J`` JSON), as ``"2.26.2"``."""

    op: str | None
    ranks: int | None
    rows: tuple
    avg_busbw_GBps: float | None = None
    nccl_version: str | None = None


def _version_of_code(code):
    """``"2.26.2"`` of an NCCL_VERSION_CODE (major * 10000 + minor * 100 + patch, since
    2.9), or None when ``code`` is not one."""
    if isinstance(code, str) and re.fullmatch(r"[0-9]{5,6}", code, re.ASCII):
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int) or not 20900 <= code <= 999999:
        return None
    return f"{code // 10000}.{code // 100 % 100}.{code % 100}"


def _nccl_version(text):
    """The NCCL release a run's text names, ``"2.26.2"``, or None."""
    m = re.search(r"nccl-library=([0-9]{5,6})\b", text, re.ASCII)
    if m:
        return _version_of_code(m.group(1))
    m = re.search(r"\bNCCL version ([0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4})\b", text, re.ASCII)
    return m.group(1) if m else None


def _num(tok):
    try:
        return float(tok)
    except ValueError:
        return None


def _measured(row, where):
    """``row`` when its size and measured figures are finite and not negative, else an error."""
    vals = {"time": row.time_us, "algbw": row.algbw_GBps, "busbw": row.busbw_GBps,
            "in-place time": row.ip_time_us, "in-place algbw": row.ip_algbw_GBps,
            "in-place busbw": row.ip_busbw_GBps}
    for name, v in vals.items():
        if v is not None and not (math.isfinite(v) and v >= 0):
            msg = (f"{where}: measured {name} is {v!r}; nccl-tests writes finite, non-negative "
                   "times and bandwidths")
            raise FabricFormatError(msg)
    if row.size_bytes < 0:
        msg = f"{where}: size is {row.size_bytes}; sizes are byte counts >= 0"
        raise FabricFormatError(msg)
    return row


def _op_from_text(text):
    m = re.search(r"Collective test starting:\s*(\w+?)_perf", text)
    if m and m.group(1) in _PROGRAMS:
        return _PROGRAMS[m.group(1)]
    for prog, op in _PROGRAMS.items():
        if re.search(rf"\b{prog}_perf\b", text):
            return op
    return None


def _parse_text(text, where):
    rows = []
    ranks = len(re.findall(r"^#\s+Rank\s+\d+", text, flags=re.MULTILINE)) or None
    avg = None
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"#\s*Avg bus bandwidth\s*:\s*([0-9.eE+-]+)", s)
        if m:
            avg = float(m.group(1))
            continue
        if not s or s.startswith("#"):
            continue
        tok = s.split()
        if len(tok) < 7 or not tok[0].isdigit() or not tok[1].isdigit():
            continue
        # size count type redop [root] then time algbw busbw wrong (x2), maybe a timestamp
        rest = tok[4:]
        if rest and re.fullmatch(r"-?\d+", rest[0]) and len(rest) >= 5:
            rest = rest[1:]
        vals = [_num(t) if t != "N/A" else 0.0 for t in rest]
        if len(vals) < 3 or any(v is None for v in vals[:3]):
            continue
        ip = vals[4:7] if len(vals) >= 7 and all(v is not None for v in vals[4:7]) else (None,) * 3
        row = MeasuredRow(int(tok[0]), int(tok[1]), tok[2], vals[0], vals[1], vals[2], *ip)
        rows.append(_measured(row, f"{where}, line {lineno}"))
    rows = [r for r in rows if r.size_bytes > 0]      # a 0-byte row carries no bandwidth
    if not rows:
        msg = (f"{where}: no nccl-tests result rows found (expected lines like "
               "'   1048576    262144  float  sum  -1  27.37  38.31  67.04  0 ...' or -J JSON)")
        raise ParameterError(msg)
    return NcclTestsRun(_op_from_text(text), ranks, tuple(rows), avg, _nccl_version(text))


def _parse_json(data, where):
    if not isinstance(data, dict):
        msg = f"{where}: JSON must be an object with a `results` list (nccl-tests -J output)"
        raise FabricFormatError(msg)
    results = data.get("results")
    if not isinstance(results, list):
        msg = f"{where}: JSON has no `results` list; is it nccl-tests -J output?"
        raise ParameterError(msg)
    rows = []
    for i, rec in enumerate(results):
        at = f"{where}: `results[{i}]`"
        if not isinstance(rec, dict):
            msg = (f"{at} is {rec!r:.60} ({type(rec).__name__}), not an object with "
                   "`size` and `out_of_place` / `in_place`; is the file nccl-tests -J output?")
            raise FabricFormatError(msg)
        oop = rec.get("out_of_place") or {}
        ip = rec.get("in_place") or {}
        for key, val in (("out_of_place", oop), ("in_place", ip)):
            if not isinstance(val, dict):
                msg = f"{at}: `{key}` must be an object with `time`, `alg_bw` and `bus_bw`"
                raise FabricFormatError(msg)
        first = oop or ip
        try:
            t = first.get("time", first.get("cpu_time"))
            row = MeasuredRow(int(rec["size"]), int(rec.get("count", 0)), str(rec.get("type", "")),
                              float(t), float(first["alg_bw"]), float(first["bus_bw"]),
                              *((float(ip.get("time", ip.get("cpu_time"))), float(ip["alg_bw"]),
                                 float(ip["bus_bw"])) if ip and oop else (None, None, None)))
        except (KeyError, TypeError, ValueError, OverflowError):
            msg = (f"{at} is malformed ({rec!r:.120}); it needs `size` and `out_of_place` or "
                   "`in_place` with numeric `time`, `alg_bw` and `bus_bw`")
            raise FabricFormatError(msg) from None
        rows.append(_measured(row, at))
    rows = [r for r in rows if r.size_bytes > 0]      # a 0-byte row carries no bandwidth
    if not rows:
        msg = f"{where}: JSON `results` has no record with a size above 0"
        raise ParameterError(msg)
    args = data.get("args", [])
    args = " ".join(map(str, args)) if isinstance(args, list) else str(args)
    op = _op_from_text(args)
    if op is None:
        names = {str(r.get("experiment_name", "")) for r in results}
        op = _op_from_text(" ".join(n + "_perf" for n in names if n))
    config = data.get("config")
    devices = config.get("devices") if isinstance(config, dict) else None
    ranks = len(devices) if isinstance(devices, list) and devices else None
    avg = data.get("average_bus_bandwidth")
    avg = avg.get("bandwidth") if isinstance(avg, dict) else None
    avg = _num(avg) if isinstance(avg, (int, float, str)) and not isinstance(avg, bool) else None
    if avg is not None and not math.isfinite(avg):
        avg = None
    # nccl-tests -J writes NCCL_VERSION_CODE as "nccl_version" (src/util.cu jsonOutputInit)
    return NcclTestsRun(op, ranks, tuple(rows), avg, _version_of_code(data.get("nccl_version")))


def parse_nccl_tests(path_or_text):
    """Parse nccl-tests output from a file path or a string (text table or ``-J`` JSON).

    Returns
    -------
    NcclTestsRun

    Raises
    ------
    ParameterError
        When the file cannot be read or holds no result rows.
    FabricFormatError
        When a result row or ``-J`` record is malformed (wrong type, missing
        or non-numeric fields, non-finite or negative figures); the message
        names the file and the line or record index.

    Examples
    --------
    >>> text = '''# Collective test starting: all_reduce_perf
    ... #  Rank  0 Group  0 Pid 1 on h device  0 [0x1b] NVIDIA H100 80GB HBM3
    ... #  Rank  1 Group  0 Pid 1 on h device  1 [0x43] NVIDIA H100 80GB HBM3
    ...   8589934592  2147483648  float  sum  -1  31307  274.38  480.16  0  31282  274.60  480.55  0
    ... # Avg bus bandwidth    : 480.3
    ... '''
    >>> run = parse_nccl_tests(text)
    >>> run.op, run.ranks, run.rows[0].busbw_GBps, run.avg_busbw_GBps
    ('allreduce', 2, 480.16, 480.3)
    """
    text = str(path_or_text)
    where = "nccl-tests output"
    if "\n" not in text and len(text) < 4096:
        p = Path(text)
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            msg = f"cannot read nccl-tests output `{p}`: {exc.strerror or exc}"
            raise ParameterError(msg) from None
        where = str(p)
    s = text.lstrip()
    if s.startswith("{"):
        try:
            data = json.loads(s)
        except json.JSONDecodeError as exc:
            msg = f"{where}: invalid JSON ({exc.msg})"
            raise ParameterError(msg) from None
        return _parse_json(data, where)
    return _parse_text(text, where)


def run_release(run, catalog=None):
    """The NCCL release whose rules price ``run``: the one its output names, clamped to the
    catalog's ``nccl.versions`` range, and a note when clamped.

    Returns
    -------
    (str or None, str or None)
        The release for ``CollectiveModel(nccl=...)`` (None: the output names none, so the
        newest rules apply) and the note to show (None unless clamped).
    """
    from fabric.catalog import default_catalog
    from solvers.collectives import _release_tuple

    version = run.nccl_version
    if version is None:
        return None, None
    versions = (catalog or default_catalog()).part("nccl", "versions")
    lo, hi = versions["oldest"], versions["newest"]
    release = _release_tuple(version)
    if release is None:
        return None, f"RESULTS names NCCL {version[:20]}, not a release; the newest rules apply"
    if release > _release_tuple(hi):
        return hi, f"RESULTS names NCCL {version}; the model follows rules up to {hi}"
    if release < _release_tuple(lo):
        return lo, f"RESULTS names NCCL {version}; the model follows rules from {lo}"
    return version, None


def compare_results(model, run, *, op=None, algo="auto"):
    """Measured vs predicted for every row of ``run``, with summary statistics.

    Parameters
    ----------
    model : solvers.collectives.CollectiveModel
        The fabric and ranks the run used.
    run : NcclTestsRun
    op : str, optional
        The operation when the output does not name it.
    algo : str
        Algorithm to predict with (``auto`` by default).

    Returns
    -------
    dict
        ``rows`` (size_bytes, measured/predicted time and busbw, busbw
        error, predicted algo), ``summary`` (mean and max absolute busbw
        error, mean signed error, over all rows and over rows >= 64 MiB) and
        ``nccl``, the NCCL release whose rules the model followed (build the
        model with ``nccl=run_release(run)[0]`` to follow the run's).

    Raises
    ------
    ParameterError
        When the op is unknown, differs from the op the output names, or the
        run's rank count differs from the model's.
    """
    from solvers.collectives import OPS

    if op is not None and op not in OPS:
        msg = f"unknown `op` (--op) {op!r}; use one of: {', '.join(OPS)}"
        raise ParameterError(msg)
    if op is not None and run.op is not None and op != run.op:
        msg = (f"`op` (--op) is {op} but the nccl-tests output measures {run.op}; "
               f"drop --op or pass --op {run.op}")
        raise ParameterError(msg)
    op = op or run.op
    if op is None:
        msg = "the nccl-tests output does not name its collective; pass `op` (e.g. --op allreduce)"
        raise ParameterError(msg)
    if run.ranks is not None and run.ranks != model.n:
        msg = (f"the nccl-tests run used {run.ranks} ranks but the model has {model.n}; "
               f"pass --gpus {run.ranks} or a rank file")
        raise ParameterError(msg)
    preds = model.sweep(op, [r.size_bytes for r in run.rows], algo=algo)
    rows = []
    for m, p in zip(run.rows, preds):
        err = (p.busbw_GBps - m.busbw_GBps) / m.busbw_GBps if m.busbw_GBps > 0 else None
        terr = (p.time_us - m.time_us) / m.time_us if m.time_us > 0 else None
        rows.append({"size_bytes": m.size_bytes, "measured_time_us": m.time_us,
                     "predicted_time_us": p.time_us, "time_error": terr,
                     "measured_busbw_GBps": m.busbw_GBps, "predicted_busbw_GBps": p.busbw_GBps,
                     "busbw_error": err, "algo": p.algo})

    def stats(sel):
        errs = [r["busbw_error"] for r in sel if r["busbw_error"] is not None]
        if not errs:
            return {"rows": 0, "mean_abs_error": None, "max_abs_error": None, "mean_error": None}
        return {"rows": len(errs), "mean_abs_error": sum(map(abs, errs)) / len(errs),
                "max_abs_error": max(map(abs, errs)), "mean_error": sum(errs) / len(errs)}

    return {"op": op, "ranks": model.n, "nccl": model.nccl_label, "rows": rows,
            "summary": {"all": stats(rows),
                        "large": stats([r for r in rows if r["size_bytes"] >= 64 * 2 ** 20])}}
