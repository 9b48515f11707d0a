"""The training step of :meth:`FairLossClassifier.fit`: the objective, the batch
composition and the skorch net, trained on the prepared :class:`~._prepare.TrainingData`.

Functions of the estimator's parameters (read only) and the resolved parts; they set nothing
on the estimator.
"""

import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning

from ._backbone import linear_start
from ._callbacks import EarlyStoppingFromStart
from ._net import SamplingSchedule, TensorRows, TrainingObjective, build_net
from ._validation import take_rows
from .losses import CrossEntropyLoss
from .weighting import check_strategy

__all__ = ["batch_composition", "check_progress", "history_frame", "network_settings",
           "identity_normalization_settings", "kept_epoch", "new_network", "sampled_class_mass",
           "start_kept", "tensor_rows", "train_network", "training_objective",
           "training_outcome", "unfinished_schedules"]


def training_objective(est, parts, data):
    """The training objective: the parts set up for this data (and the decision rule checked
    against it, so that a rule the data cannot serve fails before training)."""
    rule = parts.decision_rule
    where = ("group_thresholds" if est.group_thresholds is not None
             else f"decision={est.decision!r}")
    rule._check_n_classes(data.n_classes, where)
    if rule.requires_sensitive_features and data.groups is None:
        raise ValueError(f"{where} chooses one threshold per group: pass sensitive_features "
                         "to fit.")
    if getattr(rule, "prior", None) == "uniform" and np.any(data.class_prior() == 0):
        empty = data.classes[data.class_prior() == 0].tolist()
        raise ValueError(f"{where} divides by the class prior, but class(es) {empty} have zero "
                         "total sample_weight; give them weight or use decision='argmax'.")
    if parts.identity_normalization is not None and data.groups is None:
        raise ValueError("identity_normalization normalises the hidden features per group: "
                         "pass sensitive_features to fit (and to predict).")
    _warn_unused_groups(est, parts, data)
    loss, fairness = parts.loss, parts.fairness
    if fairness is not None:
        if data.groups is None:
            raise ValueError(f"fairness={est.fairness!r} needs the protected attribute(s): "
                             "pass sensitive_features to fit.")
        if fairness.reweights_rows and not loss.per_sample:
            raise ValueError(
                f"fairness={est.fairness!r} reweights per-row losses, but loss={est.loss!r}"
                " is not a mean of per-row losses; use a penalty such as DemographicParity, "
                "or a per-row loss such as cross_entropy.")
        fairness.set_groups(data.group_encoder.n_groups_, numeric=data.group_encoder.numeric_)
        if hasattr(fairness, "set_group_counts"):  # group DRO's adjustment C / sqrt(n_g)
            fairness.set_group_counts(data.groups.codes[data.train_index])
    train = data.train_index
    counts = np.bincount(data.y_codes[train], weights=data.weights[train],
                         minlength=data.n_classes)
    loss.set_class_counts(torch.as_tensor(counts, dtype=torch.float32))
    return TrainingObjective(loss, fairness, float(est.fairness_strength), parts.calibration,
                             float(est.calibration_strength))


def _warn_unused_groups(est, parts, data):
    """Groups passed to a model that cannot use them are a silent no-op: warn."""
    if data.groups is None or (data.sensitive_columns and not est.sensitive_as_input):
        return
    sampler = parts.batch_sampler
    users = [parts.fairness is not None,
             data.strategy is not None and data.strategy._uses_groups(),
             sampler is not None and (hasattr(sampler, "strata") or
                                      check_strategy(sampler.strategy)._uses_groups()),
             parts.post_calibrator is not None
             and parts.post_calibrator.requires_sensitive_features,
             parts.decision_rule.requires_sensitive_features,
             parts.identity_normalization is not None]
    if not any(users):
        warnings.warn(
            "sensitive_features were passed to fit, but no part of this model uses them: it "
            "trains exactly as without them. Set fairness=..., a group weighting strategy, "
            "batch_sampler='stratified', a per-group post_calibration, "
            "decision=GroupThresholds(...) or identity_normalization=True.", UserWarning,
            stacklevel=5)


