"""Property-based tests (hypothesis) over input types and shapes (issue 14).

For the estimator, the metrics, the weighting strategies and the post-processing rules, every
call with arrays, lists, pandas Series / DataFrames (nullable ``Int64`` / ``boolean`` /
``string`` and categorical dtypes), sparse ``X``, mixed-type group labels, one-row groups,
empty categorical groups and zero sample weights either

- works: finite numbers of the right shape, no NaN, and the same numbers as an independent
  reference computed here (pandas groupby selection rates, the Kamiran-Calders formula, ...), or
- raises a ``ValueError`` / ``TypeError`` whose message names the offending argument.

Bugs found by these properties are kept below as small ``xfail(strict=True)`` regressions.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
    expected_calibration_error,
    group_report,
)
from sklearn_fairloss.postprocessing import (
    DECISION_RULES,
    GroupThresholds,
    TemperatureScaling,
    make_decision_rule,
)
from sklearn_fairloss.weighting import (
    ClassBalanced,
    GroupBalanced,
    Reweighing,
    compute_sample_weight,
)

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ESTIMATOR = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Group labels mixing strings and integers; never 1 together with True (they compare equal).
LABEL_POOL = ["a", "b", 1, 2]


def _names(message, names):
    """Whether ``message`` names one of the arguments ``names`` (as a whole word)."""
    return any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", message) for n in names)


def _works_or_names(call, names):
    """Run ``call``; return its result, or None when it raised a ValueError / TypeError that
    names one of ``names`` (any other exception, or an unclear message, fails the test)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except (ValueError, TypeError) as exc:
        assert _names(str(exc), names), f"{type(exc).__name__} names none of {names}: {exc}"
        return None


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


@st.composite
def group_data(draw, n):
    """(python labels per row, the container handed to the package). Labels per row are
    scalars (one attribute) or tuples (two attributes)."""
    kind = draw(st.sampled_from(
        ["list", "object_array", "series", "string", "categorical", "int64", "boolean",
         "frame2"]))
    if kind in ("string", "categorical"):
        pool = ["a", "b", "c"]
    elif kind in ("int64",):
        pool = [0, 1, 5]
    elif kind == "boolean":
        pool = [False, True]
    else:
        pool = LABEL_POOL
    labels = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    if kind == "list":
        return labels, list(labels)
    if kind == "object_array":
        return labels, np.array(labels, dtype=object)
    if kind == "series":
        return labels, pd.Series(labels, dtype=object, name="grp")
    if kind == "string":
        return labels, pd.Series(labels, dtype="string")
    if kind == "categorical":  # an extra category with no row: an empty group
        return labels, pd.Series(pd.Categorical(labels, categories=["a", "b", "c", "empty"]))
    if kind == "int64":
        return labels, pd.Series(labels, dtype="Int64")
    if kind == "boolean":
        return labels, pd.Series(labels, dtype="boolean")
    second = draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    frame = pd.DataFrame({"s": pd.Series(labels, dtype=object),
                          "t": pd.Categorical(second, categories=["x", "y", "z"])})
    return list(zip(labels, second)), frame


@st.composite
def binary_vector(draw, n, name="y"):
    """(int 0/1 values, the container handed to the package)."""
    values = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    kind = draw(st.sampled_from(["list", "array", "Int64", "boolean", "bool_array"]))
    if kind == "list":
        return values, list(values)
    if kind == "array":
        return values, np.array(values)
    if kind == "Int64":
        return values, pd.Series(values, dtype="Int64", name=name)
    if kind == "boolean":
        return values, pd.Series(np.array(values, dtype=bool), dtype="boolean", name=name)
    return values, np.array(values, dtype=bool)


@st.composite
def weights(draw, n):
    """(float weights or None, the container); some rows weigh 0, at least one does not."""
    if draw(st.booleans()):
        return None, None
    w = draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, 3.0]), min_size=n,
                      max_size=n))
    assume(sum(w) > 0)
    kind = draw(st.sampled_from(["list", "array", "series"]))
    container = {"list": list(w), "array": np.array(w), "series": pd.Series(w)}[kind]
    return np.array(w), container


