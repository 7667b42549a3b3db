"""The ``fabric`` command line: translates options, calls the library, formats results.

Library errors become ``Error: ...`` with exit status 2 for usage errors
(a parameter outside its bounds) and 1 for everything else; never a traceback.
Ctrl-C prints ``Interrupted`` and exits 130; SIGTERM exits 143. Both unwind,
so a file being written leaves no temporary file (SIGKILL cannot be handled).
"""

import contextlib
import functools
import gc
import json
import math
import os
import signal
import sys

import click

import fabric
import topologies
from fabric.exceptions import FabricError, ParameterError

__all__ = ["main"]


def _errors(func):
    """Turn fabric's exceptions into click's (exit 2 for usage errors, 1 otherwise)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ParameterError as exc:
            raise click.UsageError(str(exc)) from None
        except FabricError as exc:
            raise click.ClickException(str(exc)) from None
        except MemoryError:
            raise click.ClickException("out of memory; try a smaller fabric or "
                                       "--set aggregate_nvswitch=true") from None
    return wrapper


class _Finite(click.FloatRange):
    """A float option within a range that also refuses NaN and infinity.

    click's FloatRange lets ``nan`` through (every comparison with NaN is
    false) and ``inf`` through when there is no upper bound; this type names
    the option, the bound and what to give instead.
    """

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give a number {self._describe_range()}",
                      param, ctx)
        return super().convert(value, param, ctx)

    def _describe_range(self):                  # as click's, with numbers in %g form
        if self.max is None:
            return f"x{'>' if self.min_open else '>='}{self.min:g}"
        hi = f"{'<' if self.max_open else '<='}{self.max:g}"
        if self.min is None:
            return f"x{hi}"
        return f"{self.min:g}{'<' if self.min_open else '<='}x{hi}"


_TIME_LIMIT = _Finite(min=0, min_open=True)
_FRACTION = _Finite(min=0, max=1)


def _size_callback(parse):
    """Validate a SIZE option when click parses it (before anything is loaded or written)."""

    def callback(ctx, param, value):
        if value is None:
            return value
        try:
            parse(value)
        except ParameterError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        return value
    return callback


def _check_size(value):
    from solvers.collectives import parse_size

    parse_size(value)


def _check_sweep(value):
    from solvers.collectives import size_range

    size_range(value)


class _State:
    def __init__(self, catalog_path):
        self.catalog_path = catalog_path
        self._catalog = None

    @property
    def catalog(self):
        if self._catalog is None:
            self._catalog = fabric.load_catalog(self.catalog_path)
        return self._catalog


pass_state = click.make_pass_decorator(_State)


def _progress(message):
    click.echo(message, err=True)


def _load_topology(state, topo, overrides, *, tables=False):
    """:func:`topologies.load` with the session's catalog, progress on stderr.

    The graph lives until the command ends, so it is frozen out of the cyclic garbage
    collector's scans (``load`` pauses the collector while it builds or reads): on a
    million-GPU fabric, full collections over its millions of dicts cost a fifth of the run.
    It is frozen before the collector resumes, so resuming does not first walk it all once
    (~1 s at a million GPUs).
    """
    from fabric._gc import gc_paused

    with gc_paused():
        G = topologies.load(topo, overrides, state.catalog, progress=_progress, tables=tables)
        gc.freeze()
    return G


_set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a preset parameter (repeatable); see `fabric presets`.")


def _terminate(signum, frame):
    """SIGTERM handler: unwind like an exception so every ``atomic_write`` removes its temp file."""
    raise SystemExit(128 + signum)


class _Main(click.Group):
    """The ``fabric`` group: Ctrl-C exits 130 ("Interrupted"), SIGTERM unwinds and exits 143.

    Both unwind the stack, so files being written (``fabric.io.atomic_write``)
    leave no temporary file behind; SIGKILL cannot be handled.
    """

    def main(self, *args, **kwargs):
        previous = None
        try:
            previous = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:                      # not the main thread: leave signals alone
            pass
        try:
            return super().main(*args, **kwargs)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("Interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--catalog", "catalog_path", type=click.Path(exists=True, dir_okay=False),
              help="A catalog file (TOML/JSON) that extends or overrides the shipped one.")
@click.version_option(fabric.__version__, prog_name="fabric")
@click.pass_context
def main(ctx, catalog_path):
    """Model, analyse and export the network fabrics of AI supercomputers.

    TOPO arguments take a preset name (see `fabric presets`) with optional
    --set KEY=VALUE overrides, a TOML spec file, or a file written by
    `fabric build`/`fabric export`.
    """
    ctx.obj = _State(catalog_path)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the presets and parameters as JSON.")
def presets(as_json):
    """List the presets and their parameters."""
    rows = []
    for p in topologies.TOPOLOGIES.values():
        rows.append({"name": p.name, "family": p.family, "summary": p.summary,
                     "params": [{"name": q.name, "type": q.type.__name__, "default": q.default,
                                 "help": q.help, "min": q.lo, "max": q.hi,
                                 "choices": list(q.choices) or None} for q in p.params]})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<16} {row['summary']}")
        for q in row["params"]:
            bound = ""
            if q["choices"]:
                bound = f" one of {'|'.join(map(str, q['choices']))}"
            elif q["min"] is not None:
                hi = "" if q["max"] is None else _bound_text(q["max"], q["type"])
                bound = f" [{_bound_text(q['min'], q['type'])}..{hi}]"
            click.echo(f"    {q['name']}={_bound_text(q['default'], q['type'])}  "
                       f"({q['type']}{bound}) {q['help']}")


def _bound_text(value, kind):
    """A bound or default for people: ints with thousands separators, floats in %g form."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if kind == "int" or (isinstance(value, float) and value.is_integer() and abs(value) >= 1e3):
        return f"{int(value):,}"
    return f"{value:g}"


_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
"""What OpenBLAS reads for its thread count, most specific first: a user who set any of
them chose the pool, and :func:`_one_blas_thread` leaves it alone."""


@contextlib.contextmanager
def _one_blas_thread():
    """Inside the block, numpy (if first imported there) starts no OpenBLAS thread pool:
    ``OPENBLAS_NUM_THREADS=1``, removed again afterwards, unless the user set any of
    :data:`_BLAS_THREAD_VARS`.

    For commands that do no linear algebra (``build``): the pool's threads spin while
    numpy loads, which on a busy 2-core host slowed the 4,096-GPU build by about a
    seventh (0.86x with a single thread, paired median of 9).

    The variable is set in this process's environment, so inside the block it is seen by
    everything the process does (another thread, a subprocess started meanwhile); and
    OpenBLAS reads it once, when numpy is first imported: numpy imported inside the block
    keeps one thread for the rest of the process, even for linear algebra after it (the
    ``fabric`` command runs one command a process; in-process callers such as
    ``CliRunner`` tests get the same), while numpy imported before it is not affected.
    """
    if "numpy" in sys.modules or any(name in os.environ for name in _BLAS_THREAD_VARS):
        yield
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OPENBLAS_NUM_THREADS", None)


