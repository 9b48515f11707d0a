"""The post-processing step of :meth:`FairLossClassifier.fit`: the class-prior correction,
the post-hoc calibrator and the decision rule, fitted after training on held-out rows (the
calibrator, a tuned threshold) or on the training rows (group thresholds).
"""

from functools import partial

import numpy as np
import torch
from scipy.special import softmax

from ._validation import take_rows
from .postprocessing import GroupThresholds

__all__ = ["post_process", "prior_shift"]


def prior_shift(prior, trained_mass, loss):
    """The logit shift that turns the trained model's class prior into the data's: the log
    of ``prior`` (the data's class distribution) less the log of the class mass the network was
    trained on (``trained_mass``, with the row weights), plus the loss's own prior shift;
    centred."""
    tiny = np.finfo(np.float64).tiny
    shift = np.log(np.maximum(prior, tiny)) - np.log(
        np.maximum(trained_mass / trained_mass.sum(), tiny))
    loss_shift = loss.log_prior_shift(len(prior))
    if loss_shift is not None:
        shift = shift + torch.as_tensor(loss_shift).double().cpu().numpy()
    return shift - shift.mean()


def post_process(parts, data, net, sampled_mass, fit_rule=None):
    """The steps after training: the prior correction, then the post-hoc calibrator and
    the decision rule; returns the fitted attributes they make. ``fit_rule(rule, proba, y,
    **kwargs)`` replaces ``rule.fit`` (``fairness_bound`` sets a group rule's tolerance)."""
    prior, n_classes = data.class_prior(), data.n_classes
    effective = sampled_mass if sampled_mass is not None else np.bincount(
        data.y_codes, weights=data.weights, minlength=n_classes)
    shift = prior_shift(prior, effective, net.criterion_.loss)
    calibrator, rule = parts.post_calibrator, parts.decision_rule
    held_out = data.valid_index

    def sensitive_rows(index):
        return None if data.sensitive is None else take_rows(data.sensitive, index)

    def logits_of(index):  # each row's group cell travels along (identity normalisation)
        cells = None if data.groups is None else data.groups.cells[index]
        return net.predict_logits(data.X[index], cells=cells) + shift

    if calibrator is not None:
        calibrator.fit(logits_of(held_out),
                       data.y_codes[held_out], sample_weight=data.user_weights[held_out],
                       sensitive_features=sensitive_rows(held_out))
    index = held_out if rule.needs_held_out else np.arange(len(data.y_codes))
    proba = None
    if rule.needs_proba:
        logits = logits_of(index)
        if calibrator is not None:
            logits = calibrator.transform(logits, sensitive_features=sensitive_rows(index))
        proba = softmax(logits, axis=1)
    (rule.fit if fit_rule is None else partial(fit_rule, rule))(
        proba, data.y_codes[index], sample_weight=data.user_weights[index],
        sensitive_features=sensitive_rows(index), class_prior=prior, log_prior_shift=shift)
    return {"net_": net, "class_prior_": prior, "_log_prior_shift": shift,
            "post_calibrator_": calibrator, "decision_rule_": rule,
            "threshold_": getattr(rule, "threshold_", None),
            "group_thresholds_": rule if isinstance(rule, GroupThresholds) else None}
