"""The HTML page of ``fabric report`` and the data files it links, written from plain data.

:func:`write_report_page` writes ``index.html``: the fabric's key numbers and
diagram, its structure, metrics and bill of materials, a collective sweep
(table and busbw-vs-size plot), the placement of a training job and the
scheduler files. Everything it shows arrives as plain data (the
:func:`fabric.metrics.fabric_metrics` dict, collective rows, a placement
dict, file names); the numbers are gathered by :func:`solvers.study.write_report`,
which calls the functions here in order. Nothing here takes a graph.

Every file is written to a temporary name and renamed; ``index.html`` is
written last, so a page that exists links only files that exist.
:func:`solvers.study.write_report` writes them all into a hidden staging
directory (:func:`staged_report_directory`) renamed into place at the end,
so a failed or interrupted report leaves nothing, and a replaced report
never mixes old files with new ones.
"""

import csv
import html
import io
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from fabric.exceptions import FabricError
from fabric.io import atomic_write

__all__ = ["SCHEDULER_FILES", "REPORT_FILES", "report_directory", "staged_report_directory",
           "write_json", "write_csv",
           "write_metrics_files", "write_collective_files", "write_report_page",
           "coinciding_series", "sig3", "ratio_text", "speedup_text"]

SCHEDULER_FILES = (("slurm-tree", "topology.conf"), ("slurm-block", "topology-block.conf"),
                   ("slurm-yaml", "topology.yaml"), ("k8s-labels", "k8s-labels.yaml"),
                   ("kueue-topology", "kueue-topology.yaml"))
"""The scheduler files of a report: (export format, file name)."""


def report_directory(directory):
    """Create the report directory if missing and check that it is writable.

    Parameters
    ----------
    directory : str or Path

    Returns
    -------
    Path

    Raises
    ------
    FabricError
        When the directory cannot be created or is not writable.
    """
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create report directory `{out}`: {exc.strerror or exc}"
        raise FabricError(msg) from None
    if not os.access(out, os.W_OK):
        msg = f"report directory `{out}` is not writable"
        raise FabricError(msg)
    return out


REPORT_FILES = frozenset({"index.html", "metrics.json", "bom.csv", "collectives.csv",
                          "busbw.svg", "accuracy.csv", "accuracy.svg", "diagram.svg", "rack.svg",
                          "placement.json", *(name for _, name in SCHEDULER_FILES)})
"""Every file a report may hold; a directory holding only these may be replaced by a new one."""


def _existing_ancestor(path):
    for parent in path.parents:
        if parent.is_dir():
            return parent
    return Path("/")


def _check_target(out):
    """Refuse a target that is not a directory, or holds files a report did not write."""
    if not out.exists():
        if out.is_symlink():
            msg = f"cannot write report directory `{out}`: it is a dangling symbolic link"
            raise FabricError(msg)
        return []
    if not out.is_dir():
        msg = f"cannot write report directory `{out}`: it is a file; give a directory path"
        raise FabricError(msg)
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        msg = f"cannot read report directory `{out}`: {exc.strerror or exc}"
        raise FabricError(msg) from None
    foreign = sorted(p.name for p in entries
                     if p.name not in REPORT_FILES or p.is_symlink() or not p.is_file())
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        msg = (f"report directory `{out}` exists and holds files that are not part of a fabric "
               f"report ({shown}); give a new or empty directory (a previous report's "
               f"directory is replaced as a whole)")
        raise FabricError(msg)
    return entries


