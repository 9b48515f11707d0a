"""Fairness, group and distribution metrics and their shared input checks: the cases that
mutation testing of ``metrics/_fairness.py``, ``_group_metrics.py``, ``_distribution.py``,
``_grouping.py`` and ``_validation.py`` found untested (issue 15; see
docs/mutation_testing.md).

Every expected value comes from outside the package: fairlearn's metric on the same data (on
labels binarised by hand for one-vs-rest classes and string labels), values computed by hand
in the comments, :func:`numpy.histogram` with :func:`scipy.spatial.distance.jensenshannon`,
or the O(n^2) distance correlation of Székely et al. (2007) written out in the test.
"""

import inspect
import re
import sys

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import accuracy_score, recall_score

from sklearn_fairloss import metrics as M
from sklearn_fairloss.metrics import (
    check_sensitive_features,
    distance_correlation,
    equity_scaled_score,
    jensen_shannon_divergence,
    performance_scaled_disparity,
    worst_group_score,
)
from sklearn_fairloss.metrics._fairness import _parity_metric


def _random(seed, n=400, n_classes=2, n_groups=3):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, n_classes, n))
    group = rng.choice([f"g{k}" for k in range(n_groups)], n)
    sw = rng.uniform(0.1, 3.0, n)
    return y_true, y_pred, group, sw


# The metric factory, called here so that what it builds is checked -----------------------

FACTORY = [
    ("selection_rate", "difference", flm.demographic_parity_difference),
    ("selection_rate", "ratio", flm.demographic_parity_ratio),
    ("tpr", "difference", flm.equal_opportunity_difference),
    ("tpr", "ratio", flm.equal_opportunity_ratio),
    ("odds", "difference", flm.equalized_odds_difference),
    ("odds", "ratio", flm.equalized_odds_ratio),
]


@pytest.mark.parametrize("rate, kind, reference", FACTORY)
def test_factory_signature_and_docstring(rate, kind, reference):
    metric = _parity_metric("my_metric", rate, kind, "One-line summary.", example="0.25",
                            returns="What it returns.")
    assert metric.__name__ == metric.__qualname__ == "my_metric"
    params = inspect.signature(metric).parameters
    assert params["method"].default == "between_groups"
    assert params["class_agg"].default == "max"
    assert params["sample_weight"].default is None and params["pos_label"].default is None
    assert ("agg" in params) == (rate == "odds")
    if rate == "odds":
        assert params["agg"].default == "worst_case"
    doc = metric.__doc__
    assert doc.startswith("One-line summary.\n")
    assert f"\n    {kind} : float\n        What it returns.\n" in doc
    assert ">>> from sklearn_fairloss.metrics import my_metric\n" in doc
    assert ">>> round(my_metric(y_true, y_pred, sensitive_features=group), 4)\n    0.25\n" in doc
    assert '\n    class_agg : {"max", "mean"}, default="max"\n' in doc
    assert ('\n    agg : {"worst_case", "mean"}, default="worst_case"\n' in doc) \
        == (rate == "odds")
    assert "{" + "class_agg}" not in doc and "XX" not in doc
    # Without a description of the value, the Returns section is the type alone.
    bare = _parity_metric("bare", rate, kind, "Summary.", example="1.0")
    assert f"\n    {kind} : float\n\n    Examples\n" in bare.__doc__


@pytest.mark.parametrize("rate, kind, reference", FACTORY)
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_factory_metric_matches_fairlearn(rate, kind, reference, method):
    metric = _parity_metric("my_metric", rate, kind, "Summary.", example="0")
    y_true, y_pred, group, sw = _random(0)
    for weights in (None, sw):
        assert metric(y_true, y_pred, sensitive_features=group, method=method,
                      sample_weight=weights) == pytest.approx(
            reference(y_true, y_pred, sensitive_features=group, method=method,
                      sample_weight=weights), abs=1e-12)
    # The default method is between_groups.
    assert metric(y_true, y_pred, sensitive_features=group) == pytest.approx(
        reference(y_true, y_pred, sensitive_features=group), abs=1e-12)
    # pos_label reaches the metric: "no" as the positive class is fairlearn on (y == "no").
    names = np.array(["no", "yes"])
    assert metric(names[y_true], names[y_pred], sensitive_features=group, method=method,
                  pos_label="no") == pytest.approx(
        reference(1 - y_true, 1 - y_pred, sensitive_features=group, method=method),
        abs=1e-12)
    if rate == "odds":
        assert metric(y_true, y_pred, sensitive_features=group, method=method,
                      agg="mean") == pytest.approx(
            reference(y_true, y_pred, sensitive_features=group, method=method, agg="mean"),
            abs=1e-12)


