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

    cal = CorrectnessAwareCalibrator(n_views=1, max_iter=300, learning_rate=0.1,
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


# --- group DRO (Sagawa et al. 2020; kohpangwei/group_DRO loss.py) -----------------------


def _authors_group_dro(batches, n_groups, counts, step_size, adj):
    """LossComputer.compute_robust_loss, transcribed with numpy: per batch, group means
    (0 for absent groups), adjusted = loss + adj / sqrt(count) (every group), q *= exp(eta *
    adjusted), q /= sum q, robust loss = group_loss @ q (the adjustment is a constant)."""
    q = np.ones(n_groups) / n_groups
    out = []
    for loss, group in batches:
        group_map = (group[None, :] == np.arange(n_groups)[:, None]).astype(float)
        count = group_map.sum(1)
        group_loss = group_map @ loss / (count + (count == 0))
        adjusted = group_loss + (adj / np.sqrt(counts) if adj > 0 else 0.0)
        q = q * np.exp(step_size * adjusted)
        q = q / q.sum()
        out.append((q.copy(), float(group_loss @ q)))
    return out


@pytest.mark.parametrize("adj", [0.0, 2.0])
def test_group_dro_matches_the_authors_loss_computer(adj):
    from sklearn_fairloss.fairness import WorstGroupLoss

    rng = np.random.default_rng(0)
    train_groups = np.repeat([0, 1, 2, 3], [200, 50, 10, 3])
    batches = []
    for b in range(6):
        group = rng.choice(3 if b % 2 else 4, size=8)  # odd batches miss group 3
        batches.append((rng.exponential(size=8), group))
    expected = _authors_group_dro(batches, 4, np.bincount(train_groups), 0.5, adj)
    dro = WorstGroupLoss(step_size=0.5, adjustment=adj).set_groups([4])
    dro.set_group_counts(train_groups[:, None])
    for (loss, group), (q, robust) in zip(batches, expected):
        loss_t, group_t = torch.tensor(loss), torch.tensor(group)[:, None]
        y = torch.zeros(8, dtype=torch.long)
        dro.update(loss_t, y, group_t)
        np.testing.assert_allclose(dro.group_weights_.numpy(), q, rtol=1e-6)
        assert float(dro(loss_t, y, group_t)) == pytest.approx(robust, rel=1e-6)


def test_group_dro_adjustment_needs_the_group_sizes():
    from sklearn_fairloss.fairness import WorstGroupLoss

    dro = WorstGroupLoss(adjustment=1.0).set_groups([2])
    with pytest.raises(ValueError, match="set_group_counts"):
        dro.update(torch.ones(2), torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))


# --- FEBS (FairSeg; TransUNet/utils.py febs_loss) -----------------------------------------


def _authors_febs(inputs, target, attr, n_classes, gamma, return_weights=False):
    """febs_loss.forward of the FairSeg code, transcribed (softmax=True, weight=None; rows
    instead of pixels; .cuda() dropped). ``return_weights``: also the factor of each row."""
    def dice(score, t):
        smooth = 1e-5
        intersect = torch.sum(score * t)
        y_sum = torch.sum(t * t)
        z_sum = torch.sum(score * score)
        return 1 - (2 * intersect + smooth) / (z_sum + y_sum + smooth)

    inputs = torch.softmax(inputs, dim=1)
    target = torch.stack([(target == i) for i in range(n_classes)], 1).float().double()
    attr_set = np.unique(attr)
    tmp_weights = np.zeros(len(attr_set))
    for x in attr_set:
        tmp_loss = 0.0
        for i in range(n_classes):
            tmp_loss += dice(inputs[attr == x][:, i], target[attr == x][:, i])
        tmp_weights[x] = float(tmp_loss.detach())
    tmp_weights = torch.tanh(torch.tensor((np.min(tmp_weights) / tmp_weights) ** gamma))
    loss = 0.0
    for i in range(n_classes):
        loss += dice(inputs[:, i] * tmp_weights[attr], target[:, i])
    if return_weights:
        return loss / n_classes, tmp_weights[attr]
    return loss / n_classes


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.5])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_febs_matches_the_authors_loss_value_and_gradient(gamma, n_classes):
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    g = torch.Generator().manual_seed(int(gamma * 10) + n_classes)
    logits = torch.randn(30, n_classes, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, n_classes, (30,), generator=g)
    attr = np.arange(30) % 3
    a = logits.clone().requires_grad_(True)
    expected = _authors_febs(a, y, attr, n_classes, gamma)
    expected.backward()
    b = logits.clone().requires_grad_(True)
    got = FairErrorBoundScaling(gamma=gamma)(b, y, torch.tensor(attr))
    got.backward()
    assert float(got.detach()) == pytest.approx(float(expected.detach()), rel=1e-10)
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-8, atol=1e-12)