@contextmanager
def staged_report_directory(directory):
    """Yield a hidden staging directory that replaces ``directory`` only when the block succeeds.

    The report is written into ``.NAME.XXXXXXXX.tmp`` next to ``directory``
    (in its nearest existing parent); on success the staging directory is
    renamed to ``directory`` (a previous report there is replaced as a whole,
    so old and new files never mix); on any exception, including Ctrl-C and
    SIGTERM, it is removed and ``directory`` is left as it was. A directory
    that holds anything but report files (:data:`REPORT_FILES`) is refused
    before anything is written. SIGKILL cannot be handled: it can leave the
    hidden staging directory, never a half-written report.

    Parameters
    ----------
    directory : str or Path

    Yields
    ------
    Path
        The staging directory to write into.

    Raises
    ------
    FabricError
        When ``directory`` is a file, holds files a report did not write, or
        cannot be created or written.
    """
    out = Path(os.path.realpath(directory))     # a symbolic link: its target is replaced
    _check_target(out)
    anchor = _existing_ancestor(out)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=anchor))
    except OSError as exc:
        msg = f"cannot create report directory `{out}`: {exc.strerror or exc}"
        raise FabricError(msg) from None
    try:
        yield stage
        _commit(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _commit(stage, out):
    os.chmod(stage, 0o777 & ~_umask())           # mkdtemp makes 0700; give a normal mode
    entries = _check_target(out)                 # again: the directory may have changed
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            os.rename(stage, out)
            return
        if out == Path.cwd().resolve() or out.is_mount():
            _replace_files(stage, out, entries)  # cannot move the working directory away
            return
        backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rename(out, backup / out.name)
        try:
            os.rename(stage, out)
        except BaseException:
            os.rename(backup / out.name, out)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    except OSError as exc:
        msg = f"cannot write report directory `{out}`: {exc.strerror or exc}"
        raise FabricError(msg) from None


def _replace_files(stage, out, old):
    """Replace a previous report file by file: stale files first, ``index.html`` last."""
    new = {p.name for p in stage.iterdir()}
    for p in old:
        if p.name not in new or p.name == "index.html":
            p.unlink(missing_ok=True)
    for name in sorted(new - {"index.html"}) + sorted(new & {"index.html"}):
        os.replace(stage / name, out / name)
    shutil.rmtree(stage, ignore_errors=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_metrics_files(out, metrics):
    """Write ``metrics.json`` and ``bom.csv`` (the bill of materials) into ``out``.

    Parameters
    ----------
    out : Path
        The report directory.
    metrics : dict
        :func:`fabric.metrics.fabric_metrics` of the fabric.

    Returns
    -------
    dict
        File name -> path of the files written.
    """
    write_json(out / "metrics.json", metrics)
    bom_rows = [{"category": c, "part": p, "count": n}
                for c, parts in metrics["bom"]["parts"].items() for p, n in parts.items()]
    bom_rows += [{"category": "cable", "part": p, "count": n}
                 for p, n in metrics["bom"]["cables"].items()]
    bom_rows += [{"category": "optic", "part": p, "count": n}
                 for p, n in metrics["bom"]["optics"].items()]
    write_csv(out / "bom.csv", bom_rows, ["category", "part", "count"])
    return {"metrics.json": out / "metrics.json", "bom.csv": out / "bom.csv"}


_COLLECTIVE_FIELDS = ["communicator", "op", "algo", "protocol", "ranks", "size_bytes", "time_us",
                      "algbw_GBps", "busbw_GBps", "bottleneck", "nccl"]


def write_collective_files(out, rows, ops):
    """Write ``collectives.csv`` (the sweep) and ``busbw.svg`` (busbw vs size) into ``out``.

    Parameters
    ----------
    out : Path
        The report directory.
    rows : list of dict
        One dict per (communicator, op, size): the keys of ``collectives.csv``.
    ops : sequence of str
        The operations plotted, in legend order.

    Returns
    -------
    dict
        File name -> path of the files written.
    """
    write_csv(out / "collectives.csv", rows, _COLLECTIVE_FIELDS)
    _plot_busbw(rows, out / "busbw.svg", ops)
    return {"collectives.csv": out / "collectives.csv", "busbw.svg": out / "busbw.svg"}


def _plot_busbw(rows, path, ops):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    comms = list(dict.fromkeys(r["communicator"] for r in rows))
    # A fixed hash salt and no date: the same rows give a byte-identical SVG on every run.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fabric"}):
        buf = _busbw_svg(plt, rows, comms, ops)
    with atomic_write(path) as fh:
        fh.write(buf)


_SERIES_STYLE = (("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-"), ("x", "--"))
"""Marker and line style per plotted operation, so series with equal values stay visible."""


def coinciding_series(rows, comm, ops):
    """Pairs of ``ops`` whose busbw curves on communicator ``comm`` are identical (to 0.1%)."""
    curves = {op: [(r["size_bytes"], r["busbw_GBps"]) for r in rows
                   if r["communicator"] == comm and r["op"] == op] for op in ops}
    same = []
    names = [op for op in ops if curves[op]]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ca, cb = curves[a], curves[b]
            if len(ca) == len(cb) and all(
                    sa == sb and abs(va - vb) <= 1e-3 * max(abs(va), abs(vb), 1e-12)
                    for (sa, va), (sb, vb) in zip(ca, cb)):
                same.append((a, b))
    return same


def _busbw_svg(plt, rows, comms, ops):
    fig, axes = plt.subplots(1, len(comms), figsize=(6.5 * len(comms), 4.2), squeeze=False)
    for ax, comm in zip(axes[0], comms):
        same = coinciding_series(rows, comm, ops)
        for i, op in enumerate(ops):
            pts = [(r["size_bytes"], r["busbw_GBps"]) for r in rows
                   if r["communicator"] == comm and r["op"] == op]
            if not pts:
                continue
            marker, ls = _SERIES_STYLE[i % len(_SERIES_STYLE)]
            twin = [a for a, b in same if b == op]
            label = f"{op} (= {twin[0]})" if twin else op
            # later series drawn smaller and hollow so an identical earlier one shows through
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, ls=ls,
                    ms=max(7 - 1.5 * i, 3), mfc="none" if i else None, lw=1.4, label=label,
                    zorder=3 + i)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel("predicted busbw (GB/s)")
        ax.set_title(comm, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _svg_text(plt, fig)


def _svg_text(plt, fig):
    """The figure as SVG text, without a date (same figure, same bytes); closes it."""
    fig.tight_layout()
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


_ACCURACY_FIELDS = ("case", "system", "ranks", "op", "algo", "size_bytes", "what", "measured",
                    "predicted", "error", "bound", "within", "regime", "grade", "note",
                    "known_miss", "nccl")
_REGIME_COLORS = {"one box": "#1f77b4", "one rack": "#d62728", "multi-node": "#2ca02c",
                  "multi-rack": "#8c564b", "box latency": "#9467bd",
                  "network latency": "#ff7f0e"}


def write_accuracy_files(out, cases):
    """Write ``accuracy.csv`` and the predicted-vs-measured plot ``accuracy.svg``.

    Parameters
    ----------
    out : Path
        The report directory.
    cases : list of dict
        :func:`solvers.accuracy.case_rows` output (plain data).

    Returns
    -------
    dict
        File name -> path of the files written.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    write_csv(out / "accuracy.csv", cases, _ACCURACY_FIELDS)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fabric"}):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
        for ax, what, unit in ((axes[0], "busbw_GBps", "busbw (GB/s)"),
                               (axes[1], "time_us", "time per call (us)")):
            pts = [c for c in cases if c["what"] == what]
            for regime in sorted({c["regime"] for c in pts}):
                sel = [c for c in pts if c["regime"] == regime]
                asserted = [c for c in sel if c["bound"] is not None]
                info = [c for c in sel if c["bound"] is None]
                color = _REGIME_COLORS.get(regime, "#333333")
                if asserted:
                    ax.scatter([c["measured"] for c in asserted],
                               [c["predicted"] for c in asserted], s=18, color=color,
                               label=f"{regime} ({len(asserted)})")
                if info:
                    ax.scatter([c["measured"] for c in info], [c["predicted"] for c in info],
                               s=18, facecolors="none", edgecolors=color,
                               label=None if asserted else f"{regime} (info, {len(info)})")
            if pts:
                lo = min(min(c["measured"], c["predicted"]) for c in pts) * 0.8
                hi = max(max(c["measured"], c["predicted"]) for c in pts) * 1.25
                ax.plot([lo, hi], [lo, hi], color="#444444", lw=0.8)
                for f in (0.9, 1.1):
                    ax.plot([lo, hi], [lo * f, hi * f], color="#999999", lw=0.6, ls="--")
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlim(lo, hi)
                ax.set_ylim(lo, hi)
            ax.set_xlabel(f"measured {unit}")
            ax.set_ylabel(f"predicted {unit}")
            ax.grid(True, alpha=0.3, which="both")
            ax.legend(fontsize=8, loc="upper left")
        axes[0].set_title("large messages (line: equal; dashed: +-10%)", fontsize=10)
        axes[1].set_title("latency and mid sizes (hollow: not asserted)", fontsize=10)
        text = _svg_text(plt, fig)
    with atomic_write(out / "accuracy.svg") as fh:
        fh.write(text)
    return {"accuracy.csv": out / "accuracy.csv", "accuracy.svg": out / "accuracy.svg"}


def percent_or_dash(x):
    """``x`` as a percentage with one decimal, or "-" when there is none."""
    return "-" if x is None else f"{x:.1%}"


def _accuracy_section(acc):
    rows = [(name, v["cases"], v["within"], percent_or_dash(v["mean_abs_error"]),
             percent_or_dash(v["max_abs_error"]), v["info_rows"],
             percent_or_dash(v["info_max_abs_error"]))
            for name, v in acc["regimes"].items()]
    misses = [c for c in acc["cases"] if c.get("known_miss")]
    html_ = ("<img src='accuracy.svg' alt='predicted vs measured'>"
             + _table(("regime", "asserted cases", "within bound", "mean |error|",
                       "max |error|", "info rows", "info max |error|"), rows))
    if misses:
        html_ += "<p class='note'>Known misses: " + "; ".join(
            html.escape(f"{c['case']} ({c['system']}, {c['algo']}, {c['error']:+.1%}): "
                        f"{c['known_miss']}") for c in misses) + ".</p>"
    html_ += ("<p class='note'>Every published nccl-tests case the model is held against "
              "(<a href='accuracy.csv'>accuracy.csv</a>; <code>fabric accuracy</code> prints "
              "the same table). Information cases are printed, not asserted: the multi-rack "
              "regime (NVL72 racks on InfiniBand) has only those, so its predictions are "
              "reported unvalidated. Cross-site (WAN) predictions have no published case: "
              "they follow from propagation and the per-channel window, unvalidated.</p>")
    return html_


def write_csv(path, rows, fields):
    """Write ``rows`` (dicts) as CSV with the columns ``fields``, atomically."""
    with atomic_write(path) as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_json(path, obj):
    """Write ``obj`` as indented JSON (``str`` of what JSON cannot hold), atomically."""
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=2, default=str)


def _table(headers, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(x, digits=1):
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def sig3(x):
    """A number for people: 3 significant digits below 100, a whole number with thousands
    separators from 100 up (``0.996094`` -> ``0.996``, ``400.00000000051017`` -> ``400``)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) or abs(x) >= 100:
        return f"{round(x):,}"
    if x == 0:
        return "0"
    text = f"{x:.3g}"
    return f"{float(text):,g}" if "e" in text else text


def ratio_text(x):
    """A ratio such as oversubscription, 3 significant digits: ``1.00:1``, ``36.0:1``."""
    if x >= 100:
        return f"{round(x):,}:1"
    return f"{x:#.3g}".rstrip(".") + ":1"


def speedup_text(ours_us, baseline_us, baseline):
    """CP-SAT against one baseline, the one form `fabric place` and the report both print:
    ``1.72x faster than first-fit`` (times per step in us)."""
    name = baseline.replace("_", "-")
    if not ours_us or not baseline_us:
        return f"not comparable with {name}"
    r = baseline_us / ours_us
    if abs(r - 1) < 0.005:
        return f"as fast as {name}"
    if r > 1:
        return f"{r:,.2f}x faster than {name}"
    return f"{1 / r:,.2f}x slower than {name}"


def _value_text(v):
    """A parameter value for people: no Python or JSON reprs."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "default"
    if isinstance(v, float):
        return f"{v:,g}" if v >= 100 or v == int(v) else sig3(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value_text(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v):
            return "; ".join(f"site {i}: {_value_text(x)}" for i, x in enumerate(v))
        return ", ".join(_value_text(x) for x in v)
    return str(v)


def write_report_page(out, *, metrics, collectives, diagrams, placement, scheduler, files,
                      elapsed, accuracy=None, title=None, site_bisection=None, wan=None):
    """Write ``index.html`` into ``out``, linking the files already written there.

    Parameters
    ----------
    out : Path
        The report directory.
    metrics : dict
        :func:`fabric.metrics.fabric_metrics` of the fabric.
    collectives : list of dict
        The rows of ``collectives.csv``.
    diagrams : list of str
        File names of the diagrams written: ``diagram.svg`` and, for a fabric
        with NVLink switches, ``rack.svg`` (both shown on the page).
    placement : dict
        ``job`` (``gpus``, ``tp``, ``pp``, ``dp``; None when the fabric is too
        small for a job), ``model_params``, ``busy_fraction``, ``seed``, and
        either ``result`` (the placement's ``to_dict()``) or ``error`` (why
        the job was not placed).
    scheduler : list of tuple
        ``(format, file name, error)`` per scheduler file; ``error`` is None
        when the file was written.
    files : dict
        File name -> path of every file written so far (the page lists them).
    elapsed : float
        Seconds the report took, shown on the page.
    accuracy : dict, optional
        ``cases`` (rows of ``accuracy.csv``) and ``regimes`` (summary by
        regime): the section "Accuracy of the collective model".
    title : str, optional
        The page's title (the preset's name and summary; default: the builder's name).
    site_bisection : list of dict, optional
        Per site of a multi-site fabric: ``site`` and the keys of
        :func:`fabric.metrics.bisection_bandwidth` inside it.
    wan : dict, optional
        ``site`` (the site of the WAN ratio), ``inject_gbps`` (its GPUs'
        network injection) and ``wan_gbps`` (the WAN capacity leaving it).

    Returns
    -------
    Path
        The page's path.

    Raises
    ------
    FabricError
        When the page cannot be written.
    """
    sections = {"diagram": _diagram_section(diagrams),
                "placement": _placement_section(placement),
                "scheduler": _scheduler_section(out, scheduler, files)}
    if accuracy:
        sections["accuracy"] = _accuracy_section(accuracy)
    page = _page(metrics, collectives, sections, files, elapsed,
                 title=title, site_bisection=site_bisection or [], wan=wan)
    with atomic_write(out / "index.html") as fh:
        fh.write(page)
    return out / "index.html"


def _diagram_section(diagrams):
    html_ = "<img src='diagram.svg' alt='fabric diagram'>"
    if "rack.svg" in diagrams:
        html_ += ("<h3>One NVLink domain</h3><p class='note'>Trays in rack order with the "
                  "NVLink switch trays in the middle; each NVLink bundle joins a compute tray "
                  "to a switch tray and is labelled with its link count; C2C links join each "
                  "CPU to its GPUs inside a tray (<a href='rack.svg'>rack.svg</a>).</p>"
                  "<img class='rack' src='rack.svg' alt='one NVLink domain, tray by tray'>")
    return html_


def _placement_section(p):
    esc = html.escape
    job = p["job"]
    if job is None:
        return "<p>The fabric is too small for a representative training job.</p>"
    busy_fraction, seed, model_params = p["busy_fraction"], p["seed"], p["model_params"]
    if p.get("error") is not None:
        return (f"<p>Job of {job['gpus']:,} GPUs (tp {job['tp']}, pp {job['pp']}, dp "
                f"{job['dp']}) with {busy_fraction:.0%} of hosts busy: not placed: "
                f"{esc(p['error'])}</p>")
    r = p["result"]
    rows = [("CP-SAT (fabric)", _fmt(r["objective_us"]), "")]
    for name, b in r["baselines"].items():
        if "objective_us" in b:
            rows.append((name.replace("_", "-"), _fmt(b["objective_us"]),
                         "CP-SAT " + speedup_text(r["objective_us"], b["objective_us"], name)))
        else:
            rows.append((name.replace("_", "-"), "-", b.get("error", "")))
    part = (f"<p>A {model_params / 1e9:,.0f}B-parameter training job on {job['gpus']:,} GPUs "
            f"(tp {job['tp']}, pp {job['pp']}, dp {job['dp']}; ranks in Megatron order) on the "
            f"cluster with {busy_fraction:.0%} of hosts busy (seed {seed}). Objective: "
            f"predicted communication time per step, re-evaluated with the collective engine. "
            f"CP-SAT status {esc(r['status'])}, bound {r['bound_us']:,.1f} us, gap "
            f"{r['gap']:.1%}, solve {r['solve_s']:.1f} s; {r['domains_used']:,} NVLink domains "
            f"used.</p>")
    part += _table(["placement", "comm time per step (us)", "comparison"], rows)
    part += _table(["communicator", "time per step (us)"],
                   [(k, _fmt(v)) for k, v in r["breakdown_us"].items() if v])
    part += ("<p class='note'>Rank to GPU assignment in <a href='placement.json'>placement.json"
             "</a> (feeds <code>fabric collective --ranks</code>).</p>")
    return part


def _scheduler_section(out, scheduler, files):
    written = []
    for fmt, name, error in scheduler:
        if error is not None:
            written.append(f"<li>{html.escape(name)}: not written ({html.escape(error)})</li>")
            continue
        written.append(f"<li><a href='{name}'>{name}</a> ({fmt})</li>")
    head = ""
    if "topology.conf" in files:
        # the header's parameter line may hold a list of site tables: not for the page
        lines = [line for line in (out / "topology.conf").read_text(encoding="utf-8").splitlines()
                 if not (line.startswith("#") and ("{" in line or "[" in line))]
        head = ("<p>Slurm <code>topology.conf</code> (tree plugin), first lines:</p><pre>"
                + html.escape("\n".join(lines[:14])) + "</pre>")
    return "<ul>" + "".join(written) + "</ul>" + head


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #76b900;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.1em;margin:1.2em 0 .2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.params td,table.params th{text-align:left}
td.num{text-align:right}
.kpi{display:flex;flex-wrap:wrap;gap:1em}.kpi div{background:#f6f8f2;border:1px solid #dde5cf;
padding:.6em 1em;border-radius:6px}.kpi b{display:block;font-size:1.3em}
.note{color:#666;font-size:.85em}img{max-width:100%;border:1px solid #eee}
code{background:#f4f4f4;padding:0 .3em}pre{overflow-x:auto;background:#fafafa;
border:1px solid #eee;padding:.5em;font-size:.8em}
"""


def _oversubscription_rows(over, wan):
    """One row per tier: down:up in words; the WAN ratio explained as injection vs capacity."""
    rows = []
    tiers = [t for t in over if t != "wan"]
    for tier in tiers:
        v = over[tier]
        text = f"{ratio_text(v)} (down:up)"
        if "wan" in over and tier == tiers[-1]:
            text += "; its uplinks go to the site's WAN routers"
        elif v < 1:
            text += "; more uplink than downlink (a partly populated fabric)"
        elif abs(v - 1) < 0.005:
            text += "; non-blocking"
        rows.append((f"oversubscription {tier}", text))
    if "wan" in over:
        text = f"{ratio_text(over['wan'])}"
        if wan:
            text += (f": the GPUs of site {wan['site']} can send {sig3(wan['inject_gbps'])} Gb/s "
                     f"into its network, and {sig3(wan['wan_gbps'])} Gb/s of WAN leave the site "
                     f"(site injection : WAN capacity, the worst site)")
        else:
            text += ": a site's GPU injection bandwidth over the WAN capacity leaving it"
        rows.append(("oversubscription WAN", text))
    return rows


def _page(s, rows, sections, files, elapsed, *, title=None, site_bisection=(), wan=None):
    esc = html.escape
    title = title or s["builder"].removesuffix("_graph").replace("_", " ")
    def per_gpu(v):
        lo, hi = (v["min"], v["max"]) if isinstance(v, dict) else (v, v)
        return f"{lo / 8:,.0f} GB/s" if lo == hi else f"{lo / 8:,.0f}-{hi / 8:,.0f} GB/s"

    multi = bool(site_bisection)
    kpis = [("GPUs", f"{s['gpus']:,}"), ("hosts", f"{s['hosts']:,}"),
            ("NVLink / GPU / direction", per_gpu(s["gpu_scaleup_gbps"])),
            ("network / GPU / direction", per_gpu(s["gpu_scaleout_gbps"])),
            ("bisection across the WAN" if multi else "bisection",
             f"{s['bisection_gbps'] / 1000:,.1f} Tb/s"),
            ("power", f"{s['power_w']['total'] / 1e6:,.2f} MW"),
            ("cost (estimate)", f"${s['cost_usd']['total'] / 1e6:,.0f}M")]
    if multi:
        lo = min(b["bisection_gbps"] for b in site_bisection)
        kpis.insert(5, ("bisection inside each site", f"{lo / 1000:,.1f} Tb/s" + (
            "" if all(b["bisection_gbps"] == lo for b in site_bisection) else " (smallest)")))
    params = [(k, _value_text(v)) for k, v in s["params"].items() if v is not None]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             f"<p class='note'>builder <code>{esc(s['builder'])}</code>; catalog "
             f"{esc(str(s['catalog_version']))}; schema {s['schema_version']}; generated in "
             f"{elapsed:.1f} s</p>",
             "<div class='kpi'>" + "".join(f"<div>{esc(k)}<b>{esc(v)}</b></div>" for k, v in kpis)
             + "</div>"]
    if params:
        parts.append("<h3>Parameters</h3>" + _table(["parameter", "value"], params)
                     .replace("<table>", "<table class='params'>", 1))
    if "diagram" in sections:
        parts.append("<h2>Diagram</h2>" + sections["diagram"])
    parts.append("<h2>Structure</h2>")
    parts.append(_table(["kind", "nodes"], [(k, _fmt(v)) for k, v in s["nodes_by_kind"].items()]))
    parts.append(_table(["medium", "physical links"],
                        [(k, _fmt(v)) for k, v in s["links_by_medium"].items()]))
    b = s["bisection"]
    hist = ", ".join(f"{h} hops: {v:.1%}" for h, v in s["diameter_hops"]["histogram"].items())
    over = _oversubscription_rows(s["oversubscription"], wan) or [
        ("oversubscription", "none (no switch tier)")]
    where = " across the WAN" if multi else ""
    bis = [(f"bisection bandwidth{where}",
            f"{sig3(b['bisection_gbps'])} Gb/s ({b['method']}; halves of "
            f"{b['halves_gpus'][0]:,} / {b['halves_gpus'][1]:,} GPUs)"),
           (f"bisection per GPU{where}", f"{sig3(b['per_gpu_gbps'])} Gb/s")]
    for sb in site_bisection:
        bis.append((f"bisection inside site {sb['site']}",
                    f"{sig3(sb['bisection_gbps'])} Gb/s, {sig3(sb['per_gpu_gbps'])} Gb/s per GPU "
                    f"({sb['method']}; halves of {sb['halves_gpus'][0]:,} / "
                    f"{sb['halves_gpus'][1]:,} GPUs)"))
    parts.append("<h2>Metrics</h2>" + _table(["metric", "value"], [
        *bis,
        *over,
        ("GPU-GPU hops", f"max {s['diameter_hops']['max']}; {hist}"),
        *[(f"ECMP paths ({p['relation']})", f"{p['paths']:,} shortest paths of {p['hops']} hops")
          for p in s["ecmp_paths"]],
        ("power", f"{s['power_w']['total'] / 1e3:,.1f} kW ({s['power_w']['per_gpu']:,.0f} W "
                  f"per GPU)"),
        ("cost (ESTIMATE)", f"${s['cost_usd']['total']:,.0f} (${s['cost_usd']['per_gpu']:,.0f} "
                            f"per GPU)"),
    ]).replace("<table>", "<table class='params'>", 1))
    if multi:
        parts.append("<p class='note'>The headline bisection splits the NVLink domains in two "
                     "halves, which for several sites is the cut across the WAN; the bisection "
                     "inside each site splits that site's domains alone.</p>")
    parts.append(f"<p class='note'>Power: {esc(s['power_w']['note'])}. Cost: catalog street-price "
                 f"estimates (no authoritative prices exist); unpriced: "
                 f"{esc(', '.join(s['cost_usd']['unpriced']) or 'none')}.</p>")
    parts.append("<h2>Bill of materials</h2>")
    bom = s["bom"]
    parts.append(_table(["category", "part", "count"],
                        [(c, p, _fmt(n)) for c, ps in bom["parts"].items() for p, n in ps.items()]
                        + [("cable", p, _fmt(n)) for p, n in bom["cables"].items()]
                        + [("optic", p, _fmt(n)) for p, n in bom["optics"].items()]))
    parts.append(_table(["network tier", "physical links"],
                        [(k, _fmt(v)) for k, v in bom["links_by_tier"].items()]))
    parts.append("<h2>Collectives (predicted, nccl-tests definitions)</h2>")
    parts.append("<img src='busbw.svg' alt='predicted busbw vs message size'>")
    comms = list(dict.fromkeys(r["communicator"] for r in rows))
    ops = list(dict.fromkeys(r["op"] for r in rows))
    same = [(c, a, b_) for c in comms for a, b_ in coinciding_series(rows, c, ops)]
    if same:
        parts.append("<p class='note'>Identical curves (drawn with different markers, one "
                     "over the other): " + "; ".join(
                         esc(f"{a} and {b_} on {c}") for c, a, b_ in same)
                     + " (nccl-tests' busbw makes them equal when both move the same bytes "
                       "per link).</p>")
    pick = [r for r in rows if r["size_bytes"] in (8, 1 << 21, 1 << 27, 1 << 33)]
    parts.append(_table(["communicator", "op", "size", "algorithm", "time (us)", "algbw (GB/s)",
                         "busbw (GB/s)"],
                        [(r["communicator"], r["op"], size_label(r["size_bytes"]), r["algo"],
                          _fmt(r["time_us"]), _fmt(r["algbw_GBps"], 2), _fmt(r["busbw_GBps"], 2))
                         for r in pick]))
    parts.append("<p class='note'>Full sweep (8 B up to 16 GiB by factors of 4, as "
                 "<code>nccl-tests -b 8 -e 16G -f 4</code>) in "
                 "<a href='collectives.csv'>collectives.csv</a>. Model: each algorithm's flows "
                 "routed on the graph, busiest link / usable rate plus NCCL's latency terms, "
                 + (f"under NCCL {esc(rows[0]['nccl'])}'s rules (<code>fabric collective "
                    "--nccl</code> prices another release); " if rows and "nccl" in rows[0]
                    else "") +
                 "held against published nccl-tests results by regime (<code>fabric "
                 "accuracy</code>, tests/test_accuracy.py"
                 + (", and the section Accuracy of the collective model"
                    if "accuracy" in sections else "")
                 + "). Regimes with no asserted case (several NVL72 racks on a network, "
                 "cross-site) are predictions, not validated.</p>")
    for key, heading in (("accuracy", "Accuracy of the collective model"),
                         ("placement", "Placement of a training job"),
                         ("scheduler", "Scheduler files")):
        if key in sections:
            parts.append(f"<h2>{heading}</h2>" + sections[key])
    scheduler_names = {name for _, name in SCHEDULER_FILES}
    parts.append("<h2>Data files</h2><ul>" + "".join(
        f"<li><a href='{esc(name)}'>{esc(name)}</a></li>" for name in sorted(files)
        if name != "index.html" and name not in scheduler_names)
        + "</ul><p class='note'>The scheduler files are listed above.</p>")
    if s["notes"]:
        parts.append("<h2>Modelling notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>"
                                                            for n in s["notes"]) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def size_label(n):
    """A byte count as people write it: ``16 GiB``, ``512 MiB``, ``8 B``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"
