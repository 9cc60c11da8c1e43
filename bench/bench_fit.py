"""Time eisfit's fit against impedance.py's CustomCircuit.fit on the same spectra, in one run.

Run:  python bench/bench_fit.py [--n-blocking 30] [--n-full 15] [--seed 1]

Every process setting is the same for both (BLAS limited to one thread before numpy loads).
Each tool fits its spectra back to back with the garbage collector paused, as ``timeit`` times
a loop: the collector runs once before each tool's run, so one tool's garbage is not collected
on the other's clock, and every call is timed on its own for the median.
eisfit gets no starting values; it is timed fitting one spectrum at a time (``eisfit.fit``) and
fitting all spectra of a kind at once (``eisfit.fit_stack``, the path ``eisfit batch`` takes:
the time per spectrum is the stack's time divided by the number of spectra), with each of its
engines: compiled (numba, the ``fast`` extra; skipped when numba is not installed) and numpy.
impedance.py gets (a) good starting values, the truth times a
random factor 0.5-2 per parameter, and (b) the values a new user would type, fitted with
modulus weighting. A fit succeeds when every arc resistance is within 2 % of the truth (the
electrolyte and the sum of the two interfaces for full cells; each interface within 5 %).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import eisfit  # noqa: E402
from eisfit.fitting.batch import Failure  # noqa: E402
from eisfit.fitting.stack import fit_stack  # noqa: E402
from eisfit.kernels import compiled  # noqa: E402
from eisfit.model.synthetic import blocking_cell, full_cell  # noqa: E402

TYPED = {
    "blocking": [1.0, 1e3, 1e-10, 0.9, 1e3, 1e-8, 0.9, 1e-6, 0.8],
    "full-cell": [1.0, 100.0, 1e-10, 0.9, 200.0, 1e-6, 0.9, 200.0, 1e-5, 0.9, 50.0, 10.0],
}
ROLES = {
    "blocking": {"bulk": 1, "grain_boundary": 4},
    "full-cell": {"electrolyte": 1, "anode_interface": 4, "cathode_interface": 7},
}


def success(kind: str, resistances: dict, truth: dict) -> bool:
    """The success criterion shared by both fitters."""
    if kind == "blocking":
        return all(
            abs(resistances.get(k, np.nan) / truth[k] - 1) < 0.02
            for k in ("bulk", "grain_boundary")
        )
    el = abs(resistances.get("electrolyte", np.nan) / truth["electrolyte"] - 1) < 0.02
    s_true = truth["anode_interface"] + truth["cathode_interface"]
    s_got = resistances.get("anode_interface", np.nan) + resistances.get(
        "cathode_interface", np.nan
    )
    each = all(
        abs(resistances.get(k, np.nan) / truth[k] - 1) < 0.05
        for k in ("anode_interface", "cathode_interface")
    )
    return el and abs(s_got / s_true - 1) < 0.02 and each


def timed_run(fn, items):
    """(seconds of each call, results) of ``fn(item)`` for every item, back to back with the
    garbage collector paused (collected once before)."""
    times, out = [], []
    gc.collect()
    gc.disable()
    try:
        for item in items:
            t0 = time.perf_counter()
            out.append(fn(item))
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return times, out


def impedance_py_fit(circuit: str, f, z, start, kind: str) -> dict:
    """impedance.py's fit from ``start``: the resistances of the roles (NaN when it fails)."""
    from impedance.models.circuits import CustomCircuit

    model = CustomCircuit(circuit, initial_guess=list(start))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(f, z, weight_by_modulus=True, maxfev=20000)
            p = model.parameters_
        except Exception:  # impedance.py raises RuntimeError when curve_fit gives up
            p = np.full(len(start), np.nan)
    return {role: p[i] for role, i in ROLES[kind].items()}


