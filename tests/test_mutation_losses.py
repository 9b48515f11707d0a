"""Losses: the cases that mutation testing found untested (issue 15; see
docs/mutation_testing.md).

The references are the papers' formulas written out here with torch/NumPy operations on
hand-picked probabilities (never the package's own helpers): the published default
parameters, batches whose largest class is absent, weights far below 1, and the exact tie of
FLSD-53's threshold.
"""

import math

import numpy as np
import pytest
import torch

from sklearn_fairloss.losses import (
    AnyLoss,
    ClassBalancedLoss,
    LDAMLoss,
    SampleDependentFocalLoss,
    SelfAdjustingDiceLoss,
    TverskyLoss,
)


def _logits(probs):
    """Logits whose softmax is ``probs`` (rows summing to 1), float64."""
    return torch.log(torch.tensor(probs, dtype=torch.float64))


# ----------------------------------------------------------------------------- AnyLoss

# three classes, class 2 absent from the batch: rows (p0, p1, p2) with y 0, 0, 1
P3 = [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1]]
Y3 = [0, 0, 1]


def _amplified(probs, amplifier):
    """The paper's approximation A(p) = 1 / (1 + exp(-L (p - 0.5))) (Han et al. 2024)."""
    return 1.0 / (1.0 + np.exp(-amplifier * (np.asarray(probs) - 0.5)))


def test_anyloss_default_amplifier_is_the_papers_73():
    # binary, default metric F1 of class 1: p1 .9 (y 1), .4 (y 0), .55 (y 1) with L = 73
    p1 = np.array([0.9, 0.4, 0.55])
    a = _amplified(p1, 73.0)
    tp, fp, fn = a[0] + a[2], a[1], 2 - (a[0] + a[2])
    expected = 1 - 2 * tp / (2 * tp + fp + fn)
    logits = _logits([[1 - p, p] for p in p1])
    assert float(AnyLoss()(logits, torch.tensor([1, 0, 1]))) == pytest.approx(expected,
                                                                              rel=1e-12)


def test_anyloss_confusion_matrix_keeps_an_absent_last_class():
    # C[j, k] = sum_i [y_i = j] A(p_ik): rows of the absent class 2 are zero, 3 columns
    a = _amplified(P3, 5.0)
    expected = np.stack([a[0] + a[1], a[2], np.zeros(3)])
    got = AnyLoss(amplifier=5.0).soft_confusion_matrix(_logits(P3), torch.tensor(Y3))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_anyloss_averages_over_the_classes_present():
    # balanced accuracy: mean recall of classes 0 and 1 (class 2 absent, not a zero recall);
    # class 1 has a single row (total weight 1 after the rescaling to mean 1)
    a = _amplified(P3, 5.0)
    recall = [(a[0, 0] + a[1, 0]) / 2, a[2, 1] / 1]
    loss = AnyLoss(metric="balanced_accuracy", amplifier=5.0)(_logits(P3), torch.tensor(Y3))
    assert float(loss) == pytest.approx(1 - np.mean(recall), rel=1e-12)
    loss = AnyLoss(metric="gmean", amplifier=5.0)(_logits(P3), torch.tensor(Y3))
    assert float(loss) == pytest.approx(1 - np.prod(recall), rel=1e-12)


def test_anyloss_tiny_and_zero_weights():
    # the metrics are ratios: weights of 1e-12 give the unweighted value (they are rescaled
    # to mean 1 before the epsilon that guards the denominators); all-zero weights give 0
    logits, y = _logits(P3), torch.tensor(Y3)
    a = _amplified(P3, 5.0)
    accuracy = (a[0, 0] + a[1, 0] + a[2, 1]) / 3
    for w in (None, torch.full((3,), 1e-12, dtype=torch.float64),
              torch.full((3,), 0.25, dtype=torch.float64)):
        loss = AnyLoss(metric="accuracy", amplifier=5.0)(logits, y, w)
        assert float(loss) == pytest.approx(1 - accuracy, rel=1e-9)
    zero = AnyLoss()(logits.requires_grad_(), y, torch.zeros(3, dtype=torch.float64))
    assert float(zero.detach()) == 0.0
    zero.backward()


