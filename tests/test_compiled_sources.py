"""numba's disk cache follows the Python the compiled engine compiles from other modules.

The kernels compile the Levenberg–Marquardt rules (``lm_rules.py``) and the DRT's parts
(``drt_parts.py``) from the source the numpy engine runs. numba keys a cached function on its
own module's file only, so each kernel module ends with a digest of those sources, which
:func:`eisfit.kernels.compiled.follow_sources` keeps current.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eisfit.kernels import compiled

KERNELS = Path(compiled.__file__).parent


@pytest.mark.parametrize("name", sorted(compiled.COMPILED_FROM))
def test_each_kernel_module_ends_with_the_digest_of_what_it_compiles(name):
    last = (KERNELS / f"{name}.py").read_text(encoding="utf-8").splitlines()[-1]
    assert last == compiled.SOURCES_LINE + compiled.sources_digest(name)


def test_follow_sources_rewrites_only_a_stale_line(tmp_path):
    (tmp_path / "lm_rules.py").write_text("A = 1\n")
    (tmp_path / "lm_loop.py").write_text("L = 1\n")
    (tmp_path / "_kernels.py").write_text("B = 2\n")
    assert compiled.follow_sources("_kernels", tmp_path)
    text = (tmp_path / "_kernels.py").read_text()
    assert text.startswith("B = 2\n") and text.count(compiled.SOURCES_LINE) == 1
    assert not compiled.follow_sources("_kernels", tmp_path)  # current: left alone
    (tmp_path / "lm_rules.py").write_text("A = 3\n")
    assert compiled.follow_sources("_kernels", tmp_path)
    text = (tmp_path / "_kernels.py").read_text()
    assert text.count(compiled.SOURCES_LINE) == 1  # the line replaced, not added
    assert text.splitlines()[-1].endswith(compiled.sources_digest("_kernels", tmp_path))


def test_two_modules_that_follow_each_other_settle(tmp_path):
    # the loop is compiled with the kernels and the kernels call the loop: each follows the
    # other, read without its digest line, so one pass settles both and a second changes nothing
    for name, text in (("lm_rules", "A = 1\n"), ("lm_loop", "L = 1\n"), ("_kernels", "B = 2\n")):
        (tmp_path / f"{name}.py").write_text(text)
    assert compiled.follow_sources("_kernels", tmp_path)
    assert compiled.follow_sources("lm_loop", tmp_path)
    assert not compiled.follow_sources("_kernels", tmp_path)
    assert not compiled.follow_sources("lm_loop", tmp_path)
    before = (tmp_path / "lm_loop.py").read_text().splitlines()[-1]
    (tmp_path / "_kernels.py").write_text(
        "B = 3\n" + (tmp_path / "_kernels.py").read_text().split("\n", 1)[1]
    )
    assert compiled.follow_sources("lm_loop", tmp_path)  # a changed kernel: the loop follows
    assert (tmp_path / "lm_loop.py").read_text().splitlines()[-1] != before
    assert not compiled.follow_sources("_kernels", tmp_path)  # the loop's code is as it was


_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from eisfit.kernels import compiled
compiled.COMPILED_FROM["kern"] = ("rules",)
if {follow}:
    compiled.follow_sources("kern", Path({root!r}) / "pkg")
from pkg import kern
print(kern.f())
"""


@pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
def test_a_changed_rule_is_compiled_again_not_read_from_the_cache(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rules.py").write_text("def two():\n    return 2\n")
    (pkg / "kern.py").write_text(textwrap.dedent("""
        import numba
        from pkg import rules
        _two = numba.njit(cache=True)(rules.two)

        @numba.njit(cache=True)
        def f():
            return _two() * 10
    """))

    def run(follow: bool) -> str:
        code = _RUN.format(root=str(tmp_path), follow=follow)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=300)
        return out.stdout.strip()

    assert run(True) == "20"  # compiled and cached
    (pkg / "rules.py").write_text("def two():\n    return 3\n")
    assert run(False) == "20"  # what numba's cache alone gives: the old rule
    assert run(True) == "30"  # followed: compiled again with the new rule
