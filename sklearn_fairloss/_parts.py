"""The estimator's parameters resolved into the parts that one ``fit`` composes.

:func:`resolve_parts` is the first thing :meth:`FairLossClassifier.fit` does: it checks the
estimator's own parameters against its ``_parameter_constraints``, turns string aliases into
fresh objects (loss, fairness term, calibration term, post-hoc calibrator, decision rule,
batch sampler), validates each object's parameters, and maps the deprecated spellings onto the
new ones with a ``FutureWarning``. So a bad parameter fails before any data is touched.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import clone

from ._backbone import ACTIVATIONS, EMBEDDING_SCALE, NUMERICAL_EMBEDDINGS
from ._features import FEATURE_SCALINGS
from ._param_validation import InstanceOf, Integer, Options, Real, Satisfies, validate_params
from ._registry import resolve_alias
from .calibration import get_calibration_penalty, get_post_calibrator
from .fairness import get_fairness
from .losses import get_loss
from .postprocessing import GroupThresholds, make_decision_rule
from .weighting import StratifiedBatchSampler, TemperatureSampling, WeightedBatchSampler

__all__ = ["IDENTITY_NORMALIZATION", "OPTIMIZERS", "PARAMETER_CONSTRAINTS", "TrainingParts",
           "resolve_parts"]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def _is_sizes(value):
    sizes = (value,) if isinstance(value, int) else value
    return isinstance(sizes, (tuple, list)) and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)


def _number(low, high=None, **kwargs):
    return [Real(low, high, noun="number", **kwargs)]


_BOOL = [Options(True, False)]

#: The constraints of FairLossClassifier's own parameters (its ``_parameter_constraints``).
# Objects (loss, fairness, calibration, post_calibration, sample_weight_strategy, decision,
# batch_sampler, group_thresholds) are checked by their resolvers and their own constraints.
PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": [Satisfies(_is_sizes, "a tuple of positive integers")],
    "activation": [Options(*ACTIVATIONS)],
    "dropout": _number(0, 1, high_open=True),
    "ensemble_size": [Integer(1)],
    "numerical_embedding": [None, Options(*NUMERICAL_EMBEDDINGS[:-1])],
    "embedding_scale": _number(0, low_open=True),
    "linear_start": _BOOL,
    "identity_normalization": [Options(True, False),
                               InstanceOf(dict, "True, False or a dict of options")],
    "feature_scaling": [None, Options(*FEATURE_SCALINGS[:-1])],
    "categorical_features": [Satisfies(
        lambda v: v is None or (isinstance(v, str) and v == "from_dtype")
        or (not isinstance(v, str) and np.ndim(v) == 1),
        "'from_dtype', None or an array-like of column names, positions or a boolean mask")],
    "class_weight": [Satisfies(lambda v: v is None or v == "balanced" or isinstance(v, dict),
                               "None, 'balanced' or a dict")],
    "fairness_strength": _number(0),
    "fairness_bound": [None, *_number(0, 1, low_open=True, high_open=True)],
    "fairness_confidence": _number(0, 1, low_open=True, high_open=True),
    "calibration_strength": _number(0),
    "optimizer": [Satisfies(lambda v: v in OPTIMIZERS if isinstance(v, str) else (
        isinstance(v, type) and issubclass(v, torch.optim.Optimizer)),
        f"one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer class")],
    "lr": _number(0, low_open=True),
    "weight_decay": _number(0),
    "batch_size": [Integer(1)],
    "max_epochs": [Integer(1)],
    "early_stopping": [Options("auto", True, False)],
    "warm_start": _BOOL,
    "validation_fraction": _number(0, 1, low_open=True, high_open=True),
    "n_iter_no_change": [Integer(1)],
    "tol": _number(0),
    "sensitive_as_input": _BOOL,
    "callbacks": [None, InstanceOf((list, tuple), "a list of skorch callbacks")],
    "random_state": [None, Integer(), InstanceOf(np.random.RandomState)],
    "verbose": [Integer(0), Options(True, False)],
    "fairness_warmup": [Integer(0)],
    "stratify_batches": _BOOL,
    "sampling_temperature": [None, *_number(0, low_open=True)],
    "sampling_cooldown": _number(0, 1),
}


_SAMPLERS = {"stratified": StratifiedBatchSampler}


@dataclass(frozen=True)
class TrainingParts:
    """Fresh, validated objects for one fit (the estimator's parameters are never modified)."""

    loss: object
    fairness: object
    calibration: object
    post_calibrator: object
    decision_rule: object
    batch_sampler: object
    optimizer: type
    hidden_layer_sizes: tuple
    callbacks: list
    identity_normalization: object = None

    def needs_held_out(self):
        """Whether a part needs held-out rows (early stopping is decided with the data)."""
        return bool(self.post_calibrator is not None or self.decision_rule.needs_held_out)


def _warn_deprecated(old, new):
    warnings.warn(f"{old} is deprecated and will be removed in a future release; use {new} "
                  "instead.", FutureWarning, stacklevel=4)


def _warn_unused(name, needs):
    warnings.warn(f"{name} does nothing without {needs}; it is ignored.", UserWarning,
                  stacklevel=4)


def _batch_sampler(est):
    """``batch_sampler``, or its deprecated spellings ``stratify_batches`` and
    ``sampling_temperature``/``sampling_cooldown``."""
    if est.stratify_batches and est.sampling_temperature is not None:
        raise ValueError("stratify_batches=True and sampling_temperature cannot be combined: both "
                         "decide which rows make a batch.")
    old = est.stratify_batches or est.sampling_temperature is not None
    if old and est.batch_sampler is not None:
        raise ValueError("batch_sampler replaces stratify_batches and sampling_temperature; set "
                         "only batch_sampler.")
    if est.stratify_batches:
        _warn_deprecated("stratify_batches=True", "batch_sampler='stratified'")
        return StratifiedBatchSampler()
    if est.sampling_temperature is not None:
        _warn_deprecated("sampling_temperature and sampling_cooldown",
                         "batch_sampler=WeightedBatchSampler(TemperatureSampling(tau=temperature), "
                         "cooldown=...)")
        sampler = WeightedBatchSampler(TemperatureSampling(tau=est.sampling_temperature),
                                       cooldown=est.sampling_cooldown)
    elif est.batch_sampler is None:
        if est.sampling_cooldown:
            _warn_unused("sampling_cooldown", "sampling_temperature")
        return None
    else:
        sampler = resolve_alias(est.batch_sampler, _SAMPLERS, param="batch_sampler",
                                base=(StratifiedBatchSampler, WeightedBatchSampler),
                                example="sklearn_fairloss.weighting.WeightedBatchSampler()")
    return sampler._validate_params()


def _decision_rule(est):
    """``decision``, or the deprecated ``group_thresholds`` spelling of a group rule."""
    rule = est.group_thresholds
    if rule is None:
        return make_decision_rule(est.decision, None)
    _warn_deprecated("group_thresholds", "decision=GroupThresholds(...)")
    if isinstance(rule, str) and rule in ("demographic_parity", "equal_opportunity"):
        rule = GroupThresholds(constraint=rule)
    elif not isinstance(rule, GroupThresholds):
        raise ValueError("group_thresholds must be None, one of ['demographic_parity', "
                         f"'equal_opportunity'] or a GroupThresholds; got {rule!r}.")
    if est.decision not in ("argmax", "proba"):
        raise ValueError("group_thresholds replaces the decision rule; leave decision at "
                         f"'argmax' (got decision={est.decision!r}).")
    return make_decision_rule(rule, None)


def _fairness(est):
    fairness = get_fairness(est.fairness)
    if est.fairness_warmup:
        if fairness is None:
            _warn_unused("fairness_warmup", "fairness")
        else:
            _warn_deprecated("fairness_warmup", "the fairness object's warmup parameter, e.g. "
                             "fairness=DemographicParity(warmup=5)")
            fairness.set_params(warmup=est.fairness_warmup)
    if fairness is None:
        return None
    return fairness._validate_params()


#: The options of ``identity_normalization`` and their defaults (Harvard-GF's
#: ``--fin_momentum``, ``--fin_mu``, ``--fin_sigma``), and what a group unseen in fit does.
IDENTITY_NORMALIZATION = {"momentum": 0.3, "mu_scale": 0.01, "sigma_scale": 1.0,
                          "unseen_groups": "average"}


def _identity_normalization(est):
    """``identity_normalization`` as the full dict of options, or None when off."""
    options = est.identity_normalization
    if options is False:
        return None
    options = {} if options is True else dict(options)
    unknown = sorted(set(options) - set(IDENTITY_NORMALIZATION), key=str)
    if unknown:
        raise ValueError(f"identity_normalization has unknown option(s) {unknown}; the options "
                         f"are {sorted(IDENTITY_NORMALIZATION)}.")
    options = {**IDENTITY_NORMALIZATION, **options}
    checks = {"momentum": Real(0, 1, noun="number"), "mu_scale": Real(0, noun="number"),
              "sigma_scale": Real(0, noun="number"),
              "unseen_groups": Options("average", "error")}
    for name, check in checks.items():
        if not check.is_satisfied_by(options[name]):
            raise ValueError(f"identity_normalization[{name!r}] must be {check}; got "
                             f"{options[name]!r}.")
    if est.ensemble_size > 1:
        raise ValueError(f"identity_normalization works with one MLP; set ensemble_size=1 "
                         f"(got ensemble_size={est.ensemble_size}, TabM).")
    if est.fairness_bound is not None:
        raise ValueError("identity_normalization cannot be combined with fairness_bound "
                         "(its confidence bound is computed group-blind); set one of them.")
    return options


def resolve_parts(est):
    """Validate the parameters of ``est`` and build the parts of one fit.

    Parameters
    ----------
    est : FairLossClassifier

    Returns
    -------
    TrainingParts
    """
    validate_params(est)
    sizes = est.hidden_layer_sizes
    sizes = (sizes,) if isinstance(sizes, int) else tuple(int(s) for s in sizes)
    if est.numerical_embedding != "periodic" and est.embedding_scale != EMBEDDING_SCALE:
        _warn_unused("embedding_scale", "numerical_embedding='periodic'")
    if est.ensemble_size > 1 and len(set(sizes)) > 1:
        raise ValueError(f"ensemble_size={est.ensemble_size} (TabM) needs hidden layers of one "
                         f"width; got hidden_layer_sizes={est.hidden_layer_sizes!r}.")
    optimizer = OPTIMIZERS.get(est.optimizer, est.optimizer)
    calibration = get_calibration_penalty(est.calibration)
    if calibration is None and est.calibration_strength != 1.0:
        _warn_unused("calibration_strength", "calibration")
    post_calibrator = get_post_calibrator(est.post_calibration)
    user_callbacks = [item if isinstance(item, tuple) else (type(item).__name__, item)
                      for item in (est.callbacks or [])]
    return TrainingParts(
        loss=get_loss(est.loss)._validate_params(),
        fairness=_fairness(est),
        calibration=None if calibration is None else calibration._validate_params(),
        post_calibrator=None if post_calibrator is None else post_calibrator._validate_params(),
        decision_rule=_decision_rule(est),
        batch_sampler=_batch_sampler(est),
        optimizer=optimizer,
        hidden_layer_sizes=sizes,
        callbacks=[(name, clone(cb, safe=False)) for name, cb in user_callbacks],
        identity_normalization=_identity_normalization(est),
    )
