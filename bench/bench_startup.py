"""Wall time of a one-file ``eisfit fit``, start-up included, as a user's shell sees it.

Runs ``eisfit fit FILE --circuit blocking`` (the bundled LATP pellet at 20 °C by default) as a
whole new process N times and prints the median and the fastest run, with Python's bytecode
cache on (as on a user's machine: ``PYTHONDONTWRITEBYTECODE`` is removed from the children's
environment, and one warm-up run writes the cache). For context it also times a bare
interpreter, ``import numpy`` and ``import scipy.optimize`` the same way.

With ``--compare REV`` the same command also runs from a checkout of another revision (a
temporary ``git worktree``), alternating run by run with this tree, so both figures come from
the same minutes of a shared machine.

Usage::

    python bench/bench_startup.py                 # 9 runs
    python bench/bench_startup.py -n 15 --compare HEAD~5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PELLET = ROOT / "data" / "latp_pellet" / "LATP_20C.csv"


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)  # this tree's package, whatever is installed
    return env


def _wall(argv: list[str], env: dict[str, str]) -> float:
    # run outside any checkout: ``python -c`` puts its working folder first on the path
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   cwd=tempfile.gettempdir())
    return time.perf_counter() - start


def _fit_argv(path: Path) -> list[str]:
    code = "import sys; from eisfit.cli.main import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "fit", str(path), "--circuit", "blocking"]


def _summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s, fastest {min(times):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=9, help="runs of each command (default 9)")
    parser.add_argument("--file", type=Path, default=PELLET, help="the spectrum to fit")
    parser.add_argument("--compare", metavar="REV", help="also time this git revision")
    args = parser.parse_args()

    trees = {"this tree": ROOT}
    scratch = None
    if args.compare:
        scratch = tempfile.mkdtemp(prefix="eisfit-startup-")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", scratch,
                        args.compare], check=True, capture_output=True)
        trees[args.compare] = Path(scratch)
    try:
        context = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import numpy": [sys.executable, "-c", "import numpy"],
            "import scipy.optimize": [sys.executable, "-c", "import scipy.optimize"],
        }
        times: dict[str, list[float]] = {k: [] for k in [*trees, *context]}
        for tree in trees.values():  # the bytecode caches written once
            _wall(_fit_argv(args.file), _env(tree))
        for _ in range(args.n):
            for name, tree in trees.items():
                times[name].append(_wall(_fit_argv(args.file), _env(tree)))
            for name, argv in context.items():
                times[name].append(_wall(argv, _env(ROOT)))
        print(f"eisfit fit {args.file.name} --circuit blocking, {args.n} runs each, "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        for name in trees:
            print(f"  {name:<22} {_summary(times[name])}")
        for name in context:
            print(f"  {name:<22} {_summary(times[name])}")
        if args.compare:
            ratio = statistics.median(times[args.compare]) / statistics.median(times["this tree"])
            print(f"  {args.compare} / this tree: {ratio:.2f}x")
    finally:
        if scratch is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", scratch],
                           check=False, capture_output=True)


if __name__ == "__main__":
    main()
