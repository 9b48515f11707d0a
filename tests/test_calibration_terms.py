"""Training-time calibration terms: label smoothing, FLSD-53, MMCE, DCA, EnsLoss, CaPE and the
correctness-aware post-hoc calibrator."""

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone

from sklearn_fairloss.calibration import (
    CalibrationPenaltyBase,
    CaPELoss,
    CorrectnessAwareCalibrator,
    DCAPenalty,
    EnsLoss,
    MMCEPenalty,
    SampleDependentFocalLoss,
)
from sklearn_fairloss.losses import CrossEntropyLoss, LossBase
from sklearn_fairloss.losses._cape import bin_estimate, kernel_estimate

PENALTIES = [
    MMCEPenalty(),
    MMCEPenalty(squared=True),
    MMCEPenalty(weighted=True),
    MMCEPenalty(bandwidth=0.2, squared=True, weighted=True),
    DCAPenalty(),
]
LOSSES = [
    SampleDependentFocalLoss(),
    SampleDependentFocalLoss(gamma_low=2.0, gamma_high=1.0, threshold=0.5),
    EnsLoss(),
    EnsLoss(box_cox_lambda=0.5),
    CaPELoss(),
    CaPELoss(method="kernel", bandwidth=0.2),
]
ALL = PENALTIES + LOSSES


def _batch(n=12, k=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g, dtype=dtype) * 2
    y = torch.randint(0, k, (n,), generator=g)
    return logits, y


def _calibrated_batch(levels=((0.75, 8), (0.6, 5)), k=2, dtype=torch.float64):
    """Rows whose top confidence is c and, within each level, a fraction c is correct."""
    logits, y = [], []
    for conf, n in levels:
        rest = (1 - conf) / (k - 1)
        row = torch.log(torch.tensor([conf] + [rest] * (k - 1), dtype=dtype))
        n_right = round(conf * n)
        assert math.isclose(n_right, conf * n)
        logits.append(row.repeat(n, 1))
        y += [0] * n_right + [1] * (n - n_right)
    return torch.cat(logits), torch.tensor(y)


# --- label smoothing (CrossEntropyLoss(label_smoothing=...)) ---------------------------------


def test_label_smoothing_zero_equals_cross_entropy():
    logits, y = _batch()
    got = CrossEntropyLoss(label_smoothing=0.0)(logits, y)
    torch.testing.assert_close(got, F.cross_entropy(logits, y))


def test_label_smoothing_hand_value():
    # two classes, logits 0 and log 3: p = (1/4, 3/4); target y = 1 smoothed by 0.2
    logits = torch.log(torch.tensor([[1.0, 3.0]], dtype=torch.float64))
    eps = 0.2
    q = torch.tensor([eps / 2, 1 - eps + eps / 2], dtype=torch.float64)
    expected = -(q * torch.log(torch.tensor([0.25, 0.75], dtype=torch.float64))).sum()
    got = CrossEntropyLoss(label_smoothing=eps)(logits, torch.tensor([1]))
    torch.testing.assert_close(got, expected)


# --- common contract ---------------------------------------------------------------------


@pytest.mark.parametrize("term", ALL, ids=repr)
def test_clone_pickle_get_params(term):
    params = term.get_params()
    cloned = clone(term)
    assert cloned.get_params() == params
    restored = pickle.loads(pickle.dumps(term))
    assert restored.get_params() == params
    assert isinstance(term, CalibrationPenaltyBase if term in PENALTIES else LossBase)


@pytest.mark.parametrize("term", ALL, ids=repr)
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize(
    "case", ["single_class", "all_correct", "all_wrong", "zero_weights", "one_row", "empty"]
)
def test_finite_on_degenerate_batches(term, k, case):
    torch.manual_seed(0)
    logits, y = _batch(n=6, k=k, dtype=torch.float32)
    weights = None
    if case == "single_class":
        y = torch.zeros_like(y)
    elif case == "all_correct":
        y = logits.argmax(dim=1)
    elif case == "all_wrong":
        y = (logits.argmax(dim=1) + 1) % k
    elif case == "zero_weights":
        weights = torch.zeros(6)
    elif case == "one_row":
        logits, y = logits[:1], y[:1]
    else:
        logits, y = logits[:0], y[:0]
    logits = logits.clone().requires_grad_(True)
    value = term(logits, y, weights)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(logits.grad).all()


