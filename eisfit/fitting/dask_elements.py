"""The Dask worker plugin that gives a cluster's workers the user elements of the client
(``eisfit batch --scheduler ... --elements FILE``; ``fit_many(client=)`` after
:func:`eisfit.load_elements`). Imported only on the Dask path: it needs ``eisfit[dask]``."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["ElementsPlugin"]


class ElementsPlugin(WorkerPlugin):
    """Runs the client's files of user elements on every worker of the cluster, those there
    now and those that join later.

    The files must be readable at the same paths on the workers' machines (a shared disk);
    a worker that cannot run them fails its tasks, each with a one-line reason.

    Parameters
    ----------
    element_files
        Absolute paths of the files (:func:`eisfit.fitting.user_elements.loaded_element_files`).
    """

    name = "eisfit-user-elements"
    idempotent = False  # a batch with other files replaces the plugin of an earlier one

    def __init__(self, element_files: tuple[str, ...]) -> None:
        self.element_files = tuple(element_files)

    def setup(self, worker: Any = None) -> None:
        """Run the files on the worker (Dask calls this when the plugin is registered and when
        a worker joins)."""
        from eisfit.fitting.user_elements import load_elements

        for path in self.element_files:
            load_elements(path)