@main.command()
@click.argument("preset")
@_set_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write (.json, .json.gz for gzip-compressed JSON, or .graphml).")
@click.option("--format", "fmt", type=click.Choice(("json", "graphml")), default=None,
              help="Output format (default: from the file suffix, else json).")
@pass_state
@_errors
def build(state, preset, overrides, output, fmt):
    """Build PRESET (a preset name, or a TOML spec file) and write it to a fabric file.

    JSON is written straight from the builder's validated lists, byte for byte the file
    the built graph would give.
    """
    if preset not in topologies.TOPOLOGIES and not preset.lower().endswith(".toml"):
        msg = f"unknown preset `{preset}`; presets: {', '.join(topologies.TOPOLOGIES)}"
        raise ParameterError(msg)
    suffix = os.path.splitext(output)[1].lower()
    if output.lower().endswith(".json.gz"):
        suffix = ".json.gz"                      # gzip-compressed JSON, chosen by the suffix
    if fmt is None:
        if suffix not in ("", ".json", ".json.gz", ".graphml"):
            msg = (f"`-o` {output!r}: build writes .json or .graphml (.json.gz: gzip JSON); "
                   f"for {suffix} use `fabric export --format ...`")
            raise ParameterError(msg)
        fmt = "graphml" if suffix == ".graphml" else "json"
    elif suffix in (".json", ".json.gz", ".graphml") and suffix.split(".")[1] != fmt:
        msg = f"`--format {fmt}` does not match the `-o` suffix {suffix}"
        raise ParameterError(msg)
    # JSON is written from the builder's validated lists: no graph is built
    with _one_blas_thread():
        G = _load_topology(state, preset, overrides, tables=fmt == "json")
    fabric.write_fabric(G, output, fmt)
    click.echo(f"wrote {output}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges",
               err=True)


def _print_summary(s):
    click.echo(f"fabric      {s['builder']}  {json.dumps(s['params'], sort_keys=True)}")
    click.echo(f"catalog     {s['catalog_version']} (schema {s['schema_version']})")
    click.echo(f"gpus        {s['gpus']:,}")
    click.echo(f"hosts       {s['hosts']:,}")
    click.echo(f"graph       {s['nodes']:,} nodes, {s['edges']:,} edges")
    parts = s.get("parts_by_kind", {})
    aggregated = parts != s["nodes_by_kind"]
    click.echo("nodes by kind" + ("  (physical parts they stand for)" if aggregated else ""))
    for k, v in s["nodes_by_kind"].items():
        extra = f"  ({parts[k]:,})" if aggregated and parts.get(k, v) != v else ""
        click.echo(f"  {k:<12}{v:>12,}{extra}")
    click.echo(f"  (NVLink switch chips: {s['nvswitch_chips']:,})")
    click.echo("physical links by medium")
    for k, v in s["links_by_medium"].items():
        click.echo(f"  {k:<12}{v:>12,}")
    click.echo(f"per-GPU NVLink bandwidth   {_fmt_bw(s['gpu_scaleup_gbps'])} per direction")
    click.echo(f"per-GPU network bandwidth  {_fmt_bw(s['gpu_scaleout_gbps'])} per direction")
    if "bisection_gbps" in s:
        b = s["bisection"]
        click.echo(f"bisection                  {s['bisection_gbps']:,.0f} Gb/s ({b['method']}; "
                   f"halves of {b['halves_gpus'][0]:,} and {b['halves_gpus'][1]:,} GPUs; "
                   f"{b['per_gpu_gbps']:,.1f} Gb/s per GPU)")
        over = ", ".join(f"{k} {v:g}:1" for k, v in s["oversubscription"].items()) or "none"
        click.echo(f"oversubscription (down:up) {over}")
        h = s["diameter_hops"]
        hist = ", ".join(f"{k} hops {v:.1%}" for k, v in h["histogram"].items())
        click.echo(f"GPU-GPU hops               max {h['max']}; {hist} "
                   f"({'all' if h['exact'] else h['sources']} source GPUs)")
        for p in s["ecmp_paths"]:
            click.echo(f"ECMP paths                 {p['paths']:,} shortest paths of {p['hops']} "
                       f"hops, {p['src']} -> {p['dst']} ({p['relation']})")
        click.echo("bill of materials")
        for category, parts in s["bom"]["parts"].items():
            for part, n in parts.items():
                click.echo(f"  {category:<10}{part:<28}{n:>10,}")
        for part, n in s["bom"]["cables"].items():
            click.echo(f"  {'cable':<10}{part:<28}{n:>10,}")
        for part, n in s["bom"]["optics"].items():
            click.echo(f"  {'optic':<10}{part:<28}{n:>10,}")
        p = s["power_w"]
        click.echo(f"power                      {p['total'] / 1e3:,.1f} kW, {p['per_gpu']:,.0f} W "
                   f"per GPU ({p['note']})")
        c = s["cost_usd"]
        unpriced = ", ".join(c["unpriced"]) or "none"
        click.echo(f"cost (ESTIMATE)            ${c['total']:,.0f}, ${c['per_gpu']:,.0f} per GPU "
                   f"(catalog street-price estimates; unpriced parts: {unpriced})")
    a = s.get("allreduce")
    if a is not None and "error" in a:
        click.echo(f"allreduce 1 GiB, all GPUs  not priced: {a['error']}")
    elif a is not None:
        click.echo(f"allreduce 1 GiB, all GPUs  {a['time_us'] / 1e3:,.2f} ms, busbw "
                   f"{a['busbw_GBps']:,.1f} GB/s ({a['algo']}, {a['protocol']}; {a['ranks']:,} "
                   f"ranks; bottleneck {a['bottleneck'] or 'none'})")
    if "resilience" in s:
        r = s["resilience"]
        click.echo(f"after --fail {r['failure']}: bisection {r['bisection_after_gbps']:,.0f} Gb/s "
                   f"({r['retained']:.1%} retained; {r['note']})")
    for note in s["notes"]:
        click.echo(f"note: {note}")


def _fmt_bw(v):
    if isinstance(v, dict):
        return f"{v['min']:,.0f}-{v['max']:,.0f} Gb/s"
    return f"{v:,.0f} Gb/s ({v / 8:,.1f} GB/s)"


_INFO_ALLREDUCE_BYTES = 2 ** 30


