"""Circuit elements by impedance.py's names, with analytic derivatives, each written once.

Each element is registered once with :func:`element`, which records its parameter units and
kinds. ``impedance(p, omega)`` returns Z in Ohm; ``gradient(p, omega, z)`` returns dZ/dp_k for
each parameter (same order as the parameters), used for the analytic Jacobian of fits.

One definition serves both engines. The functions use only arithmetic, numpy's ufuncs and the
helpers of this module (:data:`KERNEL_HELPERS`), so that

* the numpy engine calls them on arrays: ``p[k]`` a number or an array of parameter sets
  (shape (K, 1)), ``omega`` of shape (N,) or (K, N); and
* the compiled engine (:mod:`eisfit.kernels.compiled`) compiles them with numba and calls them at
one
  frequency at a time: ``p`` a tuple of floats, ``omega`` a float. Its dispatch on the element
  is generated from this registry (:mod:`eisfit.kernels._kernels`), so an element registered here is
  usable by both engines with no other edit.

A gradient returns a tuple (one entry per parameter). Branches on values are written with
:func:`select` (``numpy.where`` on arrays, a plain ``if`` compiled), and complex tanh with
:func:`tanh` (which stays finite for large arguments in either engine).

Parameter kinds steer how fits scale a parameter:

``positive``
    A strictly positive quantity spanning decades (R, C, Q, τ...): fitted as its logarithm.
``exponent``
    A dimensionless exponent in (0, 1] (CPE n, ...): fitted on a linear scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Element:
    """A registered circuit element.

    Attributes
    ----------
    name
        The symbol users type (``R``, ``CPE``, ``Wo``...).
    units
        Unit of each parameter, in impedance.py's parameter order.
    kinds
        ``positive`` or ``exponent`` for each parameter.
    bounds
        Default (lower, upper) bound of each parameter.
    description
        One line saying what the element is.
    impedance
        ``f(p, omega) -> Z`` (complex, Ohm).
    gradient
        ``f(p, omega, z) -> (dZ/dp_0, dZ/dp_1, ...)``.
    compiled
        True when ``impedance`` and ``gradient`` compile with numba at one frequency (every
        built-in element): the compiled engine evaluates the element.
    numeric_gradient
        True when ``gradient`` is central differences of ``impedance``
        (:func:`eisfit.fitting.user_elements.numeric_gradient`); the compiled engine then takes the
        same differences of the compiled impedance.
    """

    name: str
    units: tuple[str, ...]
    kinds: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    description: str
    impedance: Callable[[Sequence[float], Array], Array]
    gradient: Callable[[Sequence[float], Array, Array], Sequence[Array]]
    compiled: bool = True
    numeric_gradient: bool = False

    @property
    def n_params(self) -> int:
        """Number of parameters."""
        return len(self.units)


ELEMENTS: dict[str, Element] = {}

_POS = (1e-15, 1e15)

_ON_CHANGE: list[Callable[[], object]] = []


def on_change(callback: Callable[[], object]) -> None:
    """Call ``callback`` (no arguments) whenever an element is defined, replaced or removed:
    the modules that cache what they derive from circuits register the clearing of those
    caches here, so that the registry, at the bottom, needs to import none of them."""
    _ON_CHANGE.append(callback)


def changed() -> None:
    """Tell every registered cache that the element registry changed (see :func:`on_change`)."""
    for callback in _ON_CHANGE:
        callback()


#: Relative step of the numeric gradient of an element defined without one (ε^(1/3), the
#: optimum of a central difference); both engines use it.
STEP = float(np.finfo(np.float64).eps ** (1.0 / 3.0))


def element(
    name: str,
    units: Sequence[str],
    kinds: Sequence[str],
    description: str,
    bounds: Sequence[tuple[float, float]] | None = None,
) -> Callable:
    """Register an element given as the pair ``(impedance, gradient)``, in the form both
    engines use (see the module notes).

    ``impedance(p, omega)`` returns Z (Ohm) for angular frequencies ``omega`` (rad/s);
    ``gradient(p, omega, z)`` returns dZ/dp for each parameter. Registering a name twice is an
    error, so no element is silently replaced.
    """

    def register(pair: tuple[Callable, Callable]) -> tuple[Callable, Callable]:
        if name in ELEMENTS:
            raise ValueError(f"element {name!r} is already registered")
        imp, grad = pair
        b = (
            tuple(bounds)
            if bounds is not None
            else tuple(_POS if k == "positive" else (0.0, 1.0) for k in kinds)
        )
        if not (len(units) == len(kinds) == len(b)):
            raise ValueError(f"element {name!r}: units, kinds and bounds differ in length")
        ELEMENTS[name] = Element(name, tuple(units), tuple(kinds), b, description, imp, grad)
        return pair

    return register


# --------------------------------------------------------------------------- helpers
def tanh(x):
    """Complex tanh, finite for any argument: numpy's on arrays; compiled, ±1 beyond
    |Re x| > 20 (where it is ±1 to double precision and numba's formula overflows)."""
    return np.tanh(x)


def select(condition, a, b):
    """``a`` where ``condition`` holds, else ``b``: :func:`numpy.where` on arrays, a plain
    branch compiled (one frequency at a time)."""
    return np.where(condition, a, b)


def jw_power(n, log_w):
    """(jω)^n from ln ω: ω^n e^{jnπ/2}, real powers and one complex factor per parameter set,
    several times cheaper than a complex power of every point."""
    half = 0.5 * np.pi * n
    return np.exp(n * log_w) * (np.cos(half) + 1j * np.sin(half))


def coth_x_minus_csch2(x):
    """coth(x)/x − csch²(x), by its series where |x| < 0.1 (the two terms cancel there)."""
    x2 = x * x
    series = 2 / 3 + x2 * (-4 / 45 + x2 * (4 / 315 + x2 * (-8 / 4725)))
    coth = 1.0 / tanh(x)
    return select(np.abs(x) < 0.1, series, coth / x - (coth * coth - 1.0))


def csch(b):
    """1/sinh(b) for Re b > 0, without overflow where Re b is large."""
    e = np.exp(-b)
    return 2.0 * e / (1.0 - e * e)


#: The helpers element functions may call; the compiled engine compiles them with the
#: elements (:func:`tanh` and :func:`select` with their compiled forms).
KERNEL_HELPERS = (tanh, select, jw_power, coth_x_minus_csch2, csch)


# --------------------------------------------------------------------------- R, C, L
def _r(p, w):
    return p[0] + 0j * w


def _r_grad(p, w, z):
    return (1.0 + 0j * w,)


element("R", ["Ohm"], ["positive"], "resistor: Z = R")((_r, _r_grad))


def _c(p, w):
    return -1j * (1.0 / (p[0] * w))


def _c_grad(p, w, z):
    return (-z * (1.0 / p[0]),)


element("C", ["F"], ["positive"], "capacitor: Z = 1/(jωC)")((_c, _c_grad))


def _l(p, w):
    return p[0] * (1j * w)


def _l_grad(p, w, z):
    return (1j * w,)


element("L", ["H"], ["positive"], "inductor: Z = jωL")((_l, _l_grad))


# --------------------------------------------------------------------------- CPE
def _cpe(p, w):
    return jw_power(-p[1], np.log(w)) * (1.0 / p[0])


def _cpe_grad(p, w, z):
    log_jw = np.log(w) + 0.5j * np.pi
    return (-z * (1.0 / p[0]), -z * log_jw)


element(
    "CPE",
    ["S s^n", ""],
    ["positive", "exponent"],
    "constant-phase element: Z = 1/(Q (jω)^n)",
    bounds=[_POS, (0.0, 1.0)],
)((_cpe, _cpe_grad))


# --------------------------------------------------------------------------- Warburg family
def _w(p, w):
    return (p[0] / np.sqrt(w)) * (1 - 1j)


def _w_grad(p, w, z):
    return ((1.0 / np.sqrt(w)) * (1 - 1j),)


element("W", ["Ohm s^-1/2"], ["positive"], "semi-infinite Warburg: Z = σ(1-j)/√ω")((_w, _w_grad))


def _wo(p, w):
    x = np.sqrt((1j * w) * p[1])
    return p[0] / (x * tanh(x))


def _wo_grad(p, w, z):
    r, tau = p[0], p[1]
    x = np.sqrt((1j * w) * tau)
    coth = z * x * (1.0 / r)  # from Z = R coth(x)/x, with no second tanh
    csch2 = coth * coth - 1.0
    # d/dx [coth(x)/x] = -csch²(x)/x - coth(x)/x²
    d_dx = -csch2 / x - coth / (x * x)
    return (z * (1.0 / r), d_dx * x * (r / (2.0 * tau)))


element(
    "Wo",
    ["Ohm", "s"],
    ["positive", "positive"],
    "finite-space (blocking) Warburg: Z = R coth(√(jωτ))/√(jωτ)",
)((_wo, _wo_grad))


def _ws(p, w):
    x = np.sqrt((1j * w) * p[1])
    return p[0] * tanh(x) / x


def _ws_grad(p, w, z):
    r, tau = p[0], p[1]
    x = np.sqrt((1j * w) * tau)
    t = z * x * (1.0 / r)  # tanh(x), from Z = R tanh(x)/x
    sech2 = 1.0 - t * t
    d_dx = sech2 / x - t / (x * x)
    return (z * (1.0 / r), d_dx * x * (r / (2.0 * tau)))


element(
    "Ws",
    ["Ohm", "s"],
    ["positive", "positive"],
    "finite-length (transmissive) Warburg: Z = R tanh(√(jωτ))/√(jωτ)",
)((_ws, _ws_grad))


# --------------------------------------------------------------------------- Gerischer
def _g(p, w):
    return p[0] / np.sqrt(1 + (1j * w) * p[1])


def _g_grad(p, w, z):
    jw = 1j * w
    return (z * (1.0 / p[0]), -z * jw / (2.0 * (1 + jw * p[1])))


element("G", ["Ohm", "s"], ["positive", "positive"], "Gerischer: Z = R/√(1+jωτ)")((_g, _g_grad))


def _gs(p, w):
    y = np.sqrt(1 + (1j * w) * p[1])
    return p[0] / (y * tanh(p[2] * y))


def _gs_grad(p, w, z):
    r, tau, phi = p[0], p[1], p[2]
    jw = 1j * w
    y = np.sqrt(1 + jw * tau)
    t = tanh(phi * y)
    sech2 = 1.0 - t * t
    d = y * t
    dd_dphi = y * y * sech2
    dd_dy = t + phi * y * sech2
    return (z * (1.0 / r), -z / d * dd_dy * jw / (2.0 * y), -z / d * dd_dphi)


element(
    "Gs",
    ["Ohm", "s", ""],
    ["positive", "positive", "positive"],
    "finite-length Gerischer: Z = R/(√(1+jωτ) tanh(φ√(1+jωτ)))",
)((_gs, _gs_grad))


# --------------------------------------------------------------------------- Voigt, ZARC
def _k(p, w):
    return p[0] / (1 + (1j * w) * p[1])


def _k_grad(p, w, z):
    jw = 1j * w
    return (z * (1.0 / p[0]), -z * jw / (1 + jw * p[1]))


element("K", ["Ohm", "s"], ["positive", "positive"], "Voigt element: Z = R/(1+jωτ)")((_k, _k_grad))


def _zarc(p, w):
    return p[0] / (1 + jw_power(p[2], np.log(w * p[1])))


def _zarc_grad(p, w, z):
    r, tau, g = p[0], p[1], p[2]
    log_wt = np.log(w * tau)
    u = jw_power(g, log_wt)
    den = 1 + u
    return (z * (1.0 / r), -z * u * (g / tau) / den, -z * u * (log_wt + 0.5j * np.pi) / den)


element(
    "Zarc",
    ["Ohm", "s", ""],
    ["positive", "positive", "exponent"],
    "ZARC (Cole-Cole arc): Z = R/(1+(jωτ)^γ)",
)((_zarc, _zarc_grad))


def _hn(p, w):
    u = jw_power(p[2], np.log(w * p[1]))
    return p[0] * np.exp(-p[3] * np.log(1.0 + u))


def _hn_grad(p, w, z):
    r, tau, alpha, beta = p[0], p[1], p[2], p[3]
    log_wt = np.log(w * tau)
    u = jw_power(alpha, log_wt)
    f = -beta * z * u / (1.0 + u)
    return (z * (1.0 / r), f * (alpha / tau), f * (log_wt + 0.5j * np.pi), -z * np.log(1.0 + u))


element(
    "HN",
    ["Ohm", "s", "", ""],
    ["positive", "positive", "exponent", "exponent"],
    "Havriliak-Negami relaxation: Z = R/(1+(jωτ)^α)^β",
)((_hn, _hn_grad))


def _la(p, w):
    return jw_power(p[1], np.log(p[0] * w))


def _la_grad(p, w, z):
    l_, a = p[0], p[1]
    log_ljw = np.log(l_ * w) + 0.5j * np.pi
    return (z * (a / l_), z * log_ljw)


element(
    "La",
    ["H s", ""],
    ["positive", "exponent"],
    "modified inductance: Z = (L jω)^α",
)((_la, _la_grad))


# --------------------------------------------------------------------------- porous electrodes
def _tlmq(p, w):
    z_s = jw_power(-p[2], np.log(w)) * (1.0 / p[1])
    return np.sqrt(p[0] * z_s) / tanh(np.sqrt(p[0] / z_s))


def _tlmq_grad(p, w, z):
    # Z = R_ion coth(x)/x with x = √(R_ion/Z_Q) and Z_Q = 1/(Q (jω)^γ)
    q = p[1]
    log_w = np.log(w)
    inv_q = 1.0 / q
    z_s = jw_power(-p[2], log_w) * inv_q
    x = np.sqrt(p[0] / z_s)
    coth = 1.0 / tanh(x)
    d_dr = 0.5 * coth_x_minus_csch2(x)
    d_dzs = 0.5 * (x * coth + x * x * (coth * coth - 1.0))
    log_jw = log_w + 0.5j * np.pi
    return (d_dr, -d_dzs * z_s * inv_q, -d_dzs * z_s * log_jw)


element(
    "TLMQ",
    ["Ohm", "S s^n", ""],
    ["positive", "positive", "exponent"],
    "blocking transmission line (ionic rail R_ion, interfacial CPE Z_Q = 1/(Q (jω)^γ)): "
    "Z = √(R_ion Z_Q) coth(√(R_ion/Z_Q))",
)((_tlmq, _tlmq_grad))


def _tlmr(p, w):
    z_int = p[1] / (1.0 + p[1] * p[2] * jw_power(p[3], np.log(w)))
    x = np.sqrt(p[0] / z_int)
    return p[0] / (x * tanh(x))


def _tlmr_grad(p, w, z):
    # Z = R_ion coth(x)/x, x = √(R_ion/Z_int), Z_int = R_ct/(1 + R_ct Q (jω)^n) (= R_ct‖CPE)
    r_ct, q = p[1], p[2]
    log_w = np.log(w)
    a = jw_power(p[3], log_w)
    z_int = r_ct / (1.0 + r_ct * q * a)
    x = np.sqrt(p[0] / z_int)
    coth = 1.0 / tanh(x)
    d_dint = 0.5 * (x * coth + x * x * (coth * coth - 1.0))
    z2 = z_int * z_int
    d_dq = -d_dint * z2 * a
    return (
        0.5 * coth_x_minus_csch2(x),
        d_dint * z2 * (1.0 / (r_ct * r_ct)),
        d_dq,
        d_dq * q * (log_w + 0.5j * np.pi),
    )


element(
    "TLMr",
    ["Ohm", "Ohm", "S s^n", ""],
    ["positive", "positive", "positive", "exponent"],
    "non-blocking transmission line (ionic rail R_ion, interface R_ct‖CPE Z_int): "
    "Z = √(R_ion Z_int) coth(√(R_ion/Z_int)), Z_int = R_ct/(1 + R_ct Q (jω)^n)",
)((_tlmr, _tlmr_grad))


def _t(p, w):
    beta = np.sqrt(p[2] + (1j * w) * p[3])
    return p[0] / (beta * tanh(beta)) + p[1] * csch(beta) / beta


def _t_grad(p, w, z):
    a_, b_ = p[0], p[1]
    jw = 1j * w
    beta = np.sqrt(p[2] + jw * p[3])
    coth = 1.0 / tanh(beta)
    g = csch(beta) / beta
    d_coth = -(coth * coth - 1.0) / beta - coth / (beta * beta)  # d/dβ coth(β)/β
    d_beta = a_ * d_coth - b_ * g * (1.0 / beta + coth)
    return (coth / beta, g, d_beta / (2.0 * beta), d_beta * jw / (2.0 * beta))


element(
    "T",
    ["Ohm", "Ohm", "", "s"],
    ["positive", "positive", "positive", "positive"],
    "macrohomogeneous porous electrode (Paasch): Z = A coth(β)/β + B/(β sinh β), "
    "β = √(a + jωb)",
)((_t, _t_grad))


def get(name: str) -> Element:
    """Return the registered element called ``name``.

    Raises
    ------
    KeyError
        With the list of known element names.
    """
    try:
        return ELEMENTS[name]
    except KeyError:
        raise KeyError(
            f"unknown element {name!r}; known elements: {', '.join(sorted(ELEMENTS))}"
        ) from None