def engines() -> list[tuple[str, bool]]:
    """The engines to time: compiled where numba is installed, and numpy."""
    return ([("compiled", True)] if compiled.available() else []) + [("numpy", False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-blocking", type=int, default=30)
    ap.add_argument("--n-full", type=int, default=15)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = [("blocking", blocking_cell(rng)) for _ in range(args.n_blocking)]
    cases += [("full-cell", full_cell(rng)) for _ in range(args.n_full)]
    for _, on in engines():  # import, first-call and compiled-cache costs out of the way
        with compiled.use(on):
            eisfit.fit(cases[0][1].spectrum, "blocking")
            fit_stack([cases[0][1].spectrum], "blocking")

    rows = []
    for kind in ("blocking", "full-cell"):
        sub = [s for k, s in cases if k == kind]
        if not sub:
            continue
        n = len(sub)
        goods = []
        for s in sub:
            good = np.asarray(s.params) * np.exp(
                rng.uniform(np.log(0.5), np.log(2.0), len(s.params))
            )
            # CPE exponents are bounded by 1: keep the perturbed start valid
            kinds = eisfit.Circuit(s.circuit).parameter_kinds
            goods.append(np.where(np.array(kinds) == "exponent", np.minimum(good, 0.99), good))
        t_g, res_g = timed_run(
            lambda c, kind=kind: impedance_py_fit(
                c[0].circuit, c[0].spectrum.frequency, c[0].spectrum.z, c[1], kind
            ),
            list(zip(sub, goods, strict=True)),
        )
        ok_g = sum(success(kind, r, s.resistances) for r, s in zip(res_g, sub, strict=True))
        t_u, res_u = timed_run(
            lambda c, kind=kind: impedance_py_fit(
                c.circuit, c.spectrum.frequency, c.spectrum.z, TYPED[kind], kind
            ),
            sub,
        )
        ok_u = sum(success(kind, r, s.resistances) for r, s in zip(res_u, sub, strict=True))
        for engine, on in engines():
            with compiled.use(on):
                t_e, fits = timed_run(lambda c, kind=kind: eisfit.fit(c.spectrum, kind), sub)
                ok_e = sum(
                    success(kind, dict(r.resistances), s.resistances)
                    for r, s in zip(fits, sub, strict=True)
                )
                # fits that ended above the data's floor and searched beyond their starts
                searched = sum(bool(r.search and r.search.rounds) for r in fits) / n
                (dt,), (stacked,) = timed_run(
                    lambda spectra, kind=kind: fit_stack(spectra, kind), [[s.spectrum for s in sub]]
                )
            t_s = dt / n
            ok_s = sum(
                success(kind, dict(r.resistances), s.resistances)
                for r, s in zip(stacked, sub, strict=True)
                if not isinstance(r, Failure)
            )
            rows.append(
                (
                    kind,
                    engine,
                    n,
                    np.median(t_e),
                    ok_e / n,
                    t_s,
                    ok_s / n,
                    np.median(t_g),
                    ok_g / n,
                    np.median(t_u),
                    ok_u / n,
                    searched,
                )
            )

    numba_version = ""
    if compiled.available():
        import numba

        numba_version = f", numba {numba.__version__}"
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}{numba_version}, "
        "one BLAS thread"
    )
    print(
        "\n| cells | engine | n | eisfit.fit ms | ok | eisfit.fit_stack ms/spectrum | ok "
        "| impedance.py, good start ms | ok | ratio fit / stack "
        "| typed start ms | ok | ratio fit / stack | searched |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, engine, n, te, oe, ts, os_, tg, og, tu, ou, sr in rows:
        print(
            f"| {kind} | {engine} | {n} | {te * 1e3:.1f} | {oe:.0%} | {ts * 1e3:.1f} | {os_:.0%} "
            f"| {tg * 1e3:.1f} | {og:.0%} | {tg / te:.1f}x / {tg / ts:.1f}x "
            f"| {tu * 1e3:.1f} | {ou:.0%} | {tu / te:.1f}x / {tu / ts:.1f}x | {sr:.0%} |"
        )


if __name__ == "__main__":
    main()