def _info_allreduce(G, catalog, gpus, table=None):
    """`fabric info`'s collective: a 1 GiB allreduce over all GPUs, algo auto (None below
    2 GPUs; the reason when no algorithm can run it), routed on the metrics' edge table."""
    import dataclasses

    from solvers.collectives import CollectiveModel
    from solvers.routing import Router

    if gpus < 2:
        return None
    _progress(f"pricing a 1 GiB allreduce over {gpus:,} GPUs (algo auto) ...")
    try:
        r = CollectiveModel(G, catalog=catalog, router=Router(G, table=table)).evaluate(
            "allreduce", _INFO_ALLREDUCE_BYTES)
    except FabricError as exc:
        return {"size_bytes": _INFO_ALLREDUCE_BYTES, "ranks": gpus, "error": str(exc)}
    return dataclasses.asdict(r)


@main.command()
@click.argument("topo")
@_set_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--fail", "failure", metavar="SPEC",
              help="Also report the bisection left after a failure: links=FRACTION of the "
                   "network links, switch=NAME, or switch=leaf|spine|core|nvswitch|wan (a "
                   "random one of that kind).")
@click.option("--seed", default=0, show_default=True, help="Seed of --fail and of hop sampling.")
@click.option("--bisection", type=click.Choice(("auto", "exact", "structural")), default="auto",
              show_default=True, help="Max-flow (exact) or the Clos formula (structural).")
@click.option("--counts-only", is_flag=True, help="Only counts and per-GPU bandwidths (fast).")
@click.option("--allreduce/--no-allreduce", "with_allreduce", default=True, show_default=True,
              help="Price a 1 GiB allreduce over all GPUs (algo auto, every flow routed on "
                   "the graph).")
@pass_state
@_errors
def info(state, topo, overrides, as_json, failure, seed, bisection, counts_only,
         with_allreduce):
    """Analyse TOPO: counts, bandwidths, bisection, oversubscription, hops, BOM, power, cost."""
    if counts_only and failure:
        msg = "`--fail` needs the metrics; drop `--counts-only`"
        raise ParameterError(msg)
    G = _load_topology(state, topo, overrides)
    if counts_only:
        s = fabric.fabric_summary(G)
    else:
        _progress("analysing (bisection, hops, paths, bill of materials) ...")
        from fabric.edges import EdgeTable

        table = EdgeTable.from_build(G)       # G is as its builder returned it
        s = fabric.fabric_metrics(G, catalog=state.catalog, seed=seed, bisection=bisection,
                                  table=table)
        if with_allreduce:
            s["allreduce"] = _info_allreduce(G, state.catalog, s["gpus"], table=table)
        if failure:
            _progress(f"failing {failure} and recomputing the bisection (max-flow) ...")
            H = fabric.fail(G, failure, seed=seed)
            after = fabric.bisection_bandwidth(H, method="exact")["bisection_gbps"]
            s["resilience"] = {"failure": failure, "seed": seed,
                               "bisection_before_gbps": s["bisection_gbps"],
                               "bisection_after_gbps": after,
                               "retained": round(after / s["bisection_gbps"], 6)
                               if s["bisection_gbps"] else None,
                               "note": H.graph["notes"][-1]}
    if as_json:
        click.echo(json.dumps(s, indent=2, default=str))
    else:
        _print_summary(s)


_EXPORT_FORMATS = fabric.EXPORT_FORMATS
_hostname_option = click.option(
    "--hostname-pattern", default="node{index:04d}", show_default=True, metavar="PATTERN",
    help="Scheduler host names (Slurm/Kubernetes formats): a Python format string with "
         "{index} (1-based), {index0}, {name} (the host node), {site}, {pod}, {rack}, {domain}.")
_detail_option = click.option(
    "--detail", type=click.Choice(("auto", "summary", "rack")), default="auto",
    show_default=True, help="Diagrams: summary (repeated units as counted boxes), rack (one "
                            "NVLink domain chip by chip), auto (rack for a single domain).")


@main.command()
@click.argument("topo")
@_set_option
@click.option("--format", "fmt", type=click.Choice(_EXPORT_FORMATS), required=True,
              help="Output format: graph files (json, graphml, dot), diagrams (svg, png), "
                   "Slurm topology.conf (slurm-tree, slurm-block), Slurm topology.yaml "
                   "(slurm-yaml), Kubernetes labels (k8s-labels YAML, k8s-script), a "
                   "Kueue Topology (kueue-topology), the cabling plan (cabling-csv: one row "
                   "per cable with both ends' ports) or what discovery tools would print "
                   "for the design (ibnetdiscover, iblinkinfo, lldp-json).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write (written to a temporary name, then renamed).")
@_hostname_option
@_detail_option
@pass_state
@_errors
def export(state, topo, overrides, fmt, output, hostname_pattern, detail):
    """Export TOPO as a graph file, a diagram, or scheduler topology files."""
    from fabric.export import export as export_fabric, export_options

    G = _load_topology(state, topo, overrides)
    given = {"hostname_pattern": hostname_pattern, "detail": detail}
    options = {k: v for k, v in given.items() if k in export_options(fmt)}
    if "detail" in options:
        _progress(f"drawing ({detail}) ...")
    export_fabric(G, output, fmt, **options)
    click.echo(f"wrote {output} ({fmt})", err=True)


@main.command()
@click.argument("topo", default="superfactory")
@_set_option
@click.option("-o", "--output", "directory", required=True,
              type=click.Path(file_okay=False),
              help="Directory to write the report into: created, or replaced when it holds a "
                   "previous report (a directory of other files is refused). Written to a "
                   "hidden temporary directory, renamed when complete.")
@click.option("--seed", default=0, show_default=True, help="Seed of the busy hosts and sampling.")
@click.option("--time-limit", "time_limit", default=10.0, show_default=True,
              type=_TIME_LIMIT,
              help="CP-SAT time limit of the placement, seconds (shorter than `fabric place`'s "
                   "30 s: the placement is one section of a report that also sweeps "
                   "collectives).")
@click.option("--busy-fraction", default=0.3, show_default=True, type=_FRACTION,
              help="Share of hosts marked busy at random before the job is placed (as "
                   "`fabric place --busy-fraction`).")
@pass_state
@_errors
def report(state, topo, overrides, directory, seed, time_limit, busy_fraction):
    """Write an HTML report of TOPO (default: the superfactory preset) into a directory.

    One page with the diagram, metrics and bill of materials, a collective sweep
    table and busbw plot, the collective model's accuracy against published
    measurements (with a predicted-vs-measured plot), a placement of a
    representative training job with its baselines, and links to the exported
    scheduler files.
    """
    from solvers.study import write_report

    G = _load_topology(state, topo, overrides)
    result = write_report(G, directory, catalog=state.catalog, seed=seed,
                          time_limit_s=time_limit, busy_fraction=busy_fraction,
                          progress=_progress, build=topologies.build_preset,
                          title=_preset_title(G))
    click.echo(f"wrote {result['index']} and {len(result['files']) - 1} linked files "
               f"in {result['seconds']:.1f} s")