def _key(label):
    """A label as a string key for a pandas groupby and for matching the package's groups
    (the pools never hold both "1" and 1: a list of group labels is read by ``np.asarray``,
    which turns 1 into "1"; see the regression test at the end)."""
    if isinstance(label, tuple):
        return repr(tuple(str(v) for v in label))
    return repr(str(label))


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


@FAST
@given(data=st.data(), n=st.integers(1, 25))
def test_demographic_parity_matches_pandas_groupby(data, n):
    _, y_true = data.draw(binary_vector(n, "y_true"))
    pred, y_pred = data.draw(binary_vector(n, "y_pred"))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    result = _works_or_names(
        lambda: demographic_parity_difference(y_true, y_pred, sensitive_features=sf,
                                              sample_weight=sw),
        ["sensitive_features", "sample_weight", "y_true", "y_pred"])
    assert result is not None, "valid input must be accepted"
    frame = pd.DataFrame({"g": [_key(g) for g in labels], "pred": np.array(pred, float),
                          "w": np.ones(n) if w is None else w})
    frame["wp"] = frame["w"] * frame["pred"]
    sums = frame.groupby("g")[["wp", "w"]].sum()
    rates = (sums["wp"] / sums["w"])[sums["w"] > 0]
    assert np.isfinite(result)
    assert result == pytest.approx(rates.max() - rates.min(), abs=1e-12)


@FAST
@given(data=st.data(), n=st.integers(1, 25))
def test_equalized_odds_matches_pandas_groupby(data, n):
    truth, y_true = data.draw(binary_vector(n, "y_true"))
    pred, y_pred = data.draw(binary_vector(n, "y_pred"))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    result = _works_or_names(
        lambda: equalized_odds_difference(y_true, y_pred, sensitive_features=sf,
                                          sample_weight=sw),
        ["sensitive_features", "sample_weight", "y_true", "y_pred"])
    assert result is not None
    frame = pd.DataFrame({"g": [_key(g) for g in labels], "t": truth, "p": pred,
                          "w": np.ones(n) if w is None else w})
    gaps = []
    for outcome in (1, 0):  # TPR among the positives, FPR among the negatives
        part = frame[frame["t"] == outcome].assign(wp=lambda f: f["w"] * f["p"])
        sums = part.groupby("g")[["wp", "w"]].sum()
        rates = (sums["wp"] / sums["w"])[sums["w"] > 0]
        if len(rates):
            gaps.append(rates.max() - rates.min())
    assert np.isfinite(result)
    assert result == pytest.approx(max(gaps), abs=1e-12)


@st.composite
def probabilities(draw, n):
    """(positive-class probabilities, the container: 1-D list/array/Float64 or (n, 2))."""
    p = draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n))
    kind = draw(st.sampled_from(["list", "array", "Float64", "two_columns"]))
    if kind == "list":
        return np.array(p), list(p)
    if kind == "array":
        return np.array(p), np.array(p)
    if kind == "Float64":
        return np.array(p), pd.Series(p, dtype="Float64")
    return np.array(p), np.column_stack([1.0 - np.array(p), p])


@FAST
@given(data=st.data(), n=st.integers(1, 25), n_bins=st.integers(1, 20))
def test_expected_calibration_error_in_range_and_one_bin_reference(data, n, n_bins):
    truth, y_true = data.draw(binary_vector(n, "y_true"))
    p, y_proba = data.draw(probabilities(n))
    w, sw = data.draw(weights(n))
    names = ["y_true", "y_proba", "sample_weight"]
    ece = _works_or_names(lambda: expected_calibration_error(
        y_true, y_proba, n_bins=n_bins, sample_weight=sw), names)
    if ece is None:  # a 2-column y_proba with one class in y_true needs labels=
        assert np.ndim(y_proba) == 2 and len(set(truth)) == 1
        return
    assert np.isfinite(ece) and 0 <= ece <= 1
    # One bin: |weighted mean outcome - weighted mean confidence| (positive-class curve).
    one = expected_calibration_error(y_true, p, n_bins=1, variant="positive",
                                     sample_weight=sw)
    ww = np.ones(n) if w is None else w
    expected = abs(np.average(truth, weights=ww) - np.average(p, weights=ww))
    assert one == pytest.approx(expected, abs=1e-9)


