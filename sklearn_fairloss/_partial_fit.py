"""``FairLossClassifier.partial_fit``: training on chunks of rows that arrive one at a time.

Each call trains the network for one pass over the rows it is given (as
``MLPClassifier.partial_fit`` does), continuing from the previous call's weights and optimizer
state, so that data larger than memory trains partition by partition (a loop over Dask
partitions or parquet files, or dask-ml's ``Incremental``). What ``fit`` learns from the whole
training set is learned here from the first call's rows and kept: the feature encoding
(scaling and categories), the protected groups, a weighting strategy; the class prior used by
the prior correction and by ``decision="balanced"`` accumulates over all calls. Nothing is held
out, so the parts that need held-out rows (early stopping, post-hoc calibration, tuned or
per-group decisions, ``fairness_bound``) are refused with an error naming the parameter.

A :class:`StreamState` carries what the calls share; it holds sums over the rows seen, never
the rows themselves.
"""

import copy
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import column_or_1d

from ._groups import GroupEncoder
from ._net import resolve_device
from ._parts import resolve_parts
from ._post_training import prior_shift
from ._prepare import (
    TrainingData,
    _validate_X_y,
    check_same_length,
    class_codes,
    class_weight_per_class,
    encode_features,
)
from ._training import (
    batch_composition,
    history_frame,
    network_settings,
    new_network,
    tensor_rows,
    training_objective,
)
from ._validation import check_sample_weight, split_sensitive_columns
from .losses import CaPELoss
from .postprocessing import GroupThresholds
from .weighting import WeightedBatchSampler, check_strategy

__all__ = ["StreamState", "check_streamable", "partial_fit"]


@dataclass
class StreamState:
    """What successive ``partial_fit`` calls share (fitted state and sums, no rows).

    Attributes
    ----------
    net : FairLossNet
        The network being trained; the estimator's ``net_`` is this object.
    feature_encoder, group_encoder, strategy
        Learned on the first call's rows (the encoder of ``X``, the protected groups, a
        weighting strategy), applied to every later call.
    sensitive_columns : list or None
        Columns of a DataFrame ``X`` named as ``sensitive_features`` in the first call.
    prior_mass, trained_mass : ndarray of shape (n_classes,)
        Per class, the sum of the user's ``sample_weight`` and of the training weights over
        every row seen.
    seed : int
    n_calls : int
    """

    net: object
    feature_encoder: object
    group_encoder: object
    strategy: object
    sensitive_columns: object
    prior_mass: np.ndarray
    trained_mass: np.ndarray
    seed: int
    n_calls: int = 0


def check_streamable(est, parts):
    """Refuse the settings that need the whole training set or held-out rows, naming the
    parameter and what to do instead."""
    if est.fairness_bound is not None:
        raise ValueError("fairness_bound certifies the bound on held-out rows of one fit; "
                         "partial_fit holds none. Use fairness_strength with partial_fit, and "
                         "measure the metric on a held-out partition.")
    if parts.post_calibrator is not None:
        raise ValueError(f"post_calibration={est.post_calibration!r} is fitted on held-out rows,"
                         " which partial_fit does not keep; set post_calibration=None and "
                         "calibrate afterwards on a held-out partition (for example "
                         "CalibratedClassifierCV(FrozenEstimator(clf), method='temperature')).")
    rule = parts.decision_rule
    if rule.needs_held_out or rule.needs_proba or isinstance(rule, GroupThresholds):
        raise ValueError(f"decision={est.decision!r} is fitted on the training or held-out "
                         "rows of one fit; partial_fit supports 'argmax', 'proba', 'balanced' "
                         "and a fixed float threshold.")
    if isinstance(parts.batch_sampler, WeightedBatchSampler):
        raise ValueError("batch_sampler=WeightedBatchSampler(...) schedules its sampling over "
                         "the epochs of one fit; partial_fit supports None and 'stratified'.")
    if isinstance(est.class_weight, str):
        raise ValueError("class_weight='balanced' needs the class counts of the whole data, "
                         "which partial_fit does not see; pass a dict, for example "
                         "dict(zip(classes, compute_class_weight('balanced', classes=classes, "
                         "y=y_all))).")
    if isinstance(parts.loss, CaPELoss):
        raise ValueError("loss=CaPELoss refits its targets on every training row between "
                         "epochs; use it with fit.")


