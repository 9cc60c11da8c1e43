"""Weightings of the complex residual, in one registry.

A weighting returns the weights (w_re, w_im) applied to the real and imaginary residuals, from
the measured impedance. ``modulus`` (1/|Z|, the default) and ``proportional`` (1/|Z'|, 1/|Z''|)
give every decade of a spectrum a fair say; ``unit`` lets the largest arc dominate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .exceptions import FitError

Weighting = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
WEIGHTINGS: dict[str, Weighting] = {}


def weighting(name: str) -> Callable[[Weighting], Weighting]:
    """Register a weighting under ``name``; a second registration of a name is an error."""

    def register(func: Weighting) -> Weighting:
        if name in WEIGHTINGS:
            raise ValueError(f"weighting {name!r} is already registered")
        WEIGHTINGS[name] = func
        return func

    return register


@weighting("modulus")
def _modulus(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = 1.0 / np.abs(z)
    return w, w


@weighting("proportional")
def _proportional(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Floors at 1 % of |Z| keep a point whose real or imaginary part crosses zero from
    # receiving an unbounded weight.
    floor = 0.01 * np.abs(z)
    return 1.0 / np.maximum(np.abs(z.real), floor), 1.0 / np.maximum(np.abs(z.imag), floor)


@weighting("unit")
def _unit(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    one = np.ones(z.shape)
    return one, one


def check_weighting(name: str) -> Weighting:
    """The registered weighting ``name``; a FitError naming the known ones otherwise."""
    try:
        return WEIGHTINGS[name]
    except KeyError:
        raise FitError(
            f"weighting must be one of {', '.join(sorted(WEIGHTINGS))}; got {name!r}"
        ) from None


def weights(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (w_re, w_im) for the measured impedance ``z`` under the weighting ``name``."""
    return check_weighting(name)(np.asarray(z))
