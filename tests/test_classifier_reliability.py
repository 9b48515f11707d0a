"""Reliability of FairLossClassifier: no silent wrong answers, no half-fitted models, saved
models that carry no training data. Each test reproduces a finding of the reliability review
(it fails on the code before the fix)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.losses import LossBase
from sklearn_fairloss.postprocessing import GroupThresholds, TemperatureScaling

PARAMS = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X[:, 0] + 0.5 * rng.normal(size=2000) > 0).astype(int)
    group = rng.integers(0, 2, 2000)
    return X, y, group


def _arrays(obj, seen=None, depth=0):
    """Every numpy array and torch tensor reachable from ``obj``'s attributes."""
    import torch

    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 10:
        return
    seen.add(id(obj))
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        yield obj
        return
    if isinstance(obj, dict):
        values = obj.values()
    elif isinstance(obj, (list, tuple)):
        values = obj
    elif hasattr(obj, "__dict__"):
        values = vars(obj).values()
    else:
        return
    for value in list(values):
        yield from _arrays(value, seen, depth + 1)


def test_a_saved_model_holds_no_training_row(data):
    X, y, group = data
    clf = FairLossClassifier(**PARAMS, early_stopping=True, fairness="demographic_parity",
                             batch_sampler="stratified").fit(X, y, sensitive_features=group)
    restored = pickle.loads(pickle.dumps(clf))
    n_rows = {len(X), int(0.9 * len(X)), len(X) - int(0.9 * len(X))}
    per_row = [a.shape for a in _arrays(restored) if a.ndim and a.shape[0] in n_rows]
    assert per_row == []
    # the file is the parameters (and the optimizer's two moments), not the data
    n_params = sum(p.numel() for p in restored.net_.module_.parameters()) * 4
    assert len(pickle.dumps(clf)) < 10 * n_params + 50_000
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


class _InterruptAt(Callback):
    """Raise KeyboardInterrupt at one training batch, as Ctrl-C does."""

    def __init__(self, batch=3):
        self.batch = batch

    def initialize(self):
        self.count_ = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.count_ += 1
            if self.count_ == self.batch:
                raise KeyboardInterrupt


@pytest.mark.parametrize("batch", [1, 7, 40])
def test_an_interrupted_fit_propagates_and_leaves_the_estimator_unfitted(data, batch):
    X, y, _ = data
    clf = FairLossClassifier(**PARAMS, post_calibration="temperature", early_stopping=True)
    clf.fit(X, y)  # a previous model must not survive either
    with pytest.raises(KeyboardInterrupt):
        clf.set_params(callbacks=[_InterruptAt(batch)]).fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not [name for name in vars(clf) if name.endswith("_")]


def test_early_stopping_is_not_mistaken_for_an_interruption(data):
    X, y, _ = data
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 200}, early_stopping=True,
                             n_iter_no_change=2, lr=0.05).fit(X, y)
    assert clf.n_iter_ < 200


@pytest.mark.parametrize("scale, warning", [(1e30, ConvergenceWarning), (1e10, UserWarning)])
def test_unscaled_features_warn_with_a_hint(data, scale, warning):
    X, y, _ = data
    with pytest.warns(warning, match="scale them"):
        # the network from a random start: from the linear start, "no progress" is expected
        # and only the saturation warning is given
        FairLossClassifier(**{**PARAMS, "max_epochs": 5, "feature_scaling": None,
                                     "numerical_embedding": None, "linear_start": False}).fit(
            X * scale, y)


def test_quantile_scaling_makes_the_model_independent_of_the_unit(data):
    X, y, _ = data
    params = {**PARAMS, "max_epochs": 5}
    reference = FairLossClassifier(**params).fit(X, y).predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = FairLossClassifier(**params).fit(X * 1e10, y).predict_proba(X * 1e10)
    np.testing.assert_allclose(scaled, reference, atol=1e-3)


