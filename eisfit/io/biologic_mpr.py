"""BioLogic EC-Lab binary files (``.mpr``), read through galvani.

galvani is GPL-3.0 and an optional extra (``pip install eisfit[mpr]``); it is imported only
when an ``.mpr`` file is read and used as a library. Its column names are EC-Lab's, so the
columns go through the same normaliser as ``.mpt`` files; a file that stores only ``|Z|`` and
the phase (Modulo Bat) is converted from those.

Columns galvani does not know
-----------------------------
The data module lists its columns by ID and galvani turns that list into a record layout from
its own table of IDs; an ID missing from the table stops the whole file, even when the
impedance columns are all known. :data:`EXTRA_COLUMNS` holds the IDs eisfit adds to that table
before parsing. An entry is added only where galvani has none, so galvani's own entries always
win; nothing in galvani's installed files is changed, only its table in this process.

* ``Energy we/W.h`` (little-endian float64): the working electrode's energy, met in a Modulo Bat
  run recorded with EC-Lab 11.61. The data module of such a file lists it as the
  two-byte ID 880 (0x0370); galvani's reader for version-0 data modules keeps only the low byte
  of each ID, so it meets it as 112, as it meets 467-469 as 211-213 (both spellings are in its
  table for those). Its width was checked on a real file: with it a record is 77 bytes, which
  divides the data block exactly (108 records), and every column, this one and the ``z cycle``
  after it included, equals the EC-Lab text export of the same run; the export also lists
  ``Energy we/W.h`` in this position, between ``half cycle`` and ``z cycle``.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError, UnsupportedFormatError
from eisfit.io._text import read_bytes
from eisfit.io.normalise import add_note, spectra_from_columns
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

MAGIC = b"BIO-LOGIC MODULAR FILE"

#: Column IDs added to galvani's ID -> (name, numpy dtype) table when it lacks them; see the
#: module docstring for the evidence behind each entry.
EXTRA_COLUMNS: dict[int, tuple[str, str]] = {
    112: ("Energy we/W.h", "<f8"),  # low byte of 880, as galvani reads version-0 modules
    880: ("Energy we/W.h", "<f8"),  # the same column under its full two-byte ID
}


def _add_extra_columns(biologic: Any) -> None:
    """Put :data:`EXTRA_COLUMNS` into galvani's column table where it has no entry (idempotent;
    never replaces one of galvani's own)."""
    table = getattr(biologic, "VMPdata_colID_dtype_map", None)
    if not isinstance(table, dict):
        return
    flags = getattr(biologic, "VMPdata_colID_flag_map", {})
    for col_id, entry in EXTRA_COLUMNS.items():
        if col_id not in flags:
            table.setdefault(col_id, entry)


@register("biologic-mpr", extensions=(".mpr",), description="BioLogic EC-Lab binary (.mpr)")
class BiologicMpr:
    """BioLogic EC-Lab binary file (``.mpr``), via the optional galvani package."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if head.startswith(MAGIC):
            return 0.95
        if path.suffix.lower() == ".mpr":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path, expected="a BioLogic .mpr file")
        if not data.startswith(MAGIC):
            kind = "text" if b"\x00" not in data[:4096] else "binary data"
            raise ReaderError(
                path,
                f"expected a BioLogic .mpr file starting with {MAGIC.decode()!r}, found {kind}"
                + (
                    " (an EC-Lab ASCII file? read it with format='biologic-mpt')"
                    if data.lstrip(b"\xef\xbb\xbf").upper().startswith(b"EC-LAB ASCII FILE")
                    else ""
                ),
                offset=0,
            )
        try:
            from galvani import BioLogic
        except ImportError:
            raise UnsupportedFormatError(
                path,
                "reading .mpr files needs the optional galvani package: "
                "pip install 'eisfit[mpr]' (or export the file as .mpt from EC-Lab)",
            ) from None
        _add_extra_columns(BioLogic)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mpr = BioLogic.MPRfile(str(path))
        except NotImplementedError as exc:
            raise ReaderError(
                path,
                f"galvani cannot read this .mpr ({' '.join(str(exc).split())}); "
                "export it as .mpt from EC-Lab",
            ) from None
        except Exception as exc:
            raise ReaderError(
                path,
                f"damaged or unsupported .mpr ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())}); export it as .mpt from EC-Lab",
            ) from None
        arr = getattr(mpr, "data", None)
        if arr is None or arr.dtype.names is None:
            raise ReaderError(path, "the .mpr file has no data module")
        if arr.shape[0] == 0:
            raise ReaderError(path, "the .mpr data module holds 0 points (measurement empty)")
        names = list(arr.dtype.names)
        if "freq/Hz" not in names:
            raise ReaderError(
                path, f"no 'freq/Hz' column in the .mpr data (columns: {names[:8]}...): "
                "not an impedance measurement"
            )
        cols = {n: np.asarray(arr[n], dtype=float) for n in names if arr[n].dtype.kind in "fiub"}
        meta: dict[str, Any] = {"format": "biologic-mpr", "source": str(path)}
        ts = getattr(mpr, "timestamp", None)
        sd = getattr(mpr, "startdate", None)
        if isinstance(ts, datetime):
            meta["start_time"] = ts.isoformat()
        elif isinstance(sd, date):
            meta["start_time"] = sd.isoformat()
        version = getattr(mpr, "version", None)
        if version is not None:
            meta["data_module_version"] = int(version)
        extra = None
        loops = getattr(mpr, "loop_index", None)
        if loops is not None:
            starts = np.asarray(loops, dtype=int)
            starts = starts[(starts >= 0) & (starts < arr.shape[0])]
            if starts.size > 1:
                extra = np.zeros(arr.shape[0])
                for k, a in enumerate(np.unique(starts)):
                    extra[a:] = k
        if "Re(Z)/Ohm" not in cols:
            add_note(meta, "the .mpr stores |Z| and phase only")
        return spectra_from_columns(path, cols, list(cols), meta, extra_groups=extra)
