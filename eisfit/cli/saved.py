"""``eisfit fit --save FILE`` and ``--start-from FILE``: fits written to be read back, and a
fit started from a saved one (:mod:`eisfit.fitting.saved`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from eisfit.exceptions import EisfitError

#: The circuit ``eisfit fit`` fits when neither ``--circuit`` nor ``--start-from`` says.
DEFAULT_CIRCUIT = "blocking"


def add_saved_options(p: argparse.ArgumentParser) -> None:
    """Add ``--save FILE`` and ``--start-from FILE`` to ``eisfit fit``."""
    p.add_argument(
        "--save", metavar="FILE",
        help="write the fit as JSON that eisfit.load_result and --start-from read back exactly "
        "(refused if FILE exists, unless --force)",
    )
    p.add_argument(
        "--start-from", metavar="FILE",
        help="a fit saved by --save (or --json): its values are one more start, beside the "
        "automatic ones; its circuit is fitted unless --circuit is given (same parameters)",
    )


def start_from_args(args: argparse.Namespace) -> Any:
    """The fit of ``--start-from FILE`` (None without it), with ``args.circuit`` set: the
    user's, else the saved fit's circuit, else :data:`DEFAULT_CIRCUIT`.

    Raises
    ------
    EisfitError
        The file is not one saved fit, ``--circuit auto`` was asked for with it, or
        ``--circuit`` has other parameters than the saved fit's circuit.
    """
    path = getattr(args, "start_from", None)
    if path is None:
        if args.circuit is None:
            args.circuit = DEFAULT_CIRCUIT
        return None
    from eisfit.fitting.saved import check_start, load_result

    result = load_result(path)
    if args.circuit is None:
        args.circuit = result.circuit_name or result.circuit.text
        return result
    if args.circuit == "auto":
        raise EisfitError(
            "--start-from cannot be used with --circuit auto (it fits named circuits from "
            "their own starts)"
        )
    from eisfit.model.named import resolve

    circuit, named = resolve(args.circuit)
    try:
        check_start(result, circuit, named)
    except EisfitError as exc:
        raise EisfitError(f"--start-from {path}: {exc}") from None
    return result


def check_save(args: argparse.Namespace) -> None:
    """Refuse ``--save FILE`` before any fit: an empty name, a missing folder, or a file that
    exists without ``--force``."""
    if args.save is None:
        return
    from eisfit.output import check_writable

    check_writable(args.save, args.force, probe=True, what="--save")


def write_saved(args: argparse.Namespace, results: list[Any]) -> None:
    """Write ``--save FILE``: one saved fit, or a list of them for a file of several spectra
    (``eisfit.load_results`` reads either)."""
    if args.save is None or not results:
        return
    from eisfit.fitting.save import to_json
    from eisfit.output import write_text

    if len(results) == 1:
        text = to_json(results[0])
    else:
        text = "[\n" + ",\n".join(to_json(r) for r in results) + "\n]"
        json.loads(text)  # one whole document, or nothing is written
    write_text(args.save, text + "\n", force=args.force)


def add_save_fits_option(p: argparse.ArgumentParser) -> None:
    """Add ``--save-fits`` to ``eisfit batch``."""
    p.add_argument(
        "--save-fits", action="store_true",
        help="with --out DIR: also write each spectrum's fit as fit_<file>.json, which "
        "eisfit.load_result and 'eisfit fit --start-from' read back exactly",
    )


def check_save_fits(args: argparse.Namespace) -> None:
    """Refuse ``--save-fits`` without ``--out DIR``, before any fit."""
    if getattr(args, "save_fits", False) and args.out is None:
        raise EisfitError("--save-fits writes into the --out folder: give --out DIR")


def write_saved_fits(folder: Any, results: Any, plot_names: list[str]) -> None:
    """Write each result as ``fit_<file>.json`` into ``folder`` (an OutputFolder), named as its
    Nyquist plot ``nyquist_<file>.png`` is."""
    from eisfit.fitting.save import to_json

    for plot, result in zip(plot_names, results, strict=True):
        stem = plot.removeprefix("nyquist_").removesuffix(".png")
        text = to_json(result) + "\n"
        folder.write(f"fit_{stem}.json", lambda t, text=text: t.write_text(text, encoding="utf-8"))
