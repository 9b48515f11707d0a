"""Calibration metrics: the cases that mutation testing of ``metrics/_calibration.py`` found
untested (issue 15; see docs/mutation_testing.md).

Every expected value is computed by hand in the comments (or, for the Brier decomposition, from
Murphy's formulas applied to bins listed by hand, and :func:`sklearn.metrics.brier_score_loss`);
each case runs on NumPy arrays and on Dask arrays, whose path sums the bins per partition
instead. They pin the pass-through of ``pos_label``, ``labels``, ``n_bins``, ``strategy``,
``variant`` and ``sample_weight``, the defaults, empty and single-row bins, the float32 row-sum
tolerance, and the argument named by each error.
"""

import warnings

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from sklearn_fairloss.metrics import (
    balance_score,
    brier_score_decomposition,
    calibration_bins,
    calibration_error_difference,
    expected_calibration_error,
    maximum_calibration_error,
)

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def _dask(x):
    if x is None:
        return None
    x = np.asarray(x)
    return da.from_array(x, chunks=(2,) + x.shape[1:])


def _both(metric, expected, y, p, *, sample_weight=None, sensitive_features=None, **kwargs):
    """``metric`` on NumPy and on Dask arrays (chunks of 2 rows) equals ``expected``."""
    if sensitive_features is not None:
        kwargs["sensitive_features"] = sensitive_features
    got = metric(np.asarray(y), np.asarray(p), sample_weight=sample_weight, **kwargs)
    assert np.allclose(got, expected, rtol=0, atol=1e-12), (got, expected)
    if sensitive_features is not None:
        kwargs["sensitive_features"] = _dask(sensitive_features)
    got = metric(_dask(y), _dask(p), sample_weight=_dask(sample_weight), **kwargs)
    assert np.allclose(got, expected, rtol=0, atol=1e-12), (got, expected)


def _murphy_reference(f, o, bins, w=None):
    """Murphy's (1973) terms of binary forecasts ``f`` of outcomes ``o`` from bins given as
    lists of row indices (written from the formulas, independent of the package's binning)."""
    f, o = np.asarray(f, float), np.asarray(o, float)
    w = np.ones_like(f) if w is None else np.asarray(w, float)
    base = np.sum(w * o) / np.sum(w)
    rel = res = 0.0
    for rows in bins:
        n_b = np.sum(w[rows])
        f_b, o_b = np.sum(w[rows] * f[rows]) / n_b, np.sum(w[rows] * o[rows]) / n_b
        rel += n_b / np.sum(w) * (f_b - o_b) ** 2
        res += n_b / np.sum(w) * (o_b - base) ** 2
    return rel, res, base * (1 - base)


# --- expected / maximum calibration error ---------------------------------------------------

def test_ece_passes_labels_with_an_absent_class():
    # labels [0, 1, 2], class 2 absent. top label, 2 bins: .7 (right), .6 (right), .6 (row 3
    # predicts 0, right) in (.5, 1]: acc 1, conf 1.9/3 -> (1 - 1.9/3) * 3/4 = .275;
    # .5 (predicts 0, y 1: wrong) in [0, .5]: .5 * 1/4 = .125 -> .4; MCE max(1 - 1.9/3, .5)
    y = [0, 1, 0, 1]
    proba = [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]
    _both(expected_calibration_error, 0.4, y, proba, n_bins=2, labels=[0, 1, 2])
    _both(maximum_calibration_error, 0.5, y, proba, n_bins=2, labels=[0, 1, 2])


def test_ece_passes_pos_label():
    # positive, 5 bins; p is the probability of class 0, outcomes y == 0: 1 0 1 1.
    # bins: .2 -> |1 - .2| = .8; .9 -> .9; .62, .66 in (.6, .8]: |1 - .64| = .36 (weight 2)
    # -> (.8 + .9 + 2 * .36) / 4 = .605
    y, p = [0, 1, 0, 0], [0.2, 0.9, 0.62, 0.66]
    _both(expected_calibration_error, 0.605, y, p, n_bins=5, variant="positive", pos_label=0)
    _both(expected_calibration_error, 0.605, ["n", "y", "n", "n"], p, n_bins=5,
          variant="positive", pos_label="n")