def _preset_title(G):
    """The human title of a fabric: its preset's name and summary (None when no preset built it)."""
    builder = G.graph.get("builder")
    for p in topologies.TOPOLOGIES.values():
        if getattr(p.builder, "__name__", None) == builder:
            return f"{p.name}: {p.summary}"
    return None


# --------------------------------------------------------------------------- collectives
# `fabric collective` and `fabric compare`

def _collective_model(state, topo, overrides, gpus, ranks_file, sharp, buffer=None, nvls=True,
                      proto=None, nccl=None):
    from solvers.collectives import CollectiveModel, load_rank_file, parse_size

    G = _load_topology(state, topo, overrides)
    ranks = None
    if ranks_file is not None:
        ranks = load_rank_file(ranks_file, fabric.gpu_nodes(G))
    buffer_bytes = None if buffer is None else parse_size(buffer, name="`--buffer`")
    return CollectiveModel(G, ranks=ranks, gpus=gpus, catalog=state.catalog, sharp=sharp,
                           buffer_bytes=buffer_bytes, nvls=nvls, protocols=proto, nccl=nccl)


def _proto_callback(ctx, param, value):
    """Validate --proto when click parses it (before the fabric is built)."""
    if value is None:
        return value
    from solvers.collectives import _check_protocols

    try:
        return _check_protocols(value)
    except ParameterError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


_proto_option = click.option(
    "--proto", default=None, metavar="LIST", callback=_proto_callback,
    help="Protocols NCCL may use, as NCCL_PROTO allows them: LL, LL128, Simple, "
         "comma-separated, or ^ and the ones to leave out (default: all; as in NCCL, any "
         "--proto that allows LL128 turns it on where --nccl would keep it off).")


def _nccl_callback(ctx, param, value):
    """Check the form of --nccl when click parses it (the catalog bounds it later)."""
    from solvers.collectives import _release_tuple

    if value is not None and _release_tuple(value) is None:
        raise click.BadParameter(f"must be an NCCL release such as 2.26 or 2.26.2, got "
                                 f"{value[:40]!r}", ctx=ctx, param=param)
    return value


_NCCL_HELP = ("NCCL release whose rules apply, e.g. 2.26 (the catalog's nccl.versions range, "
              "2.18 to 2.30 as shipped; default the newest): PAT from 2.23, Blackwell from "
              "2.25; before 2.27 no LL128 on B300/GB300 nor across GB200 racks, and 32 NVLS "
              "channels in one Blackwell domain (24 from 2.27); CollNet Chain above 8 ranks "
              "per domain only in 2.23-2.27; before 2.30 32 NVLS channels across Blackwell "
              "domains (2.30 sets them by NIC rate).")


def _collective_count(op, size, n):
    per_rank = op in ("allgather", "reducescatter", "alltoall")
    return size // 4 // (n if per_rank else 1)


@main.command()
@click.argument("topo")
@click.option("--op", required=True, metavar="OP",
              help="allreduce, allgather, reducescatter, broadcast, reduce, alltoall or sendrecv.")
@click.option("--size", default=None, metavar="SIZE", callback=_size_callback(_check_size),
              help="nccl-tests size: 8, 1K, 64MiB, 1GiB, 4G (K = 1024). Default 1GiB.")
@click.option("--sweep", default=None, metavar="MIN:MAX", callback=_size_callback(_check_sweep),
              help="Sizes from MIN to MAX, multiplying by 4 (like nccl-tests -b/-e/-f 4).")
@click.option("--gpus", type=click.IntRange(min=2), default=None,
              help="Use the first N GPUs in topology order (default: all).")
@click.option("--ranks", "ranks_file", type=click.Path(exists=True, dir_okay=False),
              help='Rank file: JSON list of GPU names, or {"assignment": {rank: gpu}}.')
@click.option("--algo", default="auto", show_default=True, metavar="NAME",
              help="ring, tree, nvls, nvlstree, collnet (CollNet Direct), collnetchain, pat, "
                   "p2p, hierarchical, crosssite or auto.")
@click.option("--sharp/--no-sharp", default=False, show_default=True,
              help="Allow InfiniBand SHARP (CollNet, NVLS across domains), as NCCL does with "
                   "NCCL_COLLNET_ENABLE=1 and a SHARP plugin; off in a default NCCL run.")
@click.option("--nvls/--no-nvls", default=True, show_default=True,
              help="Allow NVLink SHARP (NVLS, NVLSTree); --no-nvls models NCCL_NVLS_ENABLE=0.")
@click.option("--buffer", default=None, metavar="SIZE",
              help="NCCL_BUFFSIZE of the Simple protocol (default 4MiB): the bytes each channel "
                   "keeps in flight, which cap its rate over a WAN at buffer / round trip.")