def test_scaled_features_train_without_warning(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FairLossClassifier(**PARAMS).fit(X, y)


class _NaNLoss(LossBase):
    """Cross-entropy that turns NaN: training diverges on the first batch."""

    def per_sample_loss(self, logits, y):
        return logits.sum(dim=1) * float("nan")


@pytest.mark.parametrize("after", [{"post_calibration": TemperatureScaling()},
                                   {"decision": GroupThresholds()}])
def test_a_diverged_fit_is_reported_as_divergence_and_leaves_no_model(data, after):
    X, y, group = data
    clf = FairLossClassifier(**PARAMS, loss=_NaNLoss(), **after)
    with pytest.raises(ValueError, match="Training diverged"):
        clf.fit(X, y, sensitive_features=group)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_balanced_decision_refuses_a_class_with_zero_weight_before_training(data):
    X, y, _ = data
    weights = np.where(y == 1, 0.0, 1.0)
    clf = FairLossClassifier(**PARAMS, decision="balanced")
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have zero total sample_weight"):
        clf.fit(X, y, sample_weight=weights)


def test_mixed_type_group_labels_train(data):
    X, y, _ = data
    group = np.array(["a", 1] * (len(y) // 2), dtype=object)
    clf = FairLossClassifier(**PARAMS, fairness="demographic_parity")
    clf.fit(X, y, sensitive_features=group)
    assert [list(g) for g in clf.sensitive_groups_] == [[1, "a"]]


def test_a_short_list_of_group_labels_is_a_length_error_not_column_names(data):
    X, y, _ = data
    frame = pd.DataFrame(X, columns=list("abcde"))
    labels = [f"g{i % 3}" for i in range(len(y) - 1)]
    with pytest.raises(ValueError, match="sensitive_features has 1999 rows but X has 2000"):
        FairLossClassifier(**PARAMS).fit(frame, y, sensitive_features=labels)


def test_missing_column_names_give_a_short_message(data):
    X, y, _ = data
    frame = pd.DataFrame(X[:, :1].repeat(300, axis=1),
                         columns=[f"feature_{j}" for j in range(300)])
    with pytest.raises(ValueError, match="not in X") as error:
        FairLossClassifier(**PARAMS).fit(frame, y, sensitive_features=["sex", "race"])
    assert len(str(error.value)) < 400


def test_a_text_sensitive_column_kept_as_input_points_to_sensitive_as_input(data):
    X, y, group = data
    frame = pd.DataFrame(X, columns=list("abcde")).assign(sex=np.where(group, "F", "M"))
    with pytest.raises(ValueError, match="sensitive_as_input=False"):
        FairLossClassifier(**PARAMS, categorical_features=None).fit(
            frame, y, sensitive_features="sex")
    embedded = FairLossClassifier(**PARAMS).fit(frame, y, sensitive_features="sex")
    assert embedded.n_features_in_ == 6 and embedded._feature_encoder.cardinalities_ == [3]
    clf = FairLossClassifier(**PARAMS, sensitive_as_input=False)
    clf.fit(frame, y, sensitive_features="sex")
    assert list(clf.feature_names_in_) == list("abcde")


def test_predict_on_a_read_only_frame_emits_no_torch_warning(data):
    X, y, _ = data
    clf = FairLossClassifier(**PARAMS).fit(X.astype(np.float32), y)
    frame = pd.DataFrame(X.astype(np.float32))
    frame_values = frame.to_numpy()
    frame_values.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict_proba(frame)
        clf.predict_proba(frame_values)


def test_an_interruption_inside_cross_validation_stops_it(data):
    from sklearn.model_selection import cross_val_score

    X, y, _ = data
    clf = FairLossClassifier(**PARAMS, callbacks=[_InterruptAt(2)])
    with pytest.raises(KeyboardInterrupt):  # not a NaN fold score and on to the next fold
        cross_val_score(clf, X, y, cv=3)