def _continue_from(net, est, data):
    """``warm_start``: start ``net`` from the previous fit's weights and optimizer state."""
    previous = est.net_
    if est.n_features_in_ != data.n_features_in or not np.array_equal(est.classes_,
                                                                        data.classes):
        raise ValueError("warm_start=True continues the previous fit, which needs the same "
                         f"features and classes: it had {est.n_features_in_} features and "
                         f"classes {est.classes_.tolist()}; set warm_start=False to refit.")
    net.initialize()
    try:
        net.module_.load_state_dict(previous.module_.state_dict())
    except RuntimeError as exc:
        raise ValueError("warm_start=True needs the same network as the previous fit "
                         "(hidden_layer_sizes, ensemble_size, numerical_embedding, "
                         "linear_start, identity_normalization and its groups, the "
                         "categories of categorical columns); set "
                         "warm_start=False to refit."
                         ) from exc
    net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
    net.warm_start = True


def tensor_rows(data, index, device):
    """Rows ``index`` of the prepared data as :class:`TensorRows` on ``device``; ``index=None``
    (every row) or a range of rows makes no copy (on the CPU the tensors share the arrays'
    memory)."""
    if index is not None and len(index) and index[-1] - index[0] == len(index) - 1 and \
            np.all(np.diff(index) == 1):
        index = slice(int(index[0]), int(index[-1]) + 1)  # a range of rows: views, no copy

    def take(values):
        return values if index is None else values[index]

    extras = {} if data.groups is None else {"sensitive": take(data.groups.codes),
                                             "sensitive_values": take(data.groups.values),
                                             "cells": take(data.groups.cells)}
    return TensorRows(
        torch.as_tensor(take(data.X), device=device),
        torch.as_tensor(take(data.y_codes), dtype=torch.long, device=device),
        torch.as_tensor(take(data.weights), dtype=torch.float32, device=device),
        {key: torch.as_tensor(value, device=device) for key, value in extras.items()})


def network_settings(est, parts, early_stopping):
    """The estimator's network and optimisation settings, as :func:`build_net` reads them."""
    settings = {name: getattr(est, name) for name in (
        "activation", "dropout", "ensemble_size", "numerical_embedding", "embedding_scale",
        "linear_start",
        "lr", "weight_decay",
        "batch_size", "max_epochs", "n_iter_no_change", "tol", "verbose")}
    settings["early_stopping"] = early_stopping
    settings["hidden_layer_sizes"] = parts.hidden_layer_sizes
    # the fitted start competes with the epochs (not under fairness_bound, whose own
    # callback chooses the epoch kept)
    settings["score_start"] = bool(est.linear_start) and est.fairness_bound is None
    return settings


def identity_normalization_settings(parts, data):
    """The keyword arguments of the network's identity normalisation (the number of group
    cells, the options, and the cells' shares of the user's weight on the training rows, the
    weights of the average an unseen group gets), or None when it is off."""
    options = parts.identity_normalization
    if options is None:
        return None
    n_groups = len(data.group_encoder.cells_)
    train = data.train_index
    mass = np.bincount(data.groups.cells[train], weights=data.user_weights[train],
                       minlength=n_groups)
    return {"n_groups": n_groups, "momentum": float(options["momentum"]),
            "mu_scale": float(options["mu_scale"]),
            "sigma_scale": float(options["sigma_scale"]),
            "group_weights": mass if mass.sum() > 0 else np.ones(n_groups)}


def new_network(parts, data, objective, sampler, device, train_rows, valid_rows, settings):
    """An untrained :class:`FairLossNet` for the prepared data (call inside the seeded
    random state: the module's weights are drawn when it is initialised)."""
    encoder = data.feature_encoder
    return build_net(n_numerical=encoder.n_numerical_, n_binary=encoder.n_binary_,
                     cardinalities=encoder.cardinalities_,
                     n_classes=data.n_classes,
                     objective=objective, optimizer=parts.optimizer,
                     train_rows=train_rows, valid_rows=valid_rows,
                     sampler=sampler,
                     settings=settings, user_callbacks=parts.callbacks, seed=data.seed,
                     device=device,
                     identity_normalization=identity_normalization_settings(parts, data))