@_proto_option
@click.option("--nccl", default=None, metavar="VERSION", callback=_nccl_callback,
              help=_NCCL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
@_set_option
@pass_state
@_errors
def collective(state, topo, op, size, sweep, gpus, ranks_file, algo, sharp, nvls, buffer, proto,
               nccl, as_json, overrides):
    """Predict a collective's time and nccl-tests bandwidths on TOPO."""
    from solvers.collectives import parse_size, size_range

    if size is not None and sweep is not None:
        raise click.UsageError("give --size or --sweep, not both")
    if gpus is not None and ranks_file is not None:
        raise click.UsageError("give --gpus or --ranks, not both")
    sizes = size_range(sweep) if sweep is not None else [parse_size(size or "1GiB")]
    model = _collective_model(state, topo, overrides, gpus, ranks_file, sharp, buffer, nvls,
                              proto, nccl)
    rows = model.sweep(op, sizes, algo=algo)
    from solvers.throughput import collective_lower_bound

    bounds = [collective_lower_bound(model.G, op, r.size_bytes, model.rank_names,
                                     in_network=model.sharp) for r in rows]
    from solvers.accuracy import nearest_case

    checked = [nearest_case(model, op, r.size_bytes, build=topologies.build_preset)
               for r in rows]
    if as_json:
        click.echo(json.dumps([{**r.row(), "protocol": r.protocol, "latency_us": r.latency_us,
                                "pipeline_us": r.pipeline_us, "bottleneck": r.bottleneck,
                                "capped_by": r.capped_by, "nccl": model.nccl_label,
                                "validated": v[0],
                                "nearest_case": v[1],
                                "bound_time_us": b,
                                "efficiency": b / r.time_us if r.time_us > 0 else None}
                               for r, b, v in zip(rows, bounds, checked)], indent=2))
        return
    click.echo(f"# {op} on {topo}: {model.n} ranks in {model.k_domains} NVLink domain(s), "
               f"NCCL {model.nccl_label} rules")
    click.echo(f"# {'size':>12} {'count':>12} {'type':>6} {'time':>10} {'algbw':>8} {'busbw':>8}"
               f" {'bound':>10} {'eff':>5}  {'algo':<13}{'proto':<7}bottleneck")
    click.echo(f"# {'(B)':>12} {'(elements)':>12} {'':>6} {'(us)':>10} {'(GB/s)':>8} "
               f"{'(GB/s)':>8} {'(us)':>10}")
    for r, b in zip(rows, bounds):
        click.echo(f"  {r.size_bytes:>12} {_collective_count(op, r.size_bytes, r.ranks):>12} "
                   f"{'float':>6} {r.time_us:>10.2f} {r.algbw_GBps:>8.2f} {r.busbw_GBps:>8.2f}"
                   f" {b:>10.2f} {b / r.time_us:>5.0%}  {r.algo:<13}{r.protocol:<7}{r.bottleneck}")


@main.command()
@click.argument("topo")
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option("--op", default=None, metavar="OP", help="The collective, when RESULTS does not say.")
@click.option("--gpus", type=click.IntRange(min=2), default=None,
              help="Ranks of the run (default: the ranks RESULTS lists, else all GPUs).")
@click.option("--ranks", "ranks_file", type=click.Path(exists=True, dir_okay=False),
              help="Rank file of the run (JSON list or assignment).")
@click.option("--algo", default="auto", show_default=True, metavar="NAME",
              help="Algorithm to predict with (the run's NCCL_ALGO, or auto).")
@click.option("--sharp/--no-sharp", default=False, show_default=True,
              help="Allow InfiniBand SHARP in the prediction (the run's NCCL_COLLNET_ENABLE).")
@click.option("--nvls/--no-nvls", default=True, show_default=True,
              help="Allow NVLink SHARP in the prediction (--no-nvls: the run's "
                   "NCCL_NVLS_ENABLE=0).")
@_proto_option
@click.option("--nccl", default=None, metavar="VERSION", callback=_nccl_callback,
              help=_NCCL_HELP.replace("default the newest", "default the release RESULTS "
                                      "names (nccl-library=...), else the newest"))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_set_option
@pass_state
@_errors
def compare(state, topo, results, op, gpus, ranks_file, algo, sharp, nvls, proto, nccl, as_json,
            overrides):
    """Compare nccl-tests output RESULTS (text or -J JSON) with the prediction on TOPO."""
    from solvers.nccl_results import compare_results, parse_nccl_tests, run_release

    run = parse_nccl_tests(results)
    if gpus is None and ranks_file is None:
        gpus = run.ranks
    named = nccl is None and run.nccl_version is not None
    if nccl is None:
        nccl, note = run_release(run, state.catalog)
        if note:
            click.echo(note, err=True)
    try:
        model = _collective_model(state, topo, overrides, gpus, ranks_file, sharp, nvls=nvls,
                                  proto=proto, nccl=nccl)
    except ParameterError as exc:
        if named and exc.param == "nccl":
            msg = (f"RESULTS names NCCL {run.nccl_version}, and {exc}; pass --nccl to price "
                   f"the run under another release")
            raise ParameterError(msg, param="nccl") from None
        raise
    out = compare_results(model, run, op=op, algo=algo)
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"# {out['op']} on {topo}: {out['ranks']} ranks; measured vs predicted "
               f"(NCCL {out['nccl']} rules)")
    click.echo(f"# {'size':>12} {'time_meas':>10} {'time_pred':>10} {'busbw_meas':>10} "
               f"{'busbw_pred':>10} {'error':>8}  algo")
    for r in out["rows"]:
        err = "n/a" if r["busbw_error"] is None else f"{r['busbw_error']:+.1%}"
        click.echo(f"  {r['size_bytes']:>12} {r['measured_time_us']:>10.2f} "
                   f"{r['predicted_time_us']:>10.2f} {r['measured_busbw_GBps']:>10.2f} "
                   f"{r['predicted_busbw_GBps']:>10.2f} {err:>8}  {r['algo']}")
    for name, s in out["summary"].items():
        if s["rows"]:
            click.echo(f"# {name:<5} rows {s['rows']:>3}: mean |error| {s['mean_abs_error']:.1%}, "
                       f"max |error| {s['max_abs_error']:.1%}, mean error {s['mean_error']:+.1%}")


@main.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print {\"cases\": [...], \"regimes\": {...}} as JSON.")
@pass_state
@_errors
def accuracy(state, as_json):
    """Predict every published calibration case and print measured vs predicted.

    One row per case (system, op, algo, size, measured, predicted, error, the
    bound the tests assert), then a summary by regime: one box, one rack,
    multi-node, multi-rack, box and network latency, with the asserted cases
    and the information-only ones apart. Known misses are listed with their
    reason.
    """
    from fabric.export.report import percent_or_dash, size_label
    from solvers.accuracy import case_rows, regime_summary

    _progress("predicting the calibration cases ...")
    rows = case_rows(topologies.build_preset, state.catalog)
    summary = regime_summary(rows)
    if as_json:
        click.echo(json.dumps({"cases": rows, "regimes": summary}, indent=2))
        return
    click.echo(f"{'case':<9}{'system':<15}{'ranks':>5}  {'op':<14}{'algo':<15}{'size':>8}  "
               f"{'what':<11}{'measured':>9}{'predicted':>10}{'error':>8}{'bound':>7}")
    for r in rows:
        bound = "info" if r["bound"] is None else f"{r['bound']:.0%}"
        mark = "" if r["within"] is not False else "  OUTSIDE"
        click.echo(f"{r['case']:<9}{r['system']:<15}{r['ranks']:>5}  {r['op']:<14}{r['algo']:<15}"
                   f"{size_label(r['size_bytes']):>8}  {r['what']:<11}{r['measured']:>9.2f}"
                   f"{r['predicted']:>10.2f}{r['error']:>+8.1%}{bound:>7}{mark}")
    click.echo("")
    click.echo(f"{'regime':<16}{'cases':>6}{'within':>8}{'mean |err|':>12}{'max |err|':>11}"
               f"{'info rows':>12}{'info max |err|':>16}")
    for name, v in summary.items():
        click.echo(f"{name:<16}{v['cases']:>6}{v['within']:>8}"
                   f"{percent_or_dash(v['mean_abs_error']):>12}"
                   f"{percent_or_dash(v['max_abs_error']):>11}{v['info_rows']:>12}"
                   f"{percent_or_dash(v['info_max_abs_error']):>16}")
    misses = [r for r in rows if r["known_miss"]]
    for r in misses:
        click.echo(f"known miss {r['case']} ({r['system']}, {r['algo']}): {r['known_miss']}")