@FAST
@given(data=st.data(), n=st.integers(2, 25))
def test_expected_calibration_error_zero_weight_rows_are_dropped_rows(data, n):
    truth, _ = data.draw(binary_vector(n))
    p, _ = data.draw(probabilities(n))
    w, _ = data.draw(weights(n))
    assume(w is not None)
    keep = w > 0
    with_zeros = expected_calibration_error(truth, p, n_bins=5, sample_weight=w)
    dropped = expected_calibration_error(np.array(truth)[keep], p[keep], n_bins=5,
                                         sample_weight=w[keep])
    assert with_zeros == pytest.approx(dropped, abs=1e-12)


@FAST
@given(data=st.data(), n=st.integers(1, 25), with_proba=st.booleans())
def test_group_report_shape_counts_and_nan_only_for_empty_denominators(data, n, with_proba):
    truth, y_true = data.draw(binary_vector(n, "y_true"))
    pred, y_pred = data.draw(binary_vector(n, "y_pred"))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    p, y_proba = data.draw(probabilities(n))
    report = _works_or_names(lambda: group_report(
        y_true, y_pred, sensitive_features=sf, sample_weight=sw,
        y_proba=y_proba if with_proba else None,
        metrics=["selection_rate", "accuracy", "tpr"] + (["brier"] if with_proba else [])),
        ["y_true", "y_pred", "y_proba", "sensitive_features", "sample_weight"])
    if report is None:  # see test_regression_group_report_one_class_two_column_proba
        assert with_proba and np.ndim(y_proba) == 2 and len(set(truth)) == 1
        return
    keys = sorted({_key(g) for g in labels})
    assert report.shape[0] == len(keys) + 3  # observed groups only, then the summaries
    groups = report.iloc[:-3]
    assert groups["count"].sum() == n
    overall = report.iloc[-3]
    for column in ["selection_rate", "accuracy"] + (["brier"] if with_proba else []):
        assert np.isfinite(overall[column]), column
    ww = np.ones(n) if w is None else w
    frame = pd.DataFrame({"g": [_key(g) for g in labels], "w": ww, "t": truth,
                          "wp": ww * np.array(pred), "wc": ww * (np.array(truth) == pred)})
    sums = frame.groupby("g")[["w", "wp", "wc"]].sum()
    # the report's rows are in the package's group order: match them by their counts' keys
    order = [_key(g if not isinstance(g, tuple) else tuple(g)) for g in groups.index]
    sums = sums.loc[order]
    has_weight = sums["w"].to_numpy() > 0
    sel = groups["selection_rate"].to_numpy()
    acc = groups["accuracy"].to_numpy()
    assert np.array_equal(np.isnan(sel), ~has_weight)
    assert np.array_equal(np.isnan(acc), ~has_weight)
    np.testing.assert_allclose(sel[has_weight], (sums["wp"] / sums["w"])[has_weight],
                               atol=1e-12)
    np.testing.assert_allclose(acc[has_weight], (sums["wc"] / sums["w"])[has_weight],
                               atol=1e-12)
    for column in ["selection_rate", "accuracy"]:
        assert np.isfinite(report[column].iloc[-2:]).all(), column  # difference and ratio


@FAST
@given(data=st.data(), n=st.integers(1, 12))
def test_metrics_name_the_argument_of_a_wrong_length(data, n):
    truth, _ = data.draw(binary_vector(n))
    labels, sf = data.draw(group_data(n + 1))
    w, _ = data.draw(weights(n))
    which = data.draw(st.sampled_from(["sensitive_features", "sample_weight", "y_pred"]))
    y_pred = list(truth) + ([0] if which == "y_pred" else [])
    groups = sf if which == "sensitive_features" else labels[:n]
    sw = np.r_[np.ones(n), 1.0] if which == "sample_weight" else None
    for metric in (demographic_parity_difference, equalized_odds_difference):
        with pytest.raises(ValueError) as info:
            metric(truth, y_pred, sensitive_features=groups, sample_weight=sw)
        assert which in str(info.value)