def test_ece_float32_rows_use_the_float32_tolerance():
    # rows sum to 1.0001: within sqrt(eps(float32)) = 3.5e-4, not within float64's 1e-6.
    # top label of a binary matrix: class 1 when p1 >= .5; y 1 right, y 0 wrong, one bin
    # (.5, 1]: acc .5, conf (.5001 + .7) / 2 -> ECE .60005 - .5
    proba = np.array([[0.5, 0.5001], [0.3, 0.7]], dtype=np.float32)
    got = expected_calibration_error([1, 0], proba, n_bins=2)
    assert got == pytest.approx((0.5001 + 0.7) / 2 - 0.5, abs=1e-6)
    with pytest.raises(ValueError, match="rows of a 2-D y_proba must sum to 1"):
        expected_calibration_error([1, 0], proba.astype(np.float64), n_bins=2)


def test_calibration_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"y_true must be 1-D; got an array of shape \(2, 2\)"):
        expected_calibration_error([[0, 1], [1, 0]], [0.2, 0.3])
    with pytest.raises(ValueError, match="y_proba has 2 samples but y_true has 3"):
        expected_calibration_error([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="variant must be one of"):
        expected_calibration_error([0, 1], [0.2, 0.3], variant="top")
    with pytest.raises(ValueError, match="variant must be one of"):
        expected_calibration_error(_dask([0, 1]), _dask([0.2, 0.3]), variant="top")
    with pytest.raises(ValueError, match="strategy must be one of"):
        brier_score_decomposition([0, 1], [0.2, 0.3], strategy="kmeans")
    with pytest.raises(ValueError, match=r"strategy='quantile' needs every row in memory "
                                         r"\(its bin edges are quantiles of all the conf"):
        expected_calibration_error(_dask([0, 1]), _dask([0.2, 0.3]), strategy="quantile")


@pytest.mark.parametrize("metric", [expected_calibration_error, balance_score,
                                    brier_score_decomposition, calibration_error_difference])
def test_a_dask_input_with_a_numpy_one_is_refused(metric):
    # the Dask path is taken when any per-row input is a Dask collection, and then refuses
    # the mix (the in-memory path would silently compute the Dask column)
    kwargs = {"n_bins": 2} if metric is brier_score_decomposition else {}
    if metric is calibration_error_difference:
        kwargs["sensitive_features"] = np.array(SF)
    y, p, w = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.6, 0.4]), np.ones(4)
    for name, args in [("y_true", (_dask(y), p, None)), ("y_proba", (y, _dask(p), None)),
                       ("sample_weight", (y, p, _dask(w)))]:
        with pytest.raises(ValueError, match=f"{name} is a Dask collection but"):
            metric(args[0], args[1], sample_weight=args[2], **kwargs)


# --- balance score ---------------------------------------------------------------------------

def test_balance_score_passes_pos_label_and_labels():
    # as test_balance_score_by_hand with string labels: gains .1, .2, -.7, -.5 -> -.225
    y = ["y", "n", "n", "n"]
    _both(balance_score, -0.225, y, [0.9, 0.2, 0.7, 0.5], pos_label="y")
    # 3 columns, class 2 absent: rows .7 right (.3), .6 predicts 0 but y 1 (-.6)
    _both(balance_score, (0.3 - 0.6) / 2, [0, 1], [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]],
          labels=[0, 1, 2])
    # weights 3 and 1: (3 * .3 - .6) / 4
    _both(balance_score, (3 * 0.3 - 0.6) / 4, [0, 1], [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]],
          labels=[0, 1, 2], sample_weight=[3.0, 1.0])


# --- Brier decomposition ---------------------------------------------------------------------

FORECAST, OUTCOME = [0.1, 0.15, 0.5, 0.9], [0, 1, 1, 1]


