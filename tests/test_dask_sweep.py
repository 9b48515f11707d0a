"""Sweeps on a cluster: ``cross_validate`` and ``GridSearchCV`` of ``FairLossClassifier`` with
the package's fairness scorers and routed ``sensitive_features``, run through joblib's Dask
backend on a 2-worker ``LocalCluster`` of processes (loopback only), give the same fold scores
as the same sweep in one process.

The reference is the single-process run of scikit-learn's own ``cross_validate`` /
``GridSearchCV`` (``n_jobs=1``): the cluster run must not change a result. A scorer that
returns the worker's process id shows that the folds did run in the cluster's processes.
"""

import os

import numpy as np
import pytest
import sklearn
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

distributed = pytest.importorskip("distributed")

from sklearn_fairloss import FairLossClassifier  # noqa: E402
from sklearn_fairloss.metrics import (  # noqa: E402
    make_calibration_scorer,
    make_fairness_scorer,
)

PARAMS = dict(hidden_layer_sizes=(8,), max_epochs=3, lr=1e-2, batch_size=64,
              fairness="demographic_parity", fairness_strength=1.0, random_state=0)
CV = StratifiedKFold(3, shuffle=True, random_state=0)


def _pid(estimator, X, y, **kwargs):
    """A scorer whose "score" is the id of the process that evaluated the fold."""
    return float(os.getpid())


def _scoring():
    return {
        "accuracy": "accuracy",
        "dp": make_fairness_scorer("demographic_parity_difference"),
        "eod": make_fairness_scorer("equalized_odds_difference"),
        "ece": make_calibration_scorer(n_bins=5),
        "pid": _pid,
    }


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 240
    group = rng.integers(0, 2, n)
    X = np.column_stack([rng.normal(size=n) + group, rng.normal(size=(n, 3))]).astype(
        np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return X, y, group


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on the loopback interface, closed at the end."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _model():
    return FairLossClassifier(**PARAMS).set_fit_request(sensitive_features=True)


def _workers_pids(client):
    return set(client.run(os.getpid).values())


def test_cross_validate_on_local_cluster_equals_one_process(data, client):
    X, y, group = data
    with sklearn.config_context(enable_metadata_routing=True):
        local = cross_validate(_model(), X, y, cv=CV, scoring=_scoring(),
                               params={"sensitive_features": group}, n_jobs=1)
        with parallel_backend("dask"):
            remote = cross_validate(_model(), X, y, cv=CV, scoring=_scoring(),
                                    params={"sensitive_features": group}, n_jobs=2)
    for key in ("test_accuracy", "test_dp", "test_eod", "test_ece"):
        np.testing.assert_allclose(remote[key], local[key], rtol=0, atol=1e-12, err_msg=key)
    # the fairness scores are real (a DP penalty of strength 1 leaves a nonzero gap) ...
    assert np.all(local["test_dp"] < 0)
    # ... and the folds ran in the cluster's worker processes, not here
    assert set(local["test_pid"]) == {float(os.getpid())}
    assert set(remote["test_pid"]) <= {float(p) for p in _workers_pids(client)}


def test_grid_search_on_local_cluster_equals_one_process(data, client):
    X, y, group = data
    grid = {"fairness_strength": [0.0, 5.0], "lr": [1e-2, 3e-2]}
    scoring = {k: v for k, v in _scoring().items() if k != "pid"}

    def search(n_jobs):
        return GridSearchCV(_model(), grid, cv=CV, scoring=scoring, refit="accuracy",
                            n_jobs=n_jobs).fit(X, y, sensitive_features=group)

    with sklearn.config_context(enable_metadata_routing=True):
        local = search(1)
        with parallel_backend("dask"):
            remote = search(2)
    for name in scoring:
        for k in range(CV.get_n_splits()):
            key = f"split{k}_test_{name}"
            np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key],
                                       rtol=0, atol=1e-12, err_msg=key)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=0,
                               atol=1e-12)
    # the penalty did something in every fold: strength 5 narrows the DP gap
    dp = local.cv_results_["mean_test_dp"].reshape(2, 2)  # rows: strength 0, 5
    assert np.all(dp[1] > dp[0])


def test_group_report_of_dask_columns_on_the_cluster(data, client):
    """The metrics' per-partition tables are built in the worker processes (pickled
    functions) and equal the in-memory report."""
    import dask.dataframe as dd
    import pandas as pd

    from sklearn_fairloss.metrics import group_report

    X, y, group = data
    proba = 1.0 / (1.0 + np.exp(-X[:, 0].astype(np.float64)))
    frame = pd.DataFrame({"y": y, "pred": (proba > 0.5).astype(int), "p": proba,
                          "group": np.where(group == 1, "b", "a")})
    ddf = dd.from_pandas(frame, npartitions=4)
    metrics = ["selection_rate", "tpr", "fpr", "brier", "expected_calibration_error"]
    with distributed.get_task_stream(client) as stream:  # the client is the default scheduler
        got = group_report(ddf["y"], ddf["pred"], y_proba=ddf["p"],
                           sensitive_features=ddf["group"], metrics=metrics)
    tasks = [str(task["key"]) for task in stream.data]
    assert sum("_partition_tables" in key for key in tasks) == 4  # one per partition
    expected = group_report(frame["y"], frame["pred"], y_proba=frame["p"],
                            sensitive_features=frame["group"], metrics=metrics)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    assert got.index.tolist() == expected.index.tolist()