def _first_call_classes(classes):
    if classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit: every "
                         "class label the stream can hold, for example classes=np.unique(y) "
                         "over all partitions.")
    classes = unique_labels(classes)
    if len(classes) < 2:
        raise ValueError(f"classes must list at least 2 classes; got {classes.tolist()}.")
    return classes


def _weights(est, y, y_codes, classes, sensitive, sample_weight, strategy):
    """User weights and training weights of a chunk (``strategy`` already fitted, or None)."""
    user = check_sample_weight(sample_weight, len(y_codes), reference="X")
    user = np.ones(len(y_codes)) if user is None else user
    weights = user
    if strategy is not None:
        weights = weights * strategy.compute(y, sensitive)
    weights = weights * class_weight_per_class(est.class_weight, classes, y_codes)[y_codes]
    return user, weights


def _first_chunk(est, X, y, sample_weight, sensitive_features, classes, seed):
    """The first call's rows as :class:`~._prepare.TrainingData`, with the encoders learned
    on them."""
    X, feature_encoder, y, y_codes, classes, n_features, names, sensitive, columns = \
        _validate_X_y(est, X, y, sensitive_features, seed, classes=classes)
    strategy = None
    if est.sample_weight_strategy is not None:
        strategy = check_strategy(est.sample_weight_strategy)
        user = check_sample_weight(sample_weight, len(y_codes), reference="X")
        strategy.fit(y, sensitive, sample_weight=np.ones(len(y_codes)) if user is None else user)
    user, weights = _weights(est, y, y_codes, classes, sensitive, sample_weight, strategy)
    encoder = groups = None
    if sensitive is not None:
        encoder = GroupEncoder().fit(sensitive, n_samples=len(y_codes), reference="X")
        groups = encoder.transform(sensitive)
    return _chunk(X, feature_encoder, y_codes, classes, n_features, names, user, weights,
                  strategy, sensitive, columns, encoder, groups, seed)


def _chunk(X, feature_encoder, y_codes, classes, n_features, names, user, weights, strategy,
           sensitive, columns, group_encoder, groups, seed):
    n = len(y_codes)
    return TrainingData(
        X=X, feature_encoder=feature_encoder, y_codes=y_codes, classes=classes,
        n_features_in=n_features, feature_names_in=names, user_weights=user, weights=weights,
        strategy=strategy, sensitive=sensitive, sensitive_columns=columns,
        group_encoder=group_encoder, groups=groups, train_index=np.arange(n), valid_index=None,
        seed=seed, early_stopping=False)


def _next_chunk(est, state, X, y, sample_weight, sensitive_features):
    """A later call's rows, encoded with what the first call learned (``est`` is fitted)."""
    if sensitive_features is not None and state.group_encoder is None:
        raise ValueError("sensitive_features were not passed to the first partial_fit call, "
                         "so the model has no groups; pass them from the first call on.")
    if sensitive_features is None and state.sensitive_columns is not None:
        sensitive_features = state.sensitive_columns
    sensitive, columns = split_sensitive_columns(X, sensitive_features)
    if state.group_encoder is not None and sensitive is None:
        raise ValueError("sensitive_features were passed to the first partial_fit call: pass "
                         "them to every call.")
    if columns is not None and not est.sensitive_as_input:
        X = X.drop(columns=columns)
    check_same_length(X, y=y)
    X = encode_features(est, X)  # the feature count and names checked against the first call
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    classes = est.classes_
    y_codes = class_codes(y, classes)
    user, weights = _weights(est, y, y_codes, classes, sensitive, sample_weight, state.strategy)
    groups = None
    if sensitive is not None:
        try:
            groups = state.group_encoder.transform(sensitive, n_samples=len(y_codes))
        except ValueError as exc:
            raise ValueError(
                f"{exc} partial_fit learns the groups from its first call: make sure the first "
                "partition holds every group (for example a stratified sample of the stream), "
                "or fit on data that does.") from exc
    return _chunk(X, state.feature_encoder, y_codes, classes, est.n_features_in_,
                  getattr(est, "feature_names_in_", None), user, weights, state.strategy,
                  sensitive, columns, state.group_encoder, groups, state.seed)