def test_brier_decomposition_binned_by_hand():
    # n_bins=4, edges .25 .5 .75: bins {.1, .15}, {.5} (on an edge: lower bin), {} (empty),
    # {.9}: rel = .5 (.125 - .5)^2 + .25 (.5 - 1)^2 + .25 (.9 - 1)^2 = .1353125,
    # res = .5 (.5 - .75)^2 + 2 * .25 (1 - .75)^2 = .0625, unc = .75 * .25 = .1875
    assert _murphy_reference(FORECAST, OUTCOME, [[0, 1], [2], [3]]) == pytest.approx(
        (0.1353125, 0.0625, 0.1875))
    _both(brier_score_decomposition, (0.1353125, 0.0625, 0.1875), OUTCOME, FORECAST, n_bins=4)
    # weights 1 3 1 1: the same bins, weighted means
    w = [1.0, 3.0, 1.0, 1.0]
    expected = _murphy_reference(FORECAST, OUTCOME, [[0, 1], [2], [3]], w)
    _both(brier_score_decomposition, expected, OUTCOME, FORECAST, n_bins=4, sample_weight=w)
    # the default 10 bins split .1 (bin [0, .1]) and .15: four single-row bins
    assert brier_score_decomposition(OUTCOME, FORECAST, n_bins=10) == pytest.approx(
        _murphy_reference(FORECAST, OUTCOME, [[0], [1], [2], [3]]))
    # quantile, 2 bins: edges (.1, .325, .9): {.1, .15}, {.5, .9}; uniform 2 bins differ
    assert brier_score_decomposition(OUTCOME, FORECAST, n_bins=2, strategy="quantile") \
        == pytest.approx(_murphy_reference(FORECAST, OUTCOME, [[0, 1], [2, 3]]))
    assert brier_score_decomposition(OUTCOME, FORECAST, n_bins=2) == pytest.approx(
        _murphy_reference(FORECAST, OUTCOME, [[0, 1, 2], [3]]))
    with pytest.raises(ValueError, match=r"n_bins=None needs every row in memory \(it groups "
                                         r"identical forecasts; pass n_bins\)"):
        brier_score_decomposition(_dask(OUTCOME), _dask(FORECAST))


def test_brier_decomposition_passes_pos_label_and_labels():
    # p is the probability of class 0: outcomes 1 0 0 0; forecasts .2 (o 1, 0), .9 (o 0, 0):
    # rel = .5 (.2 - .5)^2 + .5 (.9 - 0)^2 = .45, base .25: res = .5 (.25)^2 * 2 = .0625,
    # unc .1875; rel - res + unc = .575 = brier_score_loss(pos_label=0)
    y, p = [0, 1, 1, 1], [0.2, 0.2, 0.9, 0.9]
    d = brier_score_decomposition(y, p, pos_label=0)
    assert d == pytest.approx((0.45, 0.0625, 0.1875))
    assert d[0] - d[1] + d[2] == pytest.approx(brier_score_loss(y, p, pos_label=0))
    _both(brier_score_decomposition, (0.45, 0.0625, 0.1875), y, p, pos_label=0, n_bins=10)
    _both(brier_score_decomposition, (0.45, 0.0625, 0.1875), ["a", "b", "b", "b"], p,
          pos_label="a", n_bins=10)
    # three columns, class 2 absent: the identity holds against scikit-learn with labels
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]])
    y = [0, 1, 0, 1]
    d = brier_score_decomposition(y, proba, labels=[0, 1, 2])
    assert d[0] - d[1] + d[2] == pytest.approx(
        brier_score_loss(y, proba, labels=[0, 1, 2]), abs=1e-12)
    # the same with 2 bins: class 0: f .7 .2 .6 .5, o 1 0 1 0 -> {.2, .5}, {.7, .6};
    # class 1: f .2 .6 .3 .1, o 0 1 0 1 -> {.2, .3, .1}, {.6}; class 2 (never true): f .1 .2
    # .1 .4, o 0 -> one bin
    y = np.array(y)
    terms = [_murphy_reference(proba[:, 0], y == 0, [[1, 3], [0, 2]]),
             _murphy_reference(proba[:, 1], y == 1, [[0, 2, 3], [1]]),
             _murphy_reference(proba[:, 2], y == 2, [[0, 1, 2, 3]])]
    _both(brier_score_decomposition, np.sum(terms, axis=0), y, proba, n_bins=2,
          labels=[0, 1, 2])


