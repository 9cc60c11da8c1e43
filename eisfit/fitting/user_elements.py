"""Circuit elements defined by users, next to the built-in ones of :mod:`eisfit.model.elements`.

:func:`define_element` registers an element from its impedance alone (the derivatives are
taken by central differences when no gradient is given); from then on its symbol works in
circuit strings, in :func:`eisfit.fit` with no starting values, and on the command line
(``eisfit fit FILE --circuit "R0-p(R1,HN1)" --elements my_elements.py``, where the file is a
Python module that calls :func:`define_element`, loaded by :func:`load_elements`).

An element is written once, for both engines. Defined with ``compiled=True``, its functions
are compiled with numba as they are (at one frequency: ``p`` a tuple of floats, ``omega`` a
float; see :mod:`eisfit.model.elements` for the operations that allows) and the compiled engine fits
circuits holding it, as it fits the built-in ones. Otherwise a circuit holding it is fitted
with the numpy engine; with the compiled engine on, its result says so in a note.

Numerical derivatives
---------------------
Complex-step differentiation does not apply: an impedance is already complex for real
parameters. Each derivative is a central difference with a step relative to the parameter,
h = ε^(1/3) ≈ 6.1e-6 (ε the float64 machine epsilon), taken in log space for ``positive``
parameters (p·e^(±h)) and linearly for ``exponent`` ones (p ± h·max(|p|, 1)). The truncation
error is O(h²) and the rounding error O(ε/h), both about 1e-10 of the derivative's scale for a
smooth impedance (measured: 1e-9 or better against the analytic derivatives of the built-in
elements, see ``docs/elements.md``); it costs two evaluations of the impedance per parameter.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.model import elements as _el
from eisfit.model.elements import STEP

__all__ = [
    "ElementError",
    "define_element",
    "remove_element",
    "user_elements",
    "load_elements",
    "loaded_element_files",
    "numeric_gradient",
    "STEP",
]

#: Relative step of the central differences, ε^(1/3) of float64.

#: Bounds a parameter gets when none are given, by kind.
DEFAULT_BOUNDS = {"positive": (1e-15, 1e15), "exponent": (0.0, 1.0)}

_NAME = re.compile(r"[A-Z][A-Za-z]*\Z")


class ElementError(EisfitError, ValueError):
    """A user element that cannot be defined, or a file of them that cannot be loaded."""


@dataclass(frozen=True)
class UserElement:
    """What is known of a user element beyond its :class:`eisfit.model.elements.Element` record.

    Attributes
    ----------
    element
        The registered element.
    parameters
        The parameters' names, in the element's order (``R``, ``tau``, ``alpha``...).
    numeric
        True when its derivatives are central differences.
    source
        The file that defined it, or None.
    """

    element: _el.Element
    parameters: tuple[str, ...]
    numeric: bool
    source: str | None


_USER: dict[str, UserElement] = {}
_LOADING: dict[str, str | None] = {"source": None}
_LOADED: dict[str, tuple[int, int, tuple[str, ...]]] = {}


def user_elements() -> dict[str, UserElement]:
    """The user elements defined in this process, by symbol (a copy)."""
    return dict(_USER)


def loaded_element_files() -> tuple[str, ...]:
    """The files :func:`load_elements` has run in this process (absolute paths, in the order
    loaded) whose elements are all still defined: what a worker process started by spawn or
    forkserver loads before it fits (:mod:`eisfit.fitting.batch`)."""
    return tuple(key for key, (_, _, names) in _LOADED.items() if _defined(key, names))


def _defined(source: str, names: tuple[str, ...]) -> bool:
    """Whether every element of ``names`` is defined, and by the file ``source``."""
    return bool(names) and all(
        _USER.get(n) is not None and _USER[n].source == source for n in names)


def numeric_gradient(
    impedance: Callable[[Sequence[float], np.ndarray], np.ndarray], kinds: Sequence[str]
) -> Callable[[Sequence[float], np.ndarray, np.ndarray], list[np.ndarray]]:
    """dZ/dp of ``impedance`` by central differences (see the module notes for the step).

    Parameters
    ----------
    impedance
        ``impedance(p, omega) -> Z`` (Ohm), ``omega`` in rad/s.
    kinds
        ``positive`` (stepped in log space) or ``exponent`` (stepped linearly) per parameter.

    Returns
    -------
    callable
        ``gradient(p, omega, z) -> [dZ/dp_0, dZ/dp_1, ...]``, each shaped like Z.
    """
    log_space = tuple(k == "positive" for k in kinds)
    up, down = np.exp(STEP), np.exp(-STEP)

    def gradient(p, omega, z):
        base = np.array(p, dtype=np.float64)
        out = []
        for k, in_log in enumerate(log_space):
            hi, lo = base.copy(), base.copy()
            if in_log:
                hi[k], lo[k] = base[k] * up, base[k] * down
            else:
                h = STEP * np.maximum(np.abs(base[k]), 1.0)
                hi[k], lo[k] = base[k] + h, base[k] - h
            dz = impedance(hi, omega) - impedance(lo, omega)
            out.append(np.broadcast_to(dz / (hi[k] - lo[k]), np.shape(z)))
        return out

    return gradient


def _check_name(name: object, replace: bool) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name == "p":
        raise ElementError(
            f"element name {name!r}: expected letters only, the first a capital (e.g. 'HN')"
        )
    if name in _el.ELEMENTS and name not in _USER:
        raise ElementError(f"element {name!r} is built in and cannot be redefined")
    reloading = _LOADING["source"] is not None and _USER.get(name) is not None and (
        _USER[name].source == _LOADING["source"]
    )  # a changed file of elements, run again
    if name in _USER and not replace and not reloading:
        raise ElementError(
            f"element {name!r} is already defined; pass replace=True to replace it"
        )
    for other in _el.ELEMENTS:
        if other not in _USER and len(other) < len(name) and name.startswith(other):
            if not name[len(other)].islower():
                raise ElementError(
                    f"element name {name!r} would change the meaning of names such as "
                    f"'{name}1', today a {other} element; choose a name whose letters after "
                    f"{other!r} start in lower case (e.g. '{other}{name[len(other):].lower()}')"
                )
    return name


def _check_lists(
    name: str,
    parameters: Sequence[str],
    units: Sequence[str],
    kinds: Sequence[str] | None,
    bounds: Sequence[tuple[float, float]] | None,
) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    n = len(parameters)
    if n == 0:
        raise ElementError(f"element {name!r}: give the names of its parameters")
    kinds = ("positive",) * n if kinds is None else tuple(kinds)
    if len(units) != n or len(kinds) != n or (bounds is not None and len(bounds) != n):
        raise ElementError(
            f"element {name!r}: {n} parameters but {len(units)} units, {len(kinds)} kinds"
            + ("" if bounds is None else f" and {len(bounds)} bounds")
        )
    bad = [k for k in kinds if k not in DEFAULT_BOUNDS]
    if bad:
        raise ElementError(f"element {name!r}: kind {bad[0]!r}; expected 'positive' or 'exponent'")
    b = tuple(DEFAULT_BOUNDS[k] for k in kinds) if bounds is None else tuple(bounds)
    for par, kind, pair in zip(parameters, kinds, b, strict=True):
        try:
            lo, hi = (float(x) for x in pair)
        except (TypeError, ValueError):
            raise ElementError(
                f"element {name!r}, parameter {par!r}: bounds {pair!r}; expected (lower, upper)"
            ) from None
        if not lo < hi or (kind == "positive" and lo <= 0):
            raise ElementError(
                f"element {name!r}, parameter {par!r}: bounds ({lo:g}, {hi:g}); expected "
                "lower < upper" + (", lower > 0 for a positive parameter" if kind == "positive"
                                   else "")
            )
    return kinds, tuple((float(lo), float(hi)) for lo, hi in b)


def start_value(kind: str, bounds: tuple[float, float]) -> float:
    """A parameter's start from its bounds alone: their geometric mean for a ``positive``
    parameter (the middle in log space, where it is fitted), the midpoint for an exponent."""
    lo, hi = bounds
    return float(np.sqrt(lo * hi)) if kind == "positive" else 0.5 * (lo + hi)


#: Units whose scale the data give: a resistance from |Z|, a time from the frequency window.
_SCALED_UNITS = {"Ohm": "resistance", "s": "time", "F": "capacitance"}


def start_from_data(
    symbol: str, k: int, resistance: float, time: float
) -> float | None:
    """The start of parameter ``k`` of the user element ``symbol`` in a fit without starting
    values: ``resistance`` (Ohm, a tenth of the largest |Z|) for a parameter in Ohm, ``time``
    (s, the middle of the frequency window) for one in s, their ratio for one in F, else
    :func:`start_value` of its bounds; always within its bounds. None for a built-in element.
    """
    user = _USER.get(symbol)
    if user is None:
        return None
    e = user.element
    scale = {"resistance": resistance, "time": time, "capacitance": time / resistance}
    kind = _SCALED_UNITS.get(e.units[k].replace("Ω", "Ohm").strip())
    lo, hi = e.bounds[k]
    value = scale[kind] if kind is not None else start_value(e.kinds[k], (lo, hi))
    return float(np.clip(value, lo, hi))


def _trial(name: str, impedance: Callable, kinds: Sequence[str], bounds) -> None:
    """Call the impedance once at its start values, as a fit will, and refuse what fails."""
    p = np.array([start_value(k, b) for k, b in zip(kinds, bounds, strict=True)])
    omega = 2 * np.pi * np.logspace(-2, 6, 9)
    try:
        z = np.asarray(impedance(p, omega))
    except Exception as exc:
        raise ElementError(
            f"element {name!r}: its impedance failed on parameters {p.tolist()} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if z.shape != omega.shape:
        raise ElementError(
            f"element {name!r}: its impedance returned shape {z.shape} for {omega.size} "
            "frequencies; expected one value per frequency (use numpy operations on omega)"
        )


def _trial_compiled(
    name: str,
    impedance: Callable,
    gradient: Callable | None,
    kinds: Sequence[str],
    bounds: Sequence[tuple[float, float]],
) -> None:
    """Compile the functions with numba, as the compiled engine will, and compare them at one
    frequency with the numpy evaluation at the start values; nothing to check where numba is
    not installed."""
    from eisfit.kernels import compiled

    if not compiled.available():
        return
    p = np.array([start_value(k, b) for k, b in zip(kinds, bounds, strict=True)])
    q = tuple(float(v) for v in p)
    omega = 2 * np.pi * np.logspace(-2, 6, 9)
    z = np.asarray(impedance(p, omega))
    z_one = _compiled_call(name, "impedance", impedance, q, float(omega[3]))
    _compare(name, "impedance", z_one, z[3])
    if gradient is not None:
        reference = [np.broadcast_to(g, omega.shape)[3] for g in gradient(p, omega, z)]
        got = _compiled_call(name, "gradient", gradient, q, float(omega[3]), complex(z[3]))
        _compare(name, "gradient", np.array(got), np.array(reference))


def _compiled_call(name: str, what: str, fn: Callable, *args: object) -> object:
    """``fn(*args)`` compiled by numba; an ElementError where numba cannot compile it."""
    import numba

    try:
        return numba.njit(error_model="numpy")(fn)(*args)
    except Exception as exc:  # numba's errors are not one class
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        raise ElementError(
            f"element {name!r}: compiled=True, but numba cannot compile its {what} "
            f"({type(exc).__name__}: {first.strip()})"
        ) from None


def _compare(name: str, what: str, got: object, reference: object) -> None:
    if not np.allclose(got, reference, rtol=1e-9, atol=0):
        raise ElementError(
            f"element {name!r}: compiled=True, but its compiled {what} at one frequency is "
            f"{got} where numpy gives {reference}"
        )


def define_element(
    name: str,
    impedance: Callable[[Sequence[float], np.ndarray], np.ndarray],
    *,
    parameters: Sequence[str],
    units: Sequence[str],
    kinds: Sequence[str] | None = None,
    bounds: Sequence[tuple[float, float]] | None = None,
    gradient: Callable[[Sequence[float], np.ndarray, np.ndarray], list[np.ndarray]]
    | None = None,
    description: str = "",
    replace: bool = False,
    compiled: bool = False,
) -> _el.Element:
    """Register a circuit element, usable in circuit strings from then on.

    Parameters
    ----------
    name
        The symbol typed in circuit strings: letters, the first a capital (``HN`` makes
        ``R0-p(R1,HN1)`` valid). A built-in symbol is refused.
    impedance
        ``impedance(p, omega) -> Z``: Z (Ohm, complex) at the angular frequencies ``omega``
        (rad/s, an array) for the parameters ``p`` in the order of ``parameters``. Written with
        numpy operations, so that ``p[k]`` may also be an array of parameter sets (shape
        (K, 1) against ``omega`` of shape (N,) or (K, N)).
    parameters
        The parameters' names, e.g. ``["R", "tau", "alpha", "beta"]``; in circuits they are
        numbered as built-in ones are (``HN1_0``, ``HN1_1``...).
    units
        Unit of each parameter (``"Ohm"``, ``"s"``, ``""``...).
    kinds
        ``"positive"`` (a quantity spanning decades, fitted in log space) or ``"exponent"``
        (fitted linearly) per parameter; all ``positive`` by default.
    bounds
        (lower, upper) of each parameter; by default (1e-15, 1e15) for a positive one and
        (0, 1) for an exponent. Fits start from them where the unit gives no scale (see
        ``docs/elements.md``), so tight bounds help.
    gradient
        ``gradient(p, omega, z) -> [dZ/dp_0, ...]``; by default central differences
        (:func:`numeric_gradient`, about 1e-10 relative accuracy).
    description
        One line saying what the element is (shown in ``docs`` and reports).
    replace
        Replace a user element of the same name defined earlier in this process.
    compiled
        The functions also compile with numba at one frequency (``p`` a tuple of floats,
        ``omega`` a float: arithmetic, numpy's ufuncs and the helpers of
        :mod:`eisfit.model.elements`, such as ``jw_power``, ``tanh`` and ``select``): the compiled
        engine then fits circuits holding the element (the derivatives, when no gradient is
        given, central differences of the compiled impedance). Checked here, where numba is
        installed, against the numpy evaluation.

    Returns
    -------
    Element
        The registered element.

    Raises
    ------
    ElementError
        A bad or built-in name, a name already defined (without ``replace``), lists of
        different lengths, a bad kind or bound, an impedance that fails on its start values, or
        (``compiled=True``) functions numba cannot compile or whose compiled values differ.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> def cole_davidson(p, omega):
    ...     return p[0] / (1 + 1j * omega * p[1]) ** p[2]
    >>> _ = eisfit.define_element("Cd", cole_davidson, parameters=["R", "tau", "beta"],
    ...                           units=["Ohm", "s", ""],
    ...                           kinds=["positive", "positive", "exponent"])
    >>> eisfit.Circuit("R0-Cd1").parameter_names
    ['R0', 'Cd1_0', 'Cd1_1', 'Cd1_2']
    >>> eisfit.remove_element("Cd")
    """
    _check_name(name, replace)
    if not callable(impedance) or (gradient is not None and not callable(gradient)):
        raise ElementError(f"element {name!r}: impedance and gradient must be functions")
    names = tuple(str(p) for p in parameters)
    kinds_, bounds_ = _check_lists(name, names, units, kinds, bounds)
    _trial(name, impedance, kinds_, bounds_)
    numeric = gradient is None
    grad = numeric_gradient(impedance, kinds_) if numeric else gradient
    compiled = bool(compiled)
    if compiled:
        _trial_compiled(name, impedance, gradient, kinds_, bounds_)
    record = _el.Element(
        name, tuple(str(u) for u in units), kinds_, bounds_, description, impedance, grad,
        compiled=compiled, numeric_gradient=numeric,
    )
    replacing = name in _USER
    _el.ELEMENTS[name] = record
    _USER[name] = UserElement(record, names, numeric, _LOADING["source"])
    if replacing or compiled:
        _forget_circuits()
    return record


def remove_element(name: str) -> None:
    """Remove the user element ``name`` (built-in elements stay).

    Raises
    ------
    ElementError
        ``name`` is not a user element.
    """
    if name not in _USER:
        raise ElementError(f"{name!r} is not a user-defined element")
    del _USER[name]
    del _el.ELEMENTS[name]
    _forget_circuits()


def _forget_circuits() -> None:
    """Empty the caches of parsed circuits, which may hold an element replaced or removed."""
    _el.changed()


@contextlib.contextmanager
def _source(path: str) -> Iterator[None]:
    before = _LOADING["source"]
    _LOADING["source"] = path
    try:
        yield
    finally:
        _LOADING["source"] = before


def load_elements(path: str | Path, option: str = "--elements") -> tuple[str, ...]:
    """Run the Python file ``path``, which defines elements with :func:`define_element`.

    A file loaded before and unchanged is not run again; a changed one is run again and may
    redefine its own elements.

    Parameters
    ----------
    path
        The file (``my_elements.py``).
    option
        How the file was given, for messages.

    Returns
    -------
    tuple of str
        The symbols the file defined.

    Raises
    ------
    ElementError
        One line naming the file: it is missing or not a file, or running it failed (the line
        and the error), or it defined no element.
    """
    p = Path(path)
    if not p.is_file():
        what = "no such file" if not p.exists() else "not a file"
        raise ElementError(f"{option} {path}: {what}; expected a Python file of elements")
    key = str(p.resolve())
    st = p.stat()
    done = _LOADED.get(key)
    if done is not None and done[:2] == (st.st_mtime_ns, st.st_size) and _defined(key, done[2]):
        return done[2]  # unchanged, and none of its elements removed since
    module_name = f"eisfit_user_elements_{abs(hash(key))}"
    spec = importlib.util.spec_from_file_location(module_name, p)
    if spec is None or spec.loader is None:
        raise ElementError(f"{option} {path}: cannot be loaded as Python; expected a .py file")
    module = importlib.util.module_from_spec(spec)
    try:
        with _source(key):
            spec.loader.exec_module(module)
    except ElementError as exc:
        raise ElementError(f"{option} {path}: {exc}") from None
    except Exception as exc:
        raise ElementError(f"{option} {path}{_line_of(exc, key)}: {_one_line(exc)}") from None
    sys.modules[module_name] = module
    names = tuple(n for n, u in _USER.items() if u.source == key)
    if not names:
        raise ElementError(f"{option} {path}: defines no element (call eisfit.define_element)")
    _LOADED[key] = (st.st_mtime_ns, st.st_size, names)
    return names


def _line_of(exc: BaseException, filename: str) -> str:
    """``, line N`` of the deepest frame of the traceback in ``filename``, or of a syntax error."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f", line {exc.lineno}"
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return "" if line is None else f", line {line}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc.msg if isinstance(exc, SyntaxError) else exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
