"""BLAS threads: the small matrices of fits, lin-KK and the DRT run faster on one."""

from __future__ import annotations

_CONTROLLER = None


def single_threaded_blas():
    """A context in which BLAS uses one thread.

    The matrices here are small (a few hundred rows): threaded BLAS spends far longer starting
    threads than computing, 20 times longer on a 2-core machine.
    """
    global _CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        import contextlib

        return contextlib.nullcontext()
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