@pytest.mark.parametrize("rate, kind, reference", FACTORY)
def test_factory_metric_multiclass_class_agg(rate, kind, reference):
    metric = _parity_metric("my_metric", rate, kind, "Summary.", example="0")
    y_true, y_pred, group, _ = _random(1, n_classes=3)
    # One-vs-rest: fairlearn on the labels binarised by hand for each class.
    per_class = [reference((y_true == c).astype(int), (y_pred == c).astype(int),
                           sensitive_features=group) for c in range(3)]
    worst = max(per_class) if kind == "difference" else min(per_class)
    assert metric(y_true, y_pred, sensitive_features=group) == pytest.approx(worst, abs=1e-12)
    assert metric(y_true, y_pred, sensitive_features=group, class_agg="mean") \
        == pytest.approx(np.mean(per_class), abs=1e-12)
    # to_overall: each class's groups against that class's overall rate.
    per_class = [reference((y_true == c).astype(int), (y_pred == c).astype(int),
                           sensitive_features=group, method="to_overall") for c in range(3)]
    assert metric(y_true, y_pred, sensitive_features=group, method="to_overall",
                  class_agg="mean") == pytest.approx(np.mean(per_class), abs=1e-12)


@pytest.mark.parametrize("rate, kind, reference", FACTORY)
def test_parity_metrics_with_weights_below_one(rate, kind, reference):
    # Every group's rate denominator is a sum of weights below 1.
    y_true, y_pred, group, sw = _random(2, n=60)
    sw = sw / 1000
    metric = _parity_metric("my_metric", rate, kind, "Summary.", example="0")
    for method in ("between_groups", "to_overall"):
        assert metric(y_true, y_pred, sensitive_features=group, sample_weight=sw,
                      method=method) == pytest.approx(
            reference(y_true, y_pred, sensitive_features=group, sample_weight=sw,
                      method=method), abs=1e-12)


def test_group_report_negative_rates_against_fairlearn():
    y_true, y_pred, group, sw = _random(9)

    def error_rate(y, p, sample_weight=None):
        return 1 - accuracy_score(y, p, sample_weight=sample_weight)

    funcs = {"fnr": flm.false_negative_rate, "tnr": flm.true_negative_rate,
             "error_rate": error_rate}
    report = M.group_report(y_true, y_pred, sensitive_features=group, sample_weight=sw,
                            metrics=list(funcs))
    mf = flm.MetricFrame(metrics=funcs, y_true=y_true, y_pred=y_pred,
                         sensitive_features=group,
                         sample_params={k: {"sample_weight": sw} for k in funcs})
    np.testing.assert_allclose(report.loc[list(mf.by_group.index), list(funcs)].to_numpy(),
                               mf.by_group.to_numpy(dtype=float), atol=1e-12, rtol=0)
    np.testing.assert_allclose(report.loc["overall", list(funcs)].to_numpy(dtype=float),
                               mf.overall.to_numpy(dtype=float), atol=1e-12, rtol=0)
    # A group without positives has an undefined FNR and TPR (NaN): b below.
    report = M.group_report([1, 1, 0, 0], [1, 0, 0, 1], sensitive_features=list("aabb"),
                            metrics=["fnr", "tpr"])
    assert report.loc["a", "fnr"] == 0.5 and report.loc["overall", "tpr"] == 0.5
    assert np.isnan(report.loc["b", "fnr"]) and np.isnan(report.loc["b", "tpr"])


# check_sensitive_features ------------------------------------------------------------------

def test_check_sensitive_features_one_attribute_and_length():
    groups, frame = check_sensitive_features(["b", "a", "b"], n_samples=3)
    assert groups.tolist() == ["b", "a", "b"]
    assert list(frame.columns) == ["sensitive_feature_0"]
    groups, _ = check_sensitive_features(pd.DataFrame({"s": [2, 1], "t": ["x", "y"]}))
    assert groups.tolist() == [(2, "x"), (1, "y")]
    with pytest.raises(ValueError, match="sensitive_features has 3 rows but y has 4 rows"):
        check_sensitive_features(["b", "a", "b"], n_samples=4)


# Jensen-Shannon divergence -------------------------------------------------------------------

def _js_reference(scores, group, n_bins, value_range, weights=None, to_overall=False):
    """scipy's Jensen-Shannon distance, squared, between np.histogram's group histograms."""
    scores, group = np.asarray(scores), np.asarray(group)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, float)

    def hist(mask):
        return np.histogram(scores[mask], bins=n_bins, range=value_range,
                            weights=weights[mask])[0]

    hists = [hist(group == g) for g in np.unique(group) if weights[group == g].sum() > 0]
    if to_overall:
        overall = hist(np.ones(len(scores), bool))
        return max(jensenshannon(h, overall, base=2) ** 2 for h in hists)
    return max(jensenshannon(a, b, base=2) ** 2
               for i, a in enumerate(hists) for b in hists[i + 1:])


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_jsd_weighted_matches_scipy(method):
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.beta(2, 5, 200), rng.beta(4, 2, 150)])
    group = np.repeat(["x", "y"], [200, 150])
    w = rng.uniform(0.1, 5.0, 350)
    expected = _js_reference(scores, group, 10, (0, 1), w, method == "to_overall")
    assert jensen_shannon_divergence(scores, sensitive_features=group, sample_weight=w,
                                     method=method) == pytest.approx(expected, abs=1e-12)
    assert expected != pytest.approx(_js_reference(scores, group, 10, (0, 1), None,
                                                   method == "to_overall"), abs=1e-3)


