"""Bounds on what reading and the analyses of a spectrum may cost: pipes and devices refused
before they are opened, a bad value early in a large file reported at once, many short sweeps
split in linear time, the points-per-spectrum cap, and the DRT's memory on a long spectrum."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import eisfit
import eisfit.analysis.drt as validate
import eisfit.io
from eisfit.analysis.kk import kramers_kronig
from eisfit.exceptions import ReaderError, SpectrumError

HEADER = b"freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n"
ROW = b"1.0000000000e+03,1.0000000000e+02,1.0000000000e+00\n"  # 52 bytes


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """A Python child process, killed after ``timeout`` seconds so a hang fails the test."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "EISFIT_COMPILED": "0"},
    )


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return _run(["-c", "import sys; from eisfit.cli.main import main; sys.exit(main(sys.argv[1:]))",
                 *args], timeout=timeout)


# --------------------------------------------------------------------------- pipes and devices


@pytest.fixture
def fifo(tmp_path: Path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    p = tmp_path / "spectrum.csv"
    os.mkfifo(p)
    yield p
    p.unlink()


def test_fifo_refused_by_read(fifo: Path) -> None:
    code = (
        "import sys, eisfit\n"
        "try:\n    eisfit.read(sys.argv[1])\n"
        "except eisfit.exceptions.ReaderError as e:\n    print(e)\n"
    )
    t0 = time.perf_counter()
    r = _run(["-c", code, str(fifo)], timeout=60)
    assert time.perf_counter() - t0 < 60
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        f"{fifo}: is a named pipe (FIFO), not a regular file: expected an impedance data file"
    )


@pytest.mark.parametrize("command", ["read", "fit", "validate"])
def test_fifo_refused_by_cli(fifo: Path, command: str) -> None:
    r = _cli(command, str(fifo))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a regular file" in lines[0] and str(fifo) in lines[0]
    assert "Traceback" not in r.stderr


def test_fifo_in_batch_is_a_failure_not_a_hang(fifo: Path) -> None:
    r = _cli("batch", str(fifo))
    assert r.returncode == 1  # the file is listed as failed
    assert "not a regular file" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_refused() -> None:
    r = _cli("read", "/dev/zero", "--format", "generic")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "eisfit: error: /dev/zero: is a character device, not a regular file: expected an "
        "impedance data file"
    )
    with pytest.raises(ReaderError, match="not a regular file"):
        eisfit.read("/dev/zero", format="generic")


# --------------------------------------------------------------------------- early errors


@pytest.mark.slow
@pytest.mark.parametrize(
    "line2, found",
    [
        (b"-1.0e+06,1.0e+02,1.0e+00\n", "'-1.0e+06', a negative frequency"),
        (b"1.0e+06,1.0e+999,1.0e+00\n", "'1.0e+999', beyond the range of a double"),
    ],
)
def test_bad_value_on_line_2_of_a_large_file_fails_fast(
    tmp_path: Path, line2: bytes, found: str
) -> None:
    p = tmp_path / "large.csv"
    p.write_bytes(HEADER + line2 + ROW * 1_000_000)  # ~52 MB after the bad line
    t0 = time.perf_counter()
    with pytest.raises(ReaderError) as exc:
        eisfit.read(p)
    elapsed = time.perf_counter() - t0
    assert exc.value.line == 2
    assert found in str(exc.value) and ", line 2: column " in str(exc.value)
    assert elapsed < 5, f"the error on line 2 took {elapsed:.1f} s"


# --------------------------------------------------------------------------- splitting


def test_zero_rows_split_sweeps(tmp_path: Path) -> None:
    p = tmp_path / "sweeps.csv"
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm", "0,0,0"]
    for k in range(3):
        rows += [f"1000,{k + 1},1", f"100,{k + 2},2", f"10,{k + 3},3", "0,0,0"]
    p.write_text("\n".join(rows) + "\n")
    spectra = eisfit.read_all(p)
    assert [s.meta["loop"] for s in spectra] == [0, 1, 2]
    for k, s in enumerate(spectra):
        np.testing.assert_array_equal(s.frequency, [1000, 100, 10])
        np.testing.assert_array_equal(s.z, np.array([k + 1, k + 2, k + 3]) - 1j * np.arange(1, 4))
        assert s.meta["notes"] == ["spectra separated by rows with frequency 0"]


@pytest.mark.slow
def test_many_short_sweeps_split_in_linear_time(tmp_path: Path) -> None:
    n = 150_000
    p = tmp_path / "many.csv"
    k = np.arange(n)
    body = "".join(f"1000,{i + 1},1\n10,{i + 2},3\n0,0,0\n" for i in k.tolist())
    p.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + body)
    t0 = time.perf_counter()
    spectra = eisfit.read_all(p)
    elapsed = time.perf_counter() - t0
    assert len(spectra) == n
    last = spectra[-1]
    assert last.meta["loop"] == n - 1
    np.testing.assert_array_equal(last.z, [n - 1j, n + 1 - 3j])
    # one pass over the rows: the quadratic split took over a minute for this file
    assert elapsed < 45, f"{n} sweeps took {elapsed:.1f} s"


