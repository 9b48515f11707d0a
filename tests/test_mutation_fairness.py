"""Fairness penalties: the cases that mutation testing found untested (issue 15; see
docs/mutation_testing.md).

References: group rates computed by hand from the softmax probabilities (the soft TPR and FPR
gaps of Hardt et al. 2016 written out), and the distance-covariance V-statistic of Szekely,
Rizzo and Bakirov (2007) computed with NumPy from its definition.
"""

import numpy as np
import pytest
import torch

from sklearn_fairloss.fairness import (
    DemographicParity,
    DistanceCovariance,
    EqualizedOdds,
    EqualOpportunity,
    FairIdentityScaling,
    WorstGroupLoss,
)

# binary: p1 and labels of two groups; soft rates are weighted means of p1
P1 = np.array([0.9, 0.6, 0.3, 0.8, 0.2, 0.1])
Y = np.array([1, 1, 0, 1, 0, 0])
G = np.array([0, 0, 0, 1, 1, 1])


def _logits(p1):
    p1 = np.asarray(p1, dtype=float)
    return torch.tensor(np.log(np.column_stack([1 - p1, p1])))


def _gap(mask):
    """|group 0 rate - overall rate|, |group 1 rate - overall rate| of p1 over ``mask``."""
    overall = P1[mask].mean()
    return [abs(P1[mask & (G == g)].mean() - overall) for g in (0, 1)]


def test_parity_penalties_by_hand():
    sensitive = torch.tensor(G)[:, None]
    # TPR: positives .9 .6 (group 0), .8 (group 1): overall 2.3/3
    tpr = _gap(Y == 1)
    # FPR: negatives .3 (group 0), .2 .1 (group 1): overall .2
    fpr = _gap(Y == 0)
    dp = _gap(np.ones(6, bool))
    args = (_logits(P1), torch.tensor(Y), sensitive)
    assert float(EqualOpportunity()(*args)) == pytest.approx(np.mean(tpr), rel=1e-12)
    assert float(EqualizedOdds()(*args)) == pytest.approx(np.mean(tpr + fpr), rel=1e-12)
    assert float(EqualizedOdds(aggregate="max")(*args)) == pytest.approx(max(tpr + fpr))
    assert float(DemographicParity()(*args)) == pytest.approx(np.mean(dp), rel=1e-12)
    # y as a list, and no y at all for demographic parity
    assert float(EqualizedOdds()(_logits(P1), Y.tolist(), sensitive)) == pytest.approx(
        np.mean(tpr + fpr), rel=1e-12)
    assert float(DemographicParity()(_logits(P1), None, sensitive)) == pytest.approx(
        np.mean(dp), rel=1e-12)


def test_defaults_and_messages():
    for penalty in (DemographicParity(), EqualizedOdds(), DistanceCovariance()):
        assert dict(penalty.callbacks())["fairness_warmup"].warmup == 0
    with pytest.raises(ValueError, match=r"^logits must have shape \(n, n_classes\) with "
                                         r"n_classes >= 2; got shape \(4,\)\.$"):
        DemographicParity()(torch.zeros(4), None, torch.zeros(4, 1, dtype=torch.long))


# --- distance covariance -----------------------------------------------------------------

def _dcov2(x, y, w=None):
    """Weighted V-statistic dCov^2 from the double-centred distance matrices (vectorised)."""
    x = np.asarray(x, float).reshape(len(x), -1)
    y = np.asarray(y, float).reshape(len(y), -1)
    w = np.full(len(x), 1 / len(x)) if w is None else np.asarray(w, float) / np.sum(w)
    out = []
    for z in (x, y):
        d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
        row = d @ w
        out.append(d - row[None, :] - row[:, None] + w @ row)
    return float(w @ (out[0] * out[1]) @ w)


def _single_attribute_reference(probs, values, w=None):
    return _dcov2(probs / np.sqrt(2), values, w) / np.sqrt(_dcov2(values, values, w))


def test_dcov_several_row_blocks_and_tiny_weights():
    # 1600 rows: 1600^2 > 2^21 distances, so the penalty runs over several row blocks
    rng = np.random.default_rng(0)
    n = 1600
    logits = rng.normal(size=(n, 2))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    age = rng.uniform(18, 80, n)
    y = torch.zeros(n, dtype=torch.long)
    value = DistanceCovariance(continuous=[0])(
        torch.tensor(logits), y, torch.zeros(n, 1, dtype=torch.long),
        sensitive_values=torch.tensor(age))  # 1-D values: one continuous attribute
    assert float(value) == pytest.approx(_single_attribute_reference(probs, age), rel=1e-9)
    # weights far below 1 are normalised: the same as equal weights
    small = DistanceCovariance(continuous=[0])(
        torch.tensor(logits[:50]), y[:50], torch.zeros(50, 1, dtype=torch.long),
        sample_weight=torch.full((50,), 1e-3, dtype=torch.float64),
        sensitive_values=torch.tensor(age[:50]))
    assert float(small) == pytest.approx(
        _single_attribute_reference(probs[:50], age[:50]), rel=1e-9)
    # integer values of a continuous attribute are read as numbers
    ints = DistanceCovariance(continuous=[True])(
        torch.tensor(logits[:50]), y[:50], torch.zeros(50, 1, dtype=torch.long),
        sensitive_values=torch.tensor(age[:50].round().astype(np.int64))[:, None])
    assert float(ints) == pytest.approx(
        _single_attribute_reference(probs[:50], age[:50].round()), rel=1e-9)


