"""Design-space sweeps and failure Monte Carlo, one Dask task per point (``fabric sweep``).

A sweep spec (TOML, :func:`load_sweep_spec`) names a base topology, the axes of
the design space and the measurements to take at every point::

    base = "superpod-h100"            # a preset name, or a spec file path
    [fixed]                           # overrides of every point
    aggregate_nvswitch = false
    [axes]                            # a grid: the product of the lists
    sus = [1, 2]
    gpu = ["H100", "H200"]
    [sample]                          # and/or n random points (seeded)
    n = 4
    seed = 1
    planes = [1, 8]                   # [lo, hi]: ints -> integers, else uniform floats
    nic = {choices = ["cx7", "cx8"]}  # {lo =, hi =, log = true} is also accepted
    [[measure]]
    metric = "cost_usd"               # cost_usd, power_w, bisection_gbps,
                                      # oversubscription (largest tier ratio), diameter_hops, gpus
    [[measure]]
    collective = {op = "allreduce", size = "1GiB", gpus = 16, algo = "auto"}
    [[measure]]
    throughput = {pattern = "permutation", gpus = 16}
    [[measure]]
    placement = {gpus = 16, tp = 8, pp = 1, time_limit = 2}
    [[measure]]
    hook = "mypkg.mod:func"           # a custom measurement: func(G, params) -> number
    name = "mine"                     # any entry may name itself (default: from its fields)
    [failures]                        # Monte Carlo: links = FRACTION or switch = KIND|NAME
    links = 0.01
    trials = 20
    seed = 1
    [pareto]                          # default: cost_usd vs the first collective's time_us
    x = "cost_usd"
    y = "allreduce_1GiB_16gpus.time_us"

The result is a tidy table, one row per (point, measurement, trial): columns
``point`` (index in the spec's order), ``key`` (the point's hash), ``status``
(``ok``/``error``), ``error``, one column per axis, ``measurement``,
``failure`` (``""`` on the intact fabric), ``trial`` (``<NA>`` on the intact
fabric and on summary rows), ``stat`` (``value``, ``trial``, or ``mean``,
``p50``, ``p99``, ``worst`` over the trials that ran, where p99 and worst are the
bad tail: the low one for a bisection; and ``unreachable``, the share of trials
where a collective's ranks were cut apart), ``value``, ``unit``, ``detail``
and ``pareto``. A failure trial reports the bisection left and every
collective's time after the failure.

Engine: one Dask task per point. The worker builds the fabric once, takes every
measurement and trial of the point and returns plain rows; graphs never travel
through the scheduler. ``scheduler=None`` starts (and closes) a
``distributed.LocalCluster``; an address connects to a running cluster (e.g.
dask-jobqueue on Slurm); ``"none"`` or ``workers=1`` runs the same function
serially in this process. Each point is keyed by the SHA-256 of its canonical
JSON (base, parameters, measurements, failures, catalog version); with
``out_dir`` its result is written to ``out_dir/points/<key>.json`` as it
finishes, and a rerun skips the keys already stored. A point that raises is
recorded with ``status="error"`` and the message; the sweep goes on. Rows are
sorted by point, so the same spec and seeds give the same table whatever the
number of workers (placement rows assume CP-SAT finishes within its time limit).

The sweep builds fabrics with ``build(base, overrides, catalog)``; the default
is ``topologies.load``, bound when the sweep runs (``solvers`` keeps no import of
``topologies``, see docs/architecture.md). dask, pandas, pyarrow and matplotlib
are imported when a sweep runs, not with this module.
"""

import hashlib
import html
import importlib
import itertools
import json
import math
import os
import random
import time
from pathlib import Path

from fabric.exceptions import FabricError, FabricValidationError, ParameterError

__all__ = ["METRICS", "load_sweep_spec", "normalize_spec", "pareto_front", "point_key",
           "run_point", "sweep"]

SWEEP_FORMAT = 1
"""Bumped when the stored point format or the measurements' meaning changes (part of the key)."""

METRICS = {"cost_usd": "USD", "power_w": "W", "bisection_gbps": "Gb/s",
           "oversubscription": "ratio", "diameter_hops": "hops", "gpus": "GPUs"}
"""Fabric metrics a ``[[measure]] metric =`` entry can name, with their units."""

_MEASURE_KINDS = ("metric", "collective", "throughput", "placement", "hook")
_RESERVED = ("point", "key", "status", "error", "measurement", "failure", "trial", "stat",
             "value", "unit", "detail", "pareto")
_STATS = ("mean", "p50", "p99", "worst")
_FILE_SUFFIXES = (".toml", ".json", ".json.gz", ".graphml")


# ----------------------------------------------------------------------------- the spec

class _Where:
    """Names a spec file and a key in error messages."""

    def __init__(self, source):
        self.source = source

    def error(self, key, message):
        where = f"{self.source}: key `{key}`" if key else str(self.source)
        return ParameterError(f"sweep spec {where}: {message}")


def load_sweep_spec(path):
    """Read and check a sweep spec TOML file (see the module notes).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        The normalized spec: ``base``, ``fixed``, ``axes`` (name -> values),
        ``sample``, ``measures`` (normalized dicts with a unique ``name``),
        ``failures`` (or None), ``pareto`` (``x``, ``y``), ``title``, ``source``.

    Raises
    ------
    ParameterError
        The file is missing, not UTF-8, not TOML, or a key is missing or wrong;
        the message names the file and the key.
    """
    import tomllib

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"sweep spec `{path}`: cannot read it ({exc.strerror or exc})"
        raise ParameterError(msg) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = (f"sweep spec `{path}`: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
               f"{exc.start}); save it as UTF-8")
        raise ParameterError(msg) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"sweep spec `{path}`: not valid TOML ({exc})"
        raise ParameterError(msg) from None
    return normalize_spec(data, source=str(path), root=path.parent)