# ---------------------------------------------------------------------------------------------
# Weighting
# ---------------------------------------------------------------------------------------------


def _cells(labels, y, w):
    frame = pd.DataFrame({"g": [_key(g) for g in labels], "y": list(y), "w": w})
    w_g = frame.groupby("g")["w"].transform("sum").to_numpy()
    w_y = frame.groupby("y")["w"].transform("sum").to_numpy()
    w_gy = frame.groupby(["g", "y"])["w"].transform("sum").to_numpy()
    return w_g, w_y, w_gy, frame


@FAST
@given(data=st.data(), n=st.integers(1, 25))
def test_reweighing_matches_kamiran_calders(data, n):
    truth, y = data.draw(binary_vector(n))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    out = _works_or_names(lambda: compute_sample_weight(Reweighing(), y, sf, sample_weight=sw),
                          ["y", "sensitive_features", "sample_weight"])
    assert out is not None
    ww = np.ones(n) if w is None else w
    w_g, w_y, w_gy, frame = _cells(labels, truth, ww)
    assert out.shape == (n,) and np.all(np.isfinite(out)) and np.all(out >= 0)
    positive = ww > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        kc = w_g * w_y / (ww.sum() * w_gy)  # P(g) P(y) / P(g, y)
    strategy = np.where(positive, out / np.where(positive, ww, 1.0), 0.0)
    # weights have (sample_weight-weighted) mean 1 ...
    assert np.sum(ww * strategy) == pytest.approx(ww.sum(), rel=1e-9)
    # ... and are the Kamiran-Calders weights, exactly when every group x class cell with rows
    # has weight, else up to that normalisation
    scale = np.sum(ww[positive]) / np.sum(ww[positive] * kc[positive])
    np.testing.assert_allclose(strategy[positive], scale * kc[positive], rtol=1e-9)
    table = frame.pivot_table(index="g", columns="y", values="w", aggfunc="sum", fill_value=0)
    if (table.to_numpy() > 0).all():  # every group x class cell has weight: no rescaling
        np.testing.assert_allclose(strategy[positive], kc[positive], rtol=1e-9)
    assert np.all(out[~positive] == 0)


@FAST
@given(data=st.data(), n=st.integers(1, 25),
       strategy=st.sampled_from(["group", "group_class", "class_1", "class_half"]))
def test_balanced_strategies_match_inverse_counts(data, n, strategy):
    truth, y = data.draw(binary_vector(n))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    rule = {"group": GroupBalanced(by="group"), "group_class": GroupBalanced(by="group_class"),
            "class_1": ClassBalanced(), "class_half": ClassBalanced(power=0.5)}[strategy]
    group_arg = sf if strategy.startswith("group") or data.draw(st.booleans()) else None
    out = _works_or_names(lambda: compute_sample_weight(rule, y, group_arg, sample_weight=sw),
                          ["y", "sensitive_features", "sample_weight"])
    assert out is not None
    ww = np.ones(n) if w is None else w
    w_g, w_y, w_gy, _ = _cells(labels, truth, ww)
    assert out.shape == (n,) and np.all(np.isfinite(out)) and np.all(out >= 0)
    positive = ww > 0
    count = {"group": w_g, "group_class": w_gy, "class_1": w_y, "class_half": w_y}[strategy]
    factor = np.where(count > 0, count, 1.0) ** (-0.5 if strategy == "class_half" else -1.0)
    strategy_w = out[positive] / ww[positive]
    expected = factor[positive] * ww.sum() / np.sum(ww[positive] * factor[positive])
    np.testing.assert_allclose(strategy_w, expected, rtol=1e-9)
    assert np.all(out[~positive] == 0)


