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

from sklearn_fairloss.calibration import CaPELoss, EnsLoss
from sklearn_fairloss.losses import (
    AdaptiveLDRKLLoss,
    AnyLoss,
    ClassBalancedLoss,
    LDAMLoss,
    LDRKLLoss,
    MannWhitneyLoss,
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


# ----------------------------------------------------------------------------- LDAM schedule

def test_ldam_schedule_message_in_full():
    # drw_start .8 of 10 epochs: the re-weighting starts at 0-based epoch ceil(8) = 8, shown
    # 1-based as 9; a model kept at 0-based epoch 3 is shown as epoch 4
    loss = LDAMLoss(drw_start=0.8)
    assert loss.schedule_unfinished(3, 10) == (
        "LDAM's deferred re-weighting (drw_start=0.8) starts at epoch 9 of max_epochs=10, but "
        "the model kept is from epoch 4 (training stopped early): it never applied. Lower "
        "drw_start or use loss='ldam' (no re-weighting).")
    assert loss.schedule_unfinished(8, 10) is None
    assert LDAMLoss(drw_start=None).schedule_unfinished(0, 10) is None
    assert LDAMLoss(drw_start=0.0).schedule_unfinished(0, 10) is None
    # drw_start=1: the re-weighting would start after the last epoch, so it never applies
    assert "starts at epoch 11 of max_epochs=10" in LDAMLoss(drw_start=1.0).schedule_unfinished(
        9, 10)


# ----------------------------------------------------------------------------- Mann-Whitney

def _pair_loss(margin_pos, margin_neg):
    return math.log1p(math.exp(-(margin_pos - margin_neg)))


def test_mann_whitney_one_negative_and_a_no_pair_batch():
    # binary, margins z1 - z0: positives 1 and 0.5, one negative -1: pairs (1, -1), (.5, -1)
    logits = torch.tensor([[0.0, 1.0], [0.0, 0.5], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([1, 1, 0])
    expected = (_pair_loss(1.0, -1.0) + _pair_loss(0.5, -1.0)) / 2
    assert float(MannWhitneyLoss()(logits, y)) == pytest.approx(expected, rel=1e-12)
    # one class only: no pair, a zero (the logits do not sum to zero)
    assert float(MannWhitneyLoss()(logits + 1.0, torch.ones(3, dtype=torch.long))) == 0.0


def test_mann_whitney_multiclass_skips_a_class_without_rows():
    # 3 classes, class 1 absent: the mean over classes 0 and 2 of the one-vs-rest pair losses
    # on the log-odds z_k - log(sum_{j != k} exp z_j)
    z = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 1.5], [-0.5, 0.3, 0.8], [1.0, 0.2, 0.0]])
    y = np.array([0, 2, 2, 0])
    odds = np.stack([z[:, k] - np.log(np.exp(np.delete(z, k, axis=1)).sum(1))
                     for k in range(3)], axis=1)
    terms = []
    for k in (0, 2):
        pos, neg = np.flatnonzero(y == k), np.flatnonzero(y != k)
        terms.append(np.mean([_pair_loss(odds[i, k], odds[j, k]) for i in pos for j in neg]))
    got = MannWhitneyLoss()(torch.tensor(z), torch.tensor(y))
    assert float(got) == pytest.approx(np.mean(terms), rel=1e-12)


def test_mann_whitney_pair_budget():
    # all pairs while n_pos * n_neg <= ceil(pairs_per_row * n), else that many sampled pairs
    # 20 rows, 9 positives x 11 negatives = 99 pairs; the default 4 per row gives 80 < 99
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 2, generator=g, dtype=torch.float64)
    y = torch.tensor([1] * 9 + [0] * 11)
    m = (logits[:, 1] - logits[:, 0]).numpy()
    all_pairs = np.mean([_pair_loss(m[i], m[j]) for i in range(9) for j in range(9, 20)])
    loss = MannWhitneyLoss().eval()
    assert float(loss(logits, y)) != pytest.approx(all_pairs, rel=1e-9)  # sampled
    exact = MannWhitneyLoss(pairs_per_row=99 / 20).eval()  # budget exactly 99: all pairs
    assert float(exact(logits, y)) == pytest.approx(all_pairs, rel=1e-12)
    # the smallest budget is one pair: 3 rows, pairs_per_row .1 -> ceil(.3) = 1 of 2 pairs
    logits, y = logits[:3], torch.tensor([1, 0, 0])
    m = (logits[:, 1] - logits[:, 0]).numpy()
    one = float(MannWhitneyLoss(pairs_per_row=0.1).eval()(logits, y))
    assert any(one == pytest.approx(_pair_loss(m[0], m[j]), rel=1e-12) for j in (1, 2))


