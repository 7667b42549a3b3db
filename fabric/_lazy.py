"""Private: the PEP 562 lazy name loading the packages ``fabric``, ``topologies`` and
``solvers`` share (a name is imported from its submodule on first use)."""

import importlib
import sys

__all__ = ["lazy_names"]


def lazy_names(package, public):
    """``(names, __getattr__, __dir__)`` for ``package`` whose ``public`` maps submodule ->
    the names it provides at package level."""
    where = {name: module for module, names in public.items() for name in names}

    def __getattr__(name):
        module = where.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        sys.modules[package].__dict__[name] = value
        return value

    def __dir__():
        return sorted({*sys.modules[package].__dict__, *where})

    return list(where), __getattr__, __dir__
