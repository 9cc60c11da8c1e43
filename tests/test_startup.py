"""What the ``eisfit`` command loads: a one-file fit imports only what it uses.

Each case runs in a fresh interpreter and looks at ``sys.modules`` after ``main([...])`` has
returned (its output captured), so a module imported at start-up, by the parser or by the fit
is seen wherever the import sits. A behavioural guard, not a timing: the heavy modules are
each a large part of a second to import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
PELLET = DATA / "latp_pellet" / "LATP_20C.csv"

#: Never needed by a one-file fit without --plot.
UNNEEDED = ("numba", "matplotlib", "lmfit", "impedance", "scipy.stats")
#: scipy's optimiser and linear algebra, about 0.4 s of start-up together: the seeding DRT, its
#: non-negative least squares (:mod:`eisfit.kernels.nnls`) and the lin-KK check use numpy's.
SCIPY_SOLVERS = ("scipy.optimize", "scipy.linalg")
#: None of scipy's subpackages (scipy.special and scipy.constants, about 0.14 s, came with the
#: Arrhenius module when a file's temperature was checked); ``--json`` records scipy's version,
#: which imports only its top package.
SCIPY = (*SCIPY_SOLVERS, "scipy.special", "scipy.constants", "scipy.stats", "scipy.signal",
         "scipy.interpolate", "scipy.sparse", "scipy.fft", "scipy.integrate")

_RUN = """
import contextlib, io, json, sys, importlib.util
{before}
from eisfit.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main({argv!r})
lazy = sorted(n for n, m in sys.modules.items() if isinstance(m, importlib.util._LazyModule))
print(json.dumps({{"code": code, "modules": sorted(sys.modules), "lazy": lazy,
                  "stdout": out.getvalue()}}))
"""


def _run(argv: list[str], before: str = "") -> dict:
    """``main(argv)`` in a fresh interpreter: its exit code, modules and captured stdout."""
    code = _RUN.format(argv=argv, before=before)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_importing_the_package_loads_nothing_numerical():
    code = "import json, sys, eisfit; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    modules = json.loads(proc.stdout)
    for name in ("numpy", "scipy", "eisfit.fitting.single", "eisfit.io"):
        assert not _loaded(modules, name), name


def test_importing_the_command_loads_no_numerical_library():
    code = ("import json, sys; from eisfit.cli.main import build_parser, main; build_parser(); "
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    modules = json.loads(proc.stdout)
    for name in (*UNNEEDED, "scipy", "uncertainties", "eisfit.fitting.single",
                 "eisfit.fitting.batch",
                 "eisfit.analysis.polarisation", "eisfit.io.polarisation"):
        assert not _loaded(modules, name), name


@pytest.mark.parametrize(
    "extra",
    [[], ["--json"], ["--thickness", "1mm", "--diameter", "10mm"]],
    ids=["report", "json", "geometry"],
)
def test_a_one_file_fit_loads_no_heavy_module(extra):
    run = _run(["fit", str(PELLET), "--circuit", "blocking", *extra])
    assert run["code"] == 0
    loaded = [name for name in (*UNNEEDED, *SCIPY) if _loaded(run["modules"], name)]
    assert loaded == []
    # numpy's tool modules stay registered but unexecuted (scipy's import reaches them)
    assert run["lazy"] == ["numpy.f2py", "numpy.testing"]
    if "--json" in extra:
        fitted = json.loads(run["stdout"])
        assert fitted["circuit"] and fitted["parameters"]
    else:
        assert "R" in run["stdout"] and "Ohm" in run["stdout"].replace("Ω", "Ohm")
    if "--thickness" in extra:
        assert "S/cm" in run["stdout"]


def test_the_fit_is_the_same_with_numpy_tools_loaded_first():
    # deferring numpy.f2py / numpy.testing changes when they load, never a number
    argv = ["fit", str(PELLET), "--circuit", "blocking", "--json"]
    deferred = _run(argv)
    loaded = _run(argv, before="import numpy.f2py, numpy.testing")
    assert loaded["lazy"] == [] and deferred["lazy"] == ["numpy.f2py", "numpy.testing"]
    assert json.loads(deferred["stdout"]) == json.loads(loaded["stdout"])


def test_a_deferred_numpy_module_loads_on_first_use():
    code = (
        "import sys, numpy as np\n"
        "from eisfit._startup import defer_numpy_tools\n"
        "print(defer_numpy_tools())\n"
        "import scipy.linalg\n"
        "np.testing.assert_allclose([1.0], [1.0])\n"
        "import numpy.f2py\n"
        "print(type(sys.modules['numpy.testing']).__name__, callable(numpy.f2py.run_main))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    first, last = proc.stdout.strip().splitlines()
    assert first == "['numpy.f2py', 'numpy.testing']"
    assert last == "module True"


def test_plot_loads_matplotlib(tmp_path):
    # the guard above can fail: --plot does need matplotlib, and the command loads it
    plot = tmp_path / "fit.png"
    run = _run(["fit", str(PELLET), "--circuit", "blocking", "--plot", str(plot)])
    assert run["code"] == 0 and plot.stat().st_size > 1000
    assert _loaded(run["modules"], "matplotlib")
    assert not _loaded(run["modules"], "numba")


def test_the_drt_and_lin_kk_load_no_scipy_solver():
    # the library calls as well: the DRT with λ by GCV and every tail, lin-KK of each fit type
    code = (
        "import json, sys, eisfit\n"
        "from eisfit.analysis.drt import drt\n"
        "from eisfit.analysis.kk import kramers_kronig\n"
        f"s = eisfit.read({str(PELLET)!r})\n"
        "peaks = [len(drt(s, tail=t).peaks) for t in ('auto', 'none', 'capacitance', 'cpe')]\n"
        "kk = [kramers_kronig(s, fit_type=t).n_elements for t in ('complex', 'real', 'imag')]\n"
        "print(json.dumps({'peaks': peaks, 'kk': kk, 'modules': sorted(sys.modules)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120, env={**os.environ, "EISFIT_COMPILED": "0"})
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(n >= 1 for n in run["peaks"]) and all(m >= 1 for m in run["kk"])
    assert [name for name in SCIPY_SOLVERS if _loaded(run["modules"], name)] == []
