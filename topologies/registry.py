"""The preset registry: names -> builders, their parameters, types, bounds and defaults.

One declaration per preset, next to its builder::

    @preset("fairwater", summary="...", family="scale-out",
            params={"gpus": P("GPUs (rounded up to whole racks)", lo=1, hi=1_000_000), ...})
    def fairwater_graph(gpus=9216, *, ...):

Each :class:`P` carries the help, bounds and choices; the default and the
type come from the builder's signature. :func:`preset` registers the
:class:`Preset` in :data:`TOPOLOGIES` and wraps the builder so that every
call (Python API, ``--set``, spec files, superfactory sites) checks its
keyword arguments with the one :meth:`Param.check` before the body runs.

The builder modules import this one; :data:`TOPOLOGIES` imports them on
first use, so importing the registry loads no builder (and never numpy,
networkx or scipy).
"""

import functools
import importlib
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass

from fabric.exceptions import ParameterError
from fabric._gc import gc_paused

__all__ = ["Param", "Preset", "TOPOLOGIES", "register", "build_preset", "parse_overrides"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_KIND = {bool: "true/false", int: "an integer", float: "a number"}
_BUILDER_MODULES = ("topologies.nvlink", "topologies.scaleout")
"""Modules whose ``@preset`` declarations fill :data:`TOPOLOGIES`, in registration order."""


@dataclass(frozen=True)
class Param:
    """One preset parameter: its type (int, float, bool, str), default, help and bounds.

    ``hint`` is appended to a bounds error; ``below`` replaces "between LO and
    HI" when a value is below ``lo``; ``convert`` turns a checked value of
    ``type`` into the builder's argument (e.g. ``"5,4,4,5"`` into a tuple).
    """

    name: str
    type: type
    default: object
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    hint: str = ""
    below: str = ""
    convert: object = None

    def _fmt(self, bound):
        if bound is None:
            return None
        return f"{int(bound):,}" if self.type is int else f"{bound:g}"

    def _kind(self):
        kind = _KIND.get(self.type, "a string")
        if self.default is None:
            kind += " (or none/auto for the default)"
        return kind

    def parse(self, text):
        """Convert the string ``text`` to this parameter's type and check it (:meth:`check`)."""
        if not isinstance(text, str):
            return self.check(text)
        raw = text.strip()
        try:
            if raw.lower() in ("none", "auto") and self.default is None:
                return None
            if self.type is bool:
                if raw.lower() in _TRUE:
                    value = True
                elif raw.lower() in _FALSE:
                    value = False
                else:
                    raise ValueError(raw)
            elif self.type is int:
                value = int(raw.replace("_", "").replace(",", ""))
            elif self.type is float:
                value = float(raw)
            else:
                value = raw
        except ValueError:
            msg = f"`{self.name}` must be {self._kind()}, got {text!r}"
            raise ParameterError(msg) from None
        return self.check(value)

    def check(self, value):
        """Check a typed value against the type, bounds and choices; return it (ints become
        floats for a float parameter; None passes where the default is None)."""
        if value is None and self.default is None:
            return None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, self.type) and not isinstance(value, bool)
        if not ok:
            msg = f"`{self.name}` must be {self._kind()}, got {value!r}"
            raise ParameterError(msg)
        if self.type is float and not math.isfinite(value):
            msg = f"`{self.name}` must be a finite number, got {value!r}"
            raise ParameterError(msg)
        if self.choices and value not in self.choices:
            msg = (f"`{self.name}` must be one of {', '.join(map(str, self.choices))}, "
                   f"got {value!r}")
            raise ParameterError(msg)
        lo, hi = self._fmt(self.lo), self._fmt(self.hi)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            if self.below and value < self.lo:
                bound = self.below
            elif self.lo is not None and self.hi is not None:
                bound = f"between {lo} and {hi}"
            elif self.lo is not None:
                bound = f">= {lo}"
            else:
                bound = f"<= {hi}"
            msg = f"`{self.name}` must be {bound}, got {value}" + (f"; {self.hint}" if self.hint else "")
            raise ParameterError(msg)
        return value


_FROM_SIGNATURE = object()


@dataclass(frozen=True)
class P:
    """What a ``@preset`` declaration says about one parameter; the default and the type
    come from the builder's signature unless given (``type`` for a None default)."""

    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    type: object = None          # a type; needed where the default is None
    default: object = _FROM_SIGNATURE
    hint: str = ""
    below: str = ""
    convert: object = None


@dataclass(frozen=True)
class Preset:
    """A named fabric: the builder, what it is, and its parameters."""

    name: str
    builder: object
    summary: str
    params: tuple
    family: str = "nvlink"

    def param(self, key):
        for p in self.params:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in self.params) or "(none)"
        msg = f"preset `{self.name}` has no parameter `{key}`; its parameters: {known}"
        raise ParameterError(msg)

    def defaults(self):
        return {p.name: p.default for p in self.params}