@FAST
@given(data=st.data(), n=st.integers(1, 12),
       which=st.sampled_from(["sensitive_features", "sample_weight", "y"]))
def test_weighting_names_the_bad_argument(data, n, which):
    truth, _ = data.draw(binary_vector(n))
    labels, sf = data.draw(group_data(n))
    y = np.array(truth, dtype=float)
    sw = None
    if which == "sensitive_features":
        sf = list(labels) + [labels[0]]
    elif which == "sample_weight":
        sw = data.draw(st.sampled_from([np.r_[np.ones(n - 1), -1.0], np.zeros(n),
                                        np.ones(n + 1), np.r_[np.ones(n - 1), np.nan]]))
    else:
        y = pd.Series(np.r_[truth[:-1], np.nan]).astype("Int64")
    for rule in (Reweighing(), GroupBalanced(), "reweighing"):
        with pytest.raises(ValueError) as info:
            compute_sample_weight(rule, y, sf, sample_weight=sw)
        assert _names(str(info.value), [which]), str(info.value)


# ---------------------------------------------------------------------------------------------
# Post-processing
# ---------------------------------------------------------------------------------------------

_proba_values = st.sampled_from([0.0, 0.1, 0.3, 0.45, 0.5, 0.55, 0.7, 0.9, 1.0])


@FAST
@given(data=st.data(), n=st.integers(1, 30),
       constraint=st.sampled_from(["demographic_parity", "equal_opportunity"]),
       tolerance=st.sampled_from([0.0, 0.05, 0.2]))
def test_group_thresholds_rates_are_those_of_its_predictions(data, n, constraint, tolerance):
    p = np.array(data.draw(st.lists(_proba_values, min_size=n, max_size=n)))
    labels, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    # zero weights on whole groups are covered by an explicit regression test below
    keys = np.array([_key(g) for g in labels])
    ww = np.ones(n) if w is None else w
    assume(all(ww[keys == k].sum() > 0 for k in set(keys)))
    proba = p if data.draw(st.booleans()) else np.column_stack([1 - p, p])
    rule = _works_or_names(
        lambda: GroupThresholds(constraint, tolerance=tolerance).fit(
            proba, sensitive_features=sf, sample_weight=sw),
        ["proba", "sensitive_features", "sample_weight"])
    assert rule is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = rule.predict(proba, sensitive_features=sf)
    assert pred.shape == (n,) and set(np.unique(pred)) <= {0, 1}
    assert np.all(np.isfinite(rule.rates_)) and 0 <= rule.expected_accuracy_ <= 1 + 1e-12
    if rule.thresholds_ is not None:
        assert not np.any(np.isnan(rule.thresholds_))
    # rates_ are the rates of the rule's own predictions on the fitting rows (reference)
    gain = ww if constraint == "demographic_parity" else ww * p
    order = [_key(g) for g in rule.groups_]
    for g, key in enumerate(order):
        rows = keys == key
        total = gain[rows].sum()
        expected = (gain[rows] * pred[rows]).sum() / total if total > 0 else 0.0
        assert rule.rates_[g] == pytest.approx(expected, abs=1e-9)
    constrained = [g for g, key in enumerate(rule.groups_)
                   if key not in rule.unconstrained_groups_]
    if len(constrained) > 1 and rule.thresholds_ is not None:
        assert np.ptp(rule.rates_[constrained]) <= rule.tolerance_ + 1e-9
    # expected accuracy: the plug-in accuracy of the predictions (reference)
    expected_acc = np.sum(ww * np.where(pred == 1, p, 1 - p)) / ww.sum()
    assert rule.expected_accuracy_ == pytest.approx(expected_acc, abs=1e-9)


@FAST
@given(data=st.data(), n=st.integers(1, 30), k=st.integers(2, 4),
       scale=st.sampled_from([1e-3, 1.0, 30.0, 1e4]))
