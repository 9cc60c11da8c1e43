"""The ``--grain-size`` option of ``eisfit fit`` and ``eisfit batch``: brick-layer analysis
(:mod:`eisfit.microstructure`) after each fit."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .exceptions import EisfitError

__all__ = ["add_grain_size_option", "grain_size_from_args", "check_geometries",
           "brick_layer_text", "brick_layer_skipped"]

#: What a brick-layer analysis needs of the command line, said once for every message.
_NEEDS = ("--grain-size needs the sample thickness and electrode area for the brick-layer "
          "analysis: give --thickness and --diameter or --area")


def add_grain_size_option(p: argparse.ArgumentParser) -> None:
    """Add ``--grain-size`` to a subcommand."""
    p.add_argument(
        "--grain-size",
        metavar="LENGTH",
        help="mean grain size with a unit, e.g. 5um: brick-layer analysis of the bulk and "
        "grain-boundary arcs (specific grain-boundary conductivity, boundary thickness, bulk "
        "permittivity); needs --thickness and --diameter/--area (or a file header giving them)",
    )


def grain_size_from_args(args: argparse.Namespace) -> float | None:
    """``--grain-size`` in m (None when not given); a one-line error for a bad length."""
    value = getattr(args, "grain_size", None)
    if value is None:
        return None
    from .units import parse_length

    return parse_length(value, "--grain-size")  # a GeometryError naming the option


def check_geometries(geometries: Sequence[Any], what: str = "") -> None:
    """Refuse ``--grain-size`` before any fit when a spectrum has no geometry with a thickness
    (the user's or its file header's); ``what`` names where the geometry would come from."""
    if any(g is None or not getattr(g, "has_thickness", False) for g in geometries):
        raise EisfitError(_NEEDS + (f" ({what})" if what else ""))


def brick_layer_text(result: Any, geometry: Any, grain_size_m: float | None) -> str:
    """The ``[[Brick layer]]`` block of ``eisfit fit``: the analysis, or why it was not made."""
    from .microstructure import BrickLayerError, brick_layer

    try:
        return brick_layer(result, geometry, grain_size_m).report()
    except BrickLayerError as exc:
        return f"[[Brick layer]]\n    not computed: {exc}"


def brick_layer_skipped(series: Any) -> list[str]:
    """One note for each spectrum of a batch whose fit has no bulk or no grain-boundary arc
    (a one-arc or spike circuit): its brick-layer analysis is skipped, not failed."""
    notes = []
    for label, result in zip(series.labels, series.results, strict=True):
        roles = {role for _, role, _ in getattr(result, "arc_terms", ())}
        missing = [r.replace("_", "-") for r in ("bulk", "grain_boundary") if r not in roles]
        if missing:
            circuit = result.circuit_name or str(result.circuit)
            notes.append(f"{label}: brick layer skipped: the fit ({circuit}) has no "
                         f"{' or '.join(missing)} arc")
    return notes
