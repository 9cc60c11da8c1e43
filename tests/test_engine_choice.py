"""The engine is an option of the fit (``FitSpec.engine``), not process-wide state.

``engine="numpy"`` or ``"compiled"`` holds for the fit whatever the context; ``"auto"`` follows
:func:`eisfit.kernels.compiled.use`, which changes neither the environment nor other threads;
worker processes fit with the engine the process that started them would have used; the
choice is recorded in the result and its JSON, and ``--engine`` sets it on the command line.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.exceptions import ArgumentError
from eisfit.fitting.batch import read_and_fit
from eisfit.fitting.spec import FitSpec
from eisfit.kernels import compiled
from eisfit.model.synthetic import blocking_cell

PELLET = Path(__file__).resolve().parents[1] / "data" / "latp_pellet" / "LATP_20C.csv"
needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


@pytest.fixture(scope="module")
def cell():
    return blocking_cell(np.random.default_rng(1))


@pytest.fixture
def seen(monkeypatch):
    """What every ``compiled.enabled()`` call of a fit answered."""
    answers: list[bool] = []
    real = compiled.enabled

    def spy() -> bool:
        answers.append(real())
        return answers[-1]

    monkeypatch.setattr(compiled, "enabled", spy)
    return answers


def test_unknown_engine_is_a_one_line_error(cell):
    with pytest.raises(ArgumentError, match="engine must be one of auto, compiled, numpy"):
        eisfit.fit(cell.spectrum, "blocking", engine="fast")


def test_engine_is_recorded_and_read_back(cell):
    r = eisfit.fit(cell.spectrum, "blocking", engine="numpy")
    d = r.to_dict()["spec"]
    assert d["engine"] == "numpy"
    assert FitSpec.from_dict(d).engine == "numpy"
    legacy = {k: v for k, v in d.items() if k != "engine"}  # a result saved before the option
    assert FitSpec.from_dict(legacy).engine == "auto"


@needs_numba
@pytest.mark.parametrize(("engine", "context", "expected"),
                         [("numpy", True, False), ("compiled", False, True),
                          ("auto", False, False), ("auto", True, True)])
def test_the_spec_engine_wins_over_the_context(cell, seen, engine, context, expected):
    with compiled.use(context):
        r = eisfit.fit(cell.spectrum, "blocking", engine=engine)
    assert seen and set(seen) == {expected}
    assert r.spec.engine == engine


@needs_numba
def test_both_engines_give_the_same_fit(cell):
    a = eisfit.fit(cell.spectrum, "blocking", engine="numpy")
    b = eisfit.fit(cell.spectrum, "blocking", engine="compiled")
    assert b.chi_square == pytest.approx(a.chi_square, rel=1e-9)
    for role in ("bulk", "grain_boundary"):  # the series resistance is below what 1 MHz sees
        assert b.resistances[role] == pytest.approx(a.resistances[role], rel=1e-6)
        assert a.resistances[role] == pytest.approx(cell.resistances[role], rel=0.05)


@needs_numba
def test_fit_stack_and_fit_many_take_the_engine(cell, seen):
    with compiled.use(True):
        eisfit.fit_stack([cell.spectrum] * 2, "blocking", engine="numpy")
        list(eisfit.fit_many([cell.spectrum] * 2, "blocking", engine="numpy"))
    assert seen and not any(seen)


def test_use_changes_neither_the_environment_nor_other_threads():
    env = os.environ.get("EISFIT_COMPILED")
    default = compiled.enabled()
    inside: list[bool] = []
    with compiled.use(not default):
        assert compiled.enabled() == (compiled.available() and not default)
        assert os.environ.get("EISFIT_COMPILED") == env
        t = threading.Thread(target=lambda: inside.append(compiled.enabled()))
        t.start()
        t.join()
    assert inside == [default]  # another thread keeps the process default
    assert compiled.enabled() == default


def read_engine(job: str) -> tuple[bool, list]:
    """A reader for :func:`read_and_fit` that reports the engine of the process it runs in."""
    return compiled.enabled(), []


@needs_numba
@pytest.mark.parametrize(("engine", "context", "expected"),
                         [("auto", False, False), ("auto", True, True),
                          ("numpy", True, False), ("compiled", False, True)])
def test_worker_processes_fit_as_this_process_would(engine, context, expected):
    spec = FitSpec("blocking", engine=engine)
    with compiled.use(context):
        reads = list(read_and_fit(["a", "b", "c", "d"], read_engine, spec, workers=2, stack=1))
    assert [r.info for r in reads] == [expected] * 4


def test_command_line_engine(capsys):
    assert main(["fit", str(PELLET), "--circuit", "blocking", "--engine", "numpy",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    d = d[0] if isinstance(d, list) else d
    assert d["spec"]["engine"] == "numpy"
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(PELLET), "--engine", "fast"])
    assert exc.value.code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err


@needs_numba
def test_the_seeding_decomposition_is_the_same_with_either_engine():
    """The light decomposition that seeds full cells solves its non-negative least squares
    compiled or in numpy: the same distribution and peaks to rounding (the penalty makes
    the solution unique), on synthetic full cells with known arcs."""
    from eisfit.fitting.guess import decompose
    from eisfit.model.synthetic import full_cell

    rng = np.random.default_rng(8)
    for _ in range(6):
        s = full_cell(rng).spectrum
        with compiled.use(True):
            a = decompose(s.frequency, s.z)
        with compiled.use(False):
            b = decompose(s.frequency, s.z)
        scale = float(np.max(np.abs(b.gamma)))
        assert np.max(np.abs(a.gamma - b.gamma)) <= 1e-8 * scale
        assert [round(p.tau, 12) for p in a.peaks] == pytest.approx(
            [round(p.tau, 12) for p in b.peaks], rel=1e-8)