def normalize_spec(data, *, source="<dict>", root=None):
    """Check a spec given as a dict (as :func:`load_sweep_spec` reads it) and normalize it."""
    w = _Where(source)
    if not isinstance(data, dict):
        raise w.error("", "must be a table of keys")
    known = {"base", "title", "fixed", "axes", "sample", "measure", "failures", "pareto"}
    for k in data:
        if k not in known:
            raise w.error(k, f"unknown key; the keys are {', '.join(sorted(known))}")
    if "base" not in data:
        raise w.error("base", "missing; give a preset name (see `fabric presets`) or a spec "
                              "file path")
    base = data["base"]
    if not isinstance(base, str) or not base.strip():
        raise w.error("base", f"must be a preset name or a file path, got {base!r}")
    is_file = base.lower().endswith(_FILE_SUFFIXES)
    if is_file and root is not None and not os.path.isabs(base):
        candidate = Path(root) / base
        if candidate.exists():
            base = str(candidate.resolve())
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise w.error("fixed", "must be a table of preset parameters")
    axes = data.get("axes", {})
    if not isinstance(axes, dict):
        raise w.error("axes", "must be a table of name = [values]")
    for name, values in axes.items():
        if not isinstance(values, list) or not values:
            raise w.error(f"axes.{name}", f"must be a non-empty list of values, got {values!r}")
        if any(isinstance(v, (list, dict)) for v in values):
            raise w.error(f"axes.{name}", "values must be numbers, strings or booleans")
    sample = _sample_spec(data.get("sample"), w)
    names = [*axes, *(sample["ranges"] if sample else ())]
    for name in names:
        if name in _RESERVED:
            raise w.error(name, f"`{name}` is a column of the result table; not a parameter")
        if name in fixed:
            raise w.error(f"fixed.{name}", "is also an axis; give it in one place")
    if sample:
        for name in sample["ranges"]:
            if name in axes:
                raise w.error(f"sample.{name}", "is also in [axes]; give it in one place")
    if is_file and (fixed or names):
        raise w.error("base", "a spec or fabric file takes no [fixed], [axes] or [sample] "
                              "parameters; use a preset name")
    measures = _measures(data.get("measure"), w)
    failures = _failures(data.get("failures"), w)
    pareto = _pareto(data.get("pareto"), measures, w)
    title = data.get("title", f"sweep of {data['base']}")
    if not isinstance(title, str):
        raise w.error("title", "must be a string")
    return {"base": base, "title": title, "fixed": dict(fixed), "axes": dict(axes),
            "sample": sample, "measures": measures, "failures": failures, "pareto": pareto,
            "source": str(source)}


def _sample_spec(sample, w):
    if sample is None:
        return None
    if not isinstance(sample, dict):
        raise w.error("sample", "must be a table (n =, seed =, and the ranges)")
    n = sample.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise w.error("sample.n", f"must be a positive integer, got {n!r}")
    seed = sample.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise w.error("sample.seed", f"must be an integer, got {seed!r}")
    ranges = {}
    for name, r in sample.items():
        if name in ("n", "seed"):
            continue
        key = f"sample.{name}"
        if isinstance(r, list):
            r = {"lo": r[0], "hi": r[1]} if len(r) == 2 else None
        if not isinstance(r, dict):
            raise w.error(key, "must be [lo, hi], {lo =, hi =, log =} or {choices = [...]}")
        if "choices" in r:
            if set(r) != {"choices"} or not isinstance(r["choices"], list) or not r["choices"]:
                raise w.error(key, "{choices = [...]} takes a non-empty list and nothing else")
            ranges[name] = {"choices": list(r["choices"])}
            continue
        lo, hi, log = r.get("lo"), r.get("hi"), r.get("log", False)
        extra = set(r) - {"lo", "hi", "log"}
        if extra:
            raise w.error(f"{key}.{min(extra)}", "unknown; a range takes lo, hi and log")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
            raise w.error(key, f"lo and hi must be numbers, got {lo!r} and {hi!r}")
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise w.error(key, f"needs finite lo <= hi, got {lo!r} > {hi!r}")
        if not isinstance(log, bool) or (log and lo <= 0):
            raise w.error(f"{key}.log", "must be true or false, and log ranges need lo > 0")
        ranges[name] = {"lo": lo, "hi": hi, "log": log,
                        "int": isinstance(lo, int) and isinstance(hi, int)}
    if not ranges:
        raise w.error("sample", "names no parameter range (e.g. planes = [1, 8])")
    return {"n": n, "seed": seed, "ranges": ranges}