# --------------------------------------------------------------------------- the cap


def test_points_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "long.csv"
    p.write_bytes(HEADER + b"".join(f"{f:.6e},100,{f:.3e}\n".encode()
                                    for f in np.logspace(5, 0, 60)))
    monkeypatch.setattr(eisfit.io, "MAX_POINTS", 50)
    with pytest.raises(ReaderError) as exc:
        eisfit.read(p)
    assert str(exc.value).startswith(
        f"{p}: spectrum 0 has 60 points, more than the cap of 50 (eisfit.io.MAX_POINTS); "
        "decimate it, e.g. keep every 2th data row"
    )
    monkeypatch.setattr(eisfit.io, "MAX_POINTS", 60)
    assert len(eisfit.read(p)) == 60


def test_points_cap_default() -> None:
    assert eisfit.io.MAX_POINTS == 100_000


def _long_spectrum(n: int) -> eisfit.Spectrum:
    f = np.logspace(6, -1, n)
    z = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)").impedance(
        f, [10, 1e3, 1e-9, 0.9, 2e3, 1e-6, 0.8]
    )
    rng = np.random.default_rng(3)
    return eisfit.Spectrum(f, z * (1 + 0.005 * rng.standard_normal(n)))


def test_lin_kk_over_the_cap_refused() -> None:
    s = _long_spectrum(200_000)
    t0 = time.perf_counter()
    with pytest.raises(SpectrumError, match=r"more than the cap of 100000 \(eisfit.io.MAX_POINTS"):
        kramers_kronig(s)
    assert time.perf_counter() - t0 < 1


# --------------------------------------------------------------------------- the DRT


def test_drt_reduced_rows_give_the_same_solution(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _long_spectrum(3000)
    monkeypatch.setattr(validate, "REDUCE_ABOVE", 10**9)
    full = validate.drt(s)
    monkeypatch.setattr(validate, "REDUCE_ABOVE", 100)
    monkeypatch.setattr(validate, "BLOCK_POINTS", 700)
    reduced = validate.drt(s)
    assert reduced.lam == full.lam
    np.testing.assert_allclose(reduced.gamma, full.gamma, rtol=0, atol=1e-7 * full.gamma.max())
    np.testing.assert_allclose(reduced.z_fit, full.z_fit, rtol=1e-9)
    assert reduced.r_inf == pytest.approx(full.r_inf, rel=1e-8)


@pytest.mark.slow
def test_drt_memory_bounded_on_a_long_spectrum() -> None:
    s = _long_spectrum(200_000)
    tracemalloc.start()
    try:
        r = validate.drt(s)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.z_fit.shape == (200_000,)
    assert np.max(np.abs(r.residuals)) < 0.05
    # the dense design matrix alone was 2N x (M + columns) doubles: ~2 GB at its peak
    assert peak < 1e9, f"peak {peak / 1e6:.0f} MB"


def test_a_fit_of_a_spectrum_over_the_cap_is_refused(monkeypatch):
    # a spectrum built in Python, not read from a file: the fit refuses it before any matrix is
    # sized by its points
    import eisfit
    import eisfit.io

    monkeypatch.setattr(eisfit.io, "MAX_POINTS", 50)
    f = np.logspace(6, -1, 60)
    z = eisfit.Circuit("R0-p(R1,CPE1)-CPE2").impedance(f, [10, 1e3, 1e-9, 0.9, 1e-6, 0.9])
    s = eisfit.Spectrum(f, z)
    for call in (lambda: eisfit.fit(s, "blocking"), lambda: eisfit.fit_stack([s], "blocking")):
        try:
            out = call()
        except eisfit.EisfitError as exc:
            message = str(exc)
        else:
            message = str(out[0].error)
        assert "60 points, more than the cap of 50 (eisfit.io.MAX_POINTS)" in message


@pytest.mark.slow
def test_reading_a_large_file_costs_a_few_times_its_size(tmp_path):
    # 4,000 spectra of 71 points with cycle numbers (about 12 MB): the memory a read adds,
    # measured in a fresh process after a small read has loaded every module, stays within
    # 8x the file size (it was 11x: the bytes kept, three normalised copies, a Python tuple
    # per row for the grouping)
    f = np.logspace(6, -1, 71)
    rows = [
        f"{x:.6e},{100 + 1e3 / (1 + x * 1e-3):.6e},{50 / (1 + x * 1e-4):.6e},{c}\n"
        for c in range(1, 4001)
        for x in f
    ]
    big = tmp_path / "big.csv"
    big.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm,cycle number\n" + "".join(rows))
    small = tmp_path / "small.csv"
    small.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm,cycle number\n" + "".join(rows[:142]))
    code = (
        "import resource, sys, eisfit\n"
        f"eisfit.read_all({str(small)!r})\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"n = len(eisfit.read_all({str(big)!r}))\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(n, (after - before) * 1024)\n"
    )
    out = _run(["-c", code], timeout=120)
    n, added = out.stdout.split()
    assert int(n) == 4000
    assert int(added) < 8 * big.stat().st_size, (int(added), big.stat().st_size)
