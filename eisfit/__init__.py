"""eisfit: impedance spectra of solid-state battery cells to the numbers a paper reports.

The public names are imported lazily, so ``import eisfit`` stays fast for the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Spectrum": "spectrum",
    "Circuit": "circuit",
    "EisfitError": "exceptions",
    "ReaderError": "exceptions",
    "CircuitSyntaxError": "exceptions",
    "FitError": "exceptions",
    "GeometryError": "exceptions",
    "SpectrumError": "exceptions",
    "UnsupportedFormatError": "exceptions",
    "fit": "fitting",
    "fit_stack": "stack",
    "fit_many": "batch",
    "FitResult": "result",
    "FitSpec": "spec",
    "load_result": "saved",
    "load_results": "saved",
    "SavedResultError": "saved",
    "Geometry": "geometry",
    "named_circuits": "named",
    "NamedCircuit": "named",
    "read": "io",
    "read_all": "io",
    "fit_series": "series",
    "Series": "series",
    "arrhenius": "activation",
    "ArrheniusResult": "activation",
    "transference_number": "activation",
    "drt": "validate",
    "drt_arrhenius": "drt_tracks",
    "track_peaks": "drt_tracks",
    "DrtTrack": "drt_tracks",
    "kramers_kronig": "validate",
    "zhit": "zhit_check",
    "ZHITResult": "zhit_check",
    "draw_circuit": "diagram",
    "compare": "comparison",
    "fit_joint": "joint",
    "JointResult": "joint",
    "fit_shared": "shared_fit",
    "SharedFit": "shared_fit",
    "ConstraintError": "constraints",
    "fit_variable_series": "variable_series",
    "VariableSeries": "variable_series",
    "Comparison": "comparison",
    "auto_circuit": "comparison",
    "define_element": "user_elements",
    "remove_element": "user_elements",
    "load_elements": "user_elements",
    "ElementError": "user_elements",
    "from_impedance": "interop",
    "ImportedModel": "interop",
    "read_polarisation": "polarisation",
    "hebb_wagner": "polarisation",
    "Polarisation": "polarisation",
    "Fixture": "fixture",
    "FixtureError": "fixture",
    "LeadModel": "fixture",
    "correct_fixture": "fixture",
    "fit_leads": "fixture",
    "brick_layer": "microstructure",
    "BrickLayer": "microstructure",
    "BrickLayerError": "microstructure",
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