def train_network(est, parts, data, objective, sampler, device):
    """Build the skorch net and train it on the training rows (seeded, device-resident)."""
    train_rows = tensor_rows(data, data.train_index, device)
    valid_rows = tensor_rows(data, data.valid_index, device) if data.early_stopping else None
    settings = network_settings(est, parts, data.early_stopping)
    cuda_devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(data.seed)
        net = new_network(parts, data, objective, sampler, device, train_rows, valid_rows,
                          settings)
        continuing = est.warm_start and getattr(est, "net_", None) is not None
        if continuing:
            _continue_from(net, est, data)
        net.fit(train_rows, None)
    if net.__dict__.pop("interrupted_", False):
        raise KeyboardInterrupt("training was interrupted; the estimator is left unfitted")
    if start_kept(net) and not continuing:
        _keep_linear_start(net, parts, data, objective, sampler, device)
    return net.forget_training_data()


def start_kept(net):
    """Whether early stopping kept the starting model: no epoch improved its held-out loss."""
    stopping = dict(net.callbacks_).get("stopping")
    return isinstance(stopping, EarlyStoppingFromStart) and stopping.best_epoch_ == 0


def _keep_linear_start(net, parts, data, objective, sampler, device):
    """No epoch beat the logistic-regression start on the held-out rows, so the model is that
    logistic regression: refit it on every training row (the held-out ones too, as a refit
    after model selection does), unless a post-processing step needs the held-out rows unseen.
    Warn when a configured training term therefore never acted."""
    idle = [name for name, present in (
        (f"fairness={type(objective.fairness).__name__}", objective.fairness is not None),
        (f"calibration={type(objective.calibration).__name__}",
         objective.calibration is not None),
        (f"loss={type(objective.loss).__name__}",
         type(objective.loss) is not CrossEntropyLoss),
        ("temperature sampling", sampler["weights"] is not None)) if present]
    if idle:
        warnings.warn(
            "No training epoch improved the held-out loss of the starting logistic regression "
            f"(linear_start=True), so the model kept is that start: {', '.join(idle)} never "
            "acted on it. Set linear_start=False, or raise max_epochs or lr.", UserWarning,
            stacklevel=5)
    if parts.needs_held_out():
        return
    rows = tensor_rows(data, np.concatenate([data.train_index, data.valid_index]), device)
    encoder = data.feature_encoder
    weight, intercept, tables = linear_start(
        rows.X, rows.y, rows.sample_weight, encoder.n_numerical_, encoder.n_binary_,
        encoder.cardinalities_, data.n_classes, seed=data.seed)
    module = net.module_
    with torch.no_grad():
        module.linear.weight.copy_(weight)
        module.linear.bias.copy_(intercept)
        for embedding, table in zip(module.linear_categorical, tables):
            embedding.weight.copy_(table)


def batch_composition(est, sampler, data):
    """Batch composition: stratum codes or temperature-sampling weights of the training
    rows, and the first uniform epoch (after which the cooldown samples uniformly)."""
    spec = {"strata": None, "weights": None, "uniform_from": None}
    train = data.train_index
    codes = None if data.groups is None else data.groups.codes[train]
    if sampler is None:
        return spec
    if hasattr(sampler, "strata"):
        spec["strata"] = torch.as_tensor(sampler.strata(data.y_codes[train], codes),
                                         dtype=torch.long)
        return spec
    sensitive = None if data.sensitive is None else take_rows(data.sensitive, train)
    per_row = sampler.row_weights(data.y_codes[train], sensitive)
    spec["weights"] = torch.as_tensor(per_row, dtype=torch.float64)
    spec["uniform_from"] = int(np.ceil((1 - sampler.cooldown) * est.max_epochs))
    spec["cooldown_schedule"] = getattr(sampler, "cooldown_schedule", "step")
    # the class mass of an epoch sampling with weights v is bincount(labels, row_weights * v)
    spec["labels"], spec["row_weights"] = data.y_codes[train], data.weights[train]
    spec["n_classes"] = data.n_classes
    return spec


