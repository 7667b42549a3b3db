"""The ``fabric`` command line: translates options, calls the library, formats results.

Library errors become ``Error: ...`` with exit status 2 for usage errors
(a parameter outside its bounds) and 1 for everything else; never a traceback.
"""

import functools
import json
import os
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


def _load_topology(state, topo, overrides):
    """A preset name (with --set overrides) or a fabric file written by build/export."""
    sets = topologies.parse_overrides(overrides)
    if os.path.exists(topo) and topo not in topologies.TOPOLOGIES:
        if sets:
            msg = "`--set` applies to presets only, not to a fabric file"
            raise ParameterError(msg)
        return fabric.read_fabric(topo)
    if topo not in topologies.TOPOLOGIES:
        msg = (f"`TOPO` {topo!r} is neither a preset nor an existing file; presets: "
               f"{', '.join(topologies.TOPOLOGIES)}")
        raise ParameterError(msg)
    return topologies.build_preset(topo, sets, catalog=state.catalog)


_set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a preset parameter (repeatable); see `fabric presets`.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--catalog", "catalog_path", type=click.Path(exists=True, dir_okay=False),
              help="A catalog file (TOML/JSON) that extends or overrides the shipped one.")
@click.version_option(fabric.__version__, prog_name="fabric")
@click.pass_context
def main(ctx, catalog_path):
    """Model, analyse and export the network fabrics of AI supercomputers.

    TOPO arguments take a preset name (see `fabric presets`) with optional
    --set KEY=VALUE overrides, or a file written by `fabric build`/`fabric export`.
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
                bound = f" [{q['min']:g}..{'' if q['max'] is None else format(q['max'], 'g')}]"
            click.echo(f"    {q['name']}={q['default']}  ({q['type']}{bound}) {q['help']}")


@main.command()
@click.argument("preset")
@_set_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write (.json or .graphml).")
@click.option("--format", "fmt", type=click.Choice(("json", "graphml")), default=None,
              help="Output format (default: from the file suffix, else json).")
@pass_state
@_errors
def build(state, preset, overrides, output, fmt):
    """Build PRESET (a preset name) and write it to a fabric file."""
    if preset not in topologies.TOPOLOGIES:
        msg = f"unknown preset `{preset}`; presets: {', '.join(topologies.TOPOLOGIES)}"
        raise ParameterError(msg)
    G = topologies.build_preset(preset, topologies.parse_overrides(overrides),
                                catalog=state.catalog)
    if fmt is None:
        fmt = "graphml" if output.lower().endswith(".graphml") else "json"
    fabric.write_fabric(G, output, fmt)
    click.echo(f"wrote {output}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges",
               err=True)


def _print_summary(s):
    click.echo(f"fabric      {s['builder']}  {json.dumps(s['params'], sort_keys=True)}")
    click.echo(f"catalog     {s['catalog_version']} (schema {s['schema_version']})")
    click.echo(f"gpus        {s['gpus']:,}")
    click.echo(f"hosts       {s['hosts']:,}")
    click.echo(f"graph       {s['nodes']:,} nodes, {s['edges']:,} edges")
    click.echo("nodes by kind")
    for k, v in s["nodes_by_kind"].items():
        click.echo(f"  {k:<12}{v:>12,}")
    click.echo(f"  (NVLink switch chips: {s['nvswitch_chips']:,})")
    click.echo("physical links by medium")
    for k, v in s["links_by_medium"].items():
        click.echo(f"  {k:<12}{v:>12,}")
    click.echo(f"per-GPU NVLink bandwidth   {_fmt_bw(s['gpu_scaleup_gbps'])} per direction")
    click.echo(f"per-GPU network bandwidth  {_fmt_bw(s['gpu_scaleout_gbps'])} per direction")
    for note in s["notes"]:
        click.echo(f"note: {note}")


def _fmt_bw(v):
    if isinstance(v, dict):
        return f"{v['min']:,.0f}-{v['max']:,.0f} Gb/s"
    return f"{v:,.0f} Gb/s ({v / 8:,.1f} GB/s)"


@main.command()
@click.argument("topo")
@_set_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_state
@_errors
def info(state, topo, overrides, as_json):
    """Analyse TOPO: counts by kind and medium, per-GPU bandwidths."""
    G = _load_topology(state, topo, overrides)
    fabric.validate_fabric(G)
    s = fabric.fabric_summary(G)
    if as_json:
        click.echo(json.dumps(s, indent=2))
    else:
        _print_summary(s)


@main.command()
@click.argument("topo")
@_set_option
@click.option("--format", "fmt", type=click.Choice(fabric.FORMATS), required=True,
              help="Output format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write (written to a temporary name, then renamed).")
@pass_state
@_errors
def export(state, topo, overrides, fmt, output):
    """Export TOPO as JSON (node-link), GraphML or Graphviz DOT."""
    G = _load_topology(state, topo, overrides)
    fabric.validate_fabric(G)
    fabric.write_fabric(G, output, fmt)
    click.echo(f"wrote {output} ({fmt})", err=True)


if __name__ == "__main__":
    sys.exit(main())