def _measures(entries, w):
    from solvers.collectives import OP_ALGORITHMS, OPS, parse_size

    if entries is None:
        raise w.error("measure", "missing; add at least one [[measure]] table (metric = "
                                 "\"cost_usd\", collective = {...}, throughput = {...}, "
                                 "placement = {...})")
    if not isinstance(entries, list) or not entries:
        raise w.error("measure", "must be a list of [[measure]] tables")
    out = []
    for i, entry in enumerate(entries):
        key = f"measure[{i}]"
        if not isinstance(entry, dict):
            raise w.error(key, "must be a table")
        kinds = [k for k in entry if k in _MEASURE_KINDS]
        unknown = [k for k in entry if k not in _MEASURE_KINDS and k != "name"]
        if unknown or len(kinds) != 1:
            what = f"unknown measurement {', '.join(map(repr, unknown))}" if unknown else \
                f"needs exactly one measurement, got {len(kinds)}"
            raise w.error(key, f"{what}; give one of metric, collective, throughput, placement, "
                               f"hook (and optionally name)")
        kind = kinds[0]
        v = entry[kind]
        m = {"kind": kind}
        if kind == "metric":
            if v not in METRICS:
                raise w.error(f"{key}.metric", f"unknown metric {v!r}; one of "
                                               f"{', '.join(METRICS)}")
            m["metric"] = v
            label = v
        elif kind == "hook":
            if not isinstance(v, str) or ":" not in v:
                raise w.error(f"{key}.hook", "must be \"module:function\"")
            m["hook"] = v
            label = v.rpartition(":")[2]
        else:
            if not isinstance(v, dict):
                raise w.error(f"{key}.{kind}", "must be an inline table, e.g. "
                                               "{op = \"allreduce\", size = \"1GiB\"}")
            allowed = {"collective": {"op", "size", "gpus", "algo", "sharp"},
                       "throughput": {"pattern", "gpus", "seed", "time_limit"},
                       "placement": {"gpus", "tp", "pp", "dp", "ep", "time_limit", "seed"}}[kind]
            for k in v:
                if k not in allowed:
                    raise w.error(f"{key}.{kind}.{k}", f"unknown; {kind} takes "
                                                       f"{', '.join(sorted(allowed))}")
            for k in ("gpus", "tp", "pp", "dp", "ep", "seed"):
                if k in v and (isinstance(v[k], bool) or not isinstance(v[k], int)
                               or (v[k] < 1 and k != "seed")):
                    raise w.error(f"{key}.{kind}.{k}", f"must be a positive integer, got "
                                                       f"{v[k]!r}")
            if "time_limit" in v and (isinstance(v["time_limit"], bool) or
                                      not isinstance(v["time_limit"], (int, float))
                                      or not v["time_limit"] > 0):
                raise w.error(f"{key}.{kind}.time_limit", "must be a number of seconds > 0")
            if kind == "collective":
                op = v.get("op")
                if op not in OPS:
                    raise w.error(f"{key}.collective.op", f"must be one of {', '.join(OPS)}, "
                                                          f"got {op!r}")
                try:
                    size = parse_size(v.get("size", "1GiB"), name=f"`{key}.collective.size`")
                except ParameterError as exc:
                    raise w.error(f"{key}.collective.size", str(exc)) from None
                algo = v.get("algo", "auto")
                if algo != "auto" and algo not in OP_ALGORITHMS[op]:
                    raise w.error(f"{key}.collective.algo", f"{op} takes auto or "
                                                            f"{', '.join(OP_ALGORITHMS[op])}")
                sharp = v.get("sharp", True)
                if not isinstance(sharp, bool):
                    raise w.error(f"{key}.collective.sharp", "must be true or false")
                m.update(op=op, size=size, gpus=v.get("gpus"), algo=algo, sharp=sharp)
                label = f"{op}_{_size_label(size)}"
                label += f"_{v['gpus']}gpus" if v.get("gpus") else ""
                label += f"_{algo}" if algo != "auto" else ""
            elif kind == "throughput":
                pattern = v.get("pattern", "permutation")
                if not isinstance(pattern, str):
                    raise w.error(f"{key}.throughput.pattern", "must be a pattern name or file")
                m.update(pattern=pattern, gpus=v.get("gpus"), seed=v.get("seed", 0),
                         time_limit=float(v.get("time_limit", 60.0)))
                label = f"throughput_{Path(pattern).stem}"
                label += f"_{v['gpus']}gpus" if v.get("gpus") else ""
            else:
                for k in ("gpus", "tp"):
                    if k not in v:
                        raise w.error(f"{key}.placement.{k}", "missing (placement needs gpus "
                                                              "and tp)")
                m.update(gpus=v["gpus"], tp=v["tp"], pp=v.get("pp", 1), dp=v.get("dp"),
                         ep=v.get("ep", 1), seed=v.get("seed", 0),
                         time_limit=float(v.get("time_limit", 5.0)))
                label = f"placement_{v['gpus']}gpus_tp{v['tp']}_pp{m['pp']}"
        name = entry.get("name", label)
        if not isinstance(name, str) or not name:
            raise w.error(f"{key}.name", "must be a non-empty string")
        if name in {x["name"] for x in out}:
            raise w.error(f"{key}.name", f"{name!r} names two measurements; give each a "
                                         f"distinct name")
        m["name"] = name
        out.append(m)
    return out


def _size_label(size):
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{unit}"
    return f"{size}B"


def _failures(f, w):
    if f is None:
        return None
    if not isinstance(f, dict):
        raise w.error("failures", "must be a table (links = FRACTION or switch = KIND, trials, "
                                  "seed)")
    for k in f:
        if k not in ("links", "switch", "trials", "seed"):
            raise w.error(f"failures.{k}", "unknown; [failures] takes links or switch, trials "
                                           "and seed")
    if ("links" in f) == ("switch" in f):
        raise w.error("failures", "give links = FRACTION or switch = KIND|NAME (one of them)")
    if "links" in f:
        x = f["links"]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 1:
            raise w.error("failures.links", f"must be a fraction in [0, 1], got {x!r}")
        spec = f"links={x}"
    else:
        x = f["switch"]
        if not isinstance(x, str) or not x:
            raise w.error("failures.switch", "must be a switch kind (leaf, spine, core, "
                                             "nvswitch, wan) or a switch name")
        spec = f"switch={x}"
    trials = f.get("trials", 1)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise w.error("failures.trials", f"must be a positive integer, got {trials!r}")
    seed = f.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise w.error("failures.seed", f"must be an integer, got {seed!r}")
    return {"spec": spec, "trials": trials, "seed": seed}