def test_febs_factors_are_bounded_and_favour_the_worse_group():
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    logits = torch.tensor([[3.0, -3.0], [-3.0, 3.0], [0.5, -0.5], [0.5, -0.5]])
    y = torch.tensor([0, 1, 0, 1])
    omega = FairErrorBoundScaling().group_factors(logits, y, torch.tensor([0, 0, 1, 1]))
    assert float(omega[0]) == pytest.approx(math.tanh(1.0))
    assert 0 < float(omega[2]) < float(omega[0]) <= math.tanh(1.0)


# --- FIS (FairVision; src/modules.py Fair_Loss_Scaler) -------------------------------------


def _authors_fis(x, smp_xs, attr, coef=0.5, temperature=1.0, right_asymptote=2.0):
    """Fair_Loss_Scaler.forward, transcribed (geomloss Sinkhorn p=2, blur=0.1)."""
    from geomloss import SamplesLoss

    sinkhorn = SamplesLoss(loss="sinkhorn", p=2, blur=0.1)
    individual = torch.softmax(x / temperature, dim=0) * right_asymptote
    total = torch.cat(smp_xs)
    distances = torch.zeros(len(smp_xs)).type_as(x)
    for i, smp_x in enumerate(smp_xs):
        distances[i] = sinkhorn(smp_x[:, None], total[:, None])
    group = torch.softmax(distances[attr.long()] / temperature, dim=0) * right_asymptote
    return (((1 - coef) * individual + coef * group) * x).mean()


@pytest.mark.parametrize("coef, temperature", [(0.5, 1.0), (1.0, 0.3), (0.2, 2.0)])
def test_fis_sinkhorn_matches_the_authors_loss_scaler(coef, temperature):
    pytest.importorskip("geomloss")
    from sklearn_fairloss.fairness import FairIdentityScaling

    rng = np.random.default_rng(1)
    # equal group sizes: the batch's group-balanced mixture is the authors' concatenation
    attr = torch.tensor(np.repeat([0, 1, 2], 8))
    x = torch.tensor(np.concatenate([rng.exponential(0.3, 8), rng.exponential(1.0, 8),
                                     rng.exponential(2.0, 8)]))
    smp_xs = [x[attr == g] for g in range(3)]
    expected = _authors_fis(x, smp_xs, attr, coef, temperature)
    fis = FairIdentityScaling(group_coef=coef, temperature=temperature,
                              group_statistic="sinkhorn")
    got = fis(x, torch.zeros(24, dtype=torch.long), attr)
    # Ours is a weighted mean; the authors' is right_asymptote / n times it.
    assert float(got) * 2.0 / 24 == pytest.approx(float(expected), rel=1e-9)


def test_fis_w2_statistic_is_half_the_squared_wasserstein_2_distance():
    from sklearn_fairloss.fairness._identity_scaling import _half_w2_squared

    rng = np.random.default_rng(0)
    x, y = rng.exponential(size=7), rng.exponential(size=11) * 2
    a, b = rng.uniform(0.2, 1, 7), rng.uniform(0.2, 1, 11)
    a, b = a / a.sum(), b / b.sum()
    # independent: midpoint rule on the weighted quantile functions
    u = (np.arange(400000) + 0.5) / 400000

    def quantile(v, w):
        order = np.argsort(v)
        return v[order][np.minimum(np.searchsorted(np.cumsum(w[order]), u), len(v) - 1)]

    expected = 0.5 * np.mean((quantile(x, a) - quantile(y, b)) ** 2)
    got = _half_w2_squared(*(torch.tensor(v) for v in (x, a, y, b)))
    assert float(got) == pytest.approx(expected, rel=1e-4)