@pytest.mark.parametrize("shift, scale", [
    (0.0, 1.0),    # in [0, 1], one score exactly 0, the largest below 1: bins on [0, 1]
    (0.25, 0.75),  # in [0.25, 1], the largest exactly 1: bins on [0, 1]
    (0.1, 1.4),    # in [0.1, 1.5]: bins on the range of the scores
    (2.0, 8.0),    # in [2, 10]: bins on the range of the scores
    (-3.0, 6.0),   # logits in [-3, 3]
])
def test_jsd_bin_range_matches_numpy(shift, scale):
    rng = np.random.default_rng(4)
    unit = np.concatenate([rng.beta(2, 5, 300), rng.beta(3, 3, 200)])
    unit = (unit - unit.min()) / (unit.max() - unit.min())  # exactly 0 and 1 at the ends
    if shift == 0.0:
        unit = unit * 0.9  # the largest score 0.9
    scores = shift + scale * unit
    group = np.repeat(["x", "y"], [300, 200])
    in_unit = scores.min() >= 0 and scores.max() <= 1
    value_range = (0.0, 1.0) if in_unit else (scores.min(), scores.max())
    expected = _js_reference(scores, group, 10, value_range)
    assert jensen_shannon_divergence(scores, sensitive_features=group) \
        == pytest.approx(expected, abs=1e-12)


def test_jsd_small_cases_by_hand():
    # b's scores are low and a's high (2 bins): disjoint, 1 bit; b's top bin is empty.
    assert jensen_shannon_divergence([0.8, 0.9, 0.1, 0.2], sensitive_features=list("aabb"),
                                     n_bins=2) == pytest.approx(1.0)
    # A group of one row counts: a = (1, 0), b = (0, 1) -> 1 bit.
    assert jensen_shannon_divergence([0.1, 0.9], sensitive_features=["a", "b"],
                                     n_bins=2) == pytest.approx(1.0)
    # A group of weight 0 is left out: a and b agree, c (weight 0) would differ; with the
    # weightless group first, b = (1, 0) and c = (0, 1) are disjoint: 1 bit; to overall
    # (1/2, 1/2), M = (3/4, 1/4): JS = (log2(4/3) + (log2(2/3) + 1) / 2) / 2.
    assert jensen_shannon_divergence([0.1, 0.1, 0.9], sensitive_features=list("abc"),
                                     n_bins=2, sample_weight=[1, 1, 0]) == 0.0
    for method in ("between_groups", "to_overall"):
        assert jensen_shannon_divergence([0.9, 0.1, 0.9], sensitive_features=list("abc"),
                                         n_bins=2, sample_weight=[0, 1, 1],
                                         method=method) == pytest.approx(
            1.0 if method == "between_groups"
            else (np.log2(4 / 3) + (np.log2(2 / 3) + 1) / 2) / 2)
    # Constant scores outside [0, 1]: one bin, no divergence; a single group: 0.
    assert jensen_shannon_divergence([3.0, 3.0, 3.0], sensitive_features=list("aab")) == 0.0
    assert jensen_shannon_divergence([0.1, 0.9], sensitive_features=["a", "a"]) == 0.0


def test_jsd_errors_name_the_argument():
    with pytest.raises(ValueError, match="y_score is empty"):
        jensen_shannon_divergence([], sensitive_features=[])
    with pytest.raises(ValueError, match="sample_weight has 2 rows but y has 3"):
        jensen_shannon_divergence([0.1, 0.2, 0.3], sensitive_features=list("aab"),
                                  sample_weight=[1, 1])
    with pytest.raises(ValueError, match="sensitive_features has 2 rows but y has 3"):
        jensen_shannon_divergence([0.1, 0.2, 0.3], sensitive_features=list("ab"))


# Distance correlation -------------------------------------------------------------------------

def _naive_dcor(x, y):
    """Székely, Rizzo & Bakirov (2007): double-centred n x n distance matrices."""
    def centred(v):
        d = np.abs(v[:, None] - v[None, :])
        return d - d.mean(axis=0) - d.mean(axis=1)[:, None] + d.mean()

    a, b = centred(np.asarray(x, float)), centred(np.asarray(y, float))
    return np.sqrt((a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean()))