def _quantities(m):
    """(measurement name, unit) of each row a measure gives on the intact fabric."""
    kind, name = m["kind"], m["name"]
    if kind == "metric":
        return [(name, METRICS[m["metric"]])]
    if kind == "collective":
        return [(f"{name}.time_us", "us"), (f"{name}.busbw_GBps", "GB/s")]
    if kind == "throughput":
        return [(f"{name}.optimal_fraction", "fraction"), (f"{name}.ecmp_fraction", "fraction")]
    if kind == "placement":
        return [(f"{name}.objective_us", "us")]
    return [(name, "")]


def _pareto(p, measures, w):
    names = [q for m in measures for q, _ in _quantities(m)]
    coll = [f"{m['name']}.time_us" for m in measures if m["kind"] == "collective"]
    metric_names = [m["name"] for m in measures if m["kind"] == "metric"]
    p = {} if p is None else p
    if not isinstance(p, dict):
        raise w.error("pareto", "must be a table (x =, y =)")
    for k in p:
        if k not in ("x", "y"):
            raise w.error(f"pareto.{k}", "unknown; [pareto] takes x and y (both minimized)")
    x = p.get("x", "cost_usd" if "cost_usd" in metric_names else None)
    y = p.get("y", coll[0] if coll else None)
    for k, v in (("x", x), ("y", y)):
        if v is not None and v not in names:
            raise w.error(f"pareto.{k}", f"{v!r} is not a measurement of this sweep; one of "
                                         f"{', '.join(names)}")
    return {"x": x, "y": y} if x and y and x != y else None


# ----------------------------------------------------------------------------- points

def _points(spec):
    """The points of the spec in order: dicts of axis name -> value."""
    axes = spec["axes"]
    grid = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())] or [{}]
    sample = spec["sample"]
    if not sample:
        return grid
    rng = random.Random(sample["seed"])
    draws = []
    for _ in range(sample["n"]):
        d = {}
        for name in sorted(sample["ranges"]):
            r = sample["ranges"][name]
            if "choices" in r:
                d[name] = r["choices"][rng.randrange(len(r["choices"]))]
            elif r["int"]:
                if r["log"]:
                    d[name] = round(math.exp(rng.uniform(math.log(r["lo"]),
                                                         math.log(r["hi"]))))
                else:
                    d[name] = rng.randint(r["lo"], r["hi"])
            elif r["log"]:
                d[name] = math.exp(rng.uniform(math.log(r["lo"]), math.log(r["hi"])))
            else:
                d[name] = rng.uniform(r["lo"], r["hi"])
        draws.append(d)
    return [{**g, **d} for g in grid for d in draws]


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def point_key(spec, params, catalog_version, base_digest=None):
    """SHA-256 (hex) of a point's canonical JSON: what makes its stored result reusable.

    ``base_digest`` is the SHA-256 of the base file's bytes when the base is a file
    (so editing that file invalidates the stored points).
    """
    doc = {"format": SWEEP_FORMAT, "base": spec["base"], "base_digest": base_digest,
           "fixed": spec["fixed"],
           "params": params, "measures": spec["measures"], "failures": spec["failures"],
           "catalog": catalog_version}
    return hashlib.sha256(_canonical(doc).encode()).hexdigest()


def _default_build(base, overrides, catalog):
    # bound at call time: solvers/ keeps no static import of topologies/ (docs/architecture.md)
    return importlib.import_module("topologies").load(base, overrides, catalog)


def run_point(task, catalog=None):
    """Build one point's fabric, take every measurement and trial, return plain rows.

    ``task`` holds ``base``, ``overrides``, ``measures``, ``failures`` and
    ``build``; ``catalog`` is None for the shipped one. Runs on a Dask worker
    (or in process); the graph is dropped before returning. A
    :class:`FabricError` (or any other exception) becomes ``{"status": "error",
    "error": message}``; ``stored`` says whether a rerun may reuse the result
    (not after an unexpected exception, which may be the machine's).
    """
    start = time.perf_counter()
    try:
        rows = _measure_point(task, catalog)
        out = {"status": "ok", "error": "", "rows": rows, "stored": True}
    except Exception as exc:  # noqa: BLE001 -- a bad point must not stop the sweep
        fabric_error = isinstance(exc, FabricError)
        what = str(exc) if fabric_error else f"{type(exc).__name__}: {exc}"
        out = {"status": "error", "error": what, "rows": [], "stored": fabric_error}
    out["seconds"] = round(time.perf_counter() - start, 3)
    out["pid"] = os.getpid()
    return out


def _row(measurement, value, unit, *, failure="", trial=None, stat="value", detail=""):
    value = None if value is None else float(value)
    if value is not None and not math.isfinite(value):
        value = None
    elif value is not None:
        value = float(f"{value:.12g}")            # no last-bit noise between processes
    return {"measurement": measurement, "failure": failure, "trial": trial, "stat": stat,
            "value": value, "unit": unit, "detail": detail}


