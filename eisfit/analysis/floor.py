"""The data's own floor: how well any valid model can fit a spectrum.

A chain of Voigt elements with fixed, log-spaced time constants (the model of the lin-KK test,
:mod:`eisfit.analysis.kk`) describes every spectrum that a linear, causal, stable system produces,
and it
is linear in its resistances: one weighted least-squares solve gives the smallest misfit that any
such model reaches. Its reduced χ² (the weighted sum of squares over its degrees of freedom) is an
estimate of the noise of the data, in the same weighting as the fit. A circuit fit whose reduced
χ² is well above that floor has either stopped in a local minimum or uses a circuit that does not
describe the data: :func:`eisfit.fitting.single.fit` searches further in the first case and says so
in
the second.

On synthetic blocking cells with 1 % noise (bulk apex from a decade below to a decade above the
highest frequency), the reduced χ² of the true parameters lies between 0.94 and 1.22 times this
floor with :data:`PER_DECADE` = 3 elements a decade; local minima lie at 2 to 60 times it.
"""

from __future__ import annotations

import numpy as np

from eisfit.analysis.kk import scaled_lstsq, tau_grid, voigt_design

__all__ = ["PER_DECADE", "floor_chi_square"]

#: Voigt elements a decade of the measured range. Fewer leave a floor above the noise on broad
#: spectra (2 a decade: down to 0.45 of the true parameters' χ²); more only add parameters.
PER_DECADE = 3


def floor_chi_square(
    frequency: np.ndarray, z: np.ndarray, w_re: np.ndarray, w_im: np.ndarray
) -> float:
    """Reduced χ² of the best Voigt chain (with series R, L and C) fitted to one spectrum.

    Parameters
    ----------
    frequency
        Frequencies (Hz), shape (N,).
    z
        Impedance (Ohm), Im < 0 capacitive, shape (N,).
    w_re, w_im
        Weights of the real and imaginary residuals (1/Ohm), as the fit uses them.

    Returns
    -------
    float
        Σ (weighted residual)² / (2N − number of chain parameters); NaN when the spectrum has
        too few points for a chain of at least two elements.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> f = np.logspace(6, -1, 71)
    >>> z = eisfit.Circuit("R0-p(R1,CPE1)-CPE2").impedance(f, [10, 1e3, 1e-9, 0.9, 1e-6, 0.9])
    >>> bool(floor_chi_square(f, z, 1 / abs(z), 1 / abs(z)) < 1e-5)  # CPEs: not exact Voigt
    True
    """
    f = np.asarray(frequency, float)
    n = f.size
    decades = float(np.log10(f.max() / f.min())) if n > 1 else 0.0
    m = int(min(np.ceil(PER_DECADE * max(decades, 1.0)), (2 * n) // 3 - 3))
    if m < 2:
        return float("nan")
    a, _, _ = voigt_design(
        2 * np.pi * f,
        tau_grid(f, m),
        np.asarray(w_re, float),
        np.asarray(w_im, float),
        inductance=True,
        capacitance=True,
    )
    b = np.concatenate([np.asarray(w_re) * z.real, np.asarray(w_im) * z.imag])
    dof = b.size - a.shape[1]
    x = scaled_lstsq(a, b, quick=True)
    r = a @ x - b
    return float(r @ r) / dof
