"""Metrics on Dask inputs: equal to the in-memory result (to 1e-12) and to fairlearn, computed
in one pass over the partitions.

The references are the in-memory metrics on the same rows (which the rest of the suite checks
against fairlearn, scikit-learn and hand-computed values) and, where fairlearn has the
metric, fairlearn itself on the gathered rows. The one-pass check counts how often the
partitions' generator is called.
"""

import subprocess
import sys
import textwrap

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
from sklearn.metrics import accuracy_score, precision_score, recall_score

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

from sklearn_fairloss import metrics as M  # noqa: E402

ATOL = 1e-12
PARITY = [M.demographic_parity_difference, M.demographic_parity_ratio,
          M.equalized_odds_difference, M.equalized_odds_ratio, M.equal_opportunity_difference,
          M.equal_opportunity_ratio, M.predictive_parity_difference,
          M.error_rate_parity_difference]
SUMMED = ["selection_rate", "accuracy", "error_rate", "tpr", "fpr", "tnr", "fnr", "precision",
          "balanced_accuracy", "f1", "brier", "expected_calibration_error", "balance_score"]


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def _binary(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.55 * rng.random(n) + 0.05, 0, 1)
    return pd.DataFrame({
        "y": y, "y_pred": (p > 0.5).astype(int), "p": p,
        "sex": rng.choice(["F", "M"], n, p=[0.3, 0.7]), "race": rng.choice([1, 2, 3], n),
        "w": rng.uniform(0.1, 3.0, n)})


def _multiclass(n=3000, seed=1):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in proba])
    frame = pd.DataFrame({"y": np.array(["a", "b", "c"])[y],
                          "y_pred": np.array(["a", "b", "c"])[proba.argmax(axis=1)],
                          "g": rng.choice(["u", "v", "x"], n), "w": rng.uniform(0.1, 2.0, n)})
    for k in range(3):
        frame[f"p{k}"] = proba[:, k]
    return frame


BINARY, MULTI = _binary(), _multiclass()


def _columns(frame, kind):
    """The frame's columns as Dask collections: Series of one Dask DataFrame (unknown
    divisions, as from a parquet file), or Dask arrays with unequal chunks."""
    if kind == "frame":
        ddf = dd.from_pandas(frame, npartitions=7).clear_divisions()
        return {c: ddf[c] for c in frame.columns}, ddf
    return {c: da.from_array(frame[c].to_numpy(), chunks=chunk)
            for c, chunk in zip(frame.columns, [400, 700, 1000, 512, 3000, 650, 900])}, None


