"""Each method against its paper (or its authors' code), computed independently in the test.

Every expected value here is written from the paper's formula or the authors' public code,
never from the package's own functions, so that a deviation from the paper fails a test.
"""

import math

import numpy as np
import pytest
import torch

from sklearn_fairloss.calibration import CorrectnessAwareCalibrator, EnsLoss
from sklearn_fairloss.losses import SelfAdjustingDiceLoss

# --- EnsLoss (Dai et al. 2024, statmlben/ensLoss losses.py) ----------------------------


def test_ensloss_derivatives_follow_the_authors_recipe_including_the_tail():
    # Authors: g = -exp(N(0, 1)) clipped at -1, sorted and matched to the sorted margins
    # (the smallest margin gets the most negative derivative), divided by the margin where
    # the margin exceeds 1, minus 1e-6.
    margins = torch.tensor([[-2.0], [0.5], [1.5], [3.0], [6.0], [0.0], [10.0], [2.0]],
                           dtype=torch.float64)
    torch.manual_seed(7)
    got = EnsLoss().sample_derivatives(margins)
    torch.manual_seed(7)
    z = torch.randn(margins.shape, dtype=torch.float64).numpy()[:, 0]
    draws = np.sort(np.maximum(-np.exp(z), -1.0))
    m = margins.numpy()[:, 0]
    expected = np.empty_like(draws)
    expected[np.argsort(m, kind="stable")] = draws
    expected = np.where(m > 1.0, expected / np.maximum(m, 1.0), expected) - 1e-6
    np.testing.assert_allclose(got.numpy()[:, 0], expected, rtol=0, atol=1e-12)


def test_ensloss_tail_derivative_is_bounded_by_one_over_the_margin():
    margins = torch.full((200, 1), 5.0, dtype=torch.float64)
    torch.manual_seed(0)
    g = EnsLoss().sample_derivatives(margins)
    assert float(g.abs().max()) <= 1.0 / 5.0 + 1e-6 + 1e-12


# --- correctness-aware calibration (Liu et al. 2024, temperature_scaling_CA.py) ----------


def test_correctness_calibrator_balances_right_and_wrong_rows_as_the_paper():
    # Constant logits make every row's features equal, so the network learns one
    # temperature T. The class-balanced objective sum b_i (r(T) - c_i)^2 with b = 1 - acc on
    # right rows and acc on wrong rows is minimised at r* = sum b c / sum b (= 0.5 here,
    # whatever the accuracy); unbalanced or swapped weights give acc or acc^2 / (acc^2 +
    # (1 - acc)^2) instead.
    n, acc = 50, 0.8
    y = np.where(np.arange(n) < acc * n, 2, 0)
    X = np.zeros((n, 2))

    def logits_fn(X):
        return np.tile([0.0, 0.0, 2.0], (len(X), 1))

    cal = CorrectnessAwareCalibrator(n_views=1, max_iter=1500, learning_rate=0.05,
                                     random_state=0).fit(logits_fn, X, y)
    correct = (y == 2).astype(float)
    b = np.where(correct == 1, 1 - acc, acc)
    r_star = np.sum(b * correct) / np.sum(b)
    # r(T) = e^{2/T} / (2 + e^{2/T})  =>  T = 2 / log(2 r / (1 - r))
    t_star = 2.0 / math.log(2 * r_star / (1 - r_star))
    temps = cal.temperatures(logits_fn, X[:3])
    np.testing.assert_allclose(temps, t_star, rtol=0.03)


# --- self-adjusting Dice (Li et al. 2020, ShannonAI/dice_loss_for_NLP) ---------------------


def test_self_adjusting_dice_default_trains_from_an_uninformed_start():
    # The authors' training scripts use alpha=0.01, smooth=1. At p = 0.5 the derivative of
    # p~ = (1 - p)^alpha p is (1 - p)^alpha - alpha p (1 - p)^(alpha - 1) = 0.5^alpha (1 - alpha),
    # zero for alpha = 1: such a loss cannot move a network that starts at p = 0.5.
    loss = SelfAdjustingDiceLoss()
    assert (loss.alpha, loss.smooth) == (0.01, 1.0)
    logits = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 1, 0])
    loss(logits, y).backward()
    # Paper form, scored class 1: L = 1 - (2 sum p~ y + s) / (sum p~ + sum y + s).
    a, s, p = 0.01, 1.0, 0.5
    pt = (1 - p) ** a * p
    dpt = 0.5 ** a * (1 - a)
    num, den = 2 * 2 * pt + s, 4 * pt + 2 + s
    # dL/dp_i = -(2 y_i dpt den - num dpt) / den^2 ; dp/dz1 = p (1 - p) = 0.25
    dl_dp = np.array([-(2 * yi * dpt * den - num * dpt) / den**2 for yi in (0, 1, 1, 0)])
    expected = dl_dp * 0.25
    np.testing.assert_allclose(logits.grad[:, 1].numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(logits.grad[:, 0].numpy(), -expected, rtol=1e-9)
    assert float(logits.grad.abs().max()) > 1e-3
    # The old default (alpha=1) had exactly zero gradient there.
    logits.grad = None
    SelfAdjustingDiceLoss(alpha=1.0)(logits, y).backward()
    assert float(logits.grad.abs().max()) == 0.0