def test_brier_decomposition_multiclass_binned_sums_the_classes():
    # 3 columns, n_bins=2 ([0, .5], (.5, 1]); per class c the outcome is y == c:
    # class 0: f .7 .2 .6 .5, o 1 0 1 0 -> bins {.2, .5} (o 0 0), {.7, .6} (o 1 1)
    # class 1: f .2 .6 .3 .1, o 0 1 0 0 -> {.2, .3, .1} (o 0 0 0), {.6} (o 1)
    # class 2: f .1 .2 .1 .4, o 0 0 0 1 -> {all} (o 0 0 0 1)
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]])
    y = np.array([0, 1, 0, 2])
    terms = [_murphy_reference(proba[:, 0], y == 0, [[1, 3], [0, 2]]),
             _murphy_reference(proba[:, 1], y == 1, [[0, 2, 3], [1]]),
             _murphy_reference(proba[:, 2], y == 2, [[0, 1, 2, 3]])]
    _both(brier_score_decomposition, np.sum(terms, axis=0), y, proba, n_bins=2)


# --- calibration error difference ------------------------------------------------------------

# group a: p 0 and 1, both right: ECE 0 in every binning and variant, so the difference is
# group b's ECE
SF = ["a", "a", "b", "b"]


def test_ced_defaults_variant_and_n_bins():
    # group b: p .3 (y 1), .75 (y 1). positive, 2 bins: .3 -> |1 - .3| = .7 and .75 -> .25,
    # each 1/2 -> .475. top label (the default), 2 bins: conf .7 (predicts 0: wrong) and .75
    # (right) in (.5, 1]: |.5 - .725| = .225 (with the default 15 bins: .7 and .75 apart,
    # .475)
    y, p = [0, 1, 1, 1], [0.0, 1.0, 0.3, 0.75]
    _both(calibration_error_difference, 0.475, y, p, sensitive_features=SF, n_bins=2,
          variant="positive")
    _both(calibration_error_difference, 0.225, y, p, sensitive_features=SF, n_bins=2)
    _both(calibration_error_difference, 0.475, y, p, sensitive_features=SF)
    # default n_bins=15: .74 and .76 share the bin (.733, .8] (with 16 bins they would not):
    # acc .5, conf .75 -> .25; weights 3 and 1: conf .745, acc .25 -> .495
    y, p = [0, 1, 0, 1], [0.0, 1.0, 0.74, 0.76]
    _both(calibration_error_difference, 0.25, y, p, sensitive_features=SF)
    _both(calibration_error_difference, 0.495, y, p, sensitive_features=SF,
          sample_weight=[1.0, 1.0, 3.0, 1.0])
    # to_overall: overall ECE on all 4 rows (bins {0}, {1}, {.74, .76}): .25 * 2/4 = .125;
    # group gaps |0 - .125|, |.25 - .125| -> .125
    _both(calibration_error_difference, 0.125, y, p, sensitive_features=SF,
          method="to_overall")


def test_ced_passes_strategy():
    # group b: p .1 .3 .45, y 0 1 0, positive, 2 bins. uniform: one bin, acc 1/3, conf
    # .85/3 -> .05. quantile: edges (.1, .3, .45): {.1, .3} acc .5 conf .2 -> .3 * 2/3,
    # {.45} y 0 -> .45 * 1/3 -> .35
    y, p = [0, 1, 0, 1, 0], [0.0, 1.0, 0.1, 0.3, 0.45]
    sf = ["a", "a", "b", "b", "b"]
    assert calibration_error_difference(y, p, sensitive_features=sf, n_bins=2,
                                        variant="positive") == pytest.approx(0.05)
    assert calibration_error_difference(y, p, sensitive_features=sf, n_bins=2,
                                        variant="positive", strategy="quantile") \
        == pytest.approx(0.35)


