"""Start-up of the ``eisfit`` command: numpy's tool modules deferred until something uses them.

SciPy (1.15 and later) builds its array-API namespace for numpy with ``from numpy import *``,
which imports every submodule numpy names in ``__all__``, among them ``numpy.f2py`` (the
Fortran wrapper generator, which loads ``charset_normalizer``) and ``numpy.testing`` (which
loads ``unittest``, ``importlib.metadata`` and ``email``). A fit uses neither, yet the first
``import scipy.optimize`` or ``scipy.linalg`` of a process pays about 0.1 s for them.

:func:`defer_numpy_tools` registers those two as lazy modules
(:class:`importlib.util.LazyLoader`): the module object exists, and its code runs on the first
access to one of its attributes, so a caller that does use them gets the real module. Only the
command line calls it (``eisfit.cli.main.main``); ``import eisfit`` changes nothing in a user's
process.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["DEFERRED", "defer_numpy_tools"]

#: The numpy submodules the command defers (none of them is used by a fit).
DEFERRED = ("numpy.f2py", "numpy.testing")


def defer_numpy_tools() -> list[str]:
    """Register :data:`DEFERRED` as lazy modules where they are not imported yet.

    Returns
    -------
    list of str
        The modules deferred by this call (empty when they were already imported, when numpy
        is not installed, or when numpy's loader cannot be made lazy).
    """
    deferred = []
    for name in DEFERRED:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)  # imports numpy itself, not the submodule
        except (ImportError, ValueError):
            continue
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        loader = importlib.util.LazyLoader(spec.loader)
        spec.loader = loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)  # lazy: only prepares the module to load on first use
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)  # as the import system would
        deferred.append(name)
    return deferred
