"""The ``eisfit`` command: parse the arguments, build a FitSpec, call the library, print and
write the results (:func:`eisfit.cli.main.main`)."""
