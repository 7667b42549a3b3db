"""Scheduler host naming shared by the Slurm and Kubernetes exports.

A scheduler sees *hosts* (what Slurm calls nodes and Kubernetes calls Nodes):
the ``kind == "host"`` nodes of the fabric that own at least one GPU (a GPU-less
appliance such as a SuperPOD's UFM host is never listed). Each host gets a
name from a pattern (:func:`host_names`), by default ``node0001``,
``node0002``, ... in the graph's node order.

This module holds that naming (:func:`scheduler_hosts`, :func:`host_names`),
Slurm's hostlist compression (:func:`compress_hostlist`) and the small text
helpers every scheduler file uses (:func:`site_prefix`, :func:`file_header`,
:func:`yaml_quote`). The switch hierarchy above the hosts is in
:mod:`fabric.export.hierarchy`.
"""

import re
import string
from collections import defaultdict

from fabric.exceptions import FabricError, ParameterError

__all__ = ["DEFAULT_HOSTNAME_PATTERN", "scheduler_hosts", "host_names", "compress_hostlist"]

DEFAULT_HOSTNAME_PATTERN = "node{index:04d}"
"""Default host name pattern: ``node0001``, ``node0002``, ... (see :func:`host_names`)."""


def scheduler_hosts(G):
    """The hosts a scheduler lists: ``kind == "host"`` nodes owning a GPU, in graph order.

    Parameters
    ----------
    G
        A fabric graph.

    Returns
    -------
    list of str
        Host node names.

    Raises
    ------
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> len(scheduler_hosts(topologies.build_preset("superpod-h100")))   # not the UFM host
    31
    """
    owners = {d.get("host") for _, d in G.nodes(data=True) if d.get("kind") == "gpu"}
    hosts = [n for n, d in G.nodes(data=True) if d.get("kind") == "host" and n in owners]
    if not hosts:
        msg = ("the fabric has no hosts with GPUs (nodes of kind `host` owning `gpu` nodes); "
               "scheduler files need them; build it from a preset or a spec file")
        raise FabricError(msg)
    return hosts


_OPTION = "`hostname_pattern` (--hostname-pattern)"
_MAX_WIDTH = 64
_SHOWN = 200


def clip(text, limit=_SHOWN):
    """``repr(text)``, cut to about ``limit`` characters (an error never echoes a huge name).

    Examples
    --------
    >>> clip("node0001"), clip("x" * 1000, 10)
    ("'node0001'", "'xxxxxxxxxx'... (1,000 characters)")
    """
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def _check_pattern(pattern):
    """Refuse a pattern whose format specs could build a huge string, before formatting."""
    if not isinstance(pattern, str):
        msg = f"{_OPTION} must be a string, got {type(pattern).__name__}"
        raise ParameterError(msg)
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        msg = f"{_OPTION} {clip(pattern)} is invalid ({exc}); e.g. 'node{{index:04d}}'"
        raise ParameterError(msg) from None
    for _, field, spec, _ in parts:
        if field is None or not spec:
            continue
        if "{" in spec or "}" in spec:
            msg = (f"{_OPTION} {clip(pattern)}: a field's format spec may not hold another "
                   f"field ({{{field}:{clip(spec, 40)[1:-1]}}}); write the width as a number, "
                   f"e.g. {{index:04d}}")
            raise ParameterError(msg)
        numbers = [int(n) for n in re.findall(r"\d+", spec)]
        if any(n > _MAX_WIDTH for n in numbers):
            msg = (f"{_OPTION} {clip(pattern)}: the width or precision of {{{field}:"
                   f"{clip(spec, 40)[1:-1]}}} is above {_MAX_WIDTH} (host names have at most 63 "
                   f"characters); use a width such as {{index:04d}}")
            raise ParameterError(msg)