# --- gradients -----------------------------------------------------------------------------


@pytest.mark.parametrize("term", PENALTIES + LOSSES[:2], ids=repr)
@pytest.mark.parametrize("k", [2, 3])
def test_gradcheck(term, k):
    logits, y = _batch(n=8, k=k, seed=1)
    w = torch.rand(8, generator=torch.Generator().manual_seed(2), dtype=torch.float64) + 0.5
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: term(z, y, w), (logits,))


@pytest.mark.parametrize("k", [2, 3])
def test_gradcheck_ensloss_with_fixed_draws(k):
    # The sampled derivatives are constants of the step (detached): the gradient of the loss
    # is that of sum_i w_i sum_c g_ic s_ic(z) / sum_i w_i with g fixed. gradcheck that
    # function, then check that the loss's autograd gradient equals it.
    loss = EnsLoss()
    logits, y = _batch(n=8, k=k, seed=3)
    w = torch.rand(8, generator=torch.Generator().manual_seed(2), dtype=torch.float64) + 0.5
    torch.manual_seed(0)
    g = loss.sample_derivatives(loss.margins(logits, y))

    def surrogate(z):
        return (w * (g * EnsLoss.margins(z, y)).sum(1)).sum() / w.sum()

    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(surrogate, (logits,))
    torch.manual_seed(0)
    (grad,) = torch.autograd.grad(loss(logits, y, w), logits)
    (expected,) = torch.autograd.grad(surrogate(logits), logits)
    torch.testing.assert_close(grad, expected)
    # in evaluation mode the loss is the smooth logistic loss: plain gradcheck
    loss.eval()
    assert torch.autograd.gradcheck(lambda z: loss(z, y, w), (logits,))


@pytest.mark.parametrize("method", ["bin", "kernel"])
def test_gradcheck_cape_calibration_epoch(method):
    # the empirical probabilities are targets (detached): the gradient is that of the
    # soft-target cross-entropy with fixed targets
    logits, y = _batch(n=10, k=3, seed=4)
    loss = CaPELoss(method=method, n_bins=3, warmup_epochs=0)
    loss.set_epoch(0, 5)
    loss.update_targets(torch.softmax(logits, 1), y)
    q = loss.empirical_probabilities(torch.softmax(logits, 1))

    def soft_ce(z):
        return -(q * torch.log_softmax(z, 1)).sum(1).mean()

    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(soft_ce, (logits,))
    (grad,) = torch.autograd.grad(loss(logits, y), logits)
    (expected,) = torch.autograd.grad(soft_ce(logits), logits)
    torch.testing.assert_close(grad, expected)


# --- sample weights ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    PENALTIES + LOSSES[:2] + [CaPELoss(warmup_epochs=0)],
    ids=repr,
)
def test_weight_two_equals_duplicated_row(term):
    logits, y = _batch(n=7, k=3, seed=5)
    w = torch.ones(7, dtype=torch.float64)
    w[2] = 2.0
    dup = torch.cat([torch.arange(7), torch.tensor([2])])
    torch.testing.assert_close(term(logits, y, w), term(logits[dup], y[dup]))


@pytest.mark.parametrize("term", PENALTIES + LOSSES[:2], ids=repr)
def test_zero_weight_equals_dropped_row(term):
    logits, y = _batch(n=7, k=3, seed=6)
    w = torch.ones(7, dtype=torch.float64)
    w[4] = 0.0
    keep = torch.tensor([0, 1, 2, 3, 5, 6])
    torch.testing.assert_close(term(logits, y, w), term(logits[keep], y[keep]))


# --- MMCE and DCA -------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("penalty", [MMCEPenalty(), MMCEPenalty(squared=True), DCAPenalty()],
                         ids=repr)