def test_ced_passes_pos_label():
    # positive, 5 bins. a: .2 (bin [0, .2]), .9; b: .62 .66 .7 in (.6, .8].
    # pos_label 1: a |0 - .2|, |1 - .9| -> .15; b |1/3 - .66| -> .98/3; gap .98/3 - .15
    # pos_label 0 (p is the probability of 0; outcomes flip): a .8, .9 -> .85; b |2/3 - .66|
    # -> .02/3; gap .85 - .02/3
    y, p = [0, 1, 0, 0, 1], [0.2, 0.9, 0.62, 0.66, 0.7]
    sf = ["a", "a", "b", "b", "b"]
    _both(calibration_error_difference, 0.98 / 3 - 0.15, y, p, sensitive_features=sf,
          n_bins=5, variant="positive")
    _both(calibration_error_difference, 0.85 - 0.02 / 3, y, p, sensitive_features=sf,
          n_bins=5, variant="positive", pos_label=0)
    _both(calibration_error_difference, 0.85 - 0.02 / 3, ["n", "y", "n", "n", "y"], p,
          sensitive_features=sf, n_bins=5, variant="positive", pos_label="n")


def test_ced_multiclass_groups_missing_classes():
    # top label, 2 bins. a: y 0, 1 rows .7 and .6 right, in (.5, 1] -> 1 - .65 = .35.
    # b: y 2, 2: .6 (predicts 2, right) -> .4 * 1/2; .5 (predicts 0, wrong) -> .5 * 1/2 -> .45
    # each group misses a class: the columns are the labels of all of y_true
    proba = [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6], [0.5, 0.1, 0.4]]
    _both(calibration_error_difference, 0.1, [0, 1, 2, 2], proba, sensitive_features=SF,
          n_bins=2)
    # class 2 absent from y_true: labels= passed to every group. b: .6 (predicts 0, y 0:
    # right) and .5 (predicts 0, y 1: wrong) -> .45
    proba = [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]
    _both(calibration_error_difference, 0.1, [0, 1, 0, 1], proba, sensitive_features=SF,
          n_bins=2, labels=[0, 1, 2])


def test_ced_two_column_matrix_with_a_one_class_group():
    # predict_proba's (n, 2) matrix gives the 1-D result even when a group holds one class.
    # top label, 5 bins. a: conf .9 (right), .9 (wrong) share (.8, 1] -> .4; b: conf .6,
    # .6 (both wrong) in (.4, .6] -> .6; gap .2
    p = np.array([0.1, 0.9, 0.6, 0.4])
    y = [0, 0, 0, 1]
    _both(calibration_error_difference, 0.2, y, p, sensitive_features=SF, n_bins=5)
    _both(calibration_error_difference, 0.2, y, np.column_stack([1 - p, p]),
          sensitive_features=SF, n_bins=5)
    # one class in all of y_true: the columns cannot be told apart, the message says so
    with pytest.raises(ValueError, match="y_proba has 2 columns but y_true has 1 labels; "
                                         "pass labels="):
        calibration_error_difference([0, 0, 0, 0], np.column_stack([1 - p, p]),
                                     sensitive_features=SF)