def _state_after_fit(est, parts, device):
    """A :class:`StreamState` that continues the network of a model trained by ``fit``: a new
    net without held-out rows, started from the fitted weights and optimizer state."""
    previous = est.net_
    state = StreamState(
        net=None, feature_encoder=est._feature_encoder,
        group_encoder=getattr(est, "_group_encoder", None),
        strategy=est.sample_weight_strategy_, sensitive_columns=est._sensitive_columns,
        prior_mass=np.zeros(len(est.classes_)), trained_mass=np.zeros(len(est.classes_)),
        seed=int(previous.generator.initial_seed()) if previous.generator is not None else 0)
    if est.sensitive_names_ is not None and state.group_encoder is None:
        raise ValueError("this model was fitted before partial_fit kept its groups; refit it.")
    return state


def _build_net(est, parts, data, objective, sampler, device, rows):
    settings = network_settings(est, parts, early_stopping=False)
    settings["max_epochs"] = 1
    net = new_network(parts, data, objective, sampler, device, rows, None, settings)
    net.batch_size = int(est.batch_size)  # build_net caps it at the first chunk's rows
    return net


def _train_pass(net, rows, seed, device, first):
    """One pass over ``rows``, seeded; the first builds the module, the others continue."""
    cuda_devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        if first:
            net.fit(rows, None)
        else:
            net.partial_fit(rows, None, epochs=1)
    if net.__dict__.pop("interrupted_", False):
        raise KeyboardInterrupt("training was interrupted")
    net.forget_training_data()