def test_distance_correlation_one_column_frame():
    rng = np.random.default_rng(5)
    age = rng.uniform(18, 80, 60)
    score = np.sin(age / 10) + rng.normal(scale=0.3, size=60)
    assert distance_correlation(score, pd.DataFrame({"age": age})) \
        == pytest.approx(_naive_dcor(score, age), abs=1e-10)
    with pytest.raises(ValueError, match="^distance_correlation needs one continuous "
                                         "attribute; got 2 columns.$"):
        distance_correlation(score, pd.DataFrame({"age": age, "b": age}))


def test_distance_correlation_integer_attribute_and_extreme_scales():
    rng = np.random.default_rng(6)
    age = rng.integers(18, 80, 80)  # int64, not converted by the caller
    score = np.sin(age / 10) + rng.normal(scale=0.3, size=80)
    expected = _naive_dcor(score, age)
    assert distance_correlation(score, age) == pytest.approx(expected, abs=1e-10)
    # dCor is invariant to shift and positive scale, so the value must not move when the
    # scores are a millionth of their size or the attribute a timestamp-like 1e9 + age.
    assert distance_correlation(1e-6 * score, age) == pytest.approx(expected, abs=1e-8)
    assert distance_correlation(score, 1e-6 * age) == pytest.approx(expected, abs=1e-8)
    assert distance_correlation(score, 1e9 + age) == pytest.approx(expected, abs=1e-6)
    assert distance_correlation(1e9 + score, age) == pytest.approx(expected, abs=1e-6)
    # Exactly constant scores or attribute: 0.
    assert distance_correlation(np.zeros(80), age) == 0.0
    assert distance_correlation(score, np.full(80, 0.5)) == 0.0
    # A boolean attribute is numeric.
    assert distance_correlation(score, age > 50) == pytest.approx(
        _naive_dcor(score, (age > 50).astype(float)), abs=1e-10)


def test_distance_correlation_errors_name_the_argument():
    x = np.linspace(0, 1, 4)
    with pytest.raises(ValueError, match="^sensitive_features is required: the continuous "
                                         "attribute.$"):
        distance_correlation(x, None)
    with pytest.raises(ValueError, match="^sensitive_features must be 1-D"):
        distance_correlation(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="^sensitive_features has 3 samples but y_score has 4"):
        distance_correlation(x, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="^y_score is empty"):
        distance_correlation([], [])
    with pytest.raises(ValueError, match=r"^distance_correlation needs a numeric "
                                         r"sensitive_features; got dtype <U1\. Use "):
        distance_correlation(x, np.array(list("abcd")))
    with pytest.raises(ValueError, match=re.escape(
            "sensitive_features contains missing values (NaN/None) in column(s) "
            "['sensitive_feature_0']; encode missing values as a group of their own "
            "explicitly.")):
        distance_correlation(x, [1.0, np.inf, 2.0, 3.0])


@pytest.mark.parametrize("metric", ["jsd", "dcor"])
def test_score_matrices_use_their_last_column(metric):
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.beta(2, 5, 100), rng.beta(5, 2, 100)])
    attr = np.repeat([0, 1], 100)
    if metric == "jsd":
        def f(s):
            return jensen_shannon_divergence(s, sensitive_features=attr)
    else:
        def f(s):
            return distance_correlation(s, attr)
    expected = f(p)
    assert expected > 0.1
    # The last column is used (the first one, unrelated here, is ignored).
    assert f(np.column_stack([rng.random(200), p])) == expected
    assert f(p[:, None]) == expected
    with pytest.raises(ValueError, match="^y_score must be 1-D .or a binary predict_proba "
                                         "matrix.; got an array of shape .200, 3."):
        f(np.column_stack([p, p, p]))
    with pytest.raises(ValueError, match="^y_score contains NaN or infinite values"):
        f([0.1, None] * 100)


# Worst-group, equity-scaled and performance-scaled scores -------------------------------------

