"""CorrectnessAwareCalibrator: the cases that mutation testing found untested (issue 15; see
docs/mutation_testing.md).

References: the CA objective of Liu et al. (2024) written out at the network's starting point
(T = 1), the temperature map ``exp(L tanh(raw / L))`` on hand-set weights, weighted column
statistics from their definitions, the softmax of very large logits, and the documented
perturbations (noise in units of each column's standard deviation, dropout to the column
mean) measured on many rows.
"""

import math

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sklearn_fairloss.calibration import CorrectnessAwareCalibrator


def _problem(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    w = rng.uniform(0.2, 2.0, n)
    return X, y, w


def _logits_fn(X):
    X = np.asarray(X, dtype=float)
    return np.column_stack([np.zeros(len(X)), 3.0 * X[:, 0]])


def test_documented_defaults():
    params = CorrectnessAwareCalibrator().get_params()
    assert params == {"n_views": 3, "noise_scale": 0.1, "dropout_rate": 0.2, "top_k": 4,
                      "hidden_size": 5, "max_temperature": 10.0, "max_iter": 300,
                      "learning_rate": 0.01, "random_state": None}


def test_first_loss_is_the_ca_objective_at_temperature_one():
    # the output layer starts at zero: T = 1, so the first loss is the balanced squared error
    # of the model's own top-label confidence against correctness
    X, y, w = _problem()
    cal = CorrectnessAwareCalibrator(max_iter=1, random_state=0).fit(_logits_fn, X, y, w)
    z = _logits_fn(X)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    correct = (z.argmax(1) == y).astype(float)
    acc = np.sum(w * correct) / np.sum(w)
    b = w * np.where(correct == 1, 1 - acc, acc)
    expected = np.sum(b * (p.max(1) - correct) ** 2) / np.sum(b)
    assert cal.loss_curve_[0] == pytest.approx(expected, rel=1e-12)
    # weighted column statistics of the calibration rows
    mean = (w[:, None] * X).sum(0) / w.sum()
    std = np.sqrt((w[:, None] * (X - mean) ** 2).sum(0) / w.sum())
    np.testing.assert_allclose(cal.column_mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(cal.column_std_, std, rtol=1e-12)
    # all rows right: no balancing possible, the plain weighted error
    cal = CorrectnessAwareCalibrator(max_iter=1, random_state=0).fit(
        _logits_fn, X, z.argmax(1), w)
    assert cal.loss_curve_[0] == pytest.approx(np.sum(w * (p.max(1) - 1) ** 2) / np.sum(w),
                                               rel=1e-12)


def test_temperature_map_on_set_weights():
    cal = CorrectnessAwareCalibrator(n_views=1, top_k=2, max_iter=0, max_temperature=4.0,
                                     random_state=0)
    X, y, _ = _problem(n=50)
    cal.fit(_logits_fn, X, y)
    net = cal.module_
    with torch.no_grad():
        net.hidden.weight.fill_(1.0)
        net.hidden.bias.zero_()
        net.out.weight.fill_(2.0)
        net.out.bias.fill_(0.5)
    feats = torch.tensor([[0.2, 0.7], [0.0, 0.0]], dtype=torch.float64)
    raw = np.array([2.0 * 5 * 0.9 + 0.5, 0.5])  # out(relu(hidden(f))), 5 hidden units
    L = math.log(4.0)
    expected = np.exp(L * np.tanh(raw / L))
    np.testing.assert_allclose(net(feats).detach().numpy(), expected, rtol=1e-12)


def test_views_noise_and_dropout_as_documented():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20000, 2)) * [2.0, 0.5] + [1.0, -3.0]
    y = np.zeros(20000, dtype=int)
    seen = []

    def record(Xv):
        seen.append(np.array(Xv))
        return _logits_fn(Xv)

    cal = CorrectnessAwareCalibrator(n_views=4, noise_scale=0.3, dropout_rate=0.25,
                                     max_iter=0, random_state=0).fit(record, X, y)
    noise, dropout, both, noise_again = seen[1:5]  # seen[0] is the unperturbed X
    std = X.std(0)
    # noise: Gaussian, standard deviation 0.3 of each column's
    np.testing.assert_allclose(((noise - X) / std).std(0), 0.3, rtol=0.03)
    np.testing.assert_allclose(((noise_again - X) / std).std(0), 0.3, rtol=0.03)
    # dropout: a quarter of the entries replaced by the column mean, the rest unchanged
    replaced = dropout != X
    np.testing.assert_allclose(replaced.mean(0), 0.25, atol=0.01)
    np.testing.assert_allclose(dropout[replaced[:, 0], 0], X[:, 0].mean(), rtol=1e-12)
    # both: every entry moved (noise everywhere, some also dropped)
    assert np.all(both != X)
    # the views keep X's dtype; integer X is read as float64
    seen.clear()
    cal.fit(record, X[:50].astype(np.float32), y[:50])
    assert {v.dtype for v in seen} == {np.dtype(np.float32)}
    seen.clear()
    cal.fit(record, np.round(X[:50]).astype(int), y[:50])
    assert all(v.dtype == np.float64 for v in seen)


