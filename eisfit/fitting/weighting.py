"""Weightings of the complex residual, in one registry.

A weighting returns the weights (w_re, w_im) applied to the real and imaginary residuals, from
the measured impedance. The residual is Z_model − Z_data, except under the admittance
weightings, where it is Y_model − Y_data with Y = 1/Z:

``modulus`` (default)
    w = 1/|Z| on both parts: every decade of |Z| has a fair say.
``boukamp``
    Boukamp's modulus weighting (Solid State Ionics 20 (1986) 31; J. Electrochem. Soc. 142
    (1995) 1885): each squared residual weighted by 1/|Z|². The weights here multiply the
    residuals, so this is w = 1/|Z|, the same as ``modulus``: the two names give identical fits.
``proportional``
    w' = 1/|Z'|, w'' = 1/|Z''| (floored at 1 % of |Z|).
``unit``
    w = 1: the largest arc dominates.
``sigma``
    w' = 1/σ', w'' = 1/σ'' from the standard deviations the spectrum carries
    (:meth:`eisfit.Spectrum.with_sigma`): the reduced χ² is then a true χ² (≈ 1 for a correct
    model), and parameter errors come from the covariance without rescaling by it.
``admittance``
    The residual in Y, each part weighted by 1/|Y_data| = |Z_data|: to first order the modulus
    weighting of Z with |Z_model| in place of |Z_data|.
``admittance-unit``
    The residual in Y, unweighted: each point weighted, in Z terms, by 1/|Z|² (the low-|Z|,
    high-frequency points dominate).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from eisfit.exceptions import FitError

if TYPE_CHECKING:
    from eisfit.io.spectrum import Spectrum

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


@weighting("boukamp")
def _boukamp(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Boukamp's 1/|Z|² on the squared residuals is 1/|Z| on the residuals: ``modulus``
    return _modulus(z)


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


@weighting("sigma")
def _sigma(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raise FitError(
        "weighting 'sigma' takes its weights from the spectrum's standard deviations: give "
        "the spectrum (spectrum_weights), after Spectrum.with_sigma"
    )


@weighting("admittance")
def _admittance(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.abs(z)  # 1/|Y|
    return w, w.copy()


@weighting("admittance-unit")
def _admittance_unit(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _unit(z)


#: Weightings whose residual is in admittance, Y_model − Y_data.
ADMITTANCE = frozenset({"admittance", "admittance-unit"})
#: The weighting whose weights are the spectrum's 1/σ, with an unscaled covariance.
SIGMA = "sigma"


def spectrum_weights(name: str, spectrum: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    """Weights (w_re, w_im) of the residuals of ``spectrum`` under the weighting ``name``.

    Under ``sigma`` they are 1/σ' and 1/σ'' (1/Ohm) of :attr:`eisfit.Spectrum.sigma`; under the
    admittance weightings they weight Y_model − Y_data (Ohm for ``admittance``); otherwise
    Z_model − Z_data (1/Ohm).

    Raises
    ------
    FitError
        An unknown weighting, or ``sigma`` for a spectrum that carries no σ or a σ of another
        length than the spectrum.
    """
    check_weighting(name)
    if name != SIGMA:
        return weights(name, spectrum.z)
    sigma = spectrum.sigma
    where = spectrum.source or "spectrum"
    if sigma is None:
        raise FitError(
            f"{where}: weighting 'sigma' needs the standard deviation of each point: "
            "Spectrum.with_sigma(real, imag), or --sigma FILE on the command line"
        )
    if any(s.shape != (len(spectrum),) for s in sigma):
        raise FitError(
            f"{where}: sigma has {sigma[0].size} values for {len(spectrum)} points"
        )
    return 1.0 / sigma[0], 1.0 / sigma[1]


def impedance_weights(
    name: str, z: np.ndarray, w_re: np.ndarray, w_im: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The weights of Z_model − Z_data equivalent, to first order, to the weights ``w_re``,
    ``w_im`` of the weighting ``name`` (the data's floor and the joint fit are in Z): the
    admittance weightings' divided by |Z|² (|ΔY| ≈ |ΔZ|/|Z|², both parts weighted alike),
    any other's as they are."""
    if name not in ADMITTANCE:
        return w_re, w_im
    a2 = np.abs(np.asarray(z)) ** 2
    return w_re / a2, w_im / a2