def test_fis_w2_is_the_small_blur_limit_of_the_authors_sinkhorn_divergence():
    geomloss = pytest.importorskip("geomloss")
    from sklearn_fairloss.fairness._identity_scaling import _half_w2_squared

    rng = np.random.default_rng(2)
    x, y = torch.tensor(rng.exponential(size=10)), torch.tensor(rng.exponential(size=30) * 2)
    a, b = torch.full((10,), 0.1, dtype=torch.float64), torch.full((30,), 1 / 30,
                                                                   dtype=torch.float64)
    fine = geomloss.SamplesLoss(loss="sinkhorn", p=2, blur=0.005, scaling=0.95)
    assert float(_half_w2_squared(x, a, y, b)) == pytest.approx(
        float(fine(a, x[:, None], b, y[:, None])), rel=0.02)


# --- GCE (Zhang & Sabuncu 2018) ----------------------------------------------------------


def test_gce_default_is_the_papers_q():
    from sklearn_fairloss.losses import GeneralizedCrossEntropyLoss

    logits = torch.tensor([[0.3, -0.2], [1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([0, 1, 0])
    p = torch.softmax(logits, 1)[torch.arange(3), y].numpy()
    q = 0.7  # the paper's choice for its experiments (Section 4)
    expected = np.mean((1 - p**q) / q)
    assert float(GeneralizedCrossEntropyLoss()(logits, y)) == pytest.approx(expected, rel=1e-12)


def test_febs_defaults_and_dtype():
    from sklearn_fairloss.fairness import ErrorBoundReweighting, FairErrorBoundScaling

    assert FairErrorBoundScaling().get_params() == {"gamma": 1.0, "warmup": 0}
    assert ErrorBoundReweighting().get_params() == {"gamma": 1.0, "warmup": 0}
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(12, 2, generator=g, dtype=torch.float64)
    y = torch.arange(12) % 2
    attr = np.arange(12) % 3
    expected = _authors_febs(logits, y, attr, 2, 1.0)  # the authors' gamma for SAMed
    got = FairErrorBoundScaling()(logits, y, torch.tensor(attr))
    assert float(got) == pytest.approx(float(expected), rel=1e-10)
    assert FairErrorBoundScaling()(logits.float(), y, torch.tensor(attr)).dtype == torch.float32


def test_febs_weight_two_equals_the_authors_loss_on_a_duplicated_row():
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    g = torch.Generator().manual_seed(4)
    logits = torch.randn(9, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    attr = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    w = torch.ones(9, dtype=torch.float64)
    w[[1, 5]] = 2.0
    rows = np.r_[np.arange(9), [1, 5]]
    expected = _authors_febs(logits[rows], y[rows], attr[rows], 3, 1.5)
    febs = FairErrorBoundScaling(gamma=1.5)
    assert float(febs(logits, y, torch.tensor(attr), w)) == pytest.approx(float(expected),
                                                                          rel=1e-10)
    _, factors = _authors_febs(logits[rows], y[rows], attr[rows], 3, 1.5, return_weights=True)
    omega = febs.group_factors(logits, y, torch.tensor(attr), w)
    np.testing.assert_allclose(omega.numpy(), factors.numpy()[:9], rtol=1e-10)


def test_febs_uses_every_class_column_when_a_class_is_missing_from_the_batch():
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    g = torch.Generator().manual_seed(5)
    logits = torch.randn(8, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])  # class 2 absent
    attr = np.arange(8) % 2
    expected, factors = _authors_febs(logits, y, attr, 3, 1.0, return_weights=True)
    assert float(FairErrorBoundScaling()(logits, y, torch.tensor(attr))) == pytest.approx(
        float(expected), rel=1e-10)
    omega = FairErrorBoundScaling().group_factors(logits, y, torch.tensor(attr))
    np.testing.assert_allclose(omega.numpy(), factors.numpy(), rtol=1e-10)


def test_febs_zero_weight_rows_are_left_out_and_degenerate_batches_give_zero():
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    g = torch.Generator().manual_seed(6)
    logits = torch.randn(9, 2, generator=g, dtype=torch.float64)
    y = torch.arange(9) % 2
    attr = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    w = torch.tensor([1.0] * 6 + [0.0] * 3, dtype=torch.float64)  # group 2 has no weight
    expected = _authors_febs(logits[:6], y[:6], attr[:6], 2, 1.0)
    febs = FairErrorBoundScaling()
    assert float(febs(logits, y, torch.tensor(attr), w)) == pytest.approx(float(expected),
                                                                          rel=1e-10)
    # a single row is its own best group: omega = tanh(1)
    one = _authors_febs(logits[:1], y[:1], attr[:1], 2, 1.0)
    assert float(febs(logits[:1], y[:1], torch.tensor(attr[:1]))) == pytest.approx(float(one))
    for logits_, y_, s_, w_ in [(logits[:0], y[:0], torch.tensor(attr[:0]), None),
                                (logits, y, torch.tensor(attr), torch.zeros(9).double())]:
        value = febs(logits_, y_, s_, w_)
        assert float(value) == 0.0


def test_febs_a_perfectly_predicted_group_keeps_tanh_one():
    from sklearn_fairloss.fairness import FairErrorBoundScaling

    logits = torch.tensor([[100.0, -100.0], [-100.0, 100.0], [0.3, 0.0], [0.0, 0.2]],
                          dtype=torch.float64)
    y = torch.tensor([0, 1, 0, 1])
    omega = FairErrorBoundScaling().group_factors(logits, y, torch.tensor([0, 0, 1, 1]))
    # group 0's Dice loss is exactly 0 (the authors' 0 / 0 would be NaN): it is the best
    assert float(omega[0]) == pytest.approx(math.tanh(1.0))
    assert float(omega[2]) == 0.0  # (0 / E_1) ** 1 = 0


# --- LDR-KL / ALDR-KL (Zhu et al. 2023): defaults and parameters reach the loss ------------


def test_aldr_defaults_and_margin_reach_the_loss():
    from sklearn_fairloss.losses import AdaptiveLDRKLLoss

    assert AdaptiveLDRKLLoss().get_params() == {"margin": 1.0, "lam": 1.0, "alpha": 2.0}
    assert AdaptiveLDRKLLoss(margin=0.5).get_params()["margin"] == 0.5
    # a huge alpha pins lam_i to lam: the loss is LDR-KL, lam log mean_k exp(d_k / lam),
    # d_k = margin [k != y] + z_k - z_y, computed here by hand
    logits = torch.tensor([[0.5, -0.2, 0.1], [0.0, 1.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0, 2])
    for margin in (0.5, 2.0):
        z = logits.numpy()
        d = margin * (np.arange(3)[None, :] != y.numpy()[:, None]) + z - z[[0, 1], y][:, None]
        expected = np.mean(np.log(np.mean(np.exp(d), axis=1)))
        got = AdaptiveLDRKLLoss(margin=margin, alpha=1e9)(logits, y)
        assert float(got) == pytest.approx(expected, rel=1e-6)


def test_fis_w2_normalises_the_weights_itself():
    from sklearn_fairloss.fairness._identity_scaling import _half_w2_squared

    x, y = torch.tensor([0.0, 1.0, 3.0]), torch.tensor([0.5, 2.0])
    a, b = torch.tensor([1.0, 1.0, 2.0]), torch.tensor([3.0, 1.0])  # sums 4 and 4
    # quantiles: x on (0, .25] -> 0, (.25, .5] -> 1, (.5, 1] -> 3; y on (0, .75] -> .5, rest 2
    expected = 0.5 * (0.25 * 0.5**2 + 0.25 * 0.5**2 + 0.25 * 2.5**2 + 0.25 * 1.0**2)
    assert float(_half_w2_squared(x, a, y, b)) == pytest.approx(expected)


def test_fis_wasserstein_counts_a_light_group_as_present():
    from scipy.stats import wasserstein_distance

    from sklearn_fairloss.fairness._identity_scaling import _wasserstein_to_batch

    loss = np.array([0.1, 0.4, 0.9, 2.0])
    cells = np.array([0, 0, 0, 1])
    weights = np.array([1.0, 1.0, 1.0, 0.5])  # group 1 has mass 0.5
    distances, present = _wasserstein_to_batch(*(torch.tensor(v) for v in (loss, weights, cells)))
    assert present.tolist() == [True, True]
    assert float(distances[1]) == pytest.approx(
        wasserstein_distance(loss[3:], loss, weights[3:], weights), rel=1e-10)


def test_fis_sinkhorn_without_geomloss_names_the_fix(monkeypatch):
    import sys

    from sklearn_fairloss.fairness import FairIdentityScaling

    monkeypatch.setitem(sys.modules, "geomloss", None)
    fis = FairIdentityScaling(group_statistic="sinkhorn")
    message = ("^group_statistic='sinkhorn' uses geomloss, the authors' library: pip install "
               r"geomloss \(or sklearn-fairloss\[fairvision\]\), or use group_statistic='w2', "
               r"its exact small-blur limit\.$")
    with pytest.raises(ImportError, match=message):
        fis(torch.tensor([0.1, 0.5, 1.0]), torch.zeros(3, dtype=torch.long),
            torch.tensor([0, 0, 1]))


# --- MMCE_w (Kumar, Sarawagi & Jain 2018, the weighted MMCE) --------------------------------


def test_weighted_mmce_matches_the_papers_formula():
    from sklearn_fairloss.calibration import MMCEPenalty

    logits = torch.tensor([[0.2, 1.5], [2.0, -1.0], [0.1, 0.0], [-0.5, 0.4], [1.2, 0.3]],
                          dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 0, 1])
    p = torch.softmax(logits, 1).numpy()
    r, pred = p.max(1), p.argmax(1)
    c = (pred == y.numpy()).astype(float)
    right, wrong = c == 1, c == 0
    m, n = right.sum(), wrong.sum()

    def k(a, b):
        return np.exp(-np.abs(a[:, None] - b[None, :]) / 0.4)

    expected = (((1 - r[right])[:, None] * (1 - r[right])[None, :] * k(r[right], r[right])).sum()
                / m**2
                + (r[wrong][:, None] * r[wrong][None, :] * k(r[wrong], r[wrong])).sum() / n**2
                - 2 * ((1 - r[right])[:, None] * r[wrong][None, :]
                       * k(r[right], r[wrong])).sum() / (m * n))
    got = MMCEPenalty(weighted=True, squared=True)(logits, y)
    assert float(got) == pytest.approx(expected, rel=1e-10)
    # all right (or all wrong): one of the two means is undefined; the penalty is 0
    assert float(MMCEPenalty(weighted=True)(logits, torch.tensor(pred))) == 0.0
    assert float(MMCEPenalty(weighted=True)(logits, torch.tensor(1 - pred))) == 0.0


# --- focal loss (Lin et al. 2017) -----------------------------------------------------------


def test_focal_default_gamma_and_alpha_checks():
    from sklearn_fairloss.losses import FocalLoss

    logits = torch.tensor([[0.3, -0.2], [1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    p = torch.softmax(logits, 1)[torch.arange(2), y].numpy()
    expected = np.mean(-(1 - p) ** 2 * np.log(p))  # gamma = 2, the paper's choice
    assert float(FocalLoss()(logits, y)) == pytest.approx(expected, rel=1e-12)
    for ok in ([0.0, 1.0], [0.5, 2.0]):  # zero and above-one class weights are allowed
        assert torch.isfinite(FocalLoss(alpha=ok)(logits, y))
    for bad in ([-0.1, 1.0], [float("nan"), 1.0], [1.0, float("inf")]):
        with pytest.raises(ValueError, match="non-negative finite"):
            FocalLoss(alpha=bad)(logits, y)
    with pytest.raises(ValueError, match="^alpha as a single number is the weight of class 1"):
        FocalLoss(alpha=0.25)(torch.zeros(2, 3), torch.tensor([0, 2]))
