"""The contract every training term shares (losses, fairness terms, calibration penalties):
declared parameter constraints checked once, skorch callbacks for epoch schedules, the fairness
``objective`` the engine calls, the ``per_sample`` capability, clone and pickle."""

import pickle
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback
from skorch.history import History

from sklearn_fairloss._callbacks import LossSchedule, RefitTargets, StrengthWarmup
from sklearn_fairloss._torch_utils import (
    ParamsModule,
    accumulation_dtype,
    one_hot,
    row_weights,
    weighted_mean,
)
from sklearn_fairloss.calibration import CALIBRATION_PENALTIES, get_calibration_penalty
from sklearn_fairloss.fairness import (
    FAIRNESS,
    DemographicParity,
    GroupScalingBase,
    PenaltyBase,
    WorstGroupLoss,
    get_fairness,
)
from sklearn_fairloss.losses import (
    LOSSES,
    CaPELoss,
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    LossBase,
    get_loss,
)

TERMS = (
    [pytest.param(get_loss, alias, id=f"loss-{alias}") for alias in sorted(LOSSES)]
    + [pytest.param(get_fairness, alias, id=f"fairness-{alias}") for alias in sorted(FAIRNESS)]
    + [pytest.param(get_calibration_penalty, alias, id=f"calibration-{alias}")
       for alias in sorted(CALIBRATION_PENALTIES)]
)

_BAD = object()  # no constraint accepts a plain object


