"""``fit(spectrum, circuit)``: a fit that finds its own starting values.

The steps: resolve the circuit (a name from ``circuits/`` or a string), set bounds (element
defaults, then the named circuit's, then the user's ``Parameters``), propose starting vectors from
the spectrum (:mod:`eisfit.fitting.guess`), run a short solve from each, polish the best, order the
arcs
of a named circuit by time constant so roles follow frequency, and, when the arc of the circuit's
``hidden`` role relaxes above the highest measured frequency, refit without it and report that
resistance from the high-frequency intercept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from eisfit.exceptions import ArgumentError, FitError
from eisfit.fitting.circuit_fit import fit_circuit
from eisfit.fitting.result import FitResult
from eisfit.fitting.solve import _check_user_values
from eisfit.fitting.spec import FitSpec
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit

if TYPE_CHECKING:  # lmfit takes most of a second to import: only when it is used
    import lmfit


def fit(
    spectrum: Spectrum,
    circuit: str | Circuit | NamedCircuit = "blocking",
    *,
    weighting: str = "modulus",
    params: lmfit.Parameters | None = None,
    fixed: Mapping[str, float] | None = None,
    external_resistance: float = 0.0,
    drop_inductive: bool = True,
    kk: bool = False,
    cell: str = "blocking",
    starts: Sequence[np.ndarray] | None = None,
    start_from: FitResult | None = None,
    constraints: Mapping[str, str] | Sequence[str] | str | None = None,
    geometry: Any = None,
    engine: str = "auto",
) -> FitResult:
    """Fit an equivalent circuit to a spectrum, with no starting values needed.

    Parameters
    ----------
    spectrum
        The measured spectrum.
    circuit
        A named circuit (``"blocking"``, ``"full-cell"``... see ``eisfit circuits``), a circuit
        string in impedance.py syntax, or a :class:`~eisfit.model.circuit.Circuit`.
    weighting
        ``"modulus"`` (1/|Z|, default; ``"boukamp"`` is the same), ``"proportional"``,
        ``"unit"``, ``"sigma"`` (1/σ of each point, from :meth:`Spectrum.with_sigma`; errors
        not rescaled by χ²), ``"admittance"`` or ``"admittance-unit"`` (the residual in
        Y = 1/Z, fitted with the numpy engine); see :mod:`eisfit.fitting.weighting`.
    params
        Optional lmfit ``Parameters`` named as the circuit's parameters (``R0``, ``CPE1_0``...):
        values are used as the starting point when every parameter has one; bounds and
        ``vary=False`` are honoured.
    fixed
        Parameter name -> value to hold fixed (e.g. ``{"R0": 1.83}``).
    external_resistance
        Resistance of cables and cell hardware (Ohm), subtracted from a high-frequency intercept
        before it is reported as the electrolyte's resistance.
    drop_inductive
        Drop high-frequency points with Im(Z) > 0 (cable inductance) when the circuit has no
        inductor; a warning says how many.
    kk
        Run the lin-KK Kramers–Kronig check first and warn (not refuse) when the spectrum fails
        it. The command line does this by default.
    cell
        With ``circuit="auto"``: the cell family whose named circuits compete (``blocking``,
        ``li-symmetric``, ``full-cell``); the best by BIC is fitted.
    starts
        Extra starting vectors (impedance.py order), tried beside the automatic ones; unlike
        ``params`` they do not replace them, and an arc above the window is still treated.
    start_from
        A previous fit (e.g. of a nearby temperature, or :func:`eisfit.load_result`) whose
        values are tried as one more start, as ``starts`` are; its parameters must be those of
        ``circuit`` (:func:`eisfit.fitting.saved.start_vectors`).
    constraints
        Expressions between parameters (:mod:`eisfit.fitting.constraints`): a mapping
        ``{"CPE2_1": "CPE1_1"}`` or strings ``["CPE2_1 = CPE1_1", "R2 > R1"]``; lmfit
        ``params`` with ``expr`` set are constraints too. Fitted with the numpy engine, without
        arc reordering or the hidden-arc treatment.
    geometry
        The cell's :class:`~eisfit.Geometry`: each arc's effective capacitance is judged
        against its role's range in this cell (without one, in the circuit's reference cell, a
        pellet 1 mm thick with 10 mm electrodes). The options are recorded in the result as a
        :class:`~eisfit.fitting.spec.FitSpec` (``result.spec``).
    engine
        ``"auto"`` (default: compiled where numba is installed, or as
        :func:`eisfit.kernels.compiled.use` around the call says), ``"compiled"`` or
        ``"numpy"``; both engines give the same fit to the solver's tolerance.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.model.synthetic import blocking_cell
    >>> truth = blocking_cell(np.random.default_rng(1))
    >>> r = eisfit.fit(truth.spectrum, "blocking")
    >>> bool(abs(r.resistances["bulk"] / truth.resistances["bulk"] - 1) < 0.02)
    True
    """
    if not isinstance(spectrum, Spectrum):
        raise ArgumentError(f"fit needs a Spectrum, got {type(spectrum).__name__}")
    options = FitSpec(
        circuit, weighting, external_resistance, drop_inductive, kk, geometry, constraints, cell,
        engine,
    )
    _check_user_values(params, fixed)
    auto = isinstance(circuit, str) and circuit == "auto"
    if auto and (params is not None or fixed or start_from is not None or constraints):
        raise FitError(
            "circuit='auto' fits named circuits from their own starts: drop "
            "params/fixed/start_from/constraints"
        )
    with options.engine_context():
        if auto:
            from eisfit.fitting.comparison import fit_auto

            return options.record(fit_auto(
                spectrum, cell, weighting=weighting, external_resistance=external_resistance,
                kk=kk, geometry=geometry,
            ))
        return options.record(fit_circuit(
            spectrum, circuit, weighting, params, fixed, external_resistance, drop_inductive, kk,
            starts, start_from, constraints,
        ))
