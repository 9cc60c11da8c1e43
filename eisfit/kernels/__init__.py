"""Compiled numerics: the numba kernels for circuit impedances, Levenberg–Marquardt, the DRT and
lin-KK, the per-circuit element dispatch generated from the element registry, and the switch
between them and the numpy code (:mod:`eisfit.kernels.compiled`).

Numba is imported only by the kernel modules, never by :mod:`~eisfit.kernels.compiled`, so the
numpy engine works without it. Imports only :mod:`eisfit.model` and below.
"""