class _Registry(Mapping):
    """Preset name -> :class:`Preset`; imports the builder modules on first use."""

    def __init__(self):
        self._presets = {}
        self._loaded = False

    def _all(self):
        if not self._loaded:
            self._loaded = True
            for module in _BUILDER_MODULES:
                importlib.import_module(module)
        return self._presets

    def __getitem__(self, name):
        return self._all()[name]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())

    def __contains__(self, name):
        return name in self._all()

    def __repr__(self):
        return f"TOPOLOGIES({', '.join(self)})"


TOPOLOGIES = _Registry()
"""Preset name -> :class:`Preset`, in the order presets were registered."""


def register(preset):
    """Add ``preset`` to :data:`TOPOLOGIES` (replacing one of the same name)."""
    TOPOLOGIES._presets[preset.name] = preset
    return preset


def _declare(builder, params):
    """The :class:`Param` of each declared parameter, defaults and types from the signature."""
    sig = inspect.signature(builder)
    out = []
    for key, p in params.items():
        if key not in sig.parameters:
            msg = f"{builder.__name__} has no parameter `{key}`"
            raise TypeError(msg)
        default = sig.parameters[key].default if p.default is _FROM_SIGNATURE else p.default
        if default is inspect.Parameter.empty:
            msg = f"{builder.__name__}: parameter `{key}` needs a default"
            raise TypeError(msg)
        kind = p.type or type(default)
        if kind is type(None):
            msg = f"{builder.__name__}: parameter `{key}` defaults to None; give P(type=...)"
            raise TypeError(msg)
        out.append(Param(key, kind, default, p.help, p.lo, p.hi, tuple(p.choices), p.hint,
                         p.below, p.convert))
    return tuple(out)


def check_arguments(params, arguments):
    """Check the values of ``arguments`` (a dict) that name one of ``params`` in place."""
    for q in params:
        if q.name in arguments:
            value = arguments[q.name]
            if q.convert is None:
                arguments[q.name] = q.check(value)
            elif isinstance(value, q.type):          # the textual form: check, then convert
                arguments[q.name] = q.convert(q.check(value))
    return arguments


def preset(name, *, summary, params, family="nvlink"):
    """Declare ``name``: register a :class:`Preset` for the decorated builder and wrap it
    so that every call checks its preset parameters (``params``: name -> :class:`P`)
    and runs with the cyclic GC paused (:func:`fabric._gc.gc_paused`)."""

    def decorate(builder):
        declared = _declare(builder, params)
        sig = inspect.signature(builder)

        @functools.wraps(builder)
        def checked(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            check_arguments(declared, bound.arguments)
            with gc_paused():          # builders make no reference cycles
                return builder(*bound.args, **bound.kwargs)

        register(Preset(name, checked, summary, declared, family))
        return checked

    return decorate


def parse_overrides(items):
    """Parse ``["KEY=VALUE", ...]`` into a dict of strings.

    Raises
    ------
    ParameterError
        When an item has no ``=`` or an empty key, or a key repeats.

    Examples
    --------
    >>> parse_overrides(["trays=9", "nic=cx8"])
    {'trays': '9', 'nic': 'cx8'}
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            msg = f"`--set` takes KEY=VALUE, got {item!r}"
            raise ParameterError(msg)
        if key in out:
            msg = f"`--set {key}` given twice"
            raise ParameterError(msg)
        out[key] = value
    return out


def build_preset(name, overrides=None, *, catalog=None):
    """Build the preset ``name`` with ``overrides`` (strings or typed values).

    Parameters
    ----------
    name : str
        A key of :data:`TOPOLOGIES`.
    overrides : dict, optional
        Parameter name -> value (a string is parsed to the parameter's type).
    catalog : fabric.Catalog, optional

    Returns
    -------
    networkx.Graph
        (Inside :func:`topologies._common.as_tables`: its :class:`fabric.io.Tables`.)

    Raises
    ------
    ParameterError
        Unknown preset, unknown parameter, or a value of the wrong type or
        outside its bounds.

    Examples
    --------
    >>> G = build_preset("gb200-nvl72", {"trays": "9"})
    >>> sum(1 for _, k in G.nodes(data="kind") if k == "gpu")
    36
    """
    if name not in TOPOLOGIES:
        msg = f"unknown preset `{name}`; presets: {', '.join(TOPOLOGIES)}"
        raise ParameterError(msg)
    spec = TOPOLOGIES[name]
    kwargs = spec.defaults()
    for key, value in (overrides or {}).items():
        kwargs[key] = spec.param(key).parse(value)
    return spec.builder(**kwargs, catalog=catalog)