def test_temperature_scaling_is_optimal_finite_and_keeps_the_argmax(data, n, k, scale):
    z = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=n * k, max_size=n * k)))
    logits = scale * z.reshape(n, k)
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    w, sw = data.draw(weights(n))
    form = data.draw(st.sampled_from(["array", "list", "frame"]))
    given_logits = {"array": logits, "list": logits.tolist(),
                    "frame": pd.DataFrame(logits).astype("Float64")}[form]
    given_y = pd.Series(y, dtype="Int64") if data.draw(st.booleans()) else y
    cal = _works_or_names(lambda: TemperatureScaling().fit(given_logits, given_y,
                                                           sample_weight=sw),
                          ["logits", "y", "sample_weight"])
    assert cal is not None
    assert np.isfinite(cal.temperature_) and cal.temperature_ > 0
    proba = cal.predict_proba(logits)
    assert proba.shape == (n, k) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    distinct = np.sort(logits, axis=1)
    clear = distinct[:, -1] - distinct[:, -2] > 1e-9 * max(1.0, scale)
    assert np.array_equal(proba[clear].argmax(1), logits[clear].argmax(1))

    ww = np.ones(n) if w is None else w

    def nll(t):
        s = logits / t
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return -np.sum(ww * logp[np.arange(n), y]) / ww.sum()

    best = nll(cal.temperature_)
    for t in (1e-4, 0.1, 0.5, 1.0, 2.0, 10.0, 1e3, 2e4):
        assert best <= nll(t) + 1e-7 * max(1.0, abs(nll(t)))


@FAST
@given(data=st.data(), n=st.integers(1, 25),
       decision=st.sampled_from(sorted(DECISION_RULES) + [0.3, 0.5]))
def test_decision_rules_predict_class_codes(data, n, decision):
    p = np.array(data.draw(st.lists(_proba_values, min_size=n, max_size=n)))
    proba = np.column_stack([1 - p, p])
    truth, _ = data.draw(binary_vector(n))
    y = pd.Series(truth, dtype="Int64") if data.draw(st.booleans()) else list(truth)
    w, sw = data.draw(weights(n))
    rule = _works_or_names(lambda: make_decision_rule(decision, n_classes=2).fit(
        proba, y, sample_weight=sw), ["proba", "y", "sample_weight", "class_prior"])
    if rule is None:  # only "balanced" may refuse: a class with no weight has no prior
        assert decision == "balanced"
        return
    pred = rule.predict(proba)
    assert pred.shape == (n,) and pred.dtype.kind == "i" and set(np.unique(pred)) <= {0, 1}
    if isinstance(decision, float):
        np.testing.assert_array_equal(pred, (p >= decision).astype(int))
    threshold = getattr(rule, "threshold_", None)
    if threshold is not None:
        assert np.isfinite(threshold) or np.isinf(threshold)


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------


@st.composite
def features(draw, n):
    """(dense float array, the X container handed to fit)."""
    values = np.array(draw(st.lists(st.floats(-3, 3), min_size=3 * n, max_size=3 * n)))
    dense = values.reshape(n, 3)
    kind = draw(st.sampled_from(["array", "float32", "list", "csr", "csc", "coo", "frame",
                                 "nullable_frame"]))
    if kind == "array":
        return dense, dense
    if kind == "float32":
        return dense, dense.astype(np.float32)
    if kind == "list":
        return dense, dense.tolist()
    if kind in ("csr", "csc", "coo"):
        return dense, getattr(sp, f"{kind}_matrix")(np.where(np.abs(dense) < 1, 0.0, dense))
    if kind == "frame":
        return dense, pd.DataFrame(dense, columns=["f0", "f1", "f2"])
    frame = pd.DataFrame({"f0": pd.array(np.round(dense[:, 0]).astype(int), dtype="Int64"),
                          "f1": pd.array(dense[:, 1] > 0, dtype="boolean"),
                          "f2": pd.array(dense[:, 2], dtype="Float64")})
    return dense, frame


