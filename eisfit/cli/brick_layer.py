"""The ``--grain-size`` option of ``eisfit fit`` and ``eisfit batch``: brick-layer analysis
(:mod:`eisfit.analysis.microstructure`) after each fit."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from eisfit.exceptions import EisfitError

__all__ = ["add_grain_size_option", "grain_size_from_args", "check_geometries",
           "brick_layer_text", "brick_layer_skipped", "brick_layer_table"]

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
    from eisfit.units import parse_length

    return parse_length(value, "--grain-size")  # a GeometryError naming the option


def check_geometries(geometries: Sequence[Any], what: str = "") -> None:
    """Refuse ``--grain-size`` before any fit when a spectrum has no geometry with a thickness
    (the user's or its file header's); ``what`` names where the geometry would come from."""
    if any(g is None or not getattr(g, "has_thickness", False) for g in geometries):
        raise EisfitError(_NEEDS + (f" ({what})" if what else ""))


def brick_layer_text(result: Any, geometry: Any, grain_size_m: float | None) -> str:
    """The ``[[Brick layer]]`` block of ``eisfit fit``: the analysis, or why it was not made."""
    from eisfit.analysis.microstructure import BrickLayerError, brick_layer

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


#: The brick-layer quantities of the batch's text table: (value key, error key) of
#: :meth:`eisfit.analysis.microstructure.BrickLayer.to_dict`.
_TABLE_KEYS = (
    ("specific_grain_boundary_conductivity_S_per_cm",
     "specific_grain_boundary_conductivity_stderr_S_per_cm"),
    ("bulk_relative_permittivity", "bulk_relative_permittivity_stderr"),
)


def brick_layer_table(series: Any, width: int | None = None) -> str:
    """The ``[[Brick layer]]`` table of ``eisfit batch --grain-size``: per spectrum the
    specific grain-boundary conductivity σ_gb,sp (S/cm) and the bulk relative permittivity ε_r,
    each ± its standard error; ``-`` for a spectrum whose fit has no bulk or grain-boundary
    arc. ``width``: characters per line (the terminal's), None for cells as wide as they are."""
    from eisfit.analysis.microstructure import brick_layer_entry
    from eisfit.labels import short_labels
    from eisfit.terminal import cell, table_lines

    grain = getattr(series, "grain_size_m", None)
    shown, shortened = short_labels(list(series.labels))
    rows = []
    for short, t, result in zip(shown, series.temperatures_K, series.results, strict=True):
        entry = brick_layer_entry(result, series.geometry, grain)
        row = [short, f"{t:.2f}"]
        for key, err_key in _TABLE_KEYS:
            value = entry.get(key)
            row.append("-" if value is None else cell(value, entry.get(err_key)))
        rows.append(row)
    lines = ["[[Brick layer]] (sigma gb,sp in S/cm; eps_r of the bulk)"]
    if shortened:
        lines.append(f"    {shortened}")
    lines.extend(table_lines(["file", "T/K", "sigma gb,sp", "eps_r"], rows, width))
    return "\n".join(lines)

