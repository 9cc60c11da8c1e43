"""eisfit: impedance spectra of solid-state battery cells to the numbers a paper reports.

The public names are imported lazily, so ``import eisfit`` stays fast for the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

from eisfit._version import __version__
from eisfit.show import hooks as _show_hooks  # noqa: F401  (the records' displays)

_EXPORTS = {
    "Spectrum": "io.spectrum",
    "Circuit": "model.circuit",
    "EisfitError": "exceptions",
    "ReaderError": "exceptions",
    "CircuitSyntaxError": "exceptions",
    "FitError": "exceptions",
    "GeometryError": "exceptions",
    "SpectrumError": "exceptions",
    "UnsupportedFormatError": "exceptions",
    "fit": "fitting.single",
    "fit_stack": "fitting.stack",
    "fit_many": "fitting.batch",
    "FitResult": "fitting.result",
    "Finding": "findings",
    "FitSpec": "fitting.spec",
    "load_result": "fitting.saved",
    "load_results": "fitting.saved",
    "SavedResultError": "fitting.saved",
    "Geometry": "model.geometry",
    "named_circuits": "model.named",
    "NamedCircuit": "model.named",
    "read": "io",
    "read_all": "io",
    "fit_series": "series.temperature",
    "Series": "series.temperature",
    "arrhenius": "analysis.activation",
    "ArrheniusResult": "analysis.activation",
    "transference_number": "analysis.activation",
    "drt": "analysis.drt",
    "drt_arrhenius": "analysis.drt_tracks",
    "track_peaks": "analysis.drt_tracks",
    "DrtTrack": "analysis.drt_tracks",
    "kramers_kronig": "analysis.kk",
    "zhit": "analysis.zhit_check",
    "ZHITResult": "analysis.zhit_check",
    "draw_circuit": "show.diagram",
    "compare": "fitting.comparison",
    "fit_joint": "series.joint",
    "JointResult": "series.joint",
    "fit_shared": "fitting.shared_fit",
    "SharedFit": "fitting.shared_fit",
    "ConstraintError": "fitting.constraints",
    "fit_variable_series": "series.variable",
    "VariableSeries": "series.variable_result",
    "Comparison": "fitting.comparison",
    "auto_circuit": "fitting.comparison",
    "define_element": "fitting.user_elements",
    "remove_element": "fitting.user_elements",
    "load_elements": "fitting.user_elements",
    "ElementError": "fitting.user_elements",
    "from_impedance": "fitting.interop",
    "ImportedModel": "fitting.interop",
    "read_polarisation": "io.polarisation",
    "hebb_wagner": "analysis.polarisation",
    "Polarisation": "io.polarisation",
    "Fixture": "analysis.fixture",
    "FixtureError": "analysis.fixture",
    "LeadModel": "analysis.fixture",
    "correct_fixture": "analysis.fixture",
    "fit_leads": "analysis.fixture",
    "brick_layer": "analysis.microstructure",
    "BrickLayer": "analysis.microstructure",
    "BrickLayerError": "analysis.microstructure",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'eisfit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