Y_TRUE = [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
Y_PRED = [1, 0, 1, 0, 1, 1, 0, 0, 0, 1]
GROUP = ["a"] * 4 + ["b"] * 4 + ["c"] * 2


def test_group_metrics_use_the_weights():
    # Weight 3 on row 5 (group b, an error). Correct rows 0-4, 7, 9: weight 7 of 12 -> 7/12;
    # groups a 1, b (rows 4-7: 1 + 0 * 3 + 0 + 1) / 6 = 1/3, c 1/2.
    sw = [1, 1, 1, 1, 1, 3, 1, 1, 1, 1]
    assert worst_group_score(accuracy_score, Y_TRUE, Y_PRED, sensitive_features=GROUP,
                             sample_weight=sw) == pytest.approx(1 / 3)
    overall = 7 / 12
    devs = abs(overall - 1) + abs(overall - 1 / 3) + abs(overall - 1 / 2)
    assert equity_scaled_score(accuracy_score, Y_TRUE, Y_PRED, sensitive_features=GROUP,
                               sample_weight=sw) == pytest.approx(overall / (1 + devs))
    assert performance_scaled_disparity(accuracy_score, Y_TRUE, Y_PRED,
                                        sensitive_features=GROUP, sample_weight=sw,
                                        method="max") == pytest.approx((1 - 1 / 3) / overall)


def test_group_metrics_errors_name_the_argument():
    kw = dict(sensitive_features=GROUP)
    with pytest.raises(ValueError, match="y_pred has 9 samples but y_true has 10"):
        worst_group_score(accuracy_score, Y_TRUE, Y_PRED[:-1], **kw)
    with pytest.raises(ValueError, match="y_true is empty"):
        worst_group_score(accuracy_score, [], [], sensitive_features=[])
    with pytest.raises(ValueError, match="y_true must be 1-D"):
        worst_group_score(accuracy_score, np.zeros((10, 2)), Y_PRED, **kw)
    with pytest.raises(ValueError, match="sensitive_features has 9 rows but y has 10"):
        worst_group_score(accuracy_score, Y_TRUE, Y_PRED, sensitive_features=GROUP[:-1])
    with pytest.raises(ValueError, match="sample_weight has 9 rows but y has 10"):
        worst_group_score(accuracy_score, Y_TRUE, Y_PRED, sample_weight=[1] * 9, **kw)

    def no_weights(y, p):
        return accuracy_score(y, p)

    with pytest.raises(ValueError, match="metric no_weights does not accept sample_weight"):
        worst_group_score(no_weights, Y_TRUE, Y_PRED, sample_weight=[1] * 10, **kw)
    # A builtin without a readable signature is not assumed to take weights.
    with pytest.raises(ValueError, match="metric max does not accept sample_weight"):
        worst_group_score(max, Y_TRUE, Y_PRED, sample_weight=[1] * 10, **kw)


@pytest.mark.parametrize("name", ["make_scorer", "get_scorer", "check_scoring"])
def test_group_metrics_refuse_sklearn_helpers_by_name(name):
    with pytest.raises(ValueError, match="metric must be a callable"):
        worst_group_score(name, Y_TRUE, Y_PRED, sensitive_features=GROUP)


def test_group_metrics_pass_pandas_predictions_to_the_metric():
    # A metric that reads a column of a DataFrame of scores gets each group's rows.
    scores = pd.DataFrame({"p": np.linspace(0.05, 0.95, 10)}, index=np.arange(10) + 50)

    def mean_p(y, s):
        return float(s["p"].mean())

    # groups a rows 0-3 (mean 0.2), b rows 4-7 (0.6), c rows 8-9 (0.9)
    assert worst_group_score(mean_p, Y_TRUE, scores, sensitive_features=GROUP) \
        == pytest.approx(0.2)


def test_each_group_reaches_the_metric_in_row_order():
    # 300 rows in two interleaved groups, many equal codes: each group's rows must arrive
    # in their original order (a metric of ordered rows, e.g. over time, depends on it).
    group = np.tile(["a", "b", "b"], 100)
    order = np.arange(300)

    def increasing(y, p):
        return float(np.all(np.diff(p) > 0))

    assert worst_group_score(increasing, order, order, sensitive_features=group) == 1.0


def test_group_report_bootstrap_with_a_group_missing_from_a_resample():
    # Group "z" (the last code) has one row, so many resamples miss it.
    y_true = [0, 1] * 10 + [1]
    y_pred = [0, 1] * 5 + [1, 1] * 5 + [1]
    group = ["a"] * 10 + ["b"] * 10 + ["z"]
    report = M.group_report(y_true, y_pred, sensitive_features=group,
                            metrics={"acc": accuracy_score, "accuracy": "accuracy"},
                            n_bootstrap=30, random_state=0)
    weighted = M.group_report(y_true, y_pred, sensitive_features=group,
                              metrics={"acc": accuracy_score, "accuracy": "accuracy"},
                              sample_weight=np.full(21, 2.0), n_bootstrap=30, random_state=0)
    # a: all right; b: rows 0, 2, ... wrong (5 of 10); z: right.
    for name in ("acc", "accuracy"):
        for table in (report, weighted):
            assert table.loc[["a", "b", "z"], name].tolist() == [1.0, 0.5, 1.0]
            assert table.loc["z", f"{name}_ci_low"] == table.loc["z", f"{name}_ci_high"] == 1.0


def test_group_report_bootstrap_keeps_a_rare_class():
    # Class 2 occurs once, so many resamples lack it; its column stays.
    y_true = [0, 1, 2, 0, 1, 0, 1, 0, 1, 0]
    y_pred = [0, 1, 2, 0, 1, 1, 1, 0, 0, 0]
    group = list("aaaaabbbbb")
    report = M.group_report(y_true, y_pred, sensitive_features=group,
                            metrics=["selection_rate"], n_bootstrap=20, random_state=0)
    # class 0: a rows 0, 3 -> 2/5, b rows 7, 8, 9 -> 3/5; class 2: a 1/5, b 0
    assert report.loc[["a", "b"], "selection_rate[0]"].tolist() == pytest.approx([0.4, 0.6])
    assert report.loc[["a", "b"], "selection_rate[2]"].tolist() == pytest.approx([0.2, 0.0])
    assert report.loc["b", "selection_rate[2]_ci_high"] == 0.0


def test_weighted_counts_when_the_last_group_lacks_the_last_label():
    # Group b never predicts 1 and holds no true 1: its (b, 1) cells are empty.
    y_true, y_pred, group, sw = [0, 1, 0, 0], [1, 1, 0, 0], list("aabb"), [1, 2, 1, 1]
    # selection rates a (1 + 2) / 3 = 1, b 0; TPR a 1, b undefined
    assert M.demographic_parity_difference(y_true, y_pred, sensitive_features=group,
                                           sample_weight=sw) == 1.0
    assert M.equal_opportunity_difference(y_true, y_pred, sensitive_features=group,
                                          sample_weight=sw) == 0.0


# Probability checks shared by the calibration metrics ---------------------------------------

def test_integer_probability_matrix_and_row_sum_message():
    # One-hot int64 rows: confidence 1 everywhere, accuracy 2/3 -> ECE 1/3 (one bin).
    proba = np.array([[1, 0], [0, 1], [1, 0]])
    assert M.expected_calibration_error([0, 1, 1], proba) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=re.escape(
            "The rows of a 2-D y_proba must sum to 1 (one probability per class); 1 row(s) "
            "do not, e.g. row 0 sums to 0.9. Pass predict_proba's matrix, or the 1-D "
            "positive-class probabilities.")):
        M.expected_calibration_error([0, 1], [[0.5, 0.4], [0.5, 0.5]])


