"""Tests of the group scalings: WorstGroupLoss, ErrorBoundReweighting, FairIdentityScaling."""

import math

import numpy as np
import pytest
import torch

from sklearn_fairloss.fairness import (
    ErrorBoundReweighting,
    FairIdentityScaling,
    WorstGroupLoss,
)
from sklearn_fairloss.losses import weighted_mean

SCALINGS = {
    "dro": lambda: WorstGroupLoss(step_size=0.5),
    "febs": lambda: ErrorBoundReweighting(),
    "febs-gamma2": lambda: ErrorBoundReweighting(gamma=2.0),
    "fis": lambda: FairIdentityScaling(),
    "fis-mean": lambda: FairIdentityScaling(group_statistic="mean", temperature=0.5),
    "fis-wasserstein": lambda: FairIdentityScaling(group_statistic="wasserstein"),
    "fis-sinkhorn": lambda: FairIdentityScaling(group_statistic="sinkhorn"),
}


def _batch(n=12, k=2, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    loss = torch.rand(n, generator=generator, dtype=dtype) * 2
    y = torch.arange(n) % 2
    sensitive = torch.stack([torch.arange(n) % 2, (torch.arange(n) // 2) % 3], 1)[:, :k]
    weights = torch.rand(n, generator=generator, dtype=dtype) + 0.5
    return loss, y, sensitive, weights


def _fresh(name, sensitive):
    scaling = SCALINGS[name]().set_groups((sensitive.max(0).values + 1).tolist())
    if isinstance(scaling, WorstGroupLoss):
        scaling.set_groups([2, 3][: sensitive.shape[1]])
    return scaling


@pytest.mark.parametrize("name", SCALINGS)
def test_row_weights_are_detached_non_negative_and_normalised(name):
    loss, y, sensitive, weights = _batch()
    loss.requires_grad_(True)
    scaling = _fresh(name, sensitive)
    scaling.update(loss, y, sensitive, weights)
    s = scaling.row_weights(loss, y, sensitive, weights)
    assert s.shape == loss.shape
    assert not s.requires_grad
    assert (s >= 0).all()
    assert float((weights * s).sum()) == pytest.approx(float(weights.sum()))


@pytest.mark.parametrize("name", SCALINGS)
def test_forward_is_the_reweighted_mean_and_its_gradient(name):
    loss, y, sensitive, weights = _batch()
    loss.requires_grad_(True)
    scaling = _fresh(name, sensitive)
    s = scaling.row_weights(loss, y, sensitive, weights)
    for strength in [0.0, 0.5, 1.0, 2.0]:
        value = scaling(loss, y, sensitive, weights, strength=strength)
        expected = weighted_mean(loss, weights * s**strength)
        assert torch.allclose(value, expected)
        (grad,) = torch.autograd.grad(value, loss)
        combined = weights * s**strength
        assert torch.allclose(grad, combined / combined.sum())
    # strength 0 is plain ERM.
    assert torch.allclose(scaling(loss, y, sensitive, weights, strength=0.0),
                          weighted_mean(loss, weights))
    with pytest.raises(ValueError, match="strength"):
        scaling(loss, y, sensitive, weights, strength=-1.0)


@pytest.mark.parametrize("name", SCALINGS)
def test_weight_two_equals_duplicating_a_row(name):
    loss, y, sensitive, _ = _batch()
    weights = torch.ones(12, dtype=torch.float64)
    weights[[0, 5]] = 2.0
    rows = torch.tensor(list(range(12)) + [0, 5])
    a, b = _fresh(name, sensitive), _fresh(name, sensitive)
    a.update(loss, y, sensitive, weights)
    b.update(loss[rows], y[rows], sensitive[rows])
    weighted = a(loss, y, sensitive, weights)
    duplicated = b(loss[rows], y[rows], sensitive[rows])
    assert torch.allclose(weighted, duplicated, atol=1e-12)
    s_weighted = a.row_weights(loss, y, sensitive, weights)
    s_duplicated = b.row_weights(loss[rows], y[rows], sensitive[rows])
    assert torch.allclose(s_weighted, s_duplicated[:12], atol=1e-12)


@pytest.mark.parametrize("name", SCALINGS)
def test_invariant_to_group_code_and_row_permutation(name):
    loss, y, sensitive, weights = _batch()
    relabelled = torch.stack([1 - sensitive[:, 0], torch.tensor([2, 0, 1])[sensitive[:, 1]]], 1)
    a, b, c = (_fresh(name, sensitive) for _ in range(3))
    a.update(loss, y, sensitive, weights)
    b.update(loss, y, relabelled, weights)
    reference = a(loss, y, sensitive, weights)
    assert torch.allclose(b(loss, y, relabelled, weights), reference)
    order = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    c.update(loss[order], y[order], sensitive[order], weights[order])
    assert torch.allclose(c(loss[order], y[order], sensitive[order], weights[order]), reference)


def _degenerate():
    loss, y, sensitive, weights = _batch()
    return {
        "single-group": (loss, y, torch.zeros_like(sensitive), None),
        "missing-groups": (loss, y, torch.zeros_like(sensitive).index_fill_(0,
                                                                            torch.tensor([0]), 1),
                           None),
        "zero-weights": (loss, y, sensitive, torch.zeros(12, dtype=torch.float64)),
        "zero-weight-group": (loss, y, sensitive, (sensitive[:, 0] == 1).double()),
        "zero-loss-group": (loss * (sensitive[:, 0] == 1), y, sensitive, weights),
        "all-zero-loss": (loss * 0, y, sensitive, weights),
        "huge-loss": (loss * 1e4, y, sensitive, weights),
        "single-row": (loss[:1], y[:1], sensitive[:1], None),
        "empty": (loss[:0], y[:0], sensitive[:0], None),
    }


@pytest.mark.parametrize("batch", _degenerate())
@pytest.mark.parametrize("name", SCALINGS)
def test_finite_on_degenerate_batches(name, batch):
    loss, y, sensitive, weights = _degenerate()[batch]
    loss = loss.clone().requires_grad_(True)
    scaling = SCALINGS[name]().set_groups([2, 3])
    scaling.update(loss, y, sensitive, weights)
    s = scaling.row_weights(loss, y, sensitive, weights)
    assert torch.isfinite(s).all()
    value = scaling(loss, y, sensitive, weights)
    assert torch.isfinite(value)
    value.backward()
    assert torch.isfinite(loss.grad).all()
    if isinstance(scaling, WorstGroupLoss):
        assert torch.isfinite(scaling.group_weights_).all()
        assert float(scaling.group_weights_.sum()) == pytest.approx(1.0)


def test_no_effect_when_groups_have_identical_losses():
    base = torch.tensor([0.3, 1.2, 0.7], dtype=torch.float64)
    loss = base.repeat(4)
    sensitive = torch.tensor([[g // 2, g % 2] for g in range(4) for _ in range(3)])
    y = torch.zeros(12, dtype=torch.long)
    ones = torch.ones(12, dtype=torch.float64)
    assert torch.allclose(ErrorBoundReweighting(gamma=3.0).row_weights(loss, y, sensitive), ones)
    for statistic in ["wasserstein", "mean"]:
        fis = FairIdentityScaling(group_coef=1.0, group_statistic=statistic)
        assert torch.allclose(fis.row_weights(loss, y, sensitive), ones)
    dro = WorstGroupLoss(step_size=1.0).set_groups([2, 2])
    for _ in range(5):
        dro.update(loss, y, sensitive)
    assert torch.allclose(dro.group_weights_, torch.full((4,), 0.25))
    assert torch.allclose(dro.row_weights(loss, y, sensitive), ones)


# --- WorstGroupLoss ---------------------------------------------------------------------


def test_dro_update_is_the_exponentiated_gradient_step():
    loss = torch.tensor([0.2, 0.4, 1.0, 1.5, 0.1], dtype=torch.float64)
    sensitive = torch.tensor([0, 0, 1, 1, 2])[:, None]
    weights = torch.tensor([1.0, 3.0, 1.0, 1.0, 2.0], dtype=torch.float64)
    y = torch.zeros(5, dtype=torch.long)
    dro = WorstGroupLoss(step_size=0.3).set_groups([4])  # group 3 never appears
    dro.update(loss, y, sensitive, weights)
    group_loss = np.array([(0.2 + 1.2) / 4, 1.25, 0.1, 0.0])
    q = 0.25 * np.exp(0.3 * group_loss)
    q /= q.sum()
    assert np.allclose(dro.group_weights_.numpy(), q, atol=1e-7)
    # Loss = sum_g q_g L_g, not renormalised over the present groups (authors' loss.py).
    expected = (q[:3] * group_loss[:3]).sum()
    assert float(dro(loss, y, sensitive, weights)) == pytest.approx(expected, rel=1e-6)


def test_dro_concentrates_on_the_worst_group_and_keeps_absent_groups():
    loss = torch.tensor([0.1, 0.1, 2.0, 2.0])
    y = torch.zeros(4, dtype=torch.long)
    sensitive = torch.tensor([[0, 0], [0, 0], [1, 1], [1, 1]])
    dro = WorstGroupLoss(step_size=0.5).set_groups([2, 2])
    for _ in range(50):
        dro.update(loss, y, sensitive)
    q = dro.group_weights_
    worst = 1 + 2 * 1  # cell of (1, 1) = code_0 + 2 * code_1
    assert q[worst] > 0.99
    assert torch.allclose(q[1], q[2])  # absent cells keep their (relative) weight
    assert float(dro(loss, y, sensitive)) > 1.98


def test_dro_cells_of_several_attributes_and_lazy_groups():
    dro = WorstGroupLoss()
    sensitive = torch.tensor([[0, 2], [1, 0]])
    dro.update(torch.tensor([1.0, 2.0]), torch.zeros(2, dtype=torch.long), sensitive)
    assert dro.n_groups_ == [2, 3]
    assert dro.group_weights_.shape == (6,)
    assert torch.equal(dro._cells(sensitive), torch.tensor([4, 1]))
    with pytest.raises(ValueError, match="outside"):
        dro.update(torch.ones(1), torch.zeros(1, dtype=torch.long), torch.tensor([[2, 0]]))
    with pytest.raises(ValueError, match="attributes"):
        dro.update(torch.ones(1), torch.zeros(1, dtype=torch.long), torch.tensor([[0]]))
    with pytest.raises(ValueError, match="step_size"):
        WorstGroupLoss(step_size=-1).set_groups([2]).update(
            torch.ones(1), torch.zeros(1, dtype=torch.long), torch.tensor([[0]]))


def test_dro_validation_batches_do_not_move_the_state():
    loss, y, sensitive, weights = _batch()
    dro = WorstGroupLoss(step_size=1.0).set_groups([2, 3])
    before = dro.group_weights_.clone()
    dro(loss, y, sensitive, weights)
    dro.row_weights(loss, y, sensitive, weights)
    assert torch.equal(dro.group_weights_, before)


def test_dro_state_moves_with_to_and_survives_pickle():
    import pickle

    loss, y, sensitive, weights = _batch()
    dro = WorstGroupLoss(step_size=1.0).set_groups([2, 3])
    dro.update(loss, y, sensitive, weights)
    assert "group_weights_" in dict(dro.named_buffers())
    assert dro.to(torch.float64).group_weights_.dtype == torch.float64
    restored = pickle.loads(pickle.dumps(dro))
    assert torch.equal(restored.group_weights_, dro.group_weights_)
    assert restored.n_groups_ == [2, 3]


# --- ErrorBoundReweighting -------------------------------------------------------------


def test_febs_hand_computed():
    loss = torch.tensor([0.5, 0.5, 1.0, 1.0, 2.0, 2.0], dtype=torch.float64)
    sensitive = torch.tensor([0, 0, 1, 1, 2, 2])[:, None]
    y = torch.zeros(6, dtype=torch.long)
    for gamma in [0.0, 1.0, 2.0]:
        s = ErrorBoundReweighting(gamma=gamma).row_weights(loss, y, sensitive)
        factor = np.array([math.tanh(1) / math.tanh((0.5 / e) ** gamma) for e in (0.5, 1, 2)])
        factor = np.repeat(factor, 2)
        assert np.allclose(s.numpy(), factor / factor.mean())
    s = ErrorBoundReweighting().row_weights(loss, y, sensitive)
    assert s[0] < s[2] < s[4]


def test_febs_emphasis_grows_with_the_gap():
    y = torch.zeros(4, dtype=torch.long)
    sensitive = torch.tensor([0, 0, 1, 1])[:, None]
    ratios = []
    for gap in [0.0, 0.2, 0.5, 1.0, 3.0]:
        loss = torch.tensor([0.5, 0.5, 0.5 + gap, 0.5 + gap])
        s = ErrorBoundReweighting().row_weights(loss, y, sensitive)
        ratios.append(float(s[2] / s[0]))
    assert ratios[0] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(ratios, ratios[1:]))


def test_febs_invalid_gamma():
    with pytest.raises(ValueError, match="gamma"):
        ErrorBoundReweighting(gamma=-1).row_weights(
            torch.ones(2), torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))


# --- FairIdentityScaling -------------------------------------------------------------


def test_fis_hand_computed_mean_statistic():
    loss = torch.tensor([0.2, 0.4, 1.0, 1.2, 0.6], dtype=torch.float64)
    sensitive = torch.tensor([0, 0, 1, 1, 1])[:, None]
    weights = torch.tensor([1.0, 2.0, 1.0, 1.0, 0.5], dtype=torch.float64)
    y = torch.zeros(5, dtype=torch.long)
    c, t = 0.3, 0.7
    s = FairIdentityScaling(group_coef=c, temperature=t, group_statistic="mean").row_weights(
        loss, y, sensitive, weights)
    w = weights.numpy()
    pi = w / w.sum()
    individual = np.exp(loss.numpy() / t)
    individual /= (pi * individual).sum()
    means = [np.average(loss.numpy()[:2], weights=w[:2]),
             np.average(loss.numpy()[2:], weights=w[2:])]
    group = np.exp(np.array(means)[sensitive[:, 0].numpy()] / t)
    group /= (pi * group).sum()
    assert np.allclose(s.numpy(), (1 - c) * individual + c * group)


def test_fis_wasserstein_statistic_matches_scipy():
    from scipy.stats import wasserstein_distance

    from sklearn_fairloss.fairness._identity_scaling import _wasserstein_to_batch

    rng = np.random.default_rng(0)
    loss = rng.exponential(size=20)
    cells = rng.integers(0, 3, 20)
    weights = rng.uniform(0.1, 2.0, 20)
    distances, present = _wasserstein_to_batch(
        torch.tensor(loss), torch.tensor(weights), torch.tensor(cells))
    for g in range(3):
        mask = cells == g
        expected = wasserstein_distance(loss[mask], loss, weights[mask], weights)
        assert float(distances[g]) == pytest.approx(expected, rel=1e-10)
    assert present.all()


def test_fis_group_part_favours_the_most_different_group():
    loss = torch.tensor([0.2, 0.3, 0.25, 1.5, 1.6, 0.2, 0.3, 0.25])
    sensitive = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])[:, None]
    y = torch.zeros(8, dtype=torch.long)
    s = FairIdentityScaling(group_coef=1.0).row_weights(loss, y, sensitive)
    assert s[3] > s[0] and torch.allclose(s[0], s[5])
    individual = FairIdentityScaling(group_coef=0.0).row_weights(loss, y, sensitive)
    assert torch.allclose(individual, torch.softmax(loss, 0) * 8)


@pytest.mark.parametrize(
    "params, message",
    [({"group_coef": 1.5}, "group_coef"), ({"temperature": 0.0}, "temperature"),
     ({"group_statistic": "energy"}, "group_statistic")],
)
def test_fis_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        FairIdentityScaling(**params).row_weights(
            torch.ones(2), torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))


@pytest.mark.parametrize("name", SCALINGS)
def test_scaling_float32_batch(name):
    loss, y, sensitive, weights = _batch(dtype=torch.float32)
    scaling = _fresh(name, sensitive)
    scaling.update(loss, y, sensitive, weights)
    value = scaling(loss, y, sensitive, weights)
    assert value.dtype == torch.float32 and torch.isfinite(value)


# --- group DRO edge cases found by mutation testing -------------------------------------


def test_dro_group_counts_cover_cells_without_training_rows():
    dro = WorstGroupLoss(step_size=1.0, adjustment=1.0).set_groups([3])
    dro.set_group_counts(torch.tensor([[0], [0], [0], [0], [1]]))  # cell 2 never seen
    assert dro.group_counts_.tolist() == [4.0, 1.0, 0.0]
    dro.update(torch.tensor([0.0, 0.0]), torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))
    # q ∝ exp(1 / sqrt(4)), exp(1 / sqrt(1)), exp(0): a cell without rows gets no adjustment
    expected = np.exp([0.5, 1.0, 0.0])
    np.testing.assert_allclose(dro.group_weights_.numpy(), expected / expected.sum(), rtol=1e-6)


def test_dro_single_row_batch_is_q_times_its_loss():
    dro = WorstGroupLoss(step_size=0.0).set_groups([2])  # q stays (0.5, 0.5)
    value = dro(torch.tensor([3.0]), torch.zeros(1, dtype=torch.long), torch.tensor([1]))
    assert float(value) == pytest.approx(0.5 * 3.0)


def test_dro_a_group_with_zero_weight_is_absent():
    dro = WorstGroupLoss(step_size=0.0).set_groups([2])
    loss = torch.tensor([1.0, 5.0], dtype=torch.float64)
    value = dro(loss, torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]),
                torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert float(value) == pytest.approx(0.5 * 1.0)  # q_0 L_0; group 1 has no weight


def test_dro_underflowed_present_groups_fall_back_to_the_group_mean():
    dro = WorstGroupLoss().set_groups([2])
    with torch.no_grad():
        dro.group_weights_.copy_(torch.tensor([1.0, 0.0]))
    value = dro(torch.tensor([2.0, 4.0]), torch.zeros(2, dtype=torch.long), torch.tensor([1, 1]))
    assert float(value) == pytest.approx(3.0)  # not 0: training keeps a gradient