def test_zero_on_calibrated_batch(penalty, k):
    # an exactly calibrated batch: at each confidence level c, a fraction c of rows is right
    logits, y = _calibrated_batch(levels=((0.75, 8), (0.6, 5), (0.9, 10)), k=k)
    assert float(penalty(logits, y)) == pytest.approx(0.0, abs=1e-7)


def test_zero_on_calibrated_population_in_expectation():
    # labels drawn from the predicted distribution: MMCE^2 -> 0 like 1 / n, DCA like 1 / sqrt(n)
    g = torch.Generator().manual_seed(0)
    n = 2000
    logits = torch.randn(n, 3, generator=g, dtype=torch.float64) * 1.5
    y = torch.multinomial(torch.softmax(logits, 1), 1, generator=g).squeeze(1)
    y_wrong = logits.argmax(1)  # always right: over-confident labels
    mmce2 = MMCEPenalty(squared=True)
    # the V-statistic's mean is sum_i E[(c - r)^2] / n^2 <= 1 / (4 n); 10x that as tolerance
    assert float(mmce2(logits, y)) < 10 / (4 * n)
    assert float(mmce2(logits, y_wrong)) > 100 / (4 * n)
    # DCA: the standard deviation of the mean of c - r is at most 0.5 / sqrt(n); 4 of them
    assert float(DCAPenalty()(logits, y)) < 4 * 0.5 / math.sqrt(n)
    assert float(DCAPenalty()(logits, y_wrong)) > 0.1


def test_mmce_hand_value():
    # two rows: confidences 0.8 (right) and 0.6 (wrong)
    logits = torch.log(torch.tensor([[0.8, 0.2], [0.4, 0.6]], dtype=torch.float64))
    y = torch.tensor([0, 0])
    d = torch.tensor([1 - 0.8, 0 - 0.6], dtype=torch.float64)
    k12 = math.exp(-0.2 / 0.4)
    expected = (d[0] ** 2 + d[1] ** 2 + 2 * d[0] * d[1] * k12) / 4
    torch.testing.assert_close(MMCEPenalty(squared=True)(logits, y), expected)
    torch.testing.assert_close(
        MMCEPenalty()(logits, y), torch.sqrt(expected + 1e-10) - 1e-5
    )
    # MMCE_w: ((1 - 0.8) phi(0.8) - 0.6 phi(0.6))^2 with one right and one wrong row
    expected_w = 0.2**2 + 0.6**2 - 2 * 0.2 * 0.6 * k12
    torch.testing.assert_close(
        MMCEPenalty(squared=True, weighted=True)(logits, y),
        torch.tensor(expected_w, dtype=torch.float64),
    )


def test_dca_hand_value_and_sign():
    logits = torch.log(torch.tensor([[0.9, 0.1], [0.7, 0.3]], dtype=torch.float64))
    y = torch.tensor([0, 1])  # accuracy 0.5, mean confidence 0.8
    torch.testing.assert_close(DCAPenalty()(logits, y), torch.tensor(0.3, dtype=torch.float64))
    w = torch.tensor([3.0, 1.0], dtype=torch.float64)  # accuracy 0.75, confidence 0.85
    torch.testing.assert_close(DCAPenalty()(logits, y, w), torch.tensor(0.1, dtype=torch.float64))


def test_penalties_non_negative_and_bandwidth_checked():
    for seed in range(5):
        logits, y = _batch(n=20, k=3, seed=seed)
        for penalty in PENALTIES:
            assert float(penalty(logits, y)) >= 0.0
    with pytest.raises(ValueError, match="bandwidth"):
        MMCEPenalty(bandwidth=0)(*_batch())


# --- FLSD-53 ------------------------------------------------------------------------------


def test_flsd53_gamma_schedule_and_values():
    probs = torch.tensor(
        [[0.1, 0.9], [0.19, 0.81], [0.2, 0.8], [0.5, 0.5], [0.95, 0.05]], dtype=torch.float64
    )
    logits = torch.log(probs)
    y = torch.zeros(5, dtype=torch.long)
    loss = SampleDependentFocalLoss()
    torch.testing.assert_close(
        loss.gammas(logits, y), torch.tensor([5.0, 5.0, 3.0, 3.0, 3.0], dtype=torch.float64)
    )
    p = probs[:, 0]
    gamma = torch.tensor([5.0, 5.0, 3.0, 3.0, 3.0], dtype=torch.float64)
    expected = (1 - p) ** gamma * -torch.log(p)
    torch.testing.assert_close(loss.per_sample_loss(logits, y), expected)
    torch.testing.assert_close(loss(logits, y), expected.mean())


