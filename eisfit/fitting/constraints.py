"""Constraints between the parameters of one fit: ties, inequalities and expressions.

A constraint makes a circuit parameter a function of others, as lmfit's ``expr`` does:
``CPE2_1 = CPE1_1`` (a tie), ``CPE1_1 = 0.9*CPE2_1``, or ``R2 = R1 + delta_R2`` with a helper
parameter ``delta_R2 >= 0`` (the lmfit idiom for ``R2 > R1``). The solver then works on the free
circuit parameters (log-scaled as usual) and the helpers (linear, scaled to their size); every
constrained parameter is computed from its expression, so the result holds it exactly, and its
Jacobian and errors follow from the expression's derivatives (a complex step: exact to
rounding). The residuals and their Jacobian are the engine's
(:class:`eisfit.fitting.engine.Problem`).

Expressions use the circuit's parameter names, helper names, numbers, ``+ - * / **``, and
``exp``, ``log``, ``log10``, ``sqrt``, ``pi``. The compiled engine takes no expressions: a
constrained fit runs with the numpy engine, and says so when the compiled one is on.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eisfit.exceptions import FitError
from eisfit.findings import Finding
from eisfit.fitting import guess
from eisfit.fitting.engine import Problem, Solution
from eisfit.fitting.result import FitResult, build_result
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import compiled
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit

if TYPE_CHECKING:
    import lmfit

#: Functions an expression may call, and constants it may name.
FUNCTIONS = {"exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt}
CONSTANTS = {"pi": math.pi}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A helper without both bounds spans this many times its scale on the open side(s).
HELPER_SPAN = 1e3


class ConstraintError(FitError):
    """A constraint that names an unknown parameter, does not parse, or conflicts."""


@dataclass(frozen=True)
class Helper:
    """A parameter of the constraints that is not in the circuit (``delta_R2`` of
    ``R2 = R1 + delta_R2``): its starting value (NaN: none) and bounds, in its own units."""

    name: str
    value: float
    min: float
    max: float


@dataclass(frozen=True)
class Constraints:
    """The constraints of one fit.

    Attributes
    ----------
    exprs
        Constrained parameter -> expression text, in evaluation order (an expression names
        only parameters computed before it, free or fixed ones, and helpers).
    helpers
        The helper parameters, in the order the solver takes them.
    constants
        Helpers held fixed (lmfit ``vary=False``): name -> value.
    """

    exprs: dict[str, str]
    helpers: tuple[Helper, ...] = ()
    constants: dict[str, float] = dataclasses.field(default_factory=dict)

    def text(self) -> list[str]:
        """Each constraint as ``name = expression``."""
        return [f"{k} = {v}" for k, v in self.exprs.items()]


# --------------------------------------------------------------------------- parsing
def _valid_names(circuit: Circuit) -> str:
    return ", ".join(circuit.parameter_names)


def _names_in(expr: str, where: str) -> set[str]:
    """The names ``expr`` uses; a ConstraintError when it is not a plain arithmetic
    expression."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        raise ConstraintError(f"{where}: cannot parse the expression {expr!r}") from None
    names: set[str] = set()
    allowed = (
        ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
        ast.USub, ast.UAdd, ast.Load,
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in FUNCTIONS:
                names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ConstraintError(f"{where}: {expr!r} holds {node.value!r}, not a number")
        elif isinstance(node, ast.Call):
            ok = isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            if not ok or len(node.args) != 1 or node.keywords:
                raise ConstraintError(
                    f"{where}: {expr!r} may call only {', '.join(FUNCTIONS)} with one argument"
                )
        elif not isinstance(node, allowed):
            raise ConstraintError(
                f"{where}: {expr!r} may use only numbers, parameter names, + - * / ** and "
                f"{', '.join(FUNCTIONS)}"
            )
    return names - set(CONSTANTS)


def _split(item: str) -> tuple[str, str, str]:
    """``"R2 > R1"`` -> ("R2", ">", "R1"); ``"CPE2_1 = CPE1_1"`` -> ("CPE2_1", "=", ...)."""
    m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|=|>|<)\s*(.+?)\s*$", item)
    if m is None:
        raise ConstraintError(
            f"constraint {item!r}: expected NAME = EXPRESSION, NAME > EXPRESSION or "
            "NAME < EXPRESSION (e.g. 'CPE2_1 = CPE1_1', 'R2 > R1')"
        )
    op = {"==": "=", ">=": ">", "<=": "<"}.get(m.group(2), m.group(2))
    return m.group(1), op, m.group(3)