def test_dcov_jdcov_default_c_is_one():
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(size=(12, 2)))
    sensitive = torch.tensor(rng.integers(0, 2, (12, 2)))
    y = torch.zeros(12, dtype=torch.long)
    torch.testing.assert_close(DistanceCovariance(method="jdcov")(logits, y, sensitive),
                               DistanceCovariance(method="jdcov", c=1.0)(logits, y, sensitive))
    assert not torch.allclose(DistanceCovariance(method="jdcov", c=2.0)(logits, y, sensitive),
                              DistanceCovariance(method="jdcov", c=1.0)(logits, y, sensitive))


def test_dcov_continuous_indices_and_messages():
    logits = torch.zeros(4, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 0, 1])
    sensitive = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    values = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [5.0, 0.0]])
    # indices 0 and k - 1 are valid, k is not
    for index in (0, 1):
        DistanceCovariance(continuous=[index])(logits, y, sensitive, sensitive_values=values)
    with pytest.raises(ValueError, match=r"^continuous names attribute 2, but sensitive has 2 "
                                         r"attributes\.$"):
        DistanceCovariance(continuous=[2])(logits, y, sensitive, sensitive_values=values)
    with pytest.raises(ValueError, match=r"^continuous has 1 flags but sensitive has 2 "
                                         r"attributes; give one per attribute\.$"):
        DistanceCovariance(continuous=[True])(logits, y, sensitive, sensitive_values=values)
    with pytest.raises(ValueError, match=r"^DistanceCovariance treats attribute 0 as "
                                         r"continuous and needs sensitive_values; got None\.$"):
        DistanceCovariance(continuous=[0])(logits, y, sensitive)
    penalty = DistanceCovariance()
    penalty.numeric_ = [True, False, True]
    with pytest.raises(ValueError, match=r"^set_groups was given 3 attributes but sensitive "
                                         r"has 2\.$"):
        penalty(logits, y, sensitive, sensitive_values=values)


def test_jdcov_with_an_attribute_constant_in_the_batch():
    # a constant attribute has U = 0, so prod_i (U^i + c) = c (U^2 + c) and, as the centred
    # prediction distances sum to zero against pi, the penalty is c times the single-attribute
    # value of the other attribute (here against the V-statistic)
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(10, 2))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    race = rng.integers(0, 3, 10)
    sensitive = torch.tensor(np.column_stack([np.zeros(10, int), race]))
    value = DistanceCovariance(method="jdcov", c=2.0)(
        torch.tensor(logits), torch.zeros(10, dtype=torch.long), sensitive)
    coords = np.eye(3)[race] / np.sqrt(2)
    assert float(value) == pytest.approx(2.0 * _single_attribute_reference(probs, coords),
                                         rel=1e-9)


# Fair identity scaling (FIS, Luo et al. 2024) ----------------------------------------------

def _fis_by_hand(loss, statistic, weights=None, coef=0.5, temperature=1.0):
    """s_i = (1 - c) exp(l_i / T) / Z_ind + c exp(d_g(i) / T) / Z_grp, each part averaging 1
    under the row weights."""
    loss, statistic = np.asarray(loss, float), np.asarray(statistic, float)
    pi = np.ones(len(loss)) if weights is None else np.asarray(weights, float)
    pi = pi / pi.sum()

    def part(v):
        e = np.exp(v / temperature)
        return e / np.sum(pi * e)

    return (1 - coef) * part(loss) + coef * part(statistic)


def test_fis_w2_by_hand_with_a_one_row_group():
    # Group 0: losses 0, 1; group 1: one row, loss 2. The group-balanced mixture: 0 (1/4),
    # 1 (1/4), 2 (1/2). W2^2 / 2 from the quantile functions on (0, 1/4], (1/4, 1/2],
    # (1/2, 1]: group 0's quantiles 0, 0, 1 against the mixture's 0, 1, 2:
    # (0 + 1/4 + 1/2) / 2 = 3/8; group 1's 2, 2, 2: (4/4 + 1/4 + 0) / 2 = 5/8.
    loss = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    group = torch.tensor([[0], [0], [1]])
    got = FairIdentityScaling(group_statistic="w2").row_weights(loss, torch.tensor([0, 1, 0]),
                                                                group)
    expected = _fis_by_hand([0, 1, 2], [3 / 8, 3 / 8, 5 / 8])
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-12)


