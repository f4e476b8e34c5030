"""The solve by parts under its former name: it lives in ``solvers.parts`` (one module a step);
its names are kept here so that code importing them from ``solvers.decompose`` still works."""

from solvers import parts as _parts
from solvers.parts import *  # noqa: F403 - the same names, one list (``solvers.parts.__all__``)

__all__ = list(_parts.__all__)