def _from_items(items: Sequence[str]) -> tuple[dict[str, str], list[Helper]]:
    """Constraints written as strings: ties and expressions, and inequalities as the lmfit
    idiom (``R2 > R1`` -> ``R2 = R1 + delta_R2``, ``delta_R2 >= 0``)."""
    exprs: dict[str, str] = {}
    helpers: list[Helper] = []
    for item in items:
        if not isinstance(item, str):
            raise ConstraintError(
                f"constraints must be strings such as 'CPE2_1 = CPE1_1', got "
                f"{type(item).__name__}"
            )
        name, op, rhs = _split(item)
        if name in exprs:
            raise ConstraintError(f"parameter {name} has two constraints")
        if op == "=":
            exprs[name] = rhs
            continue
        if op == "<" and _NAME.match(rhs) and rhs not in exprs:
            name, op, rhs = rhs, ">", name  # B > A: B = A + delta_B, both stay positive
        if name in exprs:
            raise ConstraintError(f"parameter {name} has two constraints")
        delta = f"delta_{name}"
        helpers.append(Helper(delta, math.nan, 0.0, math.inf))
        exprs[name] = f"({rhs}) {'+' if op == '>' else '-'} {delta}"
    return exprs, helpers


def parse(
    circuit: Circuit,
    constraints: Mapping[str, str] | Sequence[str] | str | None,
    params: lmfit.Parameters | None = None,
) -> tuple[Constraints | None, lmfit.Parameters | None]:
    """The constraints of a fit of ``circuit``, and the user's ``params`` left for the usual
    bounds and values (no expressions, no helpers).

    Parameters
    ----------
    circuit
        The circuit fitted.
    constraints
        Constrained parameter -> expression (``{"CPE2_1": "CPE1_1"}``), or strings
        (``["CPE2_1 = CPE1_1", "R2 > R1"]``; one string alone also), or None.
    params
        lmfit ``Parameters``: those with ``expr`` set are constraints, and parameters the
        expressions name that are not the circuit's are helpers (value, bounds, ``vary``).

    Returns
    -------
    (Constraints or None, lmfit.Parameters or None)
        None for no constraints at all.

    Raises
    ------
    ConstraintError
        An unknown name (the message lists the circuit's parameters), an expression that does
        not parse, two constraints on one parameter, or constraints that refer to each other.
    """
    exprs, helpers = _user_constraints(constraints)
    if not exprs and (params is None or not any(p.expr for p in params.values())):
        return None, params  # the usual fit: its own checks of params
    plain = params
    constants: dict[str, float] = {}
    if params is not None:
        plain, more, extra_helpers = _from_parameters(circuit, params, exprs)
        exprs.update(more)
        constants = {h.name: h.value for h in extra_helpers if h.min == h.max == h.value}
        helpers += [h for h in extra_helpers if h.name not in constants]
    names = circuit.parameter_names
    helper_names = {h.name for h in helpers} | set(constants)
    for name, expr in exprs.items():
        where = f"constraint {name} = {expr}"
        if name not in names:
            raise ConstraintError(
                f"{where}: {name} is not a parameter of {circuit.text!r}; its parameters are "
                f"{_valid_names(circuit)}"
            )
        unknown = sorted(_names_in(expr, where) - set(names) - helper_names)
        if unknown:
            raise ConstraintError(
                f"{where}: {', '.join(unknown)} is not a parameter of {circuit.text!r}; its "
                f"parameters are {_valid_names(circuit)}"
            )
    return Constraints(_ordered(exprs), tuple(helpers), constants), plain


def _user_constraints(
    constraints: Mapping[str, str] | Sequence[str] | str | None,
) -> tuple[dict[str, str], list[Helper]]:
    if constraints is None:
        return {}, []
    if isinstance(constraints, str):
        return _from_items([constraints])
    if isinstance(constraints, Mapping):
        exprs = {}
        for k, v in constraints.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise ConstraintError(
                    f"constraints[{k!r}] must be an expression such as 'CPE1_1', got "
                    f"{type(v).__name__}"
                )
            exprs[str(k)] = str(v)
        return exprs, []
    if isinstance(constraints, Sequence):
        return _from_items(list(constraints))
    raise ConstraintError(
        "constraints must map parameter names to expressions ({'CPE2_1': 'CPE1_1'}) or be "
        f"a list of strings ('R2 > R1'), got {type(constraints).__name__}"
    )


