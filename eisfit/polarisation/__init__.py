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

from .analysis import BruceVincent, HebbWagner, bruce_vincent, hebb_wagner
from .read import Polarisation, read_polarisation
from .steady import PolarisationError, SteadyState, SteadyStateWarning, steady_state

__all__ = [
    "Polarisation",
    "read_polarisation",
    "hebb_wagner",
    "HebbWagner",
    "bruce_vincent",
    "BruceVincent",
    "steady_state",
    "SteadyState",
    "SteadyStateWarning",
    "PolarisationError",
]