@st.composite
def targets(draw, n):
    """(python labels, the y container)."""
    kind = draw(st.sampled_from(["int", "list", "str", "string", "Int64", "boolean",
                                 "categorical", "three"]))
    k = 3 if kind == "three" else 2
    codes = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    if kind in ("int", "three"):
        return codes, np.array(codes)
    if kind == "list":
        return codes, list(codes)
    if kind == "str":
        return [["no", "yes"][c] for c in codes], np.array(["no", "yes"])[codes]
    if kind == "string":
        return ([["no", "yes"][c] for c in codes],
                pd.Series(np.array(["no", "yes"])[codes], dtype="string"))
    if kind == "Int64":
        return codes, pd.Series(codes, dtype="Int64")
    if kind == "boolean":
        return [bool(c) for c in codes], pd.Series(np.array(codes, bool), dtype="boolean")
    return ([["no", "yes"][c] for c in codes],
            pd.Series(pd.Categorical(np.array(["no", "yes"])[codes],
                                     categories=["no", "yes", "maybe"])))


@ESTIMATOR
@given(data=st.data(), n=st.integers(4, 12),
       options=st.sampled_from([{}, {"fairness": "demographic_parity"},
                                {"sample_weight_strategy": "reweighing"},
                                {"decision": "balanced"}, {"decision": 0.4},
                                {"group_thresholds": "demographic_parity"}]))
def test_estimator_fits_and_predicts_on_any_container(data, n, options):
    _, X = data.draw(features(n))
    labels, y = data.draw(targets(n))
    _, sf = data.draw(group_data(n))
    w, sw = data.draw(weights(n))
    if len(set(labels)) > 2:
        options = {key: value for key, value in options.items()
                   if key not in ("decision", "group_thresholds")}
    model = FairLossClassifier(hidden_layer_sizes=(4,), max_epochs=2, batch_size=8,
                               random_state=0, **options)
    fitted = _works_or_names(lambda: model.fit(X, y, sample_weight=sw, sensitive_features=sf),
                             ["X", "y", "sample_weight", "sensitive_features", "decision",
                              "group_thresholds"])
    if fitted is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = model.predict_proba(X)
        pred = model.predict(X, sensitive_features=sf) if options.get("group_thresholds") \
            else model.predict(X)
    classes = list(model.classes_)
    assert sorted(set(labels), key=repr) == sorted(set(classes), key=repr)
    assert proba.shape == (n, len(classes)) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert len(pred) == n and set(pred.tolist()) <= set(classes)


@ESTIMATOR
@given(data=st.data(), n=st.integers(4, 10),
       which=st.sampled_from(["sensitive_features", "sample_weight", "y", "X"]))
def test_estimator_names_the_argument_of_a_wrong_length(data, n, which):
    _, X = data.draw(features(n + (which == "X")))
    labels, y = data.draw(targets(n + (which == "y")))
    assume(len(set(labels)) > 1)
    labels_sf, sf = data.draw(group_data(n + (which == "sensitive_features")))
    sw = np.ones(n + 1) if which == "sample_weight" else None
    model = FairLossClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
    with pytest.raises(ValueError) as info:
        model.fit(X, y, sample_weight=sw, sensitive_features=sf)
    message = str(info.value)
    assert _names(message, [which]) or (which in ("X", "y") and _names(message, ["X", "y"])), \
        message