def _from_parameters(
    circuit: Circuit, params: lmfit.Parameters, exprs: dict[str, str]
) -> tuple[lmfit.Parameters, dict[str, str], list[Helper]]:
    """Split lmfit ``params`` into plain circuit parameters, expressions and helpers."""
    import lmfit

    names = circuit.parameter_names
    more = {k: p.expr for k, p in params.items() if p.expr}
    used: set[str] = set()
    for k, e in {**exprs, **more}.items():
        used |= _names_in(e, f"constraint {k} = {e}")
    plain = lmfit.Parameters()
    helpers = []
    for k, p in params.items():
        if k in more:
            continue
        if k in names:
            plain.add(k, value=p.value, vary=p.vary, min=p.min, max=p.max)
        elif k in used:
            value = float(p.value) if p.value is not None else math.nan
            if not p.vary:  # a fixed helper is a constant of the expressions
                helpers.append(Helper(k, value, value, value))
            else:
                helpers.append(Helper(k, value, float(p.min), float(p.max)))
        else:
            raise ConstraintError(
                f"parameter {k} is not in circuit {circuit.text!r} and no expression uses it; "
                f"its parameters are {_valid_names(circuit)}"
            )
    return plain, more, helpers


def _ordered(exprs: dict[str, str]) -> dict[str, str]:
    """``exprs`` in an order where each names only constrained parameters before it."""
    deps = {k: _names_in(v, k) & set(exprs) for k, v in exprs.items()}
    out: dict[str, str] = {}
    while len(out) < len(exprs):
        ready = [k for k in exprs if k not in out and deps[k] <= set(out)]
        if not ready:
            loop = sorted(k for k in exprs if k not in out)
            raise ConstraintError(
                f"the constraints of {', '.join(loop)} refer to each other: one of them must "
                "be free"
            )
        out.update((k, exprs[k]) for k in ready)
    return out