# --------------------------------------------------------------------------- exports
# diagrams (`fabric export` above uses the same registry)

@main.command()
@click.argument("topo")
@_set_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Diagram file, .svg or .png (written to a temporary name, then renamed).")
@_detail_option
@click.option("--domain", type=click.IntRange(min=0), default=None,
              help="With --detail rack: the NVLink domain id to draw (default: the first).")
@click.option("--title", default=None, help="Title of the diagram (default: the builder).")
@pass_state
@_errors
def draw(state, topo, overrides, output, detail, domain, title):
    """Draw TOPO as a one-page diagram (SVG or PNG, from the suffix of -o)."""
    from fabric.export import DIAGRAM_FORMATS, export as export_fabric

    suffix = os.path.splitext(output)[1].lstrip(".").lower()
    if suffix not in DIAGRAM_FORMATS:
        raise click.BadParameter(f"must end in .svg or .png, got {output!r}",
                                 param_hint="'-o' / '--output'")
    G = _load_topology(state, topo, overrides)
    _progress(f"drawing ({detail}) ...")
    export_fabric(G, output, suffix, detail=detail, domain=domain, title=title)
    click.echo(f"wrote {output}", err=True)


# --------------------------------------------------------------------------- solvers
# `fabric throughput`, `fabric place` and `fabric place-queue`

@main.command()
@click.argument("topo")
@click.option("--pattern", default="permutation", show_default=True, metavar="P",
              help="permutation, alltoall, ring, or a JSON matrix file "
                   '({"gpus": [...], "matrix": [[Gb/s...]]} or [{"src", "dst", "gbps"}]).')
@click.option("--gpus", type=click.IntRange(min=2), default=None,
              help="Use the first N GPUs in topology order (default: all).")
@click.option("--seed", default=0, show_default=True, help="Seed of the permutation.")
@click.option("--time-limit", "time_limit", type=_TIME_LIMIT,
              default=60.0, show_default=True, help="LP time limit, seconds.")
@click.option("--no-pxn", is_flag=True,
              help="Bind each GPU to its own NIC in the LP (default: any NIC of its domain).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_set_option
@pass_state
@_errors
def throughput(state, topo, pattern, gpus, seed, time_limit, no_pxn, as_json, overrides):
    """Maximum concurrent flow of a traffic pattern on TOPO: optimal (LP) and under ECMP."""
    from solvers.throughput import throughput as solve

    G = _load_topology(state, topo, overrides)
    _progress("solving the max-concurrent-flow LP ...")
    r = solve(G, pattern, gpus=gpus, seed=seed, time_limit_s=time_limit, pxn=not no_pxn)
    out = r.to_dict()
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"pattern              {out['pattern']} among {out['endpoints']:,} GPUs "
               f"({out['demand_gbps']:,.0f} Gb/s demand)")
    click.echo(f"optimal fraction     {out['optimal_fraction']:.4f}  ({out['solver']}, "
               f"{out['status']}, {out['solve_s']:.1f} s, {out['lp_vars']:,} variables)")
    click.echo(f"ECMP fraction        {out['ecmp_fraction']:.4f}  (max link utilization "
               f"{out['max_link_utilization']:.3f} on {out['ecmp_bottleneck']})")


def _place_traffic(job_args, model_params, tp_bytes, pp_bytes, dp_bytes, ep_bytes, dp_op):
    from solvers.collectives import parse_size
    from solvers.placement import job_traffic

    opts = ("--tp-bytes", "--pp-bytes", "--dp-bytes", "--ep-bytes")
    given = [None if x is None else parse_size(x, name=f"`{o}`")
             for x, o in zip((tp_bytes, pp_bytes, dp_bytes, ep_bytes), opts)]
    if model_params is None and all(x is None for x in given):
        return None
    tp, pp, dp, ep = job_args
    return job_traffic(tp, pp, dp, ep=ep, model_params=model_params, tp_bytes=given[0],
                       pp_bytes=given[1], dp_bytes=given[2], ep_bytes=given[3], dp_op=dp_op)


@main.command()
@click.argument("topo")
@click.option("--gpus", type=click.IntRange(min=1), required=True, help="GPUs of the job.")
@click.option("--tp", type=click.IntRange(min=1), required=True,
              help="Tensor-parallel degree (each group inside one NVLink domain).")
@click.option("--pp", type=click.IntRange(min=1), default=1, show_default=True,
              help="Pipeline-parallel degree.")
@click.option("--dp", type=click.IntRange(min=1), default=None,
              help="Data-parallel degree (default gpus / (tp * pp)).")
@click.option("--ep", type=click.IntRange(min=1), default=1, show_default=True,
              help="Expert-parallel degree (divides dp).")
@click.option("--model-params", type=_Finite(min=0, min_open=True, max=1e15), default=None,
              help="Model parameters (e.g. 70e9): derive the traffic per step from it.")
@click.option("--tp-bytes", default=None, metavar="SIZE", help="TP allreduce bytes per step.")
@click.option("--pp-bytes", default=None, metavar="SIZE", help="PP send/recv bytes per step.")
@click.option("--dp-bytes", default=None, metavar="SIZE", help="DP allreduce bytes per step.")
@click.option("--ep-bytes", default=None, metavar="SIZE", help="EP all-to-all bytes per step.")
@click.option("--dp-op", type=click.Choice(("allreduce", "zero")), default="allreduce",
              show_default=True, help="DP collective: allreduce, or zero (reduce-scatter + allgather).")
@click.option("--busy", "busy_file", type=click.Path(exists=True, dir_okay=False),
              help='Busy GPUs: JSON list of names or {"busy": [...]}.')
@click.option("--busy-fraction", type=_FRACTION, default=None,
              help="Mark this fraction of hosts busy at random (with --seed).")
@click.option("--seed", default=0, show_default=True,
              help="Seed of --busy-fraction, of CP-SAT and of the random baseline.")
@click.option("--time-limit", "time_limit", type=_TIME_LIMIT,
              default=30.0, show_default=True, help="CP-SAT time limit, seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the placement (readable by `fabric collective --ranks`).")