# ----------------------------------------------------------------------------- EnsLoss

def test_ensloss_inverse_box_cox_is_scipys():
    # the magnitudes are the inverse Box-Cox transform of normal draws (lambda > 0), 0 where
    # 1 + lambda z < 0
    from scipy.special import inv_boxcox

    z = torch.tensor([-3.0, -1.0, 0.0, 0.7, 2.0], dtype=torch.float64)
    for lam in (0.5, 2.0):
        got = EnsLoss(box_cox_lambda=lam)._inverse_box_cox(z).numpy()
        expected = np.where(1 + lam * z.numpy() > 0, inv_boxcox(z.numpy(), lam), 0.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# ----------------------------------------------------------------------------- CaPE

def _nadaraya_watson(scores, targets, weights, bandwidth, at):
    k = np.exp(-0.5 * ((np.asarray(at)[:, None] - scores[None, :]) / bandwidth) ** 2)
    return (k * weights) @ targets / (k * weights).sum(1)


def test_cape_defaults_schedule_and_messages():
    # Liu et al. (2022) via the authors' code: 10 warm-up epochs, then one calibration epoch
    # in every 6 (5 cross-entropy epochs between two)
    loss = CaPELoss()
    flags = [loss.set_epoch(e, 30).needs_targets() for e in range(25)]
    assert [e for e, f in enumerate(flags) if f] == [10, 16, 22]
    assert "refit_targets" in dict(loss.callbacks())
    assert loss.schedule_unfinished(10, 30) is None
    assert loss.schedule_unfinished(8, 30) == (
        "CaPE's calibration epochs start after warmup_epochs=10, but the model kept is from "
        "epoch 9 (training stopped early or max_epochs is small): it is plain cross-entropy. "
        "Lower warmup_epochs.")
    # a calibration epoch whose targets were never fitted is cross-entropy
    logits, y = _logits([[0.7, 0.3], [0.4, 0.6]]), torch.tensor([0, 0])
    loss.set_epoch(10, 30)
    expected = -np.log([0.7, 0.4])
    np.testing.assert_allclose(loss.per_sample_loss(logits, y).numpy(), expected, rtol=1e-12)


def test_cape_default_bins_and_weights():
    # 20 rows, p1 = .025 .075 ... .975, the default 10 equal-frequency bins of 2 rows: the
    # value of bin b is the weighted mean label of its 2 rows
    p1 = (np.arange(20) + 0.5) / 20
    y = np.array([0, 1] * 10)
    w = np.array([1.0, 3.0] * 5 + [0.5, 0.25] * 5)
    probs = np.column_stack([1 - p1, p1])
    loss = CaPELoss().update_targets(probs.tolist(), y.tolist(), w)
    q1 = loss.empirical_probabilities(torch.tensor(probs))[:, 1].numpy()
    per_bin = (w * y).reshape(10, 2).sum(1) / w.reshape(10, 2).sum(1)
    np.testing.assert_allclose(q1, np.repeat(per_bin, 2), rtol=1e-12)
    # a bin whose weights are all zero takes the overall weighted mean
    w0 = w.copy()
    w0[:2] = 0.0
    loss = CaPELoss().update_targets(torch.tensor(probs), torch.tensor(y), torch.tensor(w0))
    q1 = loss.empirical_probabilities(torch.tensor(probs))[:, 1].numpy()
    assert q1[0] == pytest.approx(np.sum(w0 * y) / np.sum(w0), rel=1e-12)
    # float32 probabilities are fitted in float64: the same map as their float64 copy
    p32 = torch.tensor(probs, dtype=torch.float32)
    a = CaPELoss(n_bins=7).update_targets(p32, torch.tensor(y))
    b = CaPELoss(n_bins=7).update_targets(p32.double(), torch.tensor(y))
    for (ba, va), (bb, vb) in zip(a.maps_, b.maps_):
        torch.testing.assert_close(ba, bb, rtol=0, atol=0)
        torch.testing.assert_close(va, vb, rtol=0, atol=0)


def test_cape_one_bin_and_a_score_on_a_boundary():
    # n_bins=1: one value, no boundary; a score equal to a boundary goes to the upper bin
    p1 = np.array([0.1, 0.2, 0.6, 0.8])
    probs = torch.tensor(np.column_stack([1 - p1, p1]))
    y = torch.tensor([0, 1, 1, 1])
    q = CaPELoss(n_bins=1).update_targets(probs, y).empirical_probabilities(probs)
    np.testing.assert_allclose(q[:, 1].numpy(), [0.75] * 4, rtol=1e-12)
    loss = CaPELoss(n_bins=2).update_targets(probs, y)  # bins {.1, .2}, {.6, .8}, cut at .4
    at = torch.tensor([[0.6, 0.4], [0.61, 0.39]], dtype=torch.float64)
    np.testing.assert_allclose(loss.empirical_probabilities(at)[:, 1].numpy(), [1.0, 0.5])


def test_cape_multiclass_without_support_is_uniform():
    # 3 bins per class of 2 rows each; at (1/3, 1/3, 1/3) every class's bin holds only
    # negatives: all estimates 0, so the target is uniform
    probs = torch.tensor([[0.8, 0.1, 0.1]] * 2 + [[0.1, 0.8, 0.1]] * 2 + [[0.1, 0.1, 0.8]] * 2,
                         dtype=torch.float64)
    loss = CaPELoss(n_bins=3).update_targets(probs, torch.tensor([0, 0, 1, 1, 2, 2]))
    q = loss.empirical_probabilities(torch.full((1, 3), 1 / 3, dtype=torch.float64))
    np.testing.assert_allclose(q.numpy(), [[1 / 3] * 3], rtol=1e-12)
    # class 2 never true: its column is kept (zero estimates) and rows still sum to one
    loss = CaPELoss(n_bins=3).update_targets(probs, torch.tensor([0, 0, 1, 1, 1, 0]))
    q = loss.empirical_probabilities(probs)
    assert q.shape == (6, 3) and float(q[:, 2].abs().max()) == 0.0
    np.testing.assert_allclose(q.sum(1).numpy(), 1.0, rtol=1e-12)


def test_cape_kernel_map_is_nadaraya_watson():
    # default bandwidth 0.1; 5000 rows (more than one chunk of 4096) of a known curve
    rng = np.random.default_rng(0)
    p1 = rng.uniform(0.0, 1.0, 5000)
    y = (rng.uniform(size=5000) < p1 ** 2).astype(int)
    w = rng.uniform(0.5, 2.0, 5000)
    probs = torch.tensor(np.column_stack([1 - p1, p1]))
    loss = CaPELoss(method="kernel").update_targets(probs, torch.tensor(y), torch.tensor(w))
    on_grid = np.array([0.0, 0.1, 0.3, 0.5, 1.0])  # tabulated points: exact
    at = torch.tensor(np.column_stack([1 - on_grid, on_grid]))
    np.testing.assert_allclose(loss.empirical_probabilities(at)[:, 1].numpy(),
                               _nadaraya_watson(p1, y, w, 0.1, on_grid), rtol=1e-10)
    between = np.array([0.12345, 0.5005, 0.9999])  # linear interpolation, spacing 1e-3
    at = torch.tensor(np.column_stack([1 - between, between]))
    np.testing.assert_allclose(loss.empirical_probabilities(at)[:, 1].numpy(),
                               _nadaraya_watson(p1, y, w, 0.1, between), atol=1e-5)


def test_cape_update_targets_checks():
    probs = torch.tensor([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^probs must have shape \(n, n_classes\) with "
                                         r"n_classes >= 2 and y shape \(n,\)"):
        CaPELoss().update_targets(probs, torch.tensor([0, 1]))
    message = r"^update_targets needs at least one row with a positive weight\.$"
    with pytest.raises(ValueError, match=message):
        CaPELoss().update_targets(probs, torch.tensor([0, 1, 0]), torch.zeros(3))
    # one row, and total weight below 1, are enough
    CaPELoss(n_bins=1).update_targets(probs[:1], torch.tensor([1]))
    CaPELoss().update_targets(probs, torch.tensor([0, 1, 0]), torch.full((3,), 0.1))
    loss = CaPELoss().update_targets(probs, torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="update_targets saw 2 classes but probs has 3 "
                                         "columns"):
        loss.empirical_probabilities(torch.full((1, 3), 1 / 3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"^call update_targets\(probs, y\) before "
                                           r"empirical_probabilities\.$"):
        CaPELoss().empirical_probabilities(probs)


@pytest.mark.parametrize("method", ["bin", "kernel"])
def test_cape_float32_scores_are_read_in_float64(method):
    # the map is applied in float64 and the targets returned in the scores' dtype: float32
    # scores give the float64 targets of their (exact) float64 copy, rounded once
    rng = np.random.default_rng(1)
    p1 = rng.uniform(size=200)
    probs = torch.tensor(np.column_stack([1 - p1, p1]))
    y = torch.tensor((rng.uniform(size=200) < p1).astype(int))
    loss = CaPELoss(method=method).update_targets(probs, y)
    at = torch.tensor(np.column_stack([1 - p1[:50], p1[:50]]) * 0.999, dtype=torch.float32)
    got = loss.empirical_probabilities(at)
    assert got.dtype == torch.float32
    expected = loss.empirical_probabilities(at.double()).float()
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


# LDR-KL and ALDR-KL (Zhu et al. 2023) ------------------------------------------------------

def test_ldr_kl_defaults_are_margin_one_and_lambda_one():
    # gaps (0, 1, 1) for y = 0 and zero logits: log((1 + 2 e) / 3) with margin 1, lambda 1
    logits, y = torch.zeros(1, 3, dtype=torch.float64), torch.tensor([0])
    assert float(LDRKLLoss()(logits, y)) == pytest.approx(math.log((1 + 2 * math.e) / 3),
                                                         abs=1e-12)


@pytest.mark.parametrize("lam, alpha", [(0.5, 3.0), (2.0, 1.5)])
def test_aldr_kl_value_with_the_quadratic_penalty(lam, alpha):
    """The ALDR-KL value written out in NumPy: the authors' update of lambda_i (20 steps from
    lambda), then lambda_i log(mean_k exp(d_k / lambda_i)) - alpha log K / (2 lambda)
    (lambda_i - lambda)^2."""
    z = np.array([[3.0, 0.0, -1.0], [0.2, 0.1, 0.0], [-2.0, 4.0, 1.0]])
    y = np.array([2, 0, 1])
    margin, k = 1.0, 3
    d = margin * (1 - np.eye(k)[y]) + z - z[np.arange(3), y][:, None]
    lam_i = np.full(3, lam)
    for _ in range(20):
        q = np.exp(d / lam_i[:, None])
        q /= q.sum(1, keepdims=True)
        kl = np.sum(q * np.log(q * k), axis=1)
        lam_i = lam * (1 - kl / (alpha * np.log(k)))
    expected = (lam_i * np.log(np.mean(np.exp(d / lam_i[:, None]), axis=1))
                - alpha * np.log(k) / (2 * lam) * (lam_i - lam) ** 2)
    assert np.all(lam_i < lam - 0.01)  # the penalty is not zero
    loss = AdaptiveLDRKLLoss(margin=margin, lam=lam, alpha=alpha)
    got = loss.per_sample_loss(torch.tensor(z), torch.tensor(y)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)