def _measure_point(task, given_catalog):
    import gc

    from fabric.catalog import default_catalog

    catalog = given_catalog or default_catalog()
    build = task["build"] or _default_build
    G = build(task["base"], task["overrides"], given_catalog)
    try:
        rows = []
        metrics = None
        models = {}
        for m in task["measures"]:
            try:
                if m["kind"] == "metric":
                    if metrics is None:
                        from fabric.metrics import fabric_metrics

                        metrics = fabric_metrics(G, catalog=catalog, seed=0)
                    rows.append(_row(m["name"], _metric_value(metrics, m["metric"]),
                                     METRICS[m["metric"]]))
                elif m["kind"] == "collective":
                    r, model = _collective(G, m, catalog)
                    models[m["name"]] = model
                    rows.append(_row(f"{m['name']}.time_us", r.time_us, "us",
                                     detail=f"{r.algo}/{r.protocol}"))
                    rows.append(_row(f"{m['name']}.busbw_GBps", r.busbw_GBps, "GB/s",
                                     detail=f"{r.algo}/{r.protocol}"))
                elif m["kind"] == "throughput":
                    from solvers.throughput import throughput

                    r = throughput(G, m["pattern"], gpus=m["gpus"], seed=m["seed"],
                                   time_limit_s=m["time_limit"])
                    rows.append(_row(f"{m['name']}.optimal_fraction",
                                     round(r.optimal_fraction, 9),    # the LP's tolerance
                                     "fraction", detail=f"{r.solver} {r.status}"))
                    rows.append(_row(f"{m['name']}.ecmp_fraction", r.ecmp_fraction, "fraction",
                                     detail=r.ecmp_bottleneck))
                elif m["kind"] == "placement":
                    from solvers.placement import place_job

                    r = place_job(G, gpus=m["gpus"], tp=m["tp"], pp=m["pp"], dp=m["dp"],
                                  ep=m["ep"], time_limit_s=m["time_limit"], seed=m["seed"],
                                  workers=1, catalog=catalog)
                    rows.append(_row(f"{m['name']}.objective_us", r.objective_us, "us",
                                     detail=r.status))
                else:
                    module, _, func = m["hook"].partition(":")
                    value = getattr(importlib.import_module(module), func)(G, task["overrides"])
                    rows.append(_row(m["name"], value, ""))
            except FabricValidationError as exc:     # built from its list of violations
                where = f"measurement `{m['name']}`"
                raise FabricValidationError([f"{where}: {e}" for e in exc.errors]) from None
            except ParameterError as exc:
                raise ParameterError(f"measurement `{m['name']}`: {exc}",
                                     param=exc.param) from None
            except FabricError as exc:
                raise type(exc)(f"measurement `{m['name']}`: {exc}") from None
        if task["failures"]:
            rows.extend(_failure_rows(G, task, catalog, models))
        return rows
    finally:
        del G
        gc.collect()


def _metric_value(metrics, name):
    if name == "cost_usd":
        return metrics["cost_usd"]["total"]
    if name == "power_w":
        return metrics["power_w"]["total"]
    if name == "oversubscription":
        return max(metrics["oversubscription"].values(), default=1.0)
    if name == "diameter_hops":
        return metrics["diameter_hops"]["max"]
    return metrics[name]


def _collective(G, m, catalog):
    from solvers.collectives import CollectiveModel

    model = CollectiveModel(G, gpus=m["gpus"], catalog=catalog, sharp=m["sharp"])
    return model.evaluate(m["op"], m["size"], algo=m["algo"]), model


def _failure_rows(G, task, catalog, models):
    from fabric.metrics import bisection_bandwidth, fail
    from solvers.collectives import CollectiveModel

    f = task["failures"]
    spec = f["spec"]
    colls = [m for m in task["measures"] if m["kind"] == "collective"]
    series = {"bisection_gbps": []}
    series.update({f"{m['name']}.time_us": [] for m in colls})
    rows = []
    for t in range(f["trials"]):
        H = fail(G, spec, seed=f["seed"] + t)
        note = H.graph.get("notes", [""])[-1]
        b = bisection_bandwidth(H)["bisection_gbps"]
        series["bisection_gbps"].append(b)
        rows.append(_row("bisection_gbps", b, "Gb/s", failure=spec, trial=t, stat="trial",
                         detail=note))
        for m in colls:
            name = f"{m['name']}.time_us"
            try:
                ranks = models[m["name"]].rank_names
                r = CollectiveModel(H, ranks=ranks, catalog=catalog,
                                    sharp=m["sharp"]).evaluate(m["op"], m["size"],
                                                               algo=m["algo"])
                value, detail = r.time_us, f"{r.algo}/{r.protocol}"
            except FabricError as exc:        # e.g. the failure cut the ranks apart
                value, detail = None, f"failed: {exc}"
            series[name].append(value)
            rows.append(_row(name, value, "us", failure=spec, trial=t, stat="trial",
                             detail=detail))
        del H
    for name, values in series.items():
        unit = "Gb/s" if name == "bisection_gbps" else "us"
        ran = [v for v in values if v is not None]
        detail = f"{len(ran)} of {len(values)} trials"
        for stat, v in zip(_STATS, _summary(ran, worst_is_min=name == "bisection_gbps")):
            rows.append(_row(name, v, unit, failure=spec, stat=stat, detail=detail))
        if name != "bisection_gbps":
            rows.append(_row(name, (len(values) - len(ran)) / len(values), "fraction",
                             failure=spec, stat="unreachable", detail=detail))
    return rows