@_set_option
@pass_state
@_errors
def place(state, topo, gpus, tp, pp, dp, ep, model_params, tp_bytes, pp_bytes, dp_bytes,
          ep_bytes, dp_op, busy_file, busy_fraction, seed, time_limit, as_json, output, overrides):
    """Place a tp x pp x dp job on the free GPUs of TOPO with CP-SAT; compare with baselines."""
    from solvers.placement import busy as busy_gpus, place_job

    if busy_file is not None and busy_fraction is not None:
        raise click.UsageError("give --busy or --busy-fraction, not both")
    if dp is None and gpus % (tp * pp):
        raise click.UsageError(f"--gpus ({gpus}) must be a multiple of tp*pp = {tp * pp}")
    dp_val = dp if dp is not None else gpus // (tp * pp)
    traffic = _place_traffic((tp, pp, dp_val, ep), model_params, tp_bytes, pp_bytes, dp_bytes,
                             ep_bytes, dp_op)
    G = _load_topology(state, topo, overrides)
    busy = busy_gpus(G, file=busy_file, fraction=busy_fraction, seed=seed)
    _progress(f"placing {gpus:,} GPUs (tp {tp}, pp {pp}, dp {dp_val}) with {len(busy):,} busy ...")
    r = place_job(G, gpus=gpus, tp=tp, pp=pp, dp=dp, ep=ep, traffic=traffic, busy=busy,
                  time_limit_s=time_limit, seed=seed, catalog=state.catalog)
    out = r.to_dict()
    if output:
        from fabric.io import atomic_write

        with atomic_write(output) as fh:
            fh.write(json.dumps(out, indent=1))
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"status        {out['status']} ({out['solve_s']:.1f} s CP-SAT, "
               f"{out['total_s']:.1f} s total); {out['domains_used']:,} NVLink domains used")
    click.echo(f"objective     {out['objective_us']:,.1f} us/step (engine)  "
               + "  ".join(f"{k} {v:,.1f}" for k, v in out["breakdown_us"].items()))
    click.echo(f"proxy/bound   {out['proxy_us']:,.1f} / {out['bound_us']:,.1f} us, "
               f"gap {out['gap']:.2%}")
    from fabric.export.report import speedup_text

    for name, b in out["baselines"].items():
        if "objective_us" not in b:
            click.echo(f"{name:<13} not placed ({b.get('error', 'no placement')})")
            continue
        click.echo(f"{name:<13} {b['objective_us']:,.1f} us/step (CP-SAT "
                   f"{speedup_text(out['objective_us'], b['objective_us'], name)})")
    if output:
        click.echo(f"wrote {output}")



_QUEUE_HELP = """Place a queue of jobs in order on TOPO, each on what the previous ones left free.

\b
JOBS is a JSON list of jobs:
  [{"name": "a", "gpus": 1024, "tp": 8, "pp": 4, "dp": 32, "model_params": 70e9}, ...]
tp is required, and gpus or dp; pp and ep default to 1; name to job<i>.

\b
--json prints one object:
  jobs              one row per job, in order:
    job, name       index in the file and name
    status          "placed" or "not placed: <reason>"
    objective_us    engine communication time per step (null if not placed)
    gap             CP-SAT gap of the job's proxy (null if not placed)
    gpus            GPUs placed (0 if not placed)
    utilization     busy GPUs / GPUs after this job
    fragmentation   free GPUs that no TP group of 8 can use / free GPUs, after it
    free_gpus       free GPUs after it
  placed, not_placed   counts
  utilization, fragmentation   the cluster after the last job
-o FILE writes the same object with each placed job's "assignment" (rank -> GPU).
Exit status 1 when a job could not be placed (the output is still printed),
2 for bad input.
"""


@main.command("place-queue", help=_QUEUE_HELP)
@click.argument("topo")
@click.option("--jobs", "jobs_file", required=True, type=click.Path(dir_okay=False),
              help="JSON list of jobs (see above).")
@click.option("--busy", "busy_file", type=click.Path(exists=True, dir_okay=False),
              help='GPUs busy before the queue: JSON list of names or {"busy": [...]}.')
@click.option("--busy-fraction", type=_FRACTION, default=None,
              help="Mark this fraction of hosts busy at random before the queue (with --seed).")
@click.option("--seed", default=0, show_default=True, help="Seed of --busy-fraction and CP-SAT.")
@click.option("--time-limit", "time_limit", type=_TIME_LIMIT,
              default=30.0, show_default=True, help="CP-SAT time limit per job, seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys above).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the JSON object with every placed job's assignment.")
@_set_option
@pass_state
@_errors
def place_queue(state, topo, jobs_file, busy_file, busy_fraction, seed, time_limit, as_json,
                output, overrides):
    from solvers.placement import busy as busy_gpus, load_jobs_file, place_queue as run

    if busy_file is not None and busy_fraction is not None:
        raise click.UsageError("give --busy or --busy-fraction, not both")
    jobs = load_jobs_file(jobs_file)
    G = _load_topology(state, topo, overrides)
    busy = busy_gpus(G, file=busy_file, fraction=busy_fraction, seed=seed)
    _progress(f"placing {len(jobs)} job(s) with {len(busy):,} GPUs busy ...")
    rows = run(G, jobs, busy=busy, time_limit_s=time_limit, seed=seed, catalog=state.catalog,
               assignments=bool(output))
    failed = [r for r in rows if r["status"] != "placed"]
    last = rows[-1]
    out = {"jobs": [{k: v for k, v in r.items() if k != "assignment"} for r in rows],
           "placed": len(rows) - len(failed), "not_placed": len(failed),
           "utilization": last["utilization"], "fragmentation": last["fragmentation"]}
    if output:
        from fabric.io import atomic_write

        with atomic_write(output) as fh:
            fh.write(json.dumps({**out, "jobs": rows}, indent=1))
    if as_json:
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(f"{'job':<16} {'status':<10} {'GPUs':>7} {'objective us':>14} "
                   f"{'util':>6} {'frag':>6}")
        for r in rows:
            obj = "-" if r["objective_us"] is None else f"{r['objective_us']:,.1f}"
            status = "placed" if r["status"] == "placed" else "NOT PLACED"
            click.echo(f"{r['name'][:16]:<16} {status:<10} {r['gpus']:>7,} {obj:>14} "
                       f"{r['utilization']:>6.1%} {r['fragmentation']:>6.1%}")
        if output:
            click.echo(f"wrote {output}")
    if failed:
        why = "; ".join(f"{r['name']}: {r['status'][len('not placed: '):]}" for r in failed)
        raise click.ClickException(f"{len(failed)} of {len(rows)} job(s) not placed ({why})")


# --------------------------------------------------------------------------- sweeps
# `fabric sweep`

def _sweep_progress():
    """A progress callback printing ``done/total, failures, ETA`` lines on stderr."""
    def report(p):
        eta = p["eta_s"]
        eta_text = f"{eta:,.0f} s" if eta >= 1 or p["done"] == p["total"] else "<1 s"
        failed = f", {p['failed']} failed" if p["failed"] else ""
        click.echo(f"sweep: {p['done']}/{p['total']} points{failed}, ETA {eta_text}"
                   f" (point {p['point']} {p['status']})", err=True)
    return report


@main.command("sweep")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "directory", required=True, type=click.Path(file_okay=False),
              help="Directory for results.parquet/.csv, plots, index.html and points/ "
                   "(rerunning with the same directory skips the points already there).")