def test_ced_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"y_true must be 1-D"):
        calibration_error_difference([[0, 1], [1, 0]], [0.2, 0.3], sensitive_features=["a", "b"])
    with pytest.raises(ValueError, match="sensitive_features has 2 rows but y has 3"):
        calibration_error_difference([0, 1, 0], [0.2, 0.3, 0.4], sensitive_features=["a", "b"])
    with pytest.raises(ValueError, match="method must be one of"):
        calibration_error_difference([0, 1], [0.2, 0.3], sensitive_features=["a", "b"],
                                     method="ratio")
    y, p, sf = _dask([0, 1]), _dask([0.2, 0.3]), _dask(["a", "b"])
    with pytest.raises(ValueError, match="variant must be one of"):
        calibration_error_difference(y, p, sensitive_features=sf, variant="top")
    with pytest.raises(ValueError, match="strategy must be one of"):
        calibration_error_difference(y, p, sensitive_features=sf, strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        calibration_error_difference(y, p, sensitive_features=sf, n_bins=0)
    with pytest.raises(ValueError, match="sensitive_features is a Dask collection but"):
        calibration_error_difference(np.array([0, 1]), np.array([0.2, 0.3]),
                                     sensitive_features=sf)


# --- calibration_bins and the reliability curves (metrics/_binning.py) -----------------------

def _bins_both(expected, confidence, outcome, **kwargs):
    """calibration_bins on NumPy and on Dask arrays equals ``expected`` (NaN where empty),
    with no warning for the empty bins."""
    sw = kwargs.pop("sample_weight", None)
    for convert in (np.asarray, _dask):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = calibration_bins(convert(confidence), convert(outcome),
                                   sample_weight=None if sw is None else convert(sw), **kwargs)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_calibration_bins_by_hand():
    # the docstring's example: edges .25 .5 .75 (a value on an edge goes to the lower bin)
    _bins_both(([0, 0.25, 0.5, 0.75, 1], [1, 2, 1, 1], [0.1, 0.35, 0.75, 0.95],
                [0, 0.5, 1, 1]), [0.1, 0.3, 0.75, 0.95, 0.4], [0, 1, 1, 1, 0], n_bins=4)
    # the default 10 bins, weights 1 1 3 2: .05 -> bin 0; .15, .15 -> bin 1 (weight 4,
    # outcome (1 + 0 * 3) / 4); .95 -> bin 9; the other bins are empty (NaN means)
    nan = np.nan
    _bins_both((np.linspace(0, 1, 11), [1, 4, 0, 0, 0, 0, 0, 0, 0, 2],
                [0.05, 0.15] + [nan] * 7 + [0.95], [0, 0.25] + [nan] * 7 + [1]),
               [0.05, 0.15, 0.15, 0.95], [0, 1, 0, 1], sample_weight=[1.0, 1.0, 3.0, 2.0])
    # the upper bins empty: still n_bins entries
    _bins_both(([0, 0.25, 0.5, 0.75, 1], [2, 0, 0, 0], [0.15, nan, nan, nan],
                [0.5, nan, nan, nan]), [0.1, 0.2], [0, 1], n_bins=4)
    # quantile edges (NumPy only): percentiles 0, 50, 100 of .1 .2 .3 .4 -> .1, .25, .4
    got = calibration_bins([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], n_bins=2, strategy="quantile")
    np.testing.assert_allclose(got.edges, [0.1, 0.25, 0.4])
    np.testing.assert_allclose(got.mean_outcome, [0, 1])


def test_calibration_bins_errors_name_the_argument():
    with pytest.raises(ValueError, match="^outcome has 1 samples but confidence has 2"):
        calibration_bins([0.1, 0.2], [0])
    with pytest.raises(ValueError, match="^sample_weight has 3 samples but confidence has 2"):
        calibration_bins([0.1, 0.2], [0, 1], sample_weight=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="^confidence must be 1-D"):
        calibration_bins([[0.1, 0.2], [0.3, 0.4]], [0, 1])
    with pytest.raises(ValueError, match="^outcome must be 1-D"):
        calibration_bins([0.1, 0.2], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"^strategy='quantile' needs every row in memory "
                                         r"\(its bin edges are quantiles of all the "
                                         r"confidences\)"):
        calibration_bins(_dask([0.1, 0.2]), _dask([0, 1]), strategy="quantile")
    for name, args in [("confidence", (_dask([0.1, 0.2]), np.array([0, 1]), None)),
                       ("outcome", (np.array([0.1, 0.2]), _dask([0, 1]), None)),
                       ("sample_weight", (np.array([0.1, 0.2]), np.array([0, 1]),
                                          _dask([1.0, 1.0])))]:
        with pytest.raises(ValueError, match=f"^{name} is a Dask collection but"):
            calibration_bins(args[0], args[1], sample_weight=args[2])
    with pytest.raises(ValueError, match=r"^variant='positive' needs binary targets; use "
                                         r"'top_label' or 'classwise' for multiclass\.$"):
        expected_calibration_error([0, 1, 2], np.full((3, 3), 1 / 3), variant="positive")