def test_fis_wasserstein_statistic_against_scipy():
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(0)
    loss = rng.gamma(2.0, 0.5, 30)
    codes = np.repeat([0, 1, 2], [8, 12, 10])
    d = [wasserstein_distance(loss[codes == g], loss) for g in range(3)]
    got = FairIdentityScaling(group_statistic="wasserstein").row_weights(
        torch.tensor(loss), torch.zeros(30, dtype=torch.long), torch.tensor(codes)[:, None])
    np.testing.assert_allclose(got.numpy(), _fis_by_hand(loss, np.array(d)[codes]), rtol=0,
                               atol=1e-10)


def test_fis_mean_statistic_with_small_weights():
    # Weights summing to 0.4 (< 1): the multipliers still follow the formula.
    loss = np.array([0.2, 0.4, 1.0, 1.2])
    w = np.array([0.1, 0.05, 0.15, 0.1])
    codes = np.array([0, 0, 1, 1])
    means = np.array([(0.02 + 0.02) / 0.15, (0.15 + 0.12) / 0.25])
    got = FairIdentityScaling(group_statistic="mean", temperature=0.5).row_weights(
        torch.tensor(loss), torch.tensor([0, 1, 0, 1]), torch.tensor(codes)[:, None],
        sample_weight=torch.tensor(w))
    np.testing.assert_allclose(got.numpy(), _fis_by_hand(loss, means[codes], w,
                                                         temperature=0.5), rtol=0, atol=1e-6)


def test_fis_sinkhorn_on_losses_within_a_spread_below_one():
    geomloss = pytest.importorskip("geomloss")
    sinkhorn = geomloss.SamplesLoss(loss="sinkhorn", p=2, blur=0.1)
    loss = torch.tensor([0.1, 0.3, 0.5, 0.6], dtype=torch.float64)  # spread 0.5
    codes = torch.tensor([0, 0, 1, 1])
    # the authors' statistic: each group's losses against the group-balanced mixture
    mixture_w = torch.full((4,), 0.25, dtype=torch.float64)
    d = [float(sinkhorn(torch.full((2,), 0.5, dtype=torch.float64), loss[codes == g][:, None],
                        mixture_w, loss[:, None])) for g in (0, 1)]
    assert min(d) > 1e-4
    got = FairIdentityScaling(group_statistic="sinkhorn").row_weights(
        loss, torch.tensor([0, 1, 0, 1]), codes[:, None])
    np.testing.assert_allclose(got.numpy(), _fis_by_hand(loss.numpy(), np.array(d)[codes]),
                               rtol=0, atol=1e-8)


def test_fis_warmup_default_is_the_documented_zero():
    import inspect

    assert "warmup : int, default=0\n" in FairIdentityScaling.__doc__
    assert inspect.signature(FairIdentityScaling).parameters["warmup"].default == 0
    assert FairIdentityScaling().warmup == 0


# Group DRO (Sagawa et al. 2020) ------------------------------------------------------------

def test_group_dro_default_step_and_warmup():
    # One exponentiated-gradient step with the documented eta = 0.01 from q = (1/2, 1/2):
    # group means 1 and 3 -> q_1 = exp(0.03) / (exp(0.01) + exp(0.03)).
    dro = WorstGroupLoss()
    assert dro.step_size == 0.01 and dro.warmup == 0
    assert "warmup : int, default=0\n" in WorstGroupLoss.__doc__
    dro.set_groups([2])
    dro.update(torch.tensor([1.0, 1.0, 3.0], dtype=torch.float64), torch.zeros(3),
               torch.tensor([[0], [0], [1]]))
    q1 = np.exp(0.03) / (np.exp(0.01) + np.exp(0.03))
    np.testing.assert_allclose(dro.group_weights_.numpy(), [1 - q1, q1], rtol=0, atol=1e-7)


def test_group_dro_multipliers_with_an_absent_group_and_small_weights():
    # Three groups, q = 1/3 each; the batch holds groups 0 (two rows) and 1 (one row), every
    # row of weight 0.2 (total 0.6 < 1). s_g = q_g W / (W_g sum_{present} q):
    # s_0 = (1/3) 0.6 / (0.4 * 2/3) = 3/4, s_1 = (1/3) 0.6 / (0.2 * 2/3) = 3/2.
    dro = WorstGroupLoss().set_groups([3])
    got = dro.row_weights(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), torch.zeros(3),
                          torch.tensor([[0], [0], [1]]),
                          sample_weight=torch.full((3,), 0.2, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), [0.75, 0.75, 1.5], rtol=0, atol=1e-12)


def test_group_dro_messages():
    with pytest.raises(ValueError, match="^numeric has 2 entries but n_groups has 1; give "
                                         "one per attribute.$"):
        WorstGroupLoss().set_groups([3], numeric=[True, False])
    dro = WorstGroupLoss(adjustment=1.0).set_groups([2])
    with pytest.raises(ValueError, match="^adjustment > 0 needs the training group sizes: "
                                         "call set_group_counts with the training rows' "
                                         "group codes first.$"):
        dro.update(torch.tensor([1.0, 2.0]), torch.zeros(2), torch.tensor([[0], [1]]))