# --------------------------------------------------------------------------- the problem
@dataclass
class ConstrainedProblem(Problem):
    """A :class:`~eisfit.fitting.engine.Problem` whose constrained parameters follow expressions.

    ``vary`` marks the parameters that move (free and constrained ones); the solver's
    coordinates are the free circuit parameters (log for positive ones) followed by the
    helpers (each divided by ``helper_scale``). The engine's residuals and Jacobian of all
    moving parameters (``inner``) are chained with the expressions' derivatives.
    """

    constraints: Constraints = dataclasses.field(default_factory=lambda: Constraints({}))
    helper_scale: np.ndarray = dataclasses.field(default_factory=lambda: np.ones(0))

    def __post_init__(self) -> None:
        super().__post_init__()
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(Problem)}
        self.inner = Problem(**base)
        names = self.circuit.parameter_names
        self.derived = [names.index(k) for k in self.constraints.exprs]
        self.base = np.array([i for i in self.free if i not in self.derived], int)
        self.n_solver = self.base.size + len(self.constraints.helpers)
        self._codes = [
            (names.index(k), compile(ast.parse(e.strip(), mode="eval"), k, "eval"))
            for k, e in self.constraints.exprs.items()
        ]
        self._namespace = {
            **FUNCTIONS, **CONSTANTS, **self.constraints.constants, "__builtins__": {}
        }

    # ------------------------------------------------------------------ values
    def _values(self, p: np.ndarray, helpers: np.ndarray) -> np.ndarray:
        """Parameters ``p`` (K, n_params; real or complex) with the constrained ones computed
        from the rest and the ``helpers`` (K, H) in their own units."""
        ns = dict(self._namespace)
        ns.update({n: p[:, i] for i, n in enumerate(self.circuit.parameter_names)})
        ns.update({h.name: helpers[:, k] for k, h in enumerate(self.constraints.helpers)})
        for i, code in self._codes:
            with np.errstate(all="ignore"):
                value = eval(code, ns)  # noqa: S307 (the tree holds arithmetic only: _names_in)
            p[:, i] = value
            ns[self.circuit.parameter_names[i]] = p[:, i]
        return p

    def _natural(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = np.asarray(u, float)
        p = np.tile(self.fixed, (u.shape[0], 1))
        nb = self.base.size
        lg = self.log[self.base]
        p[:, self.base] = np.where(lg, np.exp(np.clip(u[:, :nb], -700, 700)), u[:, :nb])
        return p, u[:, nb:] * self.helper_scale

    def params_batch(self, u: np.ndarray) -> np.ndarray:
        """All parameters (K, n_params) from K rows of solver coordinates, the constrained
        ones from their expressions."""
        p, h = self._natural(u)
        p = self._values(p, h)
        pos = np.asarray(self.derived, int)
        pos = pos[self.log[pos]]
        p[:, pos] = np.maximum(p[:, pos], 1e-300)  # a positive parameter stays positive
        return p

    def internal_batch(self, p: np.ndarray) -> np.ndarray:
        """Solver coordinates (K, n_solver) of parameter rows ``p`` (K, n_params): the free
        ones as they are, the helpers projected so the constrained parameters come nearest
        to their values in ``p`` (a start made without the constraints)."""
        p = np.asarray(p, float)
        pb = p[:, self.base]
        ub = np.where(self.log[self.base], np.log(np.maximum(pb, 1e-300)), pb)
        if not self.constraints.helpers:
            return ub
        h = np.stack([self._project(row) for row in p])
        return np.hstack([ub, h / self.helper_scale])

    def _project(self, p: np.ndarray) -> np.ndarray:
        """The helpers (natural units) that bring the constrained parameters nearest to ``p``
        (in solver units: log for positive parameters), within the helpers' bounds."""
        from scipy.optimize import least_squares

        lo, hi = self._helper_bounds()
        h0 = np.array([h.value for h in self.constraints.helpers], float)
        h0 = np.where(np.isfinite(h0), h0, self.helper_scale)
        h0 = np.clip(h0, lo + 1e-6 * (hi - lo), hi - 1e-6 * (hi - lo))
        fixed_h = lo == hi
        if fixed_h.all():
            return lo.copy()
        free_h = ~fixed_h
        pos = np.asarray(self.derived, int)
        target = self._coordinates(p[None, pos], pos)[0]

        def misfit(x: np.ndarray) -> np.ndarray:
            h = h0.copy()
            h[free_h] = x
            q = self._values(p[None, :].copy(), h[None, :])
            return self._coordinates(q[:, pos], pos)[0] - target

        x0 = h0[free_h]
        if not np.all(np.isfinite(misfit(x0))):
            return h0
        sol = least_squares(
            misfit, x0, bounds=(lo[free_h], hi[free_h]), x_scale=self.helper_scale[free_h],
            ftol=1e-15, xtol=1e-15, gtol=1e-15,
        )
        x = sol.x
        # a helper the target puts beyond its bound ends on the bound itself
        for k in range(x.size):
            for b in (lo[free_h][k], hi[free_h][k]):
                y = x.copy()
                y[k] = b
                if np.sum(misfit(y) ** 2) <= np.sum(misfit(x) ** 2):
                    x = y
        h = h0.copy()
        h[free_h] = x
        return h

    def _coordinates(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.where(self.log[idx], np.log(np.maximum(values, 1e-300)), values)

    def _helper_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the helpers (natural units), the open sides at :data:`HELPER_SPAN`
        scales."""
        helpers, s = self.constraints.helpers, self.helper_scale
        lo = np.array([h.min for h in helpers], float)
        hi = np.array([h.max for h in helpers], float)
        lo = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0) - HELPER_SPAN * s)
        hi = np.where(np.isfinite(hi), hi, lo + 2 * HELPER_SPAN * s)
        return lo, hi

    def internal_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the solver coordinates."""
        if self._bounds is None:
            lo_b = self._coordinates(self.lower[self.base], self.base)
            hi_b = self._coordinates(self.upper[self.base], self.base)
            lo_h, hi_h = self._helper_bounds()
            self._bounds = (
                np.concatenate([lo_b, lo_h / self.helper_scale]),
                np.concatenate([hi_b, hi_h / self.helper_scale]),
            )
        return self._bounds

    # ------------------------------------------------------------------ derivatives
    def reported_jacobian(self, u: np.ndarray) -> np.ndarray:
        """d v / d u (K, n_moving, n_solver): the solver units ``v`` of every moving parameter
        (log for positive ones) against the solver coordinates ``u`` (K, n_solver); the rows
        of constrained parameters by a complex step through their expressions."""
        u = np.asarray(u, float)
        p, h = self._natural(u)
        k_count, nb = u.shape[0], self.base.size
        g = np.zeros((k_count, self.free.size, self.n_solver))
        row = {int(i): a for a, i in enumerate(self.free)}
        for k, i in enumerate(self.base):
            g[:, row[int(i)], k] = 1.0
        if not self.derived:
            return g
        # d x / d u of each solver coordinate's natural value x
        dx = np.hstack([np.where(self.log[self.base], p[:, self.base], 1.0),
                        np.broadcast_to(self.helper_scale, h.shape)])
        values = self._values(p.copy(), h)
        pos = np.asarray(self.derived, int)
        for k in range(self.n_solver):
            pc, hc = p.astype(complex), h.astype(complex)
            x = pc[:, self.base[k]] if k < nb else hc[:, k - nb]
            step = 1e-30 * np.maximum(np.abs(x.real), 1e-280)
            if k < nb:
                pc[:, self.base[k]] += 1j * step
            else:
                hc[:, k - nb] += 1j * step
            dp = self._values(pc, hc)[:, pos].imag / step[:, None]  # (K, D)
            dv = np.where(self.log[pos], dp / values[:, pos], dp)
            for d, i in enumerate(pos):
                g[:, row[int(i)], k] = dv[:, d] * dx[:, k]
        return g

    def residual_jac_batch(
        self,
        u: np.ndarray,
        rows: np.ndarray | None = None,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (K, 2N) and their Jacobian d r / d u (K, 2N, n_solver): the engine's
        Jacobian of the moving parameters chained with :meth:`reported_jacobian`; with
        ``out``, also written into its arrays (residuals (K, 2N), Jacobians transposed
        (K, n_solver, 2N)), as :meth:`eisfit.fitting.engine.Problem.residual_jac_batch`."""
        p = self.params_batch(u)
        r, j = self.inner.residual_jac_batch(self.inner.internal_batch(p), rows)
        j = j @ self.reported_jacobian(u)
        if out is not None:
            out[0][...] = r
            out[1][...] = np.swapaxes(j, 1, 2)
        return r, j


# --------------------------------------------------------------------------- the fit
def constrained_problem(
    problem: Problem, constraints: Constraints, reference: np.ndarray
) -> ConstrainedProblem:
    """``problem`` with ``constraints``: the constrained parameters move with the free ones,
    and each helper is scaled by the size of the parameters its expression names in the
    ``reference`` parameters (a start), or of its own value."""
    names = problem.circuit.parameter_names
    vary = problem.vary.copy()
    for k in constraints.exprs:
        i = names.index(k)
        if not vary[i]:
            raise ConstraintError(f"parameter {k} is both fixed and constrained: give one")
        vary[i] = True
    scale = np.ones(len(constraints.helpers))
    for k, h in enumerate(constraints.helpers):
        sizes = [abs(h.value)] if np.isfinite(h.value) and h.value != 0 else []
        for name, expr in constraints.exprs.items():
            used = _names_in(expr, name)
            if h.name in used:
                sizes += [abs(reference[names.index(n)]) for n in used | {name} if n in names]
        sizes = [s for s in sizes if np.isfinite(s) and s > 0]
        scale[k] = float(np.median(sizes)) if sizes else 1.0
    base = {f.name: getattr(problem, f.name) for f in dataclasses.fields(Problem)}
    base["vary"] = vary
    return ConstrainedProblem(**base, constraints=constraints, helper_scale=scale)


def notes(constraints: Constraints, circuit: Circuit) -> list[Finding]:
    """The notes of a constrained fit: the constraints (code ``constrained``), and the engine
    that ran it (``numpy_only``)."""
    out = [Finding(f"constrained: {'; '.join(constraints.text())}", "constrained",
                   severity="note")]
    if compiled.enabled() and compiled.program(circuit) is not None:
        out.append(Finding("constrained fit: fitted with the numpy engine (the compiled engine "
                           "takes no expressions between parameters)", "numpy_only",
                           severity="note"))
    return out


def solve_constrained(
    problem: ConstrainedProblem, starts: list[np.ndarray], search: bool
) -> tuple[Solution, Any]:
    """The multistart of :func:`eisfit.fit` on a constrained problem (numpy engine), then,
    when ``search``, the search beyond the first minimum; (Solution, Search or None)."""
    from eisfit.fitting.search import search_further
    from eisfit.fitting.solve import _multistart

    with compiled.use(False):
        sol, found = _multistart(problem, starts), None
        if search:
            sol, found = search_further(problem, sol, _multistart)
    # the parameters of the solver's own coordinates, where its residuals were evaluated
    return dataclasses.replace(sol, params=problem.params_batch(sol.u[None, :])[0]), found


def helper_notes(
    problem: ConstrainedProblem, sol: Solution, cov: np.ndarray | None
) -> list[Finding]:
    """The helpers' fitted values ± standard errors, one note each (``constraint_helper``)."""
    out = []
    nb = problem.base.size
    for k, h in enumerate(problem.constraints.helpers):
        value = float(sol.u[nb + k] * problem.helper_scale[k])
        err = math.nan if cov is None else math.sqrt(max(cov[nb + k, nb + k], 0.0))
        err *= problem.helper_scale[k]
        out.append(Finding(
            f"constraint helper {h.name} = {value:.6g} ± {err:.2g}", "constraint_helper",
            severity="note", parameters=(h.name,), numbers={"value": value, "stderr": err},
        ))
    return out


def solver_covariance(problem: ConstrainedProblem, sol: Solution) -> np.ndarray | None:
    """(JᵀJ)⁻¹ of the solver coordinates, scaled by the reduced χ² (not with 1/σ weights)."""
    r, j = sol.residual, sol.jac
    dof = r.size - problem.n_solver
    if dof <= 0 or problem.n_solver == 0:
        return None
    try:
        inv = np.linalg.inv(j.T @ j)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(j.T @ j)
    if not getattr(problem, "absolute_sigma", False):
        inv = inv * float(r @ r) / dof
    return inv if np.all(np.isfinite(inv)) else None


def constrained_result(
    spectrum: Spectrum,
    named: NamedCircuit | None,
    weighting: str,
    problem: ConstrainedProblem,
    sol: Solution,
    external_resistance: float,
    notes_: list[str],
    original: Spectrum | None,
    search: Any,
) -> FitResult:
    """The FitResult of a constrained fit: every moving parameter reported, the constrained
    ones with errors through their expressions; the free count that of the solver."""
    cov_s = solver_covariance(problem, sol)
    g = problem.reported_jacobian(sol.u[None, :])[0]
    cov_v = None if cov_s is None else g @ cov_s @ g.T
    view = problem.inner
    view_sol = dataclasses.replace(sol, u=view.to_internal(sol.params))
    search_notes = [] if search is None else search.warnings()
    all_notes = [*notes_, *helper_notes(problem, sol, cov_s), *search_notes]
    result = build_result(
        spectrum, problem.circuit, named, weighting, view, view_sol, external_resistance,
        all_notes, original=original, search=search, fitted=(problem.n_solver, cov_v),
    )
    return dataclasses.replace(result, warnings=_without_tie_correlations(result, problem))


def _without_tie_correlations(result: FitResult, problem: ConstrainedProblem) -> tuple[str, ...]:
    """The warnings less those on the correlation of a constrained parameter with a parameter
    its expression names (the constraint, not the data, sets it)."""
    pairs = set()
    for k, e in problem.constraints.exprs.items():
        for n in _names_in(e, k):
            pairs.add(frozenset((k, n)))
    return tuple(
        w for w, f in zip(result.warnings, result.findings, strict=True)
        if not (f.code == "correlated" and frozenset(f.parameters) in pairs)
    )


def fit_constrained(
    spectrum: Spectrum,
    circuit: Circuit,
    named: NamedCircuit | None,
    weighting: str,
    constraints: Constraints,
    params: lmfit.Parameters | None,
    fixed: Mapping[str, float] | None,
    extra_starts: list[np.ndarray],
    external_resistance: float,
    notes_: list[str],
    original: Spectrum,
) -> FitResult:
    """The fit of :func:`eisfit.fit` under ``constraints``: the usual starts (or the user's
    values) projected onto the constraints, the multistart and search with the numpy engine,
    no arc reordering and no hidden-arc treatment (either would change what the constraints
    name)."""
    from eisfit.fitting.solve import make_problem

    plain, user_start, values = make_problem(
        spectrum, circuit, named, weighting, params, fixed
    )
    if user_start is not None:
        starts = [user_start]
    else:
        starts = [*extra_starts, *guess.candidates(circuit, spectrum.frequency, spectrum.z)]
        given = np.isfinite(values)
        for p in starts:
            p[given] = values[given]
    problem = constrained_problem(plain, constraints, starts[0])
    if 2 * len(spectrum) <= problem.n_solver:
        raise FitError(
            f"{spectrum.source or 'spectrum'}: {len(spectrum)} points cannot fit "
            f"{problem.n_solver} free parameters of {circuit.text!r}"
        )
    sol, search = solve_constrained(problem, starts, search=user_start is None)
    return constrained_result(
        spectrum, named, weighting, problem, sol, external_resistance,
        [*notes_, *notes(constraints, circuit)], original, search,
    )