def history_frame(net, early_stopping, X, progress=True):
    """The net's history as a DataFrame: an error when training diverged, a warning when it
    made no progress (:func:`check_progress`, on the training features ``X``; not with
    ``progress=False``)."""
    columns = ["epoch", "train_loss"] + (["valid_loss"] if early_stopping else [])
    columns += net.criterion_.term_names()
    if net.criterion_.fairness is not None:
        columns.append("fairness_strength")
    history = pd.DataFrame([{key: row[key] for key in columns + ["dur"]}
                            for row in net.history])
    if not np.all(np.isfinite(history["train_loss"].to_numpy())):
        raise ValueError("Training diverged: the training loss is not finite. Scale the "
                         "features (for example with StandardScaler) or lower lr.")
    if progress:
        check_progress(history, X,
                       from_linear_start=getattr(net.module_, "linear", None) is not None)
    return history


def check_progress(history, X, from_linear_start=False):
    """Warn when training made no progress (``ConvergenceWarning``: the training loss of no
    later epoch is 0.1 % below the first epoch's; not when training started from a fitted
    logistic regression, ``linear_start``, whose loss may rightly stay), or when the features
    are so far from unit scale (above 1e6 in absolute value) that the network saturates
    (``UserWarning``); both messages say to scale the features."""
    loss = history["train_loss"].to_numpy()
    scale = float(max(X.max(), -X.min())) if X.size else 0.0  # no temporary copy of X
    hint = (f" The features reach {scale:.3g} in absolute value: scale them (for example with "
            "StandardScaler)." if scale > 1e3 else " Try a larger lr or scaled features.")
    if (not from_linear_start and len(loss) >= 2
            and loss[1:].min() > loss[0] - 1e-3 * abs(loss[0])):
        warnings.warn(f"Training made no progress: the training loss stayed near {loss[0]:.4g} "
                      f"for {len(loss)} epochs.{hint}", ConvergenceWarning, stacklevel=6)
    elif scale > 1e6:
        warnings.warn(f"The network saturates on features this large.{hint}", UserWarning,
                      stacklevel=6)


def kept_epoch(net, early_stopping):
    """0-based index of the epoch whose model is kept: the best epoch under early stopping,
    else the last."""
    stopping = dict(net.callbacks_)["stopping"]
    return (stopping.best_epoch_ - 1 if early_stopping and hasattr(stopping, "best_epoch_")
            else len(net.history) - 1)


def unfinished_schedules(net, kept):
    """Warn for every epoch schedule that never acted on the model kept (0-based epoch
    ``kept``)."""
    for _, callback in net.callbacks_:
        message = callback.unfinished(net, kept) if hasattr(callback, "unfinished") else None
        if message:
            warnings.warn(message, UserWarning, stacklevel=5)


def sampled_class_mass(sampler, net, kept, from_start=False):
    """The class mass the model kept (0-based epoch ``kept``) was trained on under temperature
    sampling, for the prior correction: the mass of that epoch's sampling weights (the
    strategy's before the cooldown; part-way through a ``"linear"`` cooldown, the tempered
    weights of that epoch). None when that epoch sampled uniformly (a cooldown that ran
    restores the data's prior) or the model kept is the logistic-regression start
    (``from_start``: fitted on the data's own prior)."""
    if sampler["weights"] is None or from_start:
        return None
    schedule = SamplingSchedule(sampler["weights"], sampler["uniform_from"],
                                sampler["cooldown_schedule"])
    weights = schedule.weights_at(kept, net.max_epochs)
    if weights is None:
        return None
    return np.bincount(sampler["labels"], weights=sampler["row_weights"] * weights.numpy(),
                       minlength=sampler["n_classes"])


def training_outcome(net, early_stopping, X, sampler):
    """What training gave: the history (checked for divergence and progress), warnings for
    the schedules that never acted, and the sampled class mass for the prior correction."""
    history = history_frame(net, early_stopping, X)
    kept = kept_epoch(net, early_stopping)
    unfinished_schedules(net, kept)
    return history, sampled_class_mass(sampler, net, kept, from_start=start_kept(net))