def test_flsd_with_zero_gammas_is_cross_entropy():
    logits, y = _batch()
    loss = SampleDependentFocalLoss(gamma_low=0.0, gamma_high=0.0)
    torch.testing.assert_close(loss(logits, y), F.cross_entropy(logits, y))
    with pytest.raises(ValueError, match="threshold"):
        SampleDependentFocalLoss(threshold=1.5)(logits, y)


# --- EnsLoss ------------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("k", [2, 4])
def test_ensloss_sampled_derivatives_are_convex_and_calibrated(lam, k):
    loss = EnsLoss(box_cox_lambda=lam)
    torch.manual_seed(0)
    for seed in range(10):
        logits, y = _batch(n=50, k=k, seed=seed)
        margins = loss.margins(logits, y)
        g = loss.sample_derivatives(margins)
        assert g.shape == margins.shape == (50, 1 if k == 2 else k)
        assert bool((g < 0).all())  # calibration: psi' < 0, in particular psi'(0) < 0
        assert bool((g >= -1.0 - 1e-6).all())
        for j in range(g.shape[1]):  # convexity: derivative non-decreasing in the margin
            order = margins[:, j].argsort()
            assert bool((g[order, j].diff() >= 0).all())


def test_ensloss_draws_change_per_batch_and_follow_global_seed():
    loss = EnsLoss()
    logits, y = _batch(n=30, k=2)
    margins = loss.margins(logits, y)
    torch.manual_seed(1)
    a = loss.sample_derivatives(margins)
    b = loss.sample_derivatives(margins)
    torch.manual_seed(1)
    torch.testing.assert_close(loss.sample_derivatives(margins), a)
    assert not torch.equal(a, b)


def test_ensloss_margins_and_eval_value():
    logits, y = _batch(n=9, k=2)
    margins = EnsLoss.margins(logits, y)
    torch.testing.assert_close(margins[:, 0], (2.0 * y - 1) * (logits[:, 1] - logits[:, 0]))
    loss = EnsLoss().eval()
    torch.testing.assert_close(loss(logits, y), F.cross_entropy(logits, y))  # binary: CE
    # multiclass: one-vs-rest log-odds of the softmax
    logits, y = _batch(n=9, k=3)
    p = torch.softmax(logits, 1)
    log_odds = torch.log(p / (1 - p))
    sign = 2.0 * F.one_hot(y, 3) - 1
    torch.testing.assert_close(EnsLoss.margins(logits, y), sign * log_odds)
    torch.testing.assert_close(
        loss(logits, y), F.softplus(-sign * log_odds).sum(1).mean()
    )


def test_ensloss_training_value_is_weighted_surrogate():
    loss = EnsLoss()
    logits, y = _batch(n=9, k=3)
    w = torch.rand(9, dtype=torch.float64) + 0.1
    torch.manual_seed(3)
    g = loss.sample_derivatives(loss.margins(logits, y))
    torch.manual_seed(3)
    expected = (w * (g * loss.margins(logits, y)).sum(1)).sum() / w.sum()
    torch.testing.assert_close(loss(logits, y, w), expected)


def test_ensloss_trains_a_logistic_model():
    # a linear model trained with EnsLoss separates a linearly separable-ish problem
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 2, generator=g)
    y = (X[:, 0] - X[:, 1] > 0).long()
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = EnsLoss()
    for _ in range(100):
        opt.zero_grad()
        loss(model(X), y).backward()
        opt.step()
    accuracy = (model(X).argmax(1) == y).float().mean()
    assert accuracy > 0.95


# --- CaPE ---------------------------------------------------------------------------------