@pytest.mark.parametrize("bad", [np.nan, -0.1, 1.1, np.inf])
def test_probabilities_outside_the_unit_interval_are_refused(bad):
    message = re.escape("y_proba must hold probabilities in [0, 1] (no NaN or infinity).")
    with pytest.raises(ValueError, match=message):
        M.expected_calibration_error([0, 1, 1], [0.2, bad, 0.7])
    with pytest.raises(ValueError, match=message):
        M.expected_calibration_error([0, 1], [[0.5, 0.5], [1 - bad, bad]])


def test_weighted_group_metric_keeps_its_keywords():
    # Recall of class 0 with weight 3 on row 5 (group b, class 0 predicted 1):
    # a rows 1, 3 -> 1; b rows 5 (w 3, wrong), 7 (right) -> 1/4; c has no class 0 (NaN).
    sw = [1, 1, 1, 1, 1, 3, 1, 1, 1, 1]
    assert worst_group_score(recall_score, Y_TRUE, Y_PRED, sensitive_features=GROUP,
                             sample_weight=sw, pos_label=0, zero_division=np.nan) \
        == pytest.approx(1 / 4)


def test_one_dimensional_probabilities_need_binary_labels():
    with pytest.raises(ValueError, match=re.escape(
            "y_proba is 1-D (positive-class probabilities), so y_true must be binary with "
            "labels {0, 1} or {-1, 1}, or pos_label must be given; got labels [0, 1, 2].")):
        M.expected_calibration_error([0, 1, 2], [0.2, 0.5, 0.7])
    with pytest.raises(ValueError, match=re.escape(
            "y_proba is 1-D but y_true has 3 labels; pass the (n, k) matrix.")):
        M.expected_calibration_error([0, 1, 2], [0.2, 0.5, 0.7], pos_label=1)


# Equalized odds: the TPR/FPR combination per class -------------------------------------------

# Groups a (rows 0-3) and b (rows 4-7); class 2 is predicted but never true, so its TPR is
# undefined in every group.
ODDS_TRUE = [0, 1, 0, 1, 0, 1, 0, 1]
ODDS_PRED = [0, 1, 2, 1, 0, 0, 0, 2]
ODDS_GROUP = list("aaaabbbb")