def host_names(G, *, pattern=DEFAULT_HOSTNAME_PATTERN):
    """Scheduler names of the hosts, from a ``str.format`` pattern.

    Parameters
    ----------
    G
        A fabric graph.
    pattern
        Fields: ``{index}`` (1-based position in :func:`scheduler_hosts`),
        ``{index0}`` (0-based), ``{name}`` (the host's node name), and the
        host's ``{site}``, ``{pod}``, ``{rack}``, ``{domain}`` (0 when unset).
        Default ``"node{index:04d}"``; ``"{name}"`` keeps the graph's names.

    Returns
    -------
    dict
        Host node name -> scheduler name, in host order.

    Raises
    ------
    ParameterError
        When the pattern is malformed, uses an unknown field, has a field width
        or precision above 64 (checked before formatting), gives a name that
        is not a valid host name, or gives two hosts the same name. Messages
        show at most about 200 characters of the pattern or a name.
    FabricError
        When the graph has no host with a GPU.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("gb200-nvl72")
    >>> names = host_names(G, pattern="gb{rack:02d}-t{index0:02d}")
    >>> names["d0-host0"], len(set(names.values()))
    ('gb00-t00', 18)
    """
    hosts = scheduler_hosts(G)
    _check_pattern(pattern)
    shown = clip(pattern)
    out = {}
    seen = {}
    for i, h in enumerate(hosts):
        d = G.nodes[h]
        fields = {"index": i + 1, "index0": i, "name": h, "site": d.get("site", 0),
                  "pod": d.get("pod", 0), "rack": d.get("rack", 0), "domain": d.get("domain", 0)}
        try:
            name = pattern.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            msg = (f"{_OPTION} {shown} is invalid ({type(exc).__name__}: {clip(exc)[1:-1]}); fields: "
                   f"{', '.join('{' + f + '}' for f in fields)}")
            raise ParameterError(msg) from None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", name):
            msg = (f"{_OPTION} {shown} gives {clip(name)}, not a valid host name "
                   f"(letters, digits, '.', '_', '-'; at most 63 characters)")
            raise ParameterError(msg)
        if name in seen:
            msg = (f"{_OPTION} {shown} gives the same name {name!r} to hosts "
                   f"{seen[name]} and {h}; include {{index}} or {{name}}")
            raise ParameterError(msg)
        seen[name] = h
        out[h] = name
    return out


def _split_num(name):
    m = re.fullmatch(r"(.*?)(\d+)", name)
    if m is None:
        return name, None
    return m.group(1), m.group(2)


def compress_hostlist(names):
    """Slurm hostlist expression of ``names``: ``node[0001-0031]``, ``a[0-3,7],b``.

    Names ending in digits that share a prefix (and a zero-padded width) are
    merged into bracketed ranges; groups come in the order of their first name.

    Parameters
    ----------
    names
        Host or switch names.

    Returns
    -------
    str
        The comma-separated expression Slurm's hostlist parser expands back to ``names``.

    Examples
    --------
    >>> compress_hostlist([f"node{i:04d}" for i in range(1, 32)])
    'node[0001-0031]'
    >>> compress_hostlist(["h0", "h1", "h2", "h7", "h10", "sw", "x01", "x02"])
    'h[0-2,7,10],sw,x[01-02]'
    """
    names = list(names)
    widths = defaultdict(set)
    for n in names:
        prefix, digits = _split_num(n)
        if digits is not None and len(digits) > 1 and digits.startswith("0"):
            widths[prefix].add(len(digits))
    groups = {}
    for n in names:
        prefix, digits = _split_num(n)
        if digits is None:
            groups.setdefault((n, None), [])
            continue
        w = len(digits) if len(digits) in widths[prefix] else 0
        groups.setdefault((prefix, w), []).append(int(digits))
    parts = []
    for (prefix, w), nums in groups.items():
        if w is None:
            parts.append(prefix)
            continue
        nums = sorted(set(nums))
        fmt = f"{{:0{w}d}}" if w else "{}"
        if len(nums) == 1:
            parts.append(prefix + fmt.format(nums[0]))
            continue
        ranges = []
        start = prev = nums[0]
        for x in [*nums[1:], None]:
            if x is not None and x == prev + 1:
                prev = x
                continue
            ranges.append(fmt.format(start) if start == prev
                          else f"{fmt.format(start)}-{fmt.format(prev)}")
            if x is not None:
                start = prev = x
        parts.append(f"{prefix}[{','.join(ranges)}]")
    return ",".join(parts)


def site_prefix(G, node):
    """The ``s<site>-`` prefix of a node's names in a multi-site fabric, else ``""``.

    A fabric is multi-site when its nodes carry a ``site`` attribute.

    Examples
    --------
    >>> import topologies
    >>> G = topologies.build_preset("superfactory", {"site_gpus": "144"})
    >>> site_prefix(G, "s1-d3-host17"), site_prefix(topologies.dgx_h100_graph(), "d0-host0")
    ('s1-', '')
    """
    site = G.nodes[node].get("site")
    return "" if site is None else f"s{site}-"


def file_header(G, what):
    """The comment lines every scheduler file starts with (``what``, the fabric's builder).

    Returns
    -------
    list of str
        Lines without newlines, each starting with ``#``.
    """
    params = G.graph.get("params", {})
    args = " ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    # "fabric.scheduler" is the historical name of these exports; kept so files stay identical
    return [f"# {what}", f"# fabric: {G.graph.get('builder', 'unknown')} {args}".rstrip(),
            "# written by fabric.scheduler"]


def yaml_quote(s):
    """Quote a YAML scalar when it holds characters YAML would read otherwise.

    Examples
    --------
    >>> yaml_quote("node0001"), yaml_quote("node[0001-0004]")
    ('node0001', '"node[0001-0004]"')
    """
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