def test_features_are_top_k_probabilities_of_each_view():
    # logits_fn(X) = X, no perturbation: each view's features are the softmax probabilities
    # of the classes ranked first by the logits, in that order
    z = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 1.0]])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    cal = CorrectnessAwareCalibrator(n_views=2, noise_scale=0.0, dropout_rate=0.0, top_k=2,
                                     max_iter=0, random_state=0)
    cal.fit(lambda X: np.asarray(X), z, np.array([1, 0]))
    feats = cal._features(lambda X: np.asarray(X), z, z, np.random.RandomState(0))
    top2 = np.array([[p[0, 1], p[0, 0]], [p[1, 0], p[1, 2]]])
    np.testing.assert_allclose(feats, np.hstack([top2, top2]), rtol=1e-12)
    assert cal.module_.hidden.in_features == 4
    # top_k above the number of classes reads every class
    cal = CorrectnessAwareCalibrator(n_views=2, max_iter=0, random_state=0).fit(
        lambda X: np.asarray(X), z, np.array([1, 0]))
    assert cal.module_.hidden.in_features == 6


def test_huge_logits_stay_finite():
    z = np.array([[1000.0, 999.0], [0.0, 1.0]])
    cal = CorrectnessAwareCalibrator(max_iter=0, noise_scale=0.0, dropout_rate=0.0,
                                     random_state=0).fit(lambda X: np.asarray(X), z,
                                                         np.array([0, 1]))
    proba = cal.predict_proba(lambda X: np.asarray(X), z)
    e = 1 / (1 + math.e)
    np.testing.assert_allclose(proba, [[1 - e, e], [e, 1 - e]], rtol=1e-12)


def test_random_state_instance_and_checks():
    X, y, w = _problem(n=60)
    cal = CorrectnessAwareCalibrator(max_iter=2, random_state=np.random.RandomState(0))
    assert cal.fit(_logits_fn, X, y).transform(_logits_fn, X).shape == (60, 2)
    cal = CorrectnessAwareCalibrator(max_iter=0)
    with pytest.raises(NotFittedError):
        cal.transform(_logits_fn, X)
    with pytest.raises(ValueError, match=r"^X must be a 2-d array; got shape \(60,\)\.$"):
        cal.fit(_logits_fn, X[:, 0], y)
    with pytest.raises(ValueError, match=r"^y must be integer class codes of shape \(60,\); "
                                         r"got \(59,\)\.$"):
        cal.fit(_logits_fn, X, y[:59])
    with pytest.raises(ValueError, match=r"^y must be integer class codes"):
        cal.fit(_logits_fn, X, y.astype(float))
    for bad in (w[:59], np.where(np.arange(60) == 3, np.nan, w),
                np.where(np.arange(60) == 3, -1.0, w)):
        with pytest.raises(ValueError, match=r"^sample_weight must be 60 non-negative finite "
                                             r"values; got shape"):
            cal.fit(_logits_fn, X, y, bad)
    with pytest.raises(ValueError, match=r"^fit needs at least one row with a positive "
                                         r"sample_weight\.$"):
        cal.fit(_logits_fn, X, y, np.zeros(60))
    with pytest.raises(ValueError, match=r"^fit needs at least one row"):
        cal.fit(_logits_fn, X[:0], y[:0])
    for bad_y in (np.where(np.arange(60) == 0, -1, y), np.where(np.arange(60) == 0, 2, y)):
        with pytest.raises(ValueError, match=r"^y must hold class codes in \[0, 1\]\.$"):
            cal.fit(_logits_fn, X, bad_y)
    CorrectnessAwareCalibrator(max_iter=0).fit(_logits_fn, X, np.ones(60, dtype=int))
    with pytest.raises(ValueError, match=r"^logits_fn\(X\) must return an array of shape "
                                         r"\(n_samples, n_classes\) with n_classes >= 2"):
        cal.fit(lambda X: np.zeros((len(X), 1)), X, np.zeros(60, dtype=int))
    cal = CorrectnessAwareCalibrator(max_iter=0).fit(_logits_fn, X, y)
    with pytest.raises(ValueError, match=r"^logits_fn returned 3 columns; the calibrator was "
                                         r"fitted with 2\.$"):
        cal.transform(lambda X: np.zeros((len(X), 3)), X)
    with pytest.raises(ValueError, match=r"^X has 3 features but the calibrator was fitted "
                                         r"with 2\.$"):
        cal.transform(_logits_fn, np.zeros((4, 3)))


def test_small_weights_and_a_single_row():
    # the CA weights are normalised: weights of 1e-3 give the same first loss as their
    # multiples (balanced, not the plain-weight fallback); one row is enough to fit
    X, y, w = _problem()
    big = CorrectnessAwareCalibrator(max_iter=1, random_state=0).fit(_logits_fn, X, y, w)
    small = CorrectnessAwareCalibrator(max_iter=1, random_state=0).fit(_logits_fn, X, y,
                                                                        w * 1e-3)
    assert small.loss_curve_[0] == pytest.approx(big.loss_curve_[0], rel=1e-12)
    CorrectnessAwareCalibrator(max_iter=1).fit(_logits_fn, X[:1], y[:1])
