"""The one exception hierarchy of fabric.

Every error raised on purpose by fabric, topologies and solvers derives from
:class:`FabricError`. Subclasses also derive from the builtin that fits, so
``except ValueError`` keeps working for callers that do not know fabric.

The CLI maps :class:`ParameterError` (the caller asked for something outside a
documented bound) to a usage error (exit status 2) and every other
:class:`FabricError` to exit status 1.
"""

__all__ = [
    "FabricError",
    "ParameterError",
    "FabricValidationError",
    "CatalogError",
    "FabricFormatError",
    "InfeasibleError",
    "SolverTimeoutError",
]


class FabricError(Exception):
    """Base class of every error fabric raises on purpose."""


class ParameterError(FabricError, ValueError):
    """A parameter is outside its documented range; the message names it and the bound.

    ``param`` names the parameter when a caller may need to tell it apart (None
    otherwise): ``ParameterError(msg, param="nccl")``.
    """

    def __init__(self, *args, param=None):
        super().__init__(*args)
        self.param = param


class FabricValidationError(FabricError, ValueError):
    """A fabric graph breaks the schema; ``errors`` lists every violation found.

    Parameters
    ----------
    errors
        One message per violation.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        head = f"fabric graph is invalid ({len(self.errors)} violation"
        head += "s):" if len(self.errors) != 1 else "):"
        shown = self.errors[:20]
        more = len(self.errors) - len(shown)
        lines = [head, *(f"  - {e}" for e in shown)]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


class CatalogError(FabricError, ValueError):
    """The hardware catalog (shipped or user-supplied) is malformed or lacks a part."""


class FabricFormatError(FabricError, ValueError):
    """A file is not a fabric file this version can read."""


class InfeasibleError(FabricError):
    """A solver proved the request cannot be met; the message says what is missing."""


class SolverTimeoutError(FabricError):
    """A solver reached its time limit without any feasible answer."""
