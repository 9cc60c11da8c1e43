"""Several spectra fitted at once with some parameters common to all: ``fit_shared``.

One electrode CPE for a stack of spectra of one cell, one bulk capacitance across a
temperature series: the named parameters take one value for every spectrum, the rest one value
per spectrum. Each spectrum is first fitted alone (the starting values, and the model the
shared one is compared with); then one least-squares problem holds every spectrum's weighted
residuals, with a block Jacobian whose shared columns span all blocks. Each block is the
engine's own residual and analytic Jacobian of that spectrum
(:class:`eisfit.fitting.engine.Problem`,
log-scaled positive parameters), solved by scipy's trust-region ``least_squares``.

Whether the data support sharing is an F-test of the extra residual against the independent
fits' (the shared fit is the independent one with ``len(shared)·(K − 1)`` constraints), with
ΔAIC and ΔBIC beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from eisfit.blas import single_threaded_blas
from eisfit.exceptions import ArgumentError, FitError
from eisfit.fitting.engine import Problem, Solution, scaled_covariance
from eisfit.fitting.result import FitResult, build_result
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit, resolve

#: The F-test's p-value below which the spectra are said to differ in the shared parameters.
ALPHA = 0.05


class SharedFitError(FitError):
    """A shared fit that cannot be made: unknown names, too few spectra, other circuits."""


@dataclass(frozen=True, eq=False)
class SharedFit:
    """The outcome of :func:`fit_shared`.

    Attributes
    ----------
    circuit
        The circuit's text; ``shared`` the parameters common to every spectrum.
    values, stderr
        Shared parameter -> value and standard error (natural units, from the joint
        covariance scaled by the joint reduced χ²).
    results
        One :class:`~eisfit.FitResult` per spectrum at the joint optimum (its parameters ±
        errors from the joint covariance; the shared ones equal in all).
    independent
        The spectra's own fits, from which the joint fit started.
    labels
        A label per spectrum (``meta["label"]``, the source, or ``spectrum k``).
    chisqr, dof, n_params
        Joint weighted sum of squares, its degrees of freedom, the joint free parameters.
    independent_chisqr, independent_dof
        The same summed over the independent fits.
    delta_chisqr, f_statistic, p_value
        χ²_shared − χ²_independent, and the F-test of it against the independent fits'
        residual variance with ``len(shared)·(K − 1)`` and ``independent_dof`` degrees of
        freedom.
    delta_aic, delta_bic
        AIC and BIC of the shared model less those of the independent fits (negative: the
        shared model is preferred).
    supported
        True when the F-test does not reject sharing at :data:`ALPHA`.
    success, message
        The joint solver's verdict.
    """

    circuit: str
    shared: tuple[str, ...]
    values: dict[str, float]
    stderr: dict[str, float]
    results: list[FitResult]
    independent: list[FitResult]
    labels: list[str]
    chisqr: float
    dof: int
    n_params: int
    independent_chisqr: float
    independent_dof: int
    delta_chisqr: float
    f_statistic: float
    p_value: float
    delta_aic: float
    delta_bic: float
    supported: bool
    success: bool
    message: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def chi_square(self) -> float:
        """Joint reduced χ²: chisqr / dof."""
        return self.chisqr / max(self.dof, 1)

    @property
    def verdict(self) -> str:
        """One sentence: whether the data support one value of the shared parameters."""
        names = ", ".join(self.shared)
        test = (
            f"F = {self.f_statistic:.3g}, p = {self.p_value:.3g}; ΔAIC = {self.delta_aic:+.1f}, "
            f"ΔBIC = {self.delta_bic:+.1f}"
        )
        if self.supported:
            return f"sharing {names} is supported by the data ({test})"
        return (
            f"sharing {names} is not supported: the spectra differ in them beyond their noise "
            f"({test})"
        )

    def table(self) -> list[dict[str, Any]]:
        """One row per spectrum: its label, then every parameter's value and error."""
        rows = []
        for label, r in zip(self.labels, self.results, strict=True):
            row: dict[str, Any] = {"label": label}
            for name, rec in r.records.items():
                row[name] = rec.value
                row[f"{name}_stderr"] = rec.stderr
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: shared values ± errors, per-spectrum parameters, the test."""
        from eisfit.output import json_float

        return {
            "circuit": self.circuit,
            "shared": {
                n: {"value": json_float(self.values[n]), "stderr": json_float(self.stderr[n])}
                for n in self.shared
            },
            "spectra": [
                {k: (json_float(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.table()
            ],
            "chisqr": json_float(self.chisqr),
            "dof": self.dof,
            "n_params": self.n_params,
            "independent_chisqr": json_float(self.independent_chisqr),
            "independent_dof": self.independent_dof,
            "delta_chisqr": json_float(self.delta_chisqr),
            "f_statistic": json_float(self.f_statistic),
            "p_value": json_float(self.p_value),
            "delta_aic": json_float(self.delta_aic),
            "delta_bic": json_float(self.delta_bic),
            "supported": self.supported,
            "verdict": self.verdict,
            "success": self.success,
            "warnings": list(self.warnings),
        }

    def report(self) -> str:
        """A text report: the shared values, the per-spectrum table and the verdict."""
        from eisfit.format import value_error

        lines = [f"Shared fit of {len(self.results)} spectra, circuit {self.circuit}"]
        for n in self.shared:
            lines.append(f"  {n} = {value_error(self.values[n], self.stderr[n])} (shared)")
        names = [n for n in self.results[0].records if n not in self.shared]
        for label, r in zip(self.labels, self.results, strict=True):
            cells = [f"{n} = {value_error(r.records[n].value, r.records[n].stderr)}"
                     for n in names]
            lines.append(f"  {label}: " + ", ".join(cells))
        lines.append(
            f"  joint χ² = {self.chisqr:.4g} (reduced {self.chi_square:.3g}, {self.dof} dof); "
            f"independent fits χ² = {self.independent_chisqr:.4g} ({self.independent_dof} dof)"
        )
        lines.append(f"  {self.verdict}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __repr__(self) -> str:
        shared = ", ".join(f"{n}={self.values[n]:.4g}" for n in self.shared)
        return (
            f"<SharedFit {len(self.results)} spectra, {shared}, "
            f"{'supported' if self.supported else 'not supported'}>"
        )


# --------------------------------------------------------------------------- inputs
def _labels(spectra: Sequence[Spectrum]) -> list[str]:
    out = []
    for k, s in enumerate(spectra):
        label = (s.meta or {}).get("label") or s.source or f"spectrum {k}"
        out.append(str(label))
    return out


def _check(spectra: Any, circuit: Circuit, shared: Any) -> tuple[list[Spectrum], tuple[str, ...]]:
    if isinstance(spectra, Spectrum) or not isinstance(spectra, Sequence):
        raise ArgumentError("fit_shared needs a list of Spectrum objects")
    spectra = list(spectra)
    if not all(isinstance(s, Spectrum) for s in spectra):
        raise ArgumentError("fit_shared needs a list of Spectrum objects")
    if len(spectra) < 2:
        raise SharedFitError(f"a shared fit needs at least 2 spectra, got {len(spectra)}")
    if isinstance(shared, str):
        shared = [shared]
    names = circuit.parameter_names
    shared = tuple(dict.fromkeys(shared))
    unknown = [n for n in shared if n not in names]
    if unknown:
        raise SharedFitError(
            f"shared parameter {', '.join(unknown)} is not in circuit {circuit.text!r}; its "
            f"parameters are {', '.join(names)}"
        )
    if not shared:
        raise SharedFitError(f"name at least one shared parameter of {circuit.text!r}")
    return spectra, shared


def _independent(
    spectra: list[Spectrum], circ: Circuit, named: NamedCircuit | None, weighting: str,
    external_resistance: float,
) -> list[FitResult]:
    """Each spectrum fitted alone with the full circuit (no hidden-arc model or fallback, so
    every fit has the parameters the joint fit shares)."""
    from eisfit.fitting.circuit_fit import FitDraft
    from eisfit.fitting.solve import _run, prepare

    out = []
    for s in spectra:
        spec, notes = prepare(s, circ)
        problem, sol, search = _run(spec, circ, named, weighting, None, None)
        solved = FitDraft(spec, circ, named, weighting, problem, sol, external_resistance, notes,
                        s, search)
        out.append(solved.result())
    return out


# --------------------------------------------------------------------------- joint problem
class JointProblem:
    """The stacked residuals of K spectra and their block Jacobian in joint coordinates:
    the shared parameters' solver coordinates first, then each spectrum's own."""

    def __init__(self, problems: list[Problem], shared_idx: list[int]) -> None:
        self.problems = problems
        n = problems[0].circuit.n_params
        self.shared_idx = shared_idx
        self.local_idx = [i for i in range(n) if i not in shared_idx]
        ns, nl = len(shared_idx), len(self.local_idx)
        self.n_u = ns + nl * len(problems)
        # columns of spectrum k's parameters (in circuit order) in the joint vector
        self.columns = []
        for k in range(len(problems)):
            col = np.empty(n, int)
            col[shared_idx] = np.arange(ns)
            col[self.local_idx] = ns + k * nl + np.arange(nl)
            self.columns.append(col)
        self._key: bytes | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def coordinates(self, u: np.ndarray, k: int) -> np.ndarray:
        """Spectrum k's solver coordinates (circuit order) from the joint vector ``u``."""
        return u[self.columns[k]]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.full(self.n_u, -np.inf), np.full(self.n_u, np.inf)
        for k, p in enumerate(self.problems):
            lk, hk = p.internal_bounds()
            lo[self.columns[k]] = np.maximum(lo[self.columns[k]], lk)
            hi[self.columns[k]] = np.minimum(hi[self.columns[k]], hk)
        return lo, hi

    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stacked residuals (Σ 2N_k,) and Jacobian (Σ 2N_k, n_u) at ``u``."""
        key = u.tobytes()
        if key == self._key and self._cache is not None:
            return self._cache
        rs, js = [], []
        for k, p in enumerate(self.problems):
            r, j = p.residual_jac_batch(self.coordinates(u, k)[None, :])
            block = np.zeros((r.shape[1], self.n_u))
            block[:, self.columns[k]] = j[0]
            rs.append(r[0])
            js.append(block)
        self._key, self._cache = key, (np.concatenate(rs), np.vstack(js))
        return self._cache

    def residual(self, u: np.ndarray) -> np.ndarray:
        return self.evaluate(u)[0]

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        return self.evaluate(u)[1]


def _start(joint: JointProblem, independent: list[FitResult]) -> np.ndarray:
    """The joint start: each spectrum's own values, the shared ones their mean in solver
    units (the mean of logarithms for positive parameters)."""
    u = np.zeros(joint.n_u)
    us = []
    for k, (p, r) in enumerate(zip(joint.problems, independent, strict=True)):
        uk = p.to_internal(np.array([rec.value for rec in r.records.values()]))
        u[joint.columns[k]] = uk
        us.append(uk[joint.shared_idx])
    u[: len(joint.shared_idx)] = np.mean(us, axis=0)
    lo, hi = joint.bounds()
    span = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    return np.clip(u, lo + 1e-9 * span, hi - 1e-9 * span)


# --------------------------------------------------------------------------- the fit
def fit_shared(
    spectra: Sequence[Spectrum],
    circuit: str | Circuit | NamedCircuit = "blocking",
    shared: Sequence[str] = ("CPE3_0", "CPE3_1"),
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    independent: Sequence[FitResult] | None = None,
    max_nfev: int = 200,
) -> SharedFit:
    """Fit several spectra at once with the ``shared`` parameters common to all.

    Parameters
    ----------
    spectra
        Two or more spectra of one circuit (any lengths and frequencies).
    circuit
        A named circuit or circuit string, as for :func:`eisfit.fit` (not ``"auto"``).
    shared
        The circuit's parameter names (``R0``, ``CPE3_0``...) that take one value for all the
        spectra; the rest take one value per spectrum.
    weighting
        As for :func:`eisfit.fit`.
    external_resistance
        Ohm, subtracted from a high-frequency intercept in each spectrum's result.
    independent
        The spectra's own fits of the same circuit (e.g. from :func:`eisfit.fit_stack`), one
        per spectrum in order; fitted here when not given (the full circuit, without the
        hidden-arc model or fallbacks).
    max_nfev
        Evaluations of the joint trust-region solve at most.

    Returns
    -------
    SharedFit

    Raises
    ------
    SharedFitError
        Fewer than two spectra, a shared name the circuit lacks (the message lists its
        parameters), or independent fits of another circuit.

    Examples
    --------
    >>> sf = eisfit.fit_shared(spectra, "blocking", shared=["CPE3_0"])  # doctest: +SKIP
    >>> sf.values["CPE3_0"], sf.stderr["CPE3_0"], sf.supported  # doctest: +SKIP
    """
    from eisfit.fitting.solve import check_arguments, make_problem, prepare

    check_arguments(circuit, weighting, external_resistance)
    if isinstance(circuit, str) and circuit == "auto":
        raise SharedFitError("fit_shared needs one circuit for all spectra, not 'auto'")
    circ, named = resolve(circuit)
    spectra, shared = _check(spectra, circ, shared)
    if independent is None:
        independent = _independent(spectra, circ, named, weighting, external_resistance)
    independent = list(independent)
    if len(independent) != len(spectra):
        raise SharedFitError(
            f"independent has {len(independent)} fits for {len(spectra)} spectra"
        )
    for k, r in enumerate(independent):
        if r.circuit.text != circ.text:
            raise SharedFitError(
                f"independent[{k}] is a fit of {r.circuit.text!r}, not of {circ.text!r}"
            )
    fitted = [prepare(s, circ)[0] for s in spectra]
    problems = [make_problem(s, circ, named, weighting)[0] for s in fitted]
    names = circ.parameter_names
    joint = JointProblem(problems, [names.index(n) for n in shared])
    n_res = sum(2 * len(s) for s in fitted)
    if n_res <= joint.n_u:
        raise SharedFitError(f"{n_res} residuals cannot fit {joint.n_u} joint parameters")
    lo, hi = joint.bounds()
    with single_threaded_blas():
        res = least_squares(
            joint.residual, _start(joint, independent), jac=joint.jacobian, bounds=(lo, hi),
            method="trf", x_scale=1.0, ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=max_nfev,
        )
    return _shared_result(
        joint, res, fitted, spectra, circ, named, weighting, external_resistance, shared,
        independent,
    )


def _shared_result(
    joint: JointProblem, res: Any, fitted: list[Spectrum], spectra: list[Spectrum],
    circ: Circuit, named: NamedCircuit | None, weighting: str, external_resistance: float,
    shared: tuple[str, ...], independent: list[FitResult],
) -> SharedFit:
    """The SharedFit at the joint optimum ``res``: per-spectrum results and the comparison."""
    u = res.x
    r_all, j_all = joint.evaluate(u)
    cov = scaled_covariance(r_all, j_all, j_all.shape[1])
    n_u = joint.n_u
    note = f"fitted jointly with {len(fitted)} spectra: {', '.join(shared)} shared by all"
    results, start = [], 0
    for k, (p, s) in enumerate(zip(joint.problems, fitted, strict=True)):
        uk = joint.coordinates(u, k)
        rk, jk = p.residual_jac_batch(uk[None, :])
        stop = start + rk.shape[1]
        cols = joint.columns[k]
        cov_k = None if cov is None else cov[np.ix_(cols, cols)]
        sol = Solution(p.to_params(uk), uk, 0.5 * float(rk[0] @ rk[0]), rk[0], jk[0],
                       int(res.nfev), bool(res.status > 0), str(res.message))
        results.append(build_result(
            s, circ, named, weighting, p, sol, external_resistance, [note],
            original=spectra[k], fitted=(circ.n_params, cov_k),
        ))
        start = stop
    chisqr = float(r_all @ r_all)
    n_res = r_all.size
    values, stderr = {}, {}
    first = results[0].records
    for n in shared:
        values[n] = first[n].value
        err = first[n].stderr
        stderr[n] = math.nan if err is None else float(err)
    ind_chisqr = float(sum(r.chisqr for r in independent))
    n_ind = sum(r.n_free for r in independent)
    ind_dof = n_res - n_ind
    return SharedFit(
        circuit=circ.text, shared=shared, values=values, stderr=stderr, results=results,
        independent=independent, labels=_labels(spectra), chisqr=chisqr, dof=n_res - n_u,
        n_params=n_u, independent_chisqr=ind_chisqr, independent_dof=ind_dof,
        **_comparison(chisqr, n_u, ind_chisqr, n_ind, n_res),
        success=bool(res.status > 0), message=str(res.message),
        warnings=_warnings(res, cov, chisqr, ind_chisqr),
    )


def _comparison(
    chisqr: float, n_u: int, ind_chisqr: float, n_ind: int, n_res: int
) -> dict[str, Any]:
    """Δχ², the F-test and ΔAIC/ΔBIC of the shared model against the independent fits."""
    from scipy.stats import f as f_dist

    q = n_ind - n_u  # the constraints sharing adds
    ind_dof = n_res - n_ind
    delta = chisqr - ind_chisqr
    f_stat = max(delta, 0.0) / q / (ind_chisqr / ind_dof) if q > 0 and ind_dof > 0 else 0.0
    p_value = float(f_dist.sf(f_stat, q, ind_dof)) if q > 0 and ind_dof > 0 else 1.0

    def crit(c: float, k: int) -> tuple[float, float]:
        ll = n_res * math.log(max(c, 1e-300) / n_res)
        return ll + 2 * k, ll + math.log(n_res) * k

    aic_s, bic_s = crit(chisqr, n_u)
    aic_i, bic_i = crit(ind_chisqr, n_ind)
    return {
        "delta_chisqr": delta,
        "f_statistic": float(f_stat),
        "p_value": p_value,
        "delta_aic": aic_s - aic_i,
        "delta_bic": bic_s - bic_i,
        "supported": p_value >= ALPHA,
    }


def _warnings(res: Any, cov: np.ndarray | None, chisqr: float, ind: float) -> tuple[str, ...]:
    out = []
    if res.status <= 0:
        out.append(f"the joint solver did not converge: {res.message}")
    if cov is None:
        out.append("the joint covariance could not be estimated: no standard errors")
    if chisqr < ind * (1 - 1e-6):
        out.append(
            f"the shared fit's χ² ({chisqr:.4g}) is below the independent fits' ({ind:.4g}): "
            "some independent fit ended in a local minimum"
        )
    return tuple(out)