@click.option("--scheduler", default=None, metavar="ADDRESS|none",
              help="A running Dask scheduler's address (e.g. tcp://host:8786, dask-jobqueue "
                   "on Slurm), or `none` to run serially here. Default: a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local cluster (default: the cores; 1 = serial).")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON summary (points, failed points, rows, pareto points, out dir).")
@pass_state
@_errors
def sweep_command(state, spec, directory, scheduler, workers, as_json):
    """Sweep a design space (and a failure Monte Carlo) from the TOML SPEC with Dask.

    SPEC names a base preset, [fixed] parameters, [axes] lists and/or a [sample]
    of random points, the [[measure]] entries (metric, collective, throughput,
    placement) and optional [failures]; see examples/sweep.toml. One Dask task
    per point; a failing point is recorded with its error and the sweep goes on.
    """
    from solvers.sweep import load_sweep_spec, sweep

    parsed = load_sweep_spec(spec)
    if scheduler is not None and workers is not None and scheduler.lower() != "none":
        raise click.UsageError("--workers sizes the local cluster; not with --scheduler ADDRESS")
    df = sweep(parsed, directory, scheduler=scheduler, workers=workers,
               progress=_sweep_progress(), catalog=state.catalog,
               build=topologies.load)
    info = df.attrs["sweep"]
    out = {"points": info["points"], "failed_points": info["failed"], "rows": info["rows"],
           "pareto_points": info["pareto_points"], "skipped_points": info["skipped"],
           "workers": info["workers"], "seconds": info["seconds"], "out_dir": info["out_dir"]}
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"sweep of {parsed['base']}: {out['points']} points ({out['skipped_points']} "
               f"already stored, {out['failed_points']} failed), {out['rows']:,} rows, "
               f"{out['pareto_points']} on the Pareto front; {out['seconds']:.1f} s with "
               f"{out['workers']} worker(s)")
    failed = df[df["status"] != "ok"].drop_duplicates("point")
    for _, r in failed.head(10).iterrows():
        click.echo(f"  point {r['point']} failed: {r['error']}")
    click.echo(f"wrote {os.path.join(directory, 'index.html')}, results.parquet and "
               f"results.csv in {directory}")


_IMPORT_FORMATS = ("ibnetdiscover", "iblinkinfo", "lldp-json")


@main.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_IMPORT_FORMATS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Fabric file to write (.json or .graphml).")
@click.option("--gpu-topo", "gpu_topo", multiple=True, metavar="[HOST=]FILE",
              help="A host's `nvidia-smi topo -m` output (repeatable; HOST defaults to the "
                   "file name without its suffix): adds its GPUs, each joined to its nearest NIC.")
@pass_state
@_errors
def import_(state, fmt, file, output, gpu_topo):
    """Read a discovered fabric (FORMAT: ibnetdiscover or iblinkinfo output, or `lldpcli -f
    json show neighbors` output per system, see fabric.discovery.lldp) and write it as a
    fabric file for `fabric diff`."""
    from fabric.discovery import read_discovered

    G = read_discovered(fmt, file, catalog=state.catalog)
    if gpu_topo:
        from pathlib import Path

        from fabric.discovery.nvidia_smi import attach_gpus

        for item in gpu_topo:
            host, eq, path = item.partition("=")
            if not eq:
                host, path = Path(item).stem, item
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise ParameterError(f"--gpu-topo `{path}`: {exc.strerror or exc}") from None
            attach_gpus(G, host, text, source=path)
        fabric.validate_fabric(G)
    fabric.write_fabric(G, output, "graphml" if output.lower().endswith(".graphml") else "json")
    kinds = {}
    for _, k in G.nodes(data="kind"):
        kinds[k] = kinds.get(k, 0) + 1
    click.echo(f"wrote {output}: {', '.join(f'{n:,} {k}' for k, n in sorted(kinds.items()))}, "
               f"{G.number_of_edges():,} edges", err=True)
    for note in G.graph.get("notes", []):
        click.echo(f"note: {note}", err=True)


def _load_as_built(state, path, fmt, name_map=None):
    """A fabric file (any fabric of `fabric import`/`build`), or a discovery file in ``fmt``."""
    if name_map and not fmt:
        msg = ("`--map` names devices by the GUIDs of a discovery file: give `--format "
               "ibnetdiscover` or `--format iblinkinfo` with it")
        raise ParameterError(msg)
    if fmt:
        from fabric.discovery import read_discovered

        return read_discovered(fmt, path, catalog=state.catalog, name_map=name_map)
    from fabric.io import read_fabric

    return read_fabric(path)


@main.command()
@click.argument("design")
@click.argument("as_built", type=click.Path(exists=True, dir_okay=False))
@_set_option
@click.option("--format", "fmt", type=click.Choice(_IMPORT_FORMATS), default=None,
              help="AS_BUILT is a discovery file in this format (default: a fabric file "
                   "written by `fabric import`).")
@click.option("--map", "map_file", type=click.Path(exists=True, dir_okay=False),
              help='Match devices by GUID instead of by node description: a JSON object '
                   '{"device name": "GUID"} (with --format ibnetdiscover or iblinkinfo).')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--impact", is_flag=True,
              help="Also what the differences cost: the bisection bandwidth, and a ring "
                   "allreduce (1 GiB and 16 GiB) over all GPUs of each group of touched "
                   "NVLink domains (a domain whose NIC link differs, with an untouched "
                   "neighbour; all domains under a switch whose uplink differs), on the "
                   "design and on the design with the differences applied (GB/s and "
                   "percent lost).")
@pass_state
@_errors
def diff(state, design, as_built, overrides, fmt, map_file, as_json, impact):
    """Compare the network links of DESIGN (a preset, spec or fabric file) and AS_BUILT port
    by port: missing, extra, miscabled, swapped, wrong rail/plane, degraded links and unknown
    devices. Exit status 0 when identical, 1 when they differ, 2 when the comparison
    could not be made (as diff(1))."""
    from fabric.discovery.diff import diff_fabrics, format_diff

    try:
        G = _load_topology(state, design, overrides)
        name_map = None
        if map_file is not None:
            from fabric.discovery import read_name_map

            name_map = read_name_map(map_file)
        H = _load_as_built(state, as_built, fmt, name_map)
        result = diff_fabrics(G, H)
        if impact:
            from solvers.impact import diff_impact

            result["impact"] = diff_impact(G, result, catalog=state.catalog).as_dict()
    except FabricError as exc:
        if isinstance(exc, ParameterError):
            raise
        err = click.ClickException(str(exc))
        err.exit_code = 2                      # 1 means "they differ"
        raise err from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_diff(result))
    if not result["identical"]:
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