def test_estimator_mixed_type_groups_one_row_groups_and_empty_categories():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 3))
    y = np.array([0, 1] * 4 + [1])
    groups = np.array(["a", 1, "a", 1, "a", 1, "a", 1, "solo"], dtype=object)
    cats = pd.Series(pd.Categorical(["a", "b"] * 4 + ["c"], categories=["a", "b", "c", "d"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sf in (groups, list(groups), cats):
            for options in ({}, {"fairness": "demographic_parity"},
                            {"group_thresholds": "demographic_parity"}):
                model = FairLossClassifier(hidden_layer_sizes=(4,), max_epochs=2,
                                           random_state=0, **options)
                model.fit(sp.csr_matrix(X), y, sensitive_features=sf,
                          sample_weight=np.r_[0.0, np.ones(8)])
                proba = model.predict_proba(sp.csr_matrix(X))
                assert np.all(np.isfinite(proba))
                assert set(model.predict(X, sensitive_features=sf)) <= {0, 1}


# ---------------------------------------------------------------------------------------------
# Regressions: bugs found by the properties above (remove the mark once fixed). The last two
# tests were failing when written and were fixed meanwhile; they stay as plain regressions.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", [demographic_parity_difference, equalized_odds_difference])
@pytest.mark.parametrize("missing", [np.nan, pd.NA])
def test_regression_metrics_reject_missing_y_true(metric, missing):
    y_true = pd.Series([0, 1, missing, 0, 1], dtype="Int64" if missing is pd.NA else float)
    with pytest.raises(ValueError, match="y_true"):
        metric(y_true, [0, 1, 0, 0, 1], sensitive_features=list("aabba"))


def test_regression_group_report_rejects_missing_y_true():
    y_true = pd.Series([0, 1, None, 0, 1], dtype="Int64")
    with pytest.raises(ValueError, match="y_true"):
        group_report(y_true, [0, 1, 0, 0, 1], sensitive_features=list("aabba"))


def test_regression_metrics_name_y_pred_holding_none():
    with pytest.raises((ValueError, TypeError), match="y_pred"):
        demographic_parity_difference([0, 1, 1, 0, 1], [0, 1, None, 0, 1],
                                      sensitive_features=list("aabba"))


def test_regression_metrics_name_boolean_y_true_with_na():
    y_true = pd.Series([False, True, None, False, True], dtype="boolean")
    with pytest.raises((ValueError, TypeError), match="y_true"):
        demographic_parity_difference(y_true, [0, 1, 0, 0, 1], sensitive_features=list("aabba"))


@pytest.mark.xfail(strict=True, reason="group_report with a binary (n, 2) y_proba and one "
                   "class in y_true raises 'pass labels=', an argument group_report lacks")
def test_regression_group_report_one_class_two_column_proba():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    report = group_report([0, 0, 0], [0, 0, 1], y_proba=proba, sensitive_features=["a", "a", "b"],
                          metrics=["selection_rate", "brier"])
    assert report.loc["overall", "brier"] == pytest.approx((0.01 + 0.04 + 0.49) / 3)


def test_regression_list_of_mixed_labels_keeps_1_and_str_1_apart():
    groups = ["1", 1, "1", 1]
    y_true, y_pred = [0, 1, 0, 1], [1, 0, 1, 0]
    assert demographic_parity_difference(y_true, y_pred, sensitive_features=groups) == 1.0
    assert len(group_report(y_true, y_pred, sensitive_features=groups)) == 2 + 3


def test_regression_ece_rejects_rows_not_summing_to_one():
    with pytest.raises(ValueError, match="y_proba"):
        expected_calibration_error([0, 1, 1, 0], [[0.2, 0.2]] * 4)


def test_regression_group_thresholds_zero_weight_group_has_finite_rate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        rule = GroupThresholds().fit(np.linspace(0, 1, 8), sensitive_features=list("aaaabbbb"),
                                     sample_weight=[1, 1, 1, 1, 0, 0, 0, 0])
    assert np.all(np.isfinite(rule.rates_))


def test_regression_temperature_scaling_huge_finite_logits():
    logits = np.array([[1e308, -1e308], [-1e308, 1e308], [1e308, -1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            cal = TemperatureScaling().fit(logits, [0, 1, 1])
        except ValueError as exc:  # refusing the input, naming it, is fine too
            assert "logits" in str(exc)
            return
        assert np.all(np.isfinite(cal.predict_proba(logits)))


@pytest.mark.parametrize("column", [pd.Categorical(list("abcabc")),
                                    pd.array(list("abcabc"), dtype="string")])
def test_regression_estimator_names_x_for_non_numeric_column(column):
    X = pd.DataFrame({"num": np.arange(6.0), "text": column})
    model = FairLossClassifier(hidden_layer_sizes=(4,), max_epochs=2, categorical_features=None)
    with pytest.raises(ValueError, match=r"\bX\b|'text'"):
        model.fit(X, [0, 1] * 3)