@pytest.mark.parametrize("kind", ["frame", "array"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("metric", PARITY, ids=lambda f: f.__name__)
def test_parity_metrics_equal_the_in_memory_result(metric, weighted, kind):
    cols, ddf = _columns(BINARY, kind)
    sf = ddf[["sex", "race"]] if kind == "frame" else cols["sex"]
    sf_mem = BINARY[["sex", "race"]] if kind == "frame" else BINARY["sex"]
    for method in ("between_groups", "to_overall"):
        expected = metric(BINARY["y"], BINARY["y_pred"], sensitive_features=sf_mem,
                          method=method, sample_weight=BINARY["w"] if weighted else None)
        got = metric(cols["y"], cols["y_pred"], sensitive_features=sf, method=method,
                     sample_weight=cols["w"] if weighted else None)
        assert abs(got - expected) <= ATOL
        assert 0 < expected < 1  # a real gap: an all-zero answer would pass vacuously


@pytest.mark.parametrize("metric", PARITY[:4], ids=lambda f: f.__name__)
def test_multiclass_parity_metrics(metric):
    cols, ddf = _columns(MULTI, "frame")
    for class_agg in ("max", "mean"):
        expected = metric(MULTI["y"], MULTI["y_pred"], sensitive_features=MULTI["g"],
                          class_agg=class_agg)
        got = metric(ddf["y"], ddf["y_pred"], sensitive_features=ddf["g"], class_agg=class_agg)
        assert abs(got - expected) <= ATOL


def test_parity_metrics_against_fairlearn():
    _, ddf = _columns(BINARY, "frame")
    sf = BINARY[["sex", "race"]]
    for ours, theirs in ((M.demographic_parity_difference, flm.demographic_parity_difference),
                         (M.equalized_odds_difference, flm.equalized_odds_difference)):
        expected = theirs(BINARY["y"], BINARY["y_pred"], sensitive_features=sf,
                          sample_weight=BINARY["w"])
        got = ours(ddf["y"], ddf["y_pred"], sensitive_features=ddf[["sex", "race"]],
                   sample_weight=ddf["w"])
        assert abs(got - expected) <= ATOL


@pytest.mark.parametrize("kind", ["frame", "array"])
@pytest.mark.parametrize("variant", ["top_label", "positive", "classwise"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binned_calibration_metrics_equal_the_in_memory_result(kind, variant, weighted):
    cols, _ = _columns(BINARY, kind)
    w_mem, w = (BINARY["w"], cols["w"]) if weighted else (None, None)
    for metric in (M.expected_calibration_error, M.maximum_calibration_error):
        for n_bins in (1, 10, 15):
            expected = metric(BINARY["y"], BINARY["p"], n_bins=n_bins, variant=variant,
                              sample_weight=w_mem)
            got = metric(cols["y"], cols["p"], n_bins=n_bins, variant=variant,
                         sample_weight=w)
            assert abs(got - expected) <= ATOL
    expected = M.calibration_error_difference(
        BINARY["y"], BINARY["p"], sensitive_features=BINARY["sex"], variant=variant,
        sample_weight=w_mem, method="to_overall")
    got = M.calibration_error_difference(cols["y"], cols["p"], sensitive_features=cols["sex"],
                                         variant=variant, sample_weight=w, method="to_overall")
    assert abs(got - expected) <= ATOL and expected > 0.001
    assert abs(M.balance_score(cols["y"], cols["p"], sample_weight=w)
               - M.balance_score(BINARY["y"], BINARY["p"], sample_weight=w_mem)) <= ATOL
    expected = M.brier_score_decomposition(BINARY["y"], BINARY["p"], n_bins=10,
                                           sample_weight=w_mem)
    got = M.brier_score_decomposition(cols["y"], cols["p"], n_bins=10, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["frame", "array"])
def test_multiclass_calibration_with_a_probability_matrix(kind):
    # sorted by group: every partition misses some groups, and the label-to-column map is
    # only known once every partition is read
    frame = MULTI.sort_values("y", kind="stable").reset_index(drop=True)
    p_mem = frame[["p0", "p1", "p2"]]
    if kind == "frame":
        ddf = dd.from_pandas(frame, npartitions=6)
        y, proba, g, w = ddf["y"], ddf[["p0", "p1", "p2"]], ddf["g"], ddf["w"]
    else:
        y = da.from_array(frame["y"].to_numpy(), chunks=500)
        proba = da.from_array(p_mem.to_numpy(), chunks=(700, 3))
        g = da.from_array(frame["g"].to_numpy(), chunks=900)
        w = da.from_array(frame["w"].to_numpy(), chunks=1100)
    for variant in ("top_label", "classwise"):
        expected = M.expected_calibration_error(frame["y"], p_mem, variant=variant,
                                                sample_weight=frame["w"])
        got = M.expected_calibration_error(y, proba, variant=variant, sample_weight=w)
        assert abs(got - expected) <= ATOL
        expected = M.calibration_error_difference(frame["y"], p_mem, variant=variant,
                                                  sensitive_features=frame["g"])
        got = M.calibration_error_difference(y, proba, variant=variant, sensitive_features=g)
        assert abs(got - expected) <= ATOL
    # labels in another column order
    order = ["c", "a", "b"]
    p_perm = p_mem[["p2", "p0", "p1"]]
    expected = M.expected_calibration_error(frame["y"], p_perm, labels=order)
    got = M.expected_calibration_error(
        y, proba[["p2", "p0", "p1"]] if kind == "frame" else proba[:, [2, 0, 1]], labels=order)
    assert abs(got - expected) <= ATOL
    np.testing.assert_allclose(M.brier_score_decomposition(y, proba, n_bins=8),
                               M.brier_score_decomposition(frame["y"], p_mem, n_bins=8),
                               rtol=0, atol=ATOL)
    assert abs(M.balance_score(y, proba) - M.balance_score(frame["y"], p_mem)) <= ATOL


def test_calibration_bins():
    _, ddf = _columns(BINARY, "frame")
    expected = M.calibration_bins(BINARY["p"], BINARY["y"], n_bins=12, sample_weight=BINARY["w"])
    got = M.calibration_bins(ddf["p"], ddf["y"], n_bins=12, sample_weight=ddf["w"])
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


def _assert_reports_equal(got, expected):
    assert list(got.columns) == list(expected.columns)
    assert got.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["frame", "array"])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_report_equals_the_in_memory_report(kind, weighted):
    cols, ddf = _columns(BINARY, kind)
    sf = ddf[["sex", "race"]] if kind == "frame" else cols["sex"]
    sf_mem = BINARY[["sex", "race"]] if kind == "frame" else BINARY["sex"]
    for method in ("between_groups", "to_overall"):
        expected = M.group_report(BINARY["y"], BINARY["y_pred"], y_proba=BINARY["p"],
                                  sensitive_features=sf_mem, metrics=SUMMED, method=method,
                                  sample_weight=BINARY["w"] if weighted else None)
        got = M.group_report(cols["y"], cols["y_pred"], y_proba=cols["p"],
                             sensitive_features=sf, metrics=SUMMED, method=method,
                             sample_weight=cols["w"] if weighted else None)
        _assert_reports_equal(got, expected)
    # the default metrics of Dask inputs: the in-memory defaults without ROC AUC
    got = M.group_report(cols["y"], cols["y_pred"], y_proba=cols["p"], sensitive_features=sf)
    expected = M.group_report(BINARY["y"], BINARY["y_pred"], y_proba=BINARY["p"],
                              sensitive_features=sf_mem).drop(columns="roc_auc")
    _assert_reports_equal(got, expected)


def test_group_report_multiclass_and_dict_metrics():
    _, ddf = _columns(MULTI, "frame")
    metrics = {"sel": "selection_rate", "recall": "recall", "acc": "accuracy"}
    got = M.group_report(ddf["y"], ddf["y_pred"], sensitive_features=ddf["g"], metrics=metrics,
                         sample_weight=ddf["w"])
    expected = M.group_report(MULTI["y"], MULTI["y_pred"], sensitive_features=MULTI["g"],
                              metrics=metrics, sample_weight=MULTI["w"])
    _assert_reports_equal(got, expected)
    assert "sel[b]" in got.columns


def test_group_report_against_fairlearn_metric_frame():
    _, ddf = _columns(BINARY, "frame")
    report = M.group_report(ddf["y"], ddf["y_pred"], sensitive_features=ddf[["sex", "race"]],
                            metrics=["selection_rate", "accuracy", "tpr", "fpr", "precision"])
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "accuracy": accuracy_score,
                 "tpr": recall_score, "fpr": false_positive_rate,
                 "precision": precision_score},
        y_true=BINARY["y"], y_pred=BINARY["y_pred"],
        sensitive_features=BINARY[["sex", "race"]])
    for name in frame.by_group.columns:
        np.testing.assert_allclose(report[name].iloc[:-3].to_numpy(),
                                   frame.by_group[name].to_numpy(), rtol=0, atol=ATOL)
        assert abs(report.loc[("overall", ""), name] - frame.overall[name]) <= ATOL
        assert abs(report.loc[("difference", ""), name] - frame.difference()[name]) <= ATOL
        assert abs(report.loc[("ratio", ""), name] - frame.ratio()[name]) <= ATOL
    np.testing.assert_array_equal(report["count"].iloc[:-3],
                                  BINARY.groupby(["sex", "race"]).size().to_numpy())


# --------------------------------------------------------------------------- one pass


def _counted_frame(n_partitions=6, rows=500):
    """A Dask DataFrame whose partitions are made by a generator that counts its calls."""
    calls = []

    def make(i):
        calls.append(i)
        return _binary(rows, seed=i).drop(columns="race")

    ddf = dd.from_map(make, range(n_partitions), meta=_binary(1).drop(columns="race").iloc[:0])
    return ddf, calls


def test_group_report_reads_every_partition_once():
    ddf, calls = _counted_frame()
    report = M.group_report(ddf["y"], ddf["y_pred"], y_proba=ddf["p"],
                            sensitive_features=ddf["sex"], sample_weight=ddf["w"],
                            metrics=SUMMED)
    assert sorted(calls) == list(range(6))
    rows = pd.concat([_binary(500, seed=i).drop(columns="race") for i in range(6)],
                     ignore_index=True)
    expected = M.group_report(rows["y"], rows["y_pred"], y_proba=rows["p"],
                              sensitive_features=rows["sex"], sample_weight=rows["w"],
                              metrics=SUMMED)
    _assert_reports_equal(report, expected)


@pytest.mark.parametrize("metric", [
    lambda d: M.expected_calibration_error(d["y"], d["p"], sample_weight=d["w"]),
    lambda d: M.calibration_error_difference(d["y"], d["p"], sensitive_features=d["sex"]),
    lambda d: M.equalized_odds_ratio(d["y"], d["y_pred"], sensitive_features=d["sex"]),
])
def test_a_metric_reads_every_partition_once(metric):
    ddf, calls = _counted_frame()
    metric(ddf)
    assert sorted(calls) == list(range(6))


def test_empty_partitions_and_a_group_missing_from_partitions():
    frame = BINARY.sort_values("sex", kind="stable").reset_index(drop=True)
    ddf = dd.from_pandas(frame, npartitions=5)
    ddf = ddf[ddf["race"] < 4]  # keeps every row; then one partition made empty
    ddf = ddf.map_partitions(lambda part: part.iloc[:0] if part.index[0] == 0 else part)
    kept = frame.iloc[ddf.compute().index]
    got = M.group_report(ddf["y"], ddf["y_pred"], y_proba=ddf["p"],
                         sensitive_features=ddf["sex"], metrics=SUMMED)
    expected = M.group_report(kept["y"], kept["y_pred"], y_proba=kept["p"],
                              sensitive_features=kept["sex"], metrics=SUMMED)
    _assert_reports_equal(got, expected)


# ------------------------------------------------------------------------------ errors


def test_what_needs_every_row_is_refused_with_a_clear_error():
    _, ddf = _columns(BINARY, "frame")
    y, y_pred, p, sex = ddf["y"], ddf["y_pred"], ddf["p"], ddf["sex"]
    with pytest.raises(ValueError, match="metric 'roc_auc' needs every row in memory"):
        M.group_report(y, y_pred, y_proba=p, sensitive_features=sex, metrics=["roc_auc"])
    with pytest.raises(ValueError, match="metric 'recall_score' needs every row"):
        M.group_report(y, y_pred, sensitive_features=sex, metrics=[recall_score])
    with pytest.raises(ValueError, match="n_bootstrap needs every row"):
        M.group_report(y, y_pred, sensitive_features=sex, n_bootstrap=10)
    with pytest.raises(ValueError, match="strategy='quantile' needs every row"):
        M.expected_calibration_error(y, p, strategy="quantile")
    with pytest.raises(ValueError, match="n_bins=None needs every row"):
        M.brier_score_decomposition(y, p)
    with pytest.raises(ValueError, match="variant='positive' needs binary targets"):
        M.expected_calibration_error(y, ddf[["p", "w", "y"]], variant="positive")


def test_mixed_inputs_are_refused():
    cols, ddf = _columns(BINARY, "frame")
    with pytest.raises(ValueError, match="y_true is a Dask collection but sensitive_features"):
        M.demographic_parity_difference(ddf["y"], ddf["y_pred"],
                                        sensitive_features=BINARY["sex"])
    arrays, _ = _columns(BINARY, "array")
    with pytest.raises(ValueError, match="Dask arrays and Dask DataFrames/Series cannot be"):
        M.demographic_parity_difference(arrays["y"], ddf["y_pred"], sensitive_features=ddf["sex"])
    with pytest.raises(ValueError, match="y_pred has 10 samples but y_true has 3000"):
        M.demographic_parity_difference(arrays["y"], arrays["y_pred"][:10],
                                        sensitive_features=arrays["sex"])
    other = dd.from_pandas(BINARY, npartitions=3).clear_divisions()
    with pytest.raises(ValueError, match="do not line up partition by partition"):
        M.demographic_parity_difference(ddf["y"], other["y_pred"], sensitive_features=ddf["sex"])


def test_bad_values_in_a_partition_raise_the_in_memory_errors():
    frame = BINARY.copy()
    frame.loc[2500, "sex"] = None
    ddf = dd.from_pandas(frame, npartitions=4)
    with pytest.raises(ValueError, match="sensitive_features contains missing values"):
        M.demographic_parity_difference(ddf["y"], ddf["y_pred"], sensitive_features=ddf["sex"])
    frame = BINARY.copy()
    frame.loc[10, "p"] = 1.5
    ddf = dd.from_pandas(frame, npartitions=4)
    with pytest.raises(ValueError, match=r"y_proba must hold probabilities in \[0, 1\]"):
        M.expected_calibration_error(ddf["y"], ddf["p"])
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        M.demographic_parity_difference(ddf["y"], ddf["y_pred"], sensitive_features=ddf["sex"],
                                        sample_weight=-ddf["w"])
    # all-zero weights are refused on the total (a partition of zero weights is fine)
    zero = ddf["w"] * 0
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        M.expected_calibration_error(ddf["y"], ddf["y"] * 0.0 + 0.5, sample_weight=zero)
    w = np.where(BINARY.index >= 1000, BINARY["w"], 0.0)  # the first partition's are zero
    ddf = dd.from_pandas(BINARY.assign(partly=w), npartitions=4)
    got = M.demographic_parity_difference(ddf["y"], ddf["y_pred"], sensitive_features=ddf["sex"],
                                          sample_weight=ddf["partly"])
    assert abs(got - M.demographic_parity_difference(
        BINARY["y"], BINARY["y_pred"], sensitive_features=BINARY["sex"], sample_weight=w)) <= ATOL
    with pytest.raises(ValueError, match="y_proba is 1-D .* y_true must be binary"):
        M.expected_calibration_error(dd.from_pandas(MULTI, npartitions=2)["y"],
                                     dd.from_pandas(MULTI, npartitions=2)["p0"])


def test_the_metrics_import_and_run_without_dask():
    code = textwrap.dedent("""
        import sys
        sys.modules["dask"] = None  # import dask fails from here on
        from sklearn_fairloss.metrics import demographic_parity_difference, group_report
        print(demographic_parity_difference([1, 0, 1, 0], [1, 0, 0, 0],
                                            sensitive_features=["a", "a", "b", "b"]))
        group_report([1, 0], [1, 1], sensitive_features=["a", "b"])
        assert "torch" not in sys.modules
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "0.5"