def partial_fit(est, X, y, classes, sample_weight, sensitive_features):
    """One ``partial_fit`` call of ``est``; returns the fitted attributes to assign (none
    is set here). See :meth:`FairLossClassifier.partial_fit`."""
    parts = resolve_parts(est)  # parameter errors come first, as in fit
    check_streamable(est, parts)
    device = resolve_device(est.device)
    state = est.__dict__.get("_stream")
    fitted_net = est.__dict__.get("net_")
    first = fitted_net is None
    if first:
        classes = _first_call_classes(classes)
        seed = int(check_random_state(est.random_state).randint(np.iinfo(np.int32).max))
        data = _first_chunk(est, X, y, sample_weight, sensitive_features, classes, seed)
        objective = training_objective(est, parts, data)
        sampler = batch_composition(est, parts.batch_sampler, data)
        rows = tensor_rows(data, None, device)
        state = StreamState(
            net=None, feature_encoder=data.feature_encoder, group_encoder=data.group_encoder,
            strategy=data.strategy, sensitive_columns=data.sensitive_columns,
            prior_mass=np.zeros(len(classes)), trained_mass=np.zeros(len(classes)), seed=seed)
        state.net = _build_net(est, parts, data, objective, sampler, device, rows)
        _train_pass(state.net, rows, seed, device, first=True)
    else:
        if classes is not None and not np.array_equal(unique_labels(classes), est.classes_):
            raise ValueError(f"classes={unique_labels(classes).tolist()} differs from the "
                             f"classes of the first partial_fit call, {est.classes_.tolist()}.")
        continuing_fit = state is None or state.net is not fitted_net
        if continuing_fit:
            state = _state_after_fit(est, parts, device)
        else:
            state = copy.copy(state)  # a failed call leaves the previous state as it was
            state.prior_mass, state.trained_mass = (state.prior_mass.copy(),
                                                   state.trained_mass.copy())
        data = _next_chunk(est, state, X, y, sample_weight, sensitive_features)
        objective = fitted_net.criterion_
        sampler = batch_composition(est, parts.batch_sampler, data)
        rows = tensor_rows(data, None, device)
        if continuing_fit:
            state.net = _continued_net(est, parts, data, objective, sampler, device, rows,
                                       fitted_net)
        snapshot = _snapshot(state.net)
        state.net.strata = sampler["strata"]
        try:
            _train_pass(state.net, rows, state.seed + state.n_calls, device, first=False)
            history = history_frame(state.net, False, data.X, progress=False)
        except BaseException:
            _restore(state.net, snapshot)
            raise
    if first:
        history = history_frame(state.net, False, data.X, progress=False)
    state.n_calls += 1
    n_classes = len(data.classes)
    state.prior_mass += np.bincount(data.y_codes, weights=data.user_weights,
                                    minlength=n_classes)
    state.trained_mass += np.bincount(data.y_codes, weights=data.weights, minlength=n_classes)
    loss = state.net.criterion_.loss
    if not first:  # class-count-aware losses follow the counts seen so far
        loss.set_class_counts(torch.as_tensor(state.trained_mass, dtype=torch.float32).to(
            device))
    prior = state.prior_mass / state.prior_mass.sum()
    shift = prior_shift(prior, state.trained_mass, loss)
    rule = parts.decision_rule
    rule.fit(None, data.y_codes, sample_weight=data.user_weights, class_prior=prior,
             log_prior_shift=shift)
    objective = state.net.criterion_
    encoder = state.group_encoder
    fitted = {
        "net_": state.net, "_stream": state, "class_prior_": prior, "_log_prior_shift": shift,
        "post_calibrator_": None, "decision_rule_": rule,
        "threshold_": getattr(rule, "threshold_", None), "group_thresholds_": None,
        "classes_": data.classes, "n_features_in_": data.n_features_in, "history_": history,
        "n_iter_": len(history), "do_early_stopping_": False,
        "sensitive_names_": None if encoder is None else encoder.names_,
        "sensitive_groups_": None if encoder is None else encoder.categories_,
        "loss_": objective.loss, "fairness_": objective.fairness,
        "calibration_": objective.calibration, "sample_weight_strategy_": state.strategy,
        "_sensitive_columns": state.sensitive_columns,
        "_feature_encoder": state.feature_encoder, "_group_encoder": encoder,
        "_dropped_sensitive_columns": (None if est.sensitive_as_input
                                       else state.sensitive_columns)}
    if data.feature_names_in is not None:
        fitted["feature_names_in_"] = data.feature_names_in
    return fitted


def _continued_net(est, parts, data, objective, sampler, device, rows, previous):
    """A net for ``partial_fit`` that starts from a ``fit``-trained net's weights, optimizer
    state and history."""
    net = _build_net(est, parts, data, objective, sampler, device, rows)
    net.initialize()
    net.module_.load_state_dict(previous.module_.state_dict())
    net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
    for row in previous.history:
        net.history.append(copy.deepcopy(dict(row)))
    net.generator = previous.generator
    return net


def _snapshot(net):
    """The net's weights, optimizer state and history length, to undo a failed call."""
    return (copy.deepcopy(net.module_.state_dict()), copy.deepcopy(net.optimizer_.state_dict()),
            len(net.history), net.generator.get_state())


def _restore(net, snapshot):
    module, optimizer, n_epochs, generator = snapshot
    net.module_.load_state_dict(module)
    net.optimizer_.load_state_dict(optimizer)
    del net.history[n_epochs:]
    net.generator.set_state(generator)
