"""Fitting: the FitSpec, starting values, the engine (numpy and compiled), model choice
(``auto``), stacks of spectra, process pools and Dask, saved fits and the FitResult.

The package is called ``fitting`` because ``eisfit.fit`` is the public fit function. Imports
only :mod:`eisfit.analysis` and the layers below it.
"""
