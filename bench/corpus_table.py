"""Read every file of the shared EIS corpus and count, per format, what eisfit reads.

The corpus is the folder of real instrument files that the project's tests read
(``tests/test_io_corpus.py``); its ``INDEX.md`` lists the files in the first column of its
files table. Every listed file is read once with :func:`eisfit.io.read_all` (and, with ``-v``,
summarised with :func:`eisfit.io.describe`), then one Markdown table row is printed per
registered reader (the format name eisfit reports): corpus files, files read, spectra and
points read. Files that are not read are listed after the table with eisfit's one-line error.
Files are put under the format that read them, or, for a file not read, the format that eisfit
detects for it.

The corpus folder is ``$EISFIT_CORPUS`` when set, else ``<checkout>/../shared/eis-corpus``
(the same rule as the tests), or the folder given on the command line. Without it the script
says so and exits 0.

Run::

    python bench/corpus_table.py                 # table + files not read
    python bench/corpus_table.py -v              # also each file's describe() summary
    python bench/corpus_table.py /path/to/eis-corpus
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eisfit.io import describe, detect_format, read_all, readers

_ROW = re.compile(r"^\| `([^`]+)` \|")


def default_corpus() -> Path:
    """The corpus folder: ``$EISFIT_CORPUS`` or ``<checkout>/../shared/eis-corpus``."""
    env = os.environ.get("EISFIT_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "eis-corpus"


def index_files(corpus: Path) -> list[str]:
    """Relative paths in the first column of INDEX.md's files table, in INDEX order."""
    text = (corpus / "INDEX.md").read_text(encoding="utf-8")
    return [m.group(1) for line in text.splitlines() if (m := _ROW.match(line))]


@dataclass
class Tally:
    """What one format read from the corpus."""

    files: int = 0
    read: int = 0
    spectra: int = 0
    points: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and message, whitespace collapsed."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def run(corpus: Path, verbose: bool = False) -> dict[str, Tally]:
    """Read every INDEX.md file; tallies by format name (registered readers first)."""
    tallies: dict[str, Tally] = {name: Tally() for name in sorted(readers())}
    for rel in index_files(corpus):
        path = corpus / rel
        if not path.is_file():
            tallies.setdefault("(missing)", Tally()).files += 1
            tallies["(missing)"].errors.append((rel, "listed in INDEX.md but not on disk"))
            continue
        try:
            spectra = read_all(path)
            summary = describe(path) if verbose else None
        except Exception as exc:  # a file not read: report it under the detected format
            try:
                fmt = detect_format(path)
            except Exception:
                fmt = "(not recognised)"
            t = tallies.setdefault(fmt, Tally())
            t.files += 1
            t.errors.append((rel, one_line(exc)))
            continue
        fmt = str(spectra[0].meta.get("format", "?"))
        t = tallies.setdefault(fmt, Tally())
        t.files += 1
        t.read += 1
        t.spectra += len(spectra)
        t.points += sum(len(s) for s in spectra)
        if summary is not None:
            print(summary, end="\n\n")
    return tallies


def main(argv: list[str] | None = None) -> int:
    """Command-line entry; always returns 0 (a report, not a test)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        default=None,
        help="corpus folder (default: $EISFIT_CORPUS or ../shared/eis-corpus)",
    )
    ap.add_argument(
        "-v", "--verbose", action="store_true", help="print describe() of every file read"
    )
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus()
    if not (corpus / "INDEX.md").is_file():
        print(
            f"skipped: no EIS corpus at {corpus} (no INDEX.md); set EISFIT_CORPUS or pass "
            "the folder"
        )
        return 0

    t0 = time.perf_counter()
    tallies = run(corpus, args.verbose)
    dt = time.perf_counter() - t0

    print("| format | corpus files | files read | spectra | points |")
    print("|---|---:|---:|---:|---:|")
    total = Tally()
    for name, t in tallies.items():
        print(f"| {name} | {t.files} | {t.read} | {t.spectra} | {t.points} |")
        total.files += t.files
        total.read += t.read
        total.spectra += t.spectra
        total.points += t.points
    print(f"| **all** | {total.files} | {total.read} | {total.spectra} | {total.points} |")

    errors = [(name, rel, msg) for name, t in tallies.items() for rel, msg in t.errors]
    print()
    print(f"files not read: {len(errors)}")
    for name, rel, msg in errors:
        print(f"- [{name}] {rel}: {msg}")
    print()
    print(f"{total.read}/{total.files} files read in {dt:.2f} s from {corpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