def test_equalized_odds_with_a_class_never_true_by_hand():
    kw = dict(sensitive_features=ODDS_GROUP)
    # class 0: TPR a 1/2, b 1; FPR a 0, b 1/2     -> gaps 1/2, 1/2; ratios 1/2, 0
    # class 1: TPR a 1, b 0;   FPR a 0, b 0       -> gaps 1, 0;     ratios 0, 1
    # class 2: TPR undefined;  FPR a 1/4, b 1/4   -> gaps NaN, 0;   ratios NaN, 1
    eod = M.equalized_odds_difference
    assert eod(ODDS_TRUE, ODDS_PRED, **kw) == pytest.approx(1.0)
    assert eod(ODDS_TRUE, ODDS_PRED, class_agg="mean", **kw) == pytest.approx(1 / 2)
    # agg="mean": per class 1/2, 1/2, 0 (the undefined TPR left out)
    assert eod(ODDS_TRUE, ODDS_PRED, agg="mean", **kw) == pytest.approx(1 / 2)
    assert eod(ODDS_TRUE, ODDS_PRED, agg="mean", class_agg="mean", **kw) \
        == pytest.approx(1 / 3)
    eor = M.equalized_odds_ratio
    # worst case per class: 0, 0, 1
    assert eor(ODDS_TRUE, ODDS_PRED, **kw) == pytest.approx(0.0)
    assert eor(ODDS_TRUE, ODDS_PRED, class_agg="mean", **kw) == pytest.approx(1 / 3)
    # agg="mean": per class 1/4, 1/2, 1
    assert eor(ODDS_TRUE, ODDS_PRED, agg="mean", **kw) == pytest.approx(1 / 4)
    assert eor(ODDS_TRUE, ODDS_PRED, agg="mean", class_agg="mean", **kw) \
        == pytest.approx((1 / 4 + 1 / 2 + 1) / 3)
    # Equal opportunity: TPR gaps 1/2, 1 (class 2 left out)
    assert M.equal_opportunity_difference(ODDS_TRUE, ODDS_PRED, class_agg="mean", **kw) \
        == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match=re.escape(
            "agg must be one of ['worst_case', 'mean']; got 'max'.")):
        eod(ODDS_TRUE, ODDS_PRED, agg="max", **kw)


@pytest.mark.parametrize("reference", [flm.equalized_odds_difference,
                                       flm.equalized_odds_ratio])
def test_equalized_odds_mean_agg_multiclass_against_fairlearn(reference):
    metric = getattr(M, reference.__name__)
    y_true, y_pred, group, _ = _random(8, n_classes=3)
    per_class = [reference((y_true == c).astype(int), (y_pred == c).astype(int),
                           sensitive_features=group, agg="mean") for c in range(3)]
    worst = max(per_class) if "difference" in reference.__name__ else min(per_class)
    assert metric(y_true, y_pred, sensitive_features=group, agg="mean") \
        == pytest.approx(worst, abs=1e-12)
    assert metric(y_true, y_pred, sensitive_features=group, agg="mean", class_agg="mean") \
        == pytest.approx(np.mean(per_class), abs=1e-12)


def test_undefined_metric_warning_and_class_agg_message():
    message = re.escape("The metric is undefined for every group (no sample of the rate's "
                        "denominator); returning NaN.")
    with pytest.warns(UserWarning, match=f"^{message}$"):
        value = M.equal_opportunity_difference([0, 0], [0, 1], sensitive_features=["a", "b"])
    assert np.isnan(value)
    with pytest.raises(ValueError, match=re.escape(
            "class_agg must be one of ['max', 'mean']; got 'min'.")):
        M.demographic_parity_difference([0, 1, 2], [0, 1, 1], sensitive_features=list("aba"),
                                        class_agg="min")


@pytest.mark.skipif("mutmut" in sys.modules, reason="mutmut's trampolines add stack frames")
@pytest.mark.parametrize("metric, y_pred", [
    (M.equal_opportunity_difference, [0, 1]),   # no positive label: TPR undefined
    (M.predictive_parity_difference, [0, 0]),   # no positive prediction: precision undefined
])
def test_undefined_metric_warning_points_at_the_caller(metric, y_pred):
    # The warning names the line that called the metric, not the package's wrapper.
    with pytest.warns(UserWarning, match="undefined for every group") as record:
        metric([0, 0], y_pred, sensitive_features=["a", "b"])
    assert record[0].filename == __file__


@pytest.mark.parametrize("dask_arg", ["y_true", "y_pred", "sensitive_features",
                                      "sample_weight"])
@pytest.mark.parametrize("name", ["demographic_parity_difference", "equalized_odds_ratio",
                                  "error_rate_parity_difference"])
def test_one_dask_argument_among_numpy_ones_is_refused(dask_arg, name):
    da = pytest.importorskip("dask.array")
    y_true, y_pred, group, sw = _random(10, n=40)
    args = dict(y_true=y_true, y_pred=y_pred, sensitive_features=group, sample_weight=sw)
    args[dask_arg] = da.from_array(np.asarray(args[dask_arg]), chunks=20)
    other = "y_true" if dask_arg != "y_true" else "y_pred"
    with pytest.raises(ValueError, match=f"^{dask_arg} is a Dask collection but {other} is "
                                         "not: pass every per-row input as Dask"):
        getattr(M, name)(args.pop("y_true"), args.pop("y_pred"), **args)


