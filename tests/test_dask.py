"""The Dask backend of :func:`eisfit.fitting.batch.fit_many` on a local two-process cluster.

The cluster's results must equal the ``workers=1`` results exactly (same JSON). Skipped, with
the reason, when dask.distributed is not installed, unless the environment variable ``CI`` is
set: then a missing Dask is a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np
import pytest

from eisfit.exceptions import EisfitError
from eisfit.fitting.batch import Failure, dask_client, fit_many
from eisfit.io.spectrum import Spectrum
from eisfit.model.synthetic import blocking_cell

try:
    import distributed
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI"):
        raise ImportError(
            "CI is set but dask.distributed is not installed: pip install 'eisfit[dask]'"
        ) from None
    pytest.skip(
        "dask.distributed is not installed (pip install 'eisfit[dask]'); set CI=1 to fail "
        "instead",
        allow_module_level=True,
    )


def _spectra(n: int) -> list[Spectrum]:
    rng = np.random.default_rng(11)
    out = []
    for k in range(n):
        s = blocking_cell(rng, noise=0.005).spectrum
        m = dict(s.meta)
        m["label"] = f"cell{k}"
        out.append(Spectrum(s.frequency, s.z, m))
    return out


SPECTRA = _spectra(8)


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _json(outcomes: list) -> str:
    return json.dumps([o.to_dict() for o in outcomes], sort_keys=True)


def test_cluster_results_equal_local(client: distributed.Client) -> None:
    local = list(fit_many(SPECTRA, "blocking", workers=1))
    with distributed.get_task_stream(client) as stream:
        remote = list(fit_many(SPECTRA, "blocking", client=client, stack=2))
    assert [o.spectrum.meta["label"] for o in remote] == [s.meta["label"] for s in SPECTRA]
    # stacks of 2 on the cluster, one stack of all 8 here: a result does not depend on its stack
    assert _json(remote) == _json(local)
    # one task per stack of two spectra ran on the cluster's two worker processes
    assert len(stream.data) == len(SPECTRA) // 2
    assert {t["worker"] for t in stream.data} <= set(client.nthreads())


def test_cluster_failures_equal_local(client: distributed.Client) -> None:
    local = list(fit_many(SPECTRA[:3], "R0-p(R1,CPE1", workers=1))
    remote = list(fit_many(SPECTRA[:3], "R0-p(R1,CPE1", client=client))
    assert all(isinstance(o, Failure) for o in remote)
    assert remote == local


def test_scheduler_address(client: distributed.Client) -> None:
    address = client.scheduler.address
    local = list(fit_many(SPECTRA[:3], "R0-p(R1,CPE1)-CPE2", workers=1))
    remote = list(fit_many(SPECTRA[:3], "R0-p(R1,CPE1)-CPE2", client=address))
    assert _json(remote) == _json(local)


def test_unreachable_scheduler() -> None:
    with pytest.raises(EisfitError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"):
        dask_client("tcp://127.0.0.1:9", timeout=1)