def test_cape_bin_estimate_hand_computation():
    scores = torch.tensor([0.9, 0.1, 0.5, 0.3, 0.7, 0.2], dtype=torch.float64)
    targets = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    weights = torch.tensor([1.0, 1.0, 1.0, 3.0, 1.0, 1.0], dtype=torch.float64)
    boundaries, values = bin_estimate(scores, targets, weights, n_bins=3)
    # sorted: 0.1(0, w1) 0.2(1, w1) | 0.3(0, w3) 0.5(1, w1) | 0.7(1) 0.9(1)
    torch.testing.assert_close(boundaries, torch.tensor([0.25, 0.6], dtype=torch.float64))
    torch.testing.assert_close(values, torch.tensor([0.5, 0.25, 1.0], dtype=torch.float64))


def test_cape_kernel_estimate_hand_computation():
    scores = torch.tensor([0.2, 0.4], dtype=torch.float64)
    targets = torch.tensor([0.0, 1.0], dtype=torch.float64)
    weights = torch.tensor([1.0, 2.0], dtype=torch.float64)
    grid = torch.tensor([0.3, 0.2], dtype=torch.float64)
    got = kernel_estimate(scores, targets, weights, 0.1, grid)
    k = math.exp(-0.5 * (0.2 / 0.1) ** 2)  # kernel between 0.2 and 0.4
    expected = torch.tensor([2 / 3, 2 * k / (1 + 2 * k)], dtype=torch.float64)
    torch.testing.assert_close(got, expected)


def test_cape_empirical_probabilities_binary_and_multiclass():
    loss = CaPELoss(n_bins=2, warmup_epochs=0)
    p1 = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    loss.update_targets(torch.stack([1 - p1, p1], 1), torch.tensor([0, 1, 1, 1]))
    q = loss.empirical_probabilities(torch.tensor([[0.8, 0.2], [0.7, 0.3]], dtype=torch.float64))
    torch.testing.assert_close(q, torch.tensor([[0.5, 0.5], [0.0, 1.0]], dtype=torch.float64))
    # multiclass: per-class bins, normalised
    probs = torch.tensor(
        [[0.6, 0.3, 0.1], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6], [0.1, 0.7, 0.2]], dtype=torch.float64
    )
    y = torch.tensor([0, 2, 2, 1])
    loss.update_targets(probs, y)
    q = loss.empirical_probabilities(probs)
    # class 0 scores sorted .1 .2 | .5 .6 -> labels (0, 0 | 0, 1): .0, .5
    # class 1 scores .2 .2 | .3 .7 -> rows (1 or 2, ...): labels (0, 0 | 0, 1): 0, .5
    # class 2 scores .1 .2 | .3 .6 -> labels (0, 0 | 1, 1): 0, 1
    raw = torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.5, 0.0]],
                       dtype=torch.float64)
    torch.testing.assert_close(q, raw / raw.sum(1, keepdim=True))


def test_cape_schedule_and_cross_entropy_fallback():
    logits, y = _batch(n=10, k=2)
    loss = CaPELoss(n_bins=2, warmup_epochs=2, n_ce_epochs=1)
    ce = F.cross_entropy(logits, y)
    torch.testing.assert_close(loss(logits, y), ce)  # no hook called: cross-entropy
    flags = []
    for epoch in range(7):
        loss.set_epoch(epoch, 7)
        flags.append(loss.needs_targets())
    assert flags == [False, False, True, False, True, False, True]
    loss.update_targets(torch.softmax(logits, 1), y)
    probs = torch.softmax(logits, 1)
    q = loss.empirical_probabilities(probs)
    expected = -(q * torch.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(loss(logits, y), expected)  # epoch 6: calibration epoch
    loss.eval()
    torch.testing.assert_close(loss(logits, y), ce)  # validation batches: cross-entropy
    loss.train()
    loss.set_epoch(5, 7)
    torch.testing.assert_close(loss(logits, y), ce)  # cross-entropy epoch


def test_cape_checks():
    with pytest.raises(ValueError, match="method"):
        CaPELoss(method="nope").set_epoch(0, 1)
    with pytest.raises(ValueError, match="probs"):
        CaPELoss().update_targets(torch.ones(3), torch.zeros(3))
    with pytest.raises(RuntimeError, match="update_targets"):
        CaPELoss().empirical_probabilities(torch.ones(2, 2) / 2)


# --- correctness-aware calibrator ----------------------------------------------------------


def _overconfident_problem(n, seed, k=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    W = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.0, 1.5, 0.0]])[:k]
    logits = X @ W.T
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=p) for p in probs])

    def logits_fn(Z):  # the model is 5x over-confident
        return 5.0 * (np.asarray(Z) @ W.T)

    return X, y, logits_fn