def _batch(n=8, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.arange(n) % k
    sensitive = torch.stack([torch.arange(n) % 2, torch.arange(n) % 3], 1)
    weights = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
    return logits, y, sensitive, weights


def _net(criterion, max_epochs=10):
    """A stand-in for the skorch net the callbacks read."""
    return SimpleNamespace(criterion_=criterion, history=History(), max_epochs=max_epochs)


def _run_epochs(net, callback, n_epochs, **kwargs):
    for _ in range(n_epochs):
        net.history.new_epoch()  # what NeuralNet.on_epoch_begin does before the callbacks
        callback.on_epoch_begin(net, **kwargs)


# --- parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("resolve, alias", TERMS)
def test_every_parameter_is_declared_and_checked_by_name(resolve, alias):
    term = resolve(alias)
    assert isinstance(term, ParamsModule)
    params = term.get_params(deep=False)
    assert set(params) == set(type(term)._parameter_constraints)
    assert term._validate_params() is term  # the defaults are valid
    for name in params:
        bad = clone(term).set_params(**{name: _BAD})
        with pytest.raises(ValueError, match=rf"^{name} must be .*; got <object object"):
            bad._validate_params()


@pytest.mark.parametrize("resolve, alias", TERMS)
def test_callbacks_are_named_skorch_callbacks(resolve, alias):
    callbacks = resolve(alias).callbacks()
    assert isinstance(callbacks, list)
    for name, callback in callbacks:
        assert isinstance(name, str) and isinstance(callback, Callback)
    assert len({name for name, _ in callbacks}) == len(callbacks)


@pytest.mark.parametrize("resolve, alias", TERMS)
def test_clone_and_pickle_round_trip(resolve, alias):
    term = resolve(alias)._validate_params()
    params = term.get_params()
    cloned = clone(term)
    assert cloned is not term and cloned.get_params() == params
    restored = pickle.loads(pickle.dumps(term))
    assert type(restored) is type(term) and restored.get_params() == params
    assert repr(restored) == repr(term)


def test_parameters_are_checked_once_and_again_after_set_params():
    logits, y, _, _ = _batch()
    loss = FocalLoss()
    loss(logits, y)
    loss.set_params(gamma=-1.0)
    with pytest.raises(ValueError, match=r"gamma must be a real number in \[0, inf\); got -1.0"):
        loss(logits, y)
    loss.set_params(gamma=1.0)
    assert torch.isfinite(loss(logits, y))


@pytest.mark.parametrize("term, message", [
    (FocalLoss(gamma=-1.0), r"gamma must be a real number in \[0, inf\); got -1.0"),
    (LDAMLoss(drw_start=1.5), r"drw_start must be None or a real number in \[0, 1\]"),
    (CaPELoss(n_bins=0), "n_bins must be a positive integer; got 0"),
    (DemographicParity(warmup=-1), "warmup must be a non-negative integer; got -1"),
    (WorstGroupLoss(warmup=1.5), "warmup must be a non-negative integer; got 1.5"),
])
def test_bad_values_fail_validation_with_a_clear_message(term, message):
    with pytest.raises(ValueError, match=message):
        clone(term)._validate_params()


# --- capabilities -----------------------------------------------------------------------


@pytest.mark.parametrize("alias", sorted(LOSSES))
def test_per_sample_losses_are_weighted_means_of_their_rows(alias):
    loss = get_loss(alias)
    logits, y, _, weights = _batch()
    loss.set_class_counts(torch.tensor([3.0, 3.0, 2.0]))
    if not loss.per_sample:
        with pytest.raises(NotImplementedError):
            loss.per_sample_loss(logits, y)
        return
    loss.eval()  # EnsLoss is random in training mode
    torch.testing.assert_close(loss(logits, y, weights),
                               weighted_mean(loss.per_sample_loss(logits, y), weights))


def test_per_sample_is_derived_for_subclasses():
    class RowLoss(LossBase):
        def per_sample_loss(self, logits, y):
            return logits.sum(1)

    class BatchLoss(LossBase):
        def forward(self, logits, y, sample_weight=None):
            return logits.sum()

    class Child(RowLoss):
        pass

    class Declared(BatchLoss):
        per_sample = True

    assert RowLoss.per_sample and Child.per_sample and Declared.per_sample
    assert not BatchLoss.per_sample and not LossBase.per_sample
    assert not get_loss("dice").per_sample and get_loss("cross_entropy").per_sample


@pytest.mark.parametrize("alias", sorted(FAIRNESS))
def test_scalings_declare_that_they_reweight_rows(alias):
    term = get_fairness(alias)
    assert term.reweights_rows is isinstance(term, GroupScalingBase)


# --- the fairness objective -------------------------------------------------------------


@pytest.mark.parametrize("alias", sorted(FAIRNESS))
@pytest.mark.parametrize("training", [True, False])
def test_fairness_objective(alias, training):
    logits, y, sensitive, weights = _batch()
    batch = {"sample_weight": weights, "sensitive": sensitive,
             "sensitive_values": sensitive.double()}
    loss = CrossEntropyLoss()
    term = get_fairness(alias).set_groups([2, 3])
    reference = clone(term).set_groups([2, 3])
    logits.requires_grad_(True)
    total, terms = term.objective(loss, logits, y, batch, 1.5, training)
    assert set(terms) == {"data_loss", "fairness_penalty"}
    assert not any(value.requires_grad for value in terms.values())
    total.backward()
    assert torch.isfinite(logits.grad).all()
    with torch.no_grad():
        if isinstance(term, PenaltyBase):
            data_loss = loss(logits, y, weights)
            penalty = reference(logits, y, sensitive, weights, sensitive.double())
            expected = data_loss + 1.5 * penalty
        else:
            per_row = loss.per_sample_loss(logits, y)
            if training:
                reference.update(per_row, y, sensitive, weights)
            expected = reference(per_row, y, sensitive, weights, strength=1.5)
            data_loss = weighted_mean(per_row, weights)
            penalty = expected - data_loss
    assert torch.equal(total.detach(), expected)
    assert torch.equal(terms["data_loss"], data_loss)
    assert torch.equal(terms["fairness_penalty"], penalty)


def test_group_dro_state_moves_on_training_batches_only():
    logits, y, sensitive, weights = _batch()
    batch = {"sample_weight": weights, "sensitive": sensitive}
    dro = WorstGroupLoss(step_size=1.0).set_groups([2, 3])
    start = dro.group_weights_.clone()
    dro.objective(CrossEntropyLoss(), logits, y, batch, 1.0, training=False)
    assert torch.equal(dro.group_weights_, start)
    dro.objective(CrossEntropyLoss(), logits, y, batch, 1.0, training=True)
    assert not torch.equal(dro.group_weights_, start)


# --- the callbacks ----------------------------------------------------------------------


def test_ldam_declares_the_loss_schedule_and_it_switches_drw_on():
    loss = LDAMLoss(drw_start=0.5)
    ((name, callback),) = loss.callbacks()
    assert name == "loss_schedule" and isinstance(callback, LossSchedule)
    net = _net(SimpleNamespace(loss=loss), max_epochs=10)
    active = []
    for _ in range(10):
        _run_epochs(net, callback, 1)
        active.append(loss.reweighting_active())
    assert loss.epoch_ == 9 and loss.max_epochs_ == 10
    assert active == [False] * 5 + [True] * 5  # from epoch ceil(0.5 * 10) on


def test_losses_without_a_schedule_declare_no_callback_but_overriders_do():
    assert CrossEntropyLoss().callbacks() == []

    class Recording(CrossEntropyLoss):
        def set_epoch(self, epoch, max_epochs):
            self.epochs_ = [*getattr(self, "epochs_", []), (epoch, max_epochs)]
            return self

    loss = Recording()
    ((_, callback),) = loss.callbacks()
    _run_epochs(_net(SimpleNamespace(loss=loss), max_epochs=3), callback, 3)
    assert loss.epochs_ == [(0, 3), (1, 3), (2, 3)]


def test_cape_refits_its_targets_on_calibration_epochs():
    loss = CaPELoss(n_bins=2, warmup_epochs=1, n_ce_epochs=1)
    assert [name for name, _ in loss.callbacks()] == ["loss_schedule", "refit_targets"]
    logits, y, _, weights = _batch(n=12, k=2)
    rows = SimpleNamespace(X=logits, y=y, sample_weight=weights, extras={})
    calls = []

    def predict_logits_tensor(X, cells=None):
        calls.append(len(net.history) - 1)
        return X  # the stand-in "model" returns its input as logits

    net = _net(SimpleNamespace(loss=loss), max_epochs=5)
    net.predict_logits_tensor = predict_logits_tensor
    for _ in range(5):
        net.history.new_epoch()
        for _, callback in loss.callbacks():
            callback.on_epoch_begin(net, dataset_train=rows, dataset_valid=None)
    assert calls == [1, 3]  # warm-up epoch 0, then every other epoch
    expected = clone(loss).update_targets(torch.softmax(logits, 1), y, weights)
    for fitted, reference in zip(loss.maps_[0], expected.maps_[0]):
        torch.testing.assert_close(fitted, reference)
    assert isinstance(loss.callbacks()[1][1], RefitTargets)


@pytest.mark.parametrize("alias", sorted(FAIRNESS))
def test_fairness_terms_declare_the_strength_warmup(alias):
    ((name, callback),) = get_fairness(alias).set_params(warmup=4).callbacks()
    assert name == "fairness_warmup" and isinstance(callback, StrengthWarmup)
    assert callback.warmup == 4


@pytest.mark.parametrize("warmup, expected", [
    (0, [3.0, 3.0, 3.0, 3.0]),
    (1, [3.0, 3.0, 3.0, 3.0]),
    (3, [1.0, 2.0, 3.0, 3.0]),
])
def test_strength_warmup_ramps_and_records_every_epoch(warmup, expected):
    objective = SimpleNamespace(fairness_strength=3.0, strength=3.0)
    net = _net(objective)
    seen = []
    for _ in range(4):
        _run_epochs(net, DemographicParity(warmup=warmup).callbacks()[0][1], 1)
        seen.append(objective.strength)
    assert seen == pytest.approx(expected)
    assert net.history[:, "fairness_strength"] == pytest.approx(expected)
    assert objective.fairness_strength == 3.0


# --- helpers and imports ----------------------------------------------------------------


def test_tensor_helpers():
    like = torch.zeros(3, 2, dtype=torch.float64)
    assert torch.equal(row_weights(None, like), torch.ones(3, dtype=torch.float64))
    assert row_weights([1, 2, 3], like).dtype == torch.float64
    assert torch.equal(one_hot(torch.tensor([1, 0]), 3),
                       torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    assert one_hot(torch.tensor([1, 0])).shape == (2, 2)
    assert accumulation_dtype(torch.zeros(1, dtype=torch.float32)) == torch.float64
    assert float(weighted_mean(torch.tensor([1.0, 3.0]), torch.zeros(2))) == 0.0


def test_calibration_reexports_the_moved_losses_without_importing_torch():
    code = (
        "import sys\n"
        "import sklearn_fairloss.calibration as calibration\n"
        "assert 'torch' not in sys.modules\n"
        "from sklearn_fairloss import losses\n"
        "for name in ('CaPELoss', 'EnsLoss', 'SampleDependentFocalLoss'):\n"
        "    assert getattr(calibration, name) is getattr(losses, name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert LOSSES["cape"] is CaPELoss  # registered directly, no lazy factory
    assert isinstance(get_loss("flsd_53"), LossBase)
    assert isinstance(get_fairness("error_bound_reweighting"), GroupScalingBase)
    assert isinstance(get_fairness("febs"), PenaltyBase)  # FairSeg's Dice term is added