def _summary(values, *, worst_is_min):
    """mean, p50, p99 and worst of ``values``; p99 and worst are the bad tail (the low one
    for a bisection, the high one for a time)."""
    import numpy as np

    if not values:
        return (None,) * 4
    x = np.array(values, dtype=float)
    p99 = np.percentile(x, 1 if worst_is_min else 99)
    worst = x.min() if worst_is_min else x.max()
    return (float(x.mean()), float(np.percentile(x, 50)), float(p99), float(worst))


# ----------------------------------------------------------------------------- the engine

def _catalog_version(catalog):
    from fabric.catalog import default_catalog

    return (catalog or default_catalog()).version


def sweep(spec, out_dir=None, *, scheduler=None, workers=None, progress=None, catalog=None,
          build=None):
    """Run a design-space sweep (see the module notes); return its tidy table.

    Parameters
    ----------
    spec : str, Path or dict
        A sweep spec file, or a dict as :func:`load_sweep_spec` reads it.
    out_dir : str or Path, optional
        Directory for ``points/<key>.json`` (one per finished point; a rerun
        skips the stored keys), ``results.parquet``, ``results.csv``, the plots
        and ``index.html``. Without it nothing is written and nothing resumed.
    scheduler : str, optional
        None: a LocalCluster of ``workers`` processes (default: the cores),
        started and closed here. ``"none"``: serial, in this process. Else the
        address of a running Dask scheduler.
    workers : int, optional
        Worker processes of the LocalCluster; 1 runs serially.
    progress : callable, optional
        Called after each point with a dict ``done``, ``total``, ``failed``,
        ``skipped``, ``eta_s``, ``point``, ``status``.
    catalog : fabric.Catalog, optional
        Its version is part of every point's key.
    build : callable, optional
        ``build(base, overrides, catalog) -> graph``; default ``topologies.load``.
        Must be importable by the workers (a module-level function).

    Returns
    -------
    pandas.DataFrame
        The tidy table (module notes). ``df.attrs["sweep"]`` holds the summary:
        ``points``, ``failed``, ``skipped``, ``computed``, ``rows``,
        ``pareto_points``, ``out_dir``, ``workers``, ``seconds``, ``files``.

    Raises
    ------
    ParameterError
        A bad spec, scheduler or worker count.
    """
    start = time.perf_counter()
    if isinstance(spec, dict) and "measures" in spec and "source" in spec:
        pass
    elif isinstance(spec, dict):
        spec = normalize_spec(spec)
    else:
        spec = load_sweep_spec(spec)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        msg = f"`workers` (--workers) must be a positive integer, got {workers!r}"
        raise ParameterError(msg)
    serial = (isinstance(scheduler, str) and scheduler.lower() == "none") or \
        (scheduler is None and workers == 1)
    if catalog is not None:
        from fabric.catalog import default_catalog

        if catalog is default_catalog():
            catalog = None
    version = _catalog_version(catalog)
    params = _points(spec)
    digest = None
    if spec["base"].lower().endswith(_FILE_SUFFIXES) and os.path.isfile(spec["base"]):
        digest = hashlib.sha256(Path(spec["base"]).read_bytes()).hexdigest()
    keys = [point_key(spec, p, version, digest) for p in params]
    store = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        store = out_dir / "points"
        try:
            store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create `{store}`: {exc.strerror or exc}"
            raise FabricError(msg) from None
    results = {}
    for key in dict.fromkeys(keys):
        if store is not None and (store / f"{key}.json").is_file():
            try:
                results[key] = json.loads((store / f"{key}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass                                  # unreadable: compute it again
    skipped = len(results)
    index = {}
    for i, k in enumerate(keys):
        index.setdefault(k, i)                        # a repeated point is computed once
    todo = [(i, k) for k, i in index.items() if k not in results]
    tasks = {k: {"base": spec["base"], "overrides": {**spec["fixed"], **params[i]},
                 "measures": spec["measures"], "failures": spec["failures"],
                 "build": build} for i, k in todo}
    state = {"done": 0, "failed": 0, "t0": time.perf_counter()}
    total = len(todo)

    def finished(key, out):
        results[key] = out
        if out["stored"] and store is not None:
            from fabric.io import atomic_write

            with atomic_write(store / f"{key}.json") as fh:
                fh.write(json.dumps({"key": key, "params": params[index[key]], **out},
                                    indent=1, sort_keys=True))
        state["done"] += 1
        state["failed"] += out["status"] != "ok"
        if progress is not None:
            elapsed = time.perf_counter() - state["t0"]
            left = total - state["done"]
            progress({"done": state["done"], "total": total, "failed": state["failed"],
                      "skipped": skipped, "eta_s": elapsed / state["done"] * left,
                      "point": index[key], "status": out["status"]})

    n_workers = 1 if todo else 0
    if serial or not todo:
        for key, task in tasks.items():
            finished(key, run_point(task, catalog))
    else:
        n_workers = _run_dask(tasks, catalog, finished, scheduler, workers)
    df = _table(spec, params, keys, results)
    info = {"points": len(keys), "failed": int(sum(results[k]["status"] != "ok" for k in keys)),
            "skipped": skipped, "computed": total, "rows": len(df),
            "pareto_points": int(df.loc[df["pareto"], "point"].nunique()),
            "out_dir": None if out_dir is None else str(out_dir), "workers": n_workers,
            "files": []}
    if out_dir is not None:
        info["files"] = _write_outputs(spec, df, out_dir)
    info["seconds"] = round(time.perf_counter() - start, 3)
    df.attrs["sweep"] = info
    return df


def _run_dask(tasks, catalog, finished, scheduler, workers):
    """Submit one task per point, record each as it completes; return the worker count."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:
                msg = f"`scheduler` (--scheduler) {scheduler!r}: cannot connect ({exc})"
                raise ParameterError(msg) from None
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        n_workers = len(client.nthreads()) or (workers or 0)
        if catalog is not None:                   # a user catalog: ship it once
            catalog = client.scatter(catalog, broadcast=True)
        futures = {}
        for key, task in tasks.items():
            fut = client.submit(run_point, task, catalog, pure=False, retries=2)
            futures[fut] = key
        try:
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    out = fut.result()
                except Exception as exc:  # noqa: BLE001 -- KilledWorker after retries, lost link
                    out = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                           "rows": [], "seconds": None, "pid": None,
                           "stored": False}       # not the point's fault: retry on a rerun
                finished(key, out)
                fut.release()
        except BaseException:
            client.cancel(list(futures))
            raise
        return n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------- the table

def _table(spec, params, keys, results):
    import pandas as pd

    axis_names = [*spec["axes"], *(sorted(spec["sample"]["ranges"]) if spec["sample"] else ())]
    records = []
    for i, (p, key) in enumerate(zip(params, keys)):
        out = results[key]
        base = {"point": i, "key": key, "status": out["status"], "error": out["error"],
                **{a: p.get(a) for a in axis_names}}
        rows = out["rows"] or [_row("", None, "")]
        records.extend({**base, **r} for r in rows)
    columns = ["point", "key", "status", "error", *axis_names, "measurement", "failure",
               "trial", "stat", "value", "unit", "detail"]
    df = pd.DataFrame.from_records(records, columns=columns)
    df["point"] = df["point"].astype("int64")
    df["trial"] = df["trial"].astype("Int64")
    df["value"] = df["value"].astype("float64")
    for a in axis_names:
        kinds = {type(v) for v in df[a]}
        if len(kinds) > 1 and not kinds <= {int, float}:
            df[a] = df[a].astype(str)
    for c in ("key", "status", "error", "measurement", "failure", "stat", "unit", "detail"):
        df[c] = df[c].fillna("").astype(str)
    df = df.sort_values("point", kind="stable").reset_index(drop=True)
    df["pareto"] = False
    if spec["pareto"]:
        wide = _wide(df, [spec["pareto"]["x"], spec["pareto"]["y"]])
        front = pareto_front(wide, spec["pareto"]["x"], spec["pareto"]["y"])
        on = set(wide.index[front])
        df["pareto"] = df["point"].isin(on)
    return df


def _wide(df, measurements):
    """point -> one column per intact measurement (rows of ok points only)."""
    sel = df[(df["stat"] == "value") & (df["status"] == "ok")
             & df["measurement"].isin(measurements)]
    wide = sel.pivot_table(index="point", columns="measurement", values="value",
                           aggfunc="first")
    return wide.reindex(columns=measurements)


def pareto_front(df, x, y):
    """Which rows of ``df`` are on the Pareto front of columns ``x`` and ``y`` (both minimized).

    A row is on the front when no other row is at least as good in both and
    strictly better in one; rows with a missing value are never on it; equal
    rows are on it together.

    Returns
    -------
    pandas.Series of bool, aligned with ``df.index``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"cost": [1, 2, 3, 2], "time": [5, 3, 4, 6]})
    >>> pareto_front(d, "cost", "time").tolist()
    [True, True, False, False]
    """
    import numpy as np
    import pandas as pd

    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    front = np.zeros(len(xs), dtype=bool)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((ys[idx], xs[idx]))]       # by x, then y
    best_y = math.inf
    best_x = None
    for i in order:
        if ys[i] < best_y:
            front[i] = True
            best_y, best_x = ys[i], xs[i]
        elif ys[i] == best_y and xs[i] == best_x:
            front[i] = True                           # a tie with a front row
    return pd.Series(front, index=df.index, name="pareto")


# ----------------------------------------------------------------------------- outputs

def _write_outputs(spec, df, out_dir):
    from fabric.io import atomic_write

    files = []
    with atomic_write(out_dir / "results.parquet", "wb") as fh:
        df.to_parquet(fh, index=False, engine="pyarrow")
    files.append("results.parquet")
    with atomic_write(out_dir / "results.csv") as fh:
        df.to_csv(fh, index=False, lineterminator="\n")
    files.append("results.csv")
    plots = _plots(spec, df, out_dir)
    files.extend(plots)
    with atomic_write(out_dir / "index.html") as fh:
        fh.write(_html(spec, df, out_dir, plots))
    files.append("index.html")
    return files


def _svg(fig, path):
    import io

    import matplotlib

    from fabric.io import atomic_write

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "fabric", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    with atomic_write(path) as fh:
        fh.write(buf.getvalue())


def _plots(spec, df, out_dir):
    from matplotlib.figure import Figure

    files = []
    ok = df[(df["status"] == "ok") & (df["stat"] == "value")]
    p = spec["pareto"]
    if p:
        wide = _wide(df, [p["x"], p["y"]])
        front = pareto_front(wide, p["x"], p["y"])
        fig = Figure(figsize=(6.4, 4.8), dpi=100)
        ax = fig.add_subplot()
        ax.scatter(wide[p["x"]], wide[p["y"]], s=18, c="#9aa5b1", label="points")
        f = wide[front].sort_values(p["x"])
        ax.plot(f[p["x"]], f[p["y"]], "o-", color="#d1495b", ms=5, label="Pareto front")
        for point, row in f.iterrows():
            ax.annotate(str(point), (row[p["x"]], row[p["y"]]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(p["x"])
        ax.set_ylabel(p["y"])
        ax.set_title(f"{spec['title']}: Pareto front (both minimized)", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        _svg(fig, out_dir / "pareto.svg")
        files.append("pareto.svg")
    axis_names = [*spec["axes"], *(sorted(spec["sample"]["ranges"]) if spec["sample"] else ())]
    measurements = list(dict.fromkeys(ok["measurement"]))[:9]
    for a in axis_names:
        if not measurements:
            break
        cols = min(3, len(measurements))
        rows = math.ceil(len(measurements) / cols)
        fig = Figure(figsize=(3.6 * cols, 2.8 * rows), dpi=100)
        values = list(dict.fromkeys(sorted(ok[a].dropna().tolist(), key=_sort_key)))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        for j, m in enumerate(measurements):
            ax = fig.add_subplot(rows, cols, j + 1)
            sel = ok[ok["measurement"] == m]
            xs = sel[a].tolist() if numeric else [values.index(v) for v in sel[a]]
            ax.scatter(xs, sel["value"], s=14, color="#30638e")
            if not numeric:
                ax.set_xticks(range(len(values)), [str(v) for v in values], fontsize=7)
                ax.set_xlim(-0.5, len(values) - 0.5)
            ax.set_title(m, fontsize=8)
            ax.set_xlabel(a, fontsize=8)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        name = f"axis_{_slug(a)}.svg"
        _svg(fig, out_dir / name)
        files.append(name)
    return files


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v))


def _slug(text):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text)) or "axis"


def _html(spec, df, out_dir, plots):
    """The sweep's page: the spec in words, one row per point (axes, status, each
    measurement; failure statistics as mean / p99 / worst), the plots, links to the data."""
    import base64

    e = html.escape
    n_failed = df.loc[df["status"] != "ok", "point"].nunique()

    def words(d):
        return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in d.items()) or "none"

    summary = [("base", spec["base"]), ("fixed", words(spec["fixed"])),
               ("axes", words(spec["axes"])),
               ("sample", words(spec["sample"]) if spec["sample"] else "none"),
               ("measurements", ", ".join(m["name"] for m in spec["measures"])),
               ("failures", words(spec["failures"]) if spec["failures"] else "none"),
               ("pareto", f"{spec['pareto']['x']} vs {spec['pareto']['y']} (both minimized)"
                if spec["pareto"] else "none"),
               ("points", f"{df['point'].nunique()} ({n_failed} failed), {len(df)} rows")]
    axes = [c for c in df.columns if c not in _FIXED_COLUMNS]
    keep = df[df["stat"].isin(("value", "mean", "p99", "worst", "unreachable"))]
    columns, rows = [], {}
    for _, r in keep.iterrows():
        label = r["measurement"] if r["stat"] == "value" else (
            f"{r['measurement']} [{r['failure']}: {r['stat']}]")
        if label not in columns:
            columns.append(label)
        row = rows.setdefault(int(r["point"]), {"axes": [r[a] for a in axes],
                                                "status": r["status"], "error": r["error"],
                                                "pareto": bool(r["pareto"])})
        row[label] = None if _missing(r["value"]) else r["value"]
    for p in sorted(set(df["point"]) - set(rows)):
        r = df[df["point"] == p].iloc[0]
        rows[int(p)] = {"axes": [r[a] for a in axes], "status": r["status"],
                        "error": r["error"], "pareto": False}
    parts = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
             f"<title>{e(spec['title'])}</title>",
             ("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:"
              "collapse;font-size:12px;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
              "padding:3px 6px;vertical-align:top}th{background:#f0f0f0;text-align:left}"
              "td.num{text-align:right}h2{border-bottom:2px solid #76b900}"
              "img{max-width:100%}.note{color:#555;font-size:12px}</style></head><body>"),
             f"<h1>{e(spec['title'])}</h1>", "<table>"]
    parts += [f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in summary]
    parts.append("</table>")
    parts.append("<h2>Points</h2><table><tr><th>point</th>"
                 + "".join(f"<th>{e(a)}</th>" for a in axes)
                 + "<th>status</th><th>Pareto</th>"
                 + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
    for p in sorted(rows):
        r = rows[p]
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r['error']}"[:200]
        cells = "".join(f"<td>{e(str(v))}</td>" for v in r["axes"])
        vals = "".join(f"<td class='num'>{e(_fmt_value(r.get(c)))}</td>" for c in columns)
        parts.append(f"<tr><td class='num'>{p}</td>{cells}<td>{e(status)}</td>"
                     f"<td>{'yes' if r['pareto'] else ''}</td>{vals}</tr>")
    parts.append("</table><p class='note'>Every row, trial and statistic (with units and "
                 "details): <a href=\"results.csv\">results.csv</a> and results.parquet. "
                 "'unreachable' is the share of failure trials that cut a collective's ranks "
                 "apart.</p>")
    for name in plots:
        data = base64.b64encode((out_dir / name).read_bytes()).decode("ascii")
        parts += [f"<h2>{e(name)}</h2>",
                  f"<img alt=\"{e(name)}\" src=\"data:image/svg+xml;base64,{data}\">"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_FIXED_COLUMNS = ("point", "key", "status", "error", "measurement", "failure", "trial", "stat",
                  "value", "unit", "detail", "pareto")


def _fmt_value(v):
    """A value for people: 4 significant digits, thousands separators from 1,000 up."""
    if v is None:
        return ""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return str(v)


def _missing(v):
    try:
        import pandas as pd

        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