def test_unweighted_group_metric_keeps_its_keywords():
    def scaled_accuracy(y, p, factor):
        return factor * accuracy_score(y, p)

    # accuracy a 1, b 1/2, c 1/2 -> worst 1/2, times 2
    assert worst_group_score(scaled_accuracy, Y_TRUE, Y_PRED, sensitive_features=GROUP,
                             factor=2.0) == 1.0


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_parity_ratio_of_zero_rates_is_one_without_warnings(method):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # no positive prediction anywhere: equal (zero) selection rates -> 1
        assert M.demographic_parity_ratio([0, 1, 0, 1], [0, 0, 0, 0],
                                          sensitive_features=list("aabb"), method=method) == 1.0
        # a: 0, b: 1, overall 1/2 -> between groups 0 / 1, to overall min(0, 1/2) = 0
        assert M.demographic_parity_ratio([0, 1, 0, 1], [0, 0, 1, 1],
                                          sensitive_features=list("aabb"), method=method) == 0.0


def test_pos_label_messages():
    sf = dict(sensitive_features=list("abab"))
    y = ["no", "yes", "no", "yes"]
    with pytest.raises(ValueError, match=re.escape(
            "pos_label=None is not a valid label: the labels are ['no', 'yes']. Pass pos_label "
            "explicitly (one of the labels) for binary targets that are not {0, 1} or "
            "{-1, 1}.")):
        M.demographic_parity_difference(y, y, **sf)
    with pytest.raises(ValueError, match="^" + re.escape(
            "pos_label='maybe' is not a valid label: the labels are ['no', 'yes'].")):
        M.demographic_parity_difference(y, y, pos_label="maybe", **sf)


def test_probability_shapes_bins_and_label_messages():
    y, p = [0, 1, 1, 0], np.array([0.2, 0.9, 0.6, 0.4])
    # one bin: |mean confidence - accuracy|; top-label confidences .8 .9 .6 .6, all right
    assert M.expected_calibration_error(y, p, n_bins=1) == pytest.approx(1 - 0.725)
    assert M.expected_calibration_error(y, p[:, None]) == M.expected_calibration_error(y, p)
    with pytest.raises(ValueError, match=re.escape(
            "y_proba must be 1-D or 2-D; got an array of shape (4, 1, 1).")):
        M.expected_calibration_error(y, p[:, None, None])
    for bad in (True, 2.5, 0):
        with pytest.raises(ValueError, match=re.escape(
                f"n_bins must be a positive integer; got {bad!r}.")):
            M.expected_calibration_error(y, p, n_bins=bad)
    proba = np.column_stack([1 - p, p])
    with pytest.raises(ValueError, match=re.escape(
            "labels has 3 entries but y_proba has 2 columns.")):
        M.expected_calibration_error(y, proba, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="^y_true holds labels that are not in labels.$"):
        M.expected_calibration_error([0, 1, 1, 5], proba, labels=[0, 1])
    # The row-sum tolerance is relative only: 1 + 1.005e-6 is outside 1e-6.
    with pytest.raises(ValueError, match="must sum to 1"):
        M.expected_calibration_error([0], [[0.5, 0.5 + 1.005e-6]])
    with pytest.raises(ValueError, match="^" + re.escape(
            "y_proba must hold probabilities in [0, 1] (no NaN or infinity).") + "$"):
        M.expected_calibration_error(y, [0.2, 1.5, 0.6, 0.4])


def test_label_checks_of_the_parity_metrics():
    sf = dict(sensitive_features=list("aabb"))
    y_true, y_pred = np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0])
    # selection rates a 1, b 0
    assert M.demographic_parity_difference(y_true[:, None], y_pred[:, None], **sf) == 1.0
    # one label present, the positive class given: selection rates 0 and 0
    assert M.demographic_parity_difference([0, 0, 0, 0], [0, 0, 0, 0], pos_label=1, **sf) \
        == 0.0
    for name, args in (("y_true", (np.zeros((4, 2)), y_pred)),
                       ("y_pred", (y_true, np.zeros((4, 2))))):
        with pytest.raises(ValueError, match=re.escape(
                f"{name} must be 1-D; got an array of shape (4, 2).")):
            M.demographic_parity_difference(*args, **sf)
    with pytest.raises(ValueError, match=re.escape(
            "y_true contains missing values (NaN, None or pd.NA) at 1 row(s); drop or impute "
            "them first.")):
        M.demographic_parity_difference([0.0, 1.0, np.nan, 0.0], y_pred, **sf)
    with pytest.raises(ValueError, match="^y_pred contains missing values"):
        M.demographic_parity_difference(y_true, np.array([1, None, 0, 0], dtype=object), **sf)