def _ca_objective(probs, y):
    conf = probs.max(1)
    correct = (probs.argmax(1) == y).astype(float)
    return np.mean((conf - correct) ** 2)


@pytest.mark.parametrize("k", [2, 3])
def test_correctness_calibrator_improves_held_out_calibration(k):
    X, y, logits_fn = _overconfident_problem(1200, seed=k, k=k)
    cal = CorrectnessAwareCalibrator(max_iter=150, learning_rate=0.05, random_state=0)
    cal.fit(logits_fn, X[:600], y[:600])
    assert cal.loss_curve_[-1] < cal.loss_curve_[0]
    Xt, yt = X[600:], y[600:]
    raw = logits_fn(Xt)
    calibrated = cal.transform(logits_fn, Xt)
    assert calibrated.shape == raw.shape
    np.testing.assert_array_equal(calibrated.argmax(1), raw.argmax(1))  # predictions kept
    proba_raw = np.exp(raw - raw.max(1, keepdims=True))
    proba_raw /= proba_raw.sum(1, keepdims=True)
    proba = cal.predict_proba(logits_fn, Xt)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert _ca_objective(proba, yt) < _ca_objective(proba_raw, yt)
    # an over-confident model gets temperatures above 1 on average
    assert cal.temperatures(logits_fn, Xt).mean() > 1.0


def test_correctness_calibrator_deterministic_clone_pickle_and_weights():
    X, y, logits_fn = _overconfident_problem(300, seed=0)
    cal = CorrectnessAwareCalibrator(max_iter=30, random_state=0).fit(logits_fn, X, y)
    a = cal.transform(logits_fn, X[:20])
    np.testing.assert_array_equal(a, cal.transform(logits_fn, X[:20]))
    again = clone(cal).fit(logits_fn, X, y)
    np.testing.assert_allclose(again.transform(logits_fn, X[:20]), a)
    restored = pickle.loads(pickle.dumps(cal))
    np.testing.assert_allclose(restored.transform(logits_fn, X[:20]), a)
    # weights are accepted; without training steps the calibrator is the identity (T = 1)
    w = np.ones(300)
    w[:10] = 2
    cal_w = CorrectnessAwareCalibrator(max_iter=0, random_state=0).fit(
        logits_fn, X, y, sample_weight=w
    )
    assert np.allclose(cal_w.temperatures(logits_fn, X[:5]), 1.0)


def test_correctness_calibrator_checks():
    X, y, logits_fn = _overconfident_problem(50, seed=0)
    with pytest.raises(ValueError, match="logits_fn"):
        CorrectnessAwareCalibrator(max_iter=1).fit(lambda Z: np.zeros(len(Z)), X, y)
    with pytest.raises(ValueError, match="dropout_rate"):
        CorrectnessAwareCalibrator(dropout_rate=1.0).fit(logits_fn, X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        CorrectnessAwareCalibrator(max_iter=1).fit(logits_fn, X, y, sample_weight=np.ones(3))
    cal = CorrectnessAwareCalibrator(max_iter=1, random_state=0).fit(logits_fn, X, y)
    with pytest.raises(ValueError, match="features"):
        cal.transform(logits_fn, X[:, :2])
    # all predictions right: the class balancing is skipped, the fit stays finite
    y_right = logits_fn(X).argmax(1)
    cal = CorrectnessAwareCalibrator(max_iter=5, random_state=0).fit(logits_fn, X, y_right)
    assert np.isfinite(cal.transform(logits_fn, X)).all()
