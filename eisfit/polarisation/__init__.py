"""DC polarisation (chronoamperometry) analysis: electronic conductivity by the steady-state
Hebb–Wagner method and transference numbers.

>>> from eisfit.polarisation import read_polarisation, hebb_wagner     # doctest: +SKIP
>>> p = read_polarisation("ca_0.5V.mpt")                                # doctest: +SKIP
>>> r = hebb_wagner(p, geometry=eisfit.Geometry("1 mm", diameter="10 mm"))  # doctest: +SKIP
>>> print(r.report())                                                   # doctest: +SKIP

Modules: ``read`` (the record and its readers), ``steady`` (steady current of a step, voltage
steps), ``analysis`` (Hebb–Wagner, Bruce–Vincent), ``plot``, ``cli`` (``eisfit polarisation``).
"""

from __future__ import annotations

import importlib
from typing import Any

# The names are imported on first use, so that the ``eisfit`` command can add its
# ``polarisation`` subcommand (``cli.py``) without loading the readers and the analysis.
_EXPORTS = {
    "Polarisation": "read",
    "read_polarisation": "read",
    "hebb_wagner": "analysis",
    "HebbWagner": "analysis",
    "bruce_vincent": "analysis",
    "BruceVincent": "analysis",
    "steady_state": "steady",
    "SteadyState": "steady",
    "SteadyStateWarning": "steady",
    "PolarisationError": "steady",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