# ----------------------------------------------------------------------------- Dice, Tversky

P2 = np.array([0.8, 0.3, 0.6, 0.1])  # positive-class probabilities
Y2 = np.array([1.0, 1.0, 0.0, 0.0])


def test_dice_defaults_are_the_authors_alpha_and_smoothing():
    # Li et al. (2020): p~ = (1 - p) ** 0.01 * p, gamma = 1
    pt = (1 - P2) ** 0.01 * P2
    expected = 1 - (2 * (pt * Y2).sum() + 1.0) / (pt.sum() + Y2.sum() + 1.0)
    logits = _logits([[1 - p, p] for p in P2])
    got = SelfAdjustingDiceLoss()(logits, torch.tensor(Y2, dtype=torch.long))
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_tversky_defaults():
    # alpha .3 (false positives), beta .7 (false negatives), gamma 1
    tp, fp, fn = (P2 * Y2).sum(), (P2 * (1 - Y2)).sum(), ((1 - P2) * Y2).sum()
    expected = 1 - (tp + 1.0) / (tp + 0.3 * fp + 0.7 * fn + 1.0)
    logits = _logits([[1 - p, p] for p in P2])
    got = TverskyLoss()(logits, torch.tensor(Y2, dtype=torch.long))
    assert float(got) == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------- LDAM

def test_ldam_default_margin_and_the_rarest_class_gets_it():
    # Cao et al. (2019): Delta_c = C / n_c ** (1/4), C such that the largest is max_margin
    # (default 0.5). Counts 16 and 81: n^(-1/4) = 1/2 and 1/3 -> .5 and .5 * (1/3) / (1/2)
    margins = LDAMLoss(drw_start=None).set_class_counts([16.0, 81.0]).margins(2)
    np.testing.assert_allclose(margins.numpy(), [0.5, 1 / 3], rtol=1e-12)


# ----------------------------------------------------------------------------- FLSD-53

def test_flsd_defaults_and_the_threshold_tie():
    # Mukhoti et al. (2020): gamma 5 when p < 0.2, else 3; p = 0.2 exactly takes gamma 3.
    # 0.25 = 1 / (1 + 3) is exact in binary; its complement .75 is the other column.
    probs = [[0.25, 0.75], [0.5, 0.5], [0.875, 0.125]]
    y = torch.tensor([0, 0, 1])
    loss = SampleDependentFocalLoss(threshold=0.25)
    np.testing.assert_array_equal(loss.gammas(_logits(probs), y).numpy(), [3.0, 3.0, 5.0])
    p = np.array([0.25, 0.5, 0.125])
    expected = (1 - p) ** np.array([3.0, 3.0, 5.0]) * -np.log(p)
    np.testing.assert_allclose(loss.per_sample_loss(_logits(probs), y).numpy(), expected,
                               rtol=1e-12)


# ----------------------------------------------------------------------------- class-balanced

def test_class_balanced_focal_default_gamma_is_two():
    # Cui et al. (2019) with the focal base: cb_y * (1 - p) ** 2 * -log p; beta = 0 gives
    # cb = 1
    p = np.array([0.6, 0.3])
    logits = _logits([[p[0], 1 - p[0]], [1 - p[1], p[1]]])
    loss = ClassBalancedLoss(beta=0.0, base="focal").set_class_counts([5.0, 1.0])
    expected = np.mean((1 - p) ** 2 * -np.log(p))
    assert float(loss(logits, torch.tensor([0, 1]))) == pytest.approx(expected, rel=1e-12)
    assert math.isclose(float(loss.class_weights(2).sum()), 2.0)
