"""``fairness_bound=``: a fairness metric held below a stated bound on unseen data.

:class:`FairLossClassifier` with ``fairness=`` and ``fairness_bound=b`` chooses per-group class
weights (group-blind) or group thresholds (group-aware) from the training rows alone, so that
the metric belonging to ``fairness=`` (demographic parity difference, equalized odds
difference, equal opportunity difference) stays at most ``b`` on new data with probability
``fairness_confidence``:

- :func:`rate_gap_upper_bound`: the metric of hard predictions on some rows, and a one-sided
  upper confidence bound of its population value (Agresti and Caffo's interval for a
  difference of two proportions, for every pair of groups; the largest of the pairs' bounds
  covers the true largest gap with the interval's confidence, as the true largest gap is the
  gap of one fixed pair).
- :class:`GroupOffsets`: a skorch callback that measures the groups' rates on the training
  rows after every epoch and moves per-group class weights towards parity (dual ascent in the
  cost-sensitive form of the Lagrangian), and certifies on the held-out rows alone: it keeps
  the epoch of lowest held-out loss among those whose held-out upper bound meets ``b``.
- :class:`FairnessBound`: what one ``fit`` needs (the checks of the parameters, the callback,
  the group-threshold tolerance of the group-aware route, the fitted attributes).

The fairness term's soft penalty is switched off (strength 0) under ``fairness_bound``: it
names the metric. Measured on Adult (sex, DP <= 0.02), the penalty with dual ascent on its
strength, or with the class weights, or before group thresholds, lost accuracy, AUC and
calibration (docs/fairness_bound.md).

Rank 7 (the estimator): it reads the training data and the skorch net.
"""

import copy
import warnings
from dataclasses import dataclass, replace

import numpy as np
import torch
from skorch.callbacks import Callback

from ._prepare import _hold_out
from .fairness import DemographicParity, EqualizedOdds, EqualOpportunity
from .postprocessing import (
    Argmax,
    BoundEstimate,
    GroupThresholds,
    MonotoneCubicScaling,
    TemperatureScaling,
    certify_group_thresholds,
    certifying_fraction,
    rate_gap_upper_bound,
)

__all__ = ["BOUND_METRICS", "BoundEstimate", "FairnessBound", "GroupOffsets",
           "fairness_bound_parts", "rate_gap_upper_bound"]

#: The metric that ``fairness_bound`` bounds, by fairness term: which label conditions the
#: rates of predicted positives are taken on ("all": selection rate; 1: true-positive rate;
#: 0: false-positive rate) and the GroupThresholds constraint of the group-aware route.
BOUND_METRICS = {
    DemographicParity: ("demographic parity difference", ("all",), "demographic_parity"),
    EqualizedOdds: ("equalized odds difference", (1, 0), None),
    EqualOpportunity: ("equal opportunity difference", (1,), "equal_opportunity"),
}

#: Offsets: share of the Newton step taken per epoch, largest step (log-odds), and the rows
#: at which a group's signal counts half (small groups move less on noisy rates).
_DAMPING = 0.5
_MAX_OFFSET_STEP = 0.5
_SHRINK_ROWS = 50.0
#: A model predicting one class for more than this share of rows is called near-constant.
_CONSTANT_SHARE = 0.99


def _group_sets(groups, intersectional):
    """The groupings a fairness term compares: the cells of all attributes, or each
    attribute on its own."""
    if intersectional or groups.codes.shape[1] == 1:
        return [groups.cells]
    return [groups.codes[:, j] for j in range(groups.codes.shape[1])]


class GroupOffsets(Callback):
    """Dual ascent of per-group class weights towards a fairness bound, and the best epoch.

    The Lagrangian of ``error + sum_g mu_g (rate_g - rate)`` is minimised by one decision
    threshold per group, and a cost-sensitive classifier learns such thresholds from per-group
    class weights (the reduction of Agarwal et al. 2018). Here every group ``g`` (cell) has a
    log-odds offset ``beta_g``; a training row of ``g`` weighs ``exp(beta_g / 2)`` if positive
    and ``exp(-beta_g / 2)`` if negative (renormalised to the rows' total weight), so a network
    that sees the groups' proxies learns the threshold shift itself and needs no groups at
    predict.

    **Steering** uses the training rows only: after every epoch, the model's predictions
    (argmax) on the training rows give each group's rate, and ``beta_g`` takes a damped Newton
    step towards the overall rate,
    ``beta_g += 0.5 * shrink_g * (rate - rate_g) / max(rate (1 - rate), 0.05)`` (clipped to
    ``[-0.5, 0.5]`` per epoch; ``shrink_g = n_g / (n_g + 50)`` calms small groups' noisy rates;
    true- and false-positive rates for equalized odds and equal opportunity).

    **Certifying** uses the held-out rows only: their predictions give the metric and its
    upper confidence bound ``u`` (:func:`rate_gap_upper_bound`). The held-out rows never move
    the weights; they choose the epoch: among the epochs with ``u <= bound``, the one of lowest
    held-out cross-entropy is kept and restored at the end, an epoch predicting both classes
    (each for more than 1 % of the held-out rows) before any that predicts one class.

    **Stopping**: every epoch counts. Training stops after ``patience`` epochs in a row that
    improve none of: the lowest held-out cross-entropy of any epoch (by ``tol``: the network
    is still learning), the kept epoch, and, while no epoch predicting both classes has met
    the bound, the lowest upper bound of such epochs (by ``1e-3``: the weights are still
    closing the gap); or at ``max_epochs``. An under-trained early epoch that meets the bound
    by predicting one class thus does not stop training while the gap still closes. The net's
    own stopping rule is switched off: moving weights make its loss incomparable across epochs.

    History (``net_.history``): ``bound_loss`` (the held-out cross-entropy),
    ``bound_valid`` (the metric on the held-out rows),
    ``bound_upper`` (its upper bound), ``bound_train`` (the metric on the training rows, which
    steers) and ``bound_offset`` (the largest ``|beta_g|``).

    Parameters
    ----------
    spec : FairnessBound
        The bound, the metric's conditions, ``patience`` and ``tol``.
    valid : dict
        The held-out rows (``X``, ``y``, ``w`` tensors; ``y_np``, ``w_np``, ``groups``) and the
        training rows' labels, user weights and groups (``train_y``, ``train_w``,
        ``train_groups``, in the order of the net's training rows), ``n_groups``.

    References
    ----------
    .. [1] Agarwal, A., Beygelzimer, A., Dudik, M., Langford, J. and Wallach, H. (2018). "A
       Reductions Approach to Fair Classification." ICML.
    .. [2] Cotter, A., Jiang, H. and Sridharan, K. (2019). "Two-Player Games for Efficient
       Non-Convex Constrained Optimization." ALT.
    .. [3] Thomas, P. S. et al. (2019). "Preventing undesirable behavior of intelligent
       machines." Science 366(6468).
    """

    #: Progress of the lowest upper bound that counts as progress towards the bound.
    upper_tol = 1e-3

    def __init__(self, spec, valid):
        self.spec = spec
        self.valid = valid

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        stopping = dict(net.callbacks_).get("stopping")
        if stopping is not None and hasattr(stopping, "patience"):
            stopping.patience = net.max_epochs + 1
        self.offsets_ = [np.zeros(n) for n in self.valid["n_groups"]]
        self.base_weights_ = self.train_X_ = None
        self.best_ = self.lowest_ = self.lowest_informative_ = None
        self.lowest_loss_ = np.inf
        self.stale_ = 0
        self.met_informative_ = False

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        rows = dataset_train
        if self.base_weights_ is None:
            self.base_weights_ = rows.sample_weight.clone()
            self.train_X_ = rows.X
        offset = sum(beta[codes] for beta, codes in zip(self.offsets_,
                                                          self.valid["train_groups"]))
        sign = np.where(self.valid["train_y"] == 1, 0.5, -0.5)
        factor = torch.as_tensor(np.exp(sign * offset), dtype=rows.sample_weight.dtype,
                                 device=rows.sample_weight.device)
        weights = self.base_weights_ * factor
        rows.sample_weight.copy_(weights * (self.base_weights_.sum() / weights.sum()))

    def _step_offsets(self, pred):
        """One damped Newton step of the offsets from the training rows' predictions."""
        valid = self.valid
        y, weights = valid["train_y"], valid["train_w"]
        for beta, codes in zip(self.offsets_, valid["train_groups"]):
            signal = np.zeros_like(beta)
            for condition in self.spec.conditions:
                rows = np.ones(len(pred), bool) if condition == "all" else y == condition
                w, c, p = weights[rows], codes[rows], pred[rows] == 1
                total = np.bincount(c, weights=w, minlength=len(beta))
                squares = np.bincount(c, weights=w * w, minlength=len(beta))
                rate = np.bincount(c, weights=w * p, minlength=len(beta)) / np.maximum(
                    total, 1e-12)
                overall = float((w * p).sum() / max(w.sum(), 1e-12))
                size = total ** 2 / np.maximum(squares, 1e-12)
                slope = max(overall * (1 - overall), 0.05)
                signal += np.where(total > 0, size / (size + _SHRINK_ROWS)
                                   * (overall - rate) / slope, 0.0)
            beta += np.clip(_DAMPING * signal / len(self.spec.conditions), -_MAX_OFFSET_STEP,
                            _MAX_OFFSET_STEP)

    def on_epoch_end(self, net, **kwargs):
        spec, valid = self.spec, self.valid
        logits = net.predict_logits_tensor(valid["X"]).double()
        loss = torch.nn.functional.cross_entropy(logits, valid["y"], reduction="none")
        loss = float((loss * valid["w"]).sum() / valid["w"].sum())
        pred = logits.argmax(dim=1).cpu().numpy()
        bound = spec.estimate(pred, valid["y_np"], valid["groups"], valid["w_np"])
        train_pred = net.predict_logits_tensor(self.train_X_).argmax(dim=1).cpu().numpy()
        train_value = spec.estimate(train_pred, valid["train_y"], valid["train_groups"],
                                    valid["train_w"]).value
        record = {"epoch": len(net.history), "bound": bound, "loss": loss,
                  "offsets": [beta.copy() for beta in self.offsets_],
                  "informative": _minority_share(pred) > 1 - _CONSTANT_SHARE}
        net.history.record("bound_loss", loss)
        net.history.record("bound_valid", bound.value)
        net.history.record("bound_upper", bound.upper)
        net.history.record("bound_train", train_value)
        net.history.record("bound_offset", float(max(np.abs(b).max() for b in self.offsets_)))
        informative = record["informative"]
        progress = loss < self.lowest_loss_ - spec.tol
        self.lowest_loss_ = min(self.lowest_loss_, loss)
        if self.lowest_ is None or bound.upper < self.lowest_[0]["bound"].upper:
            self.lowest_ = (record, _state(net))
        if informative:
            low = self.lowest_informative_
            # until a model predicting both classes meets the bound, closing the gap is
            # progress (an under-trained epoch that predicts one class often meets it)
            if not self.met_informative_ and (
                    low is None or bound.upper < low["bound"].upper - self.upper_tol):
                progress = True
            if low is None or bound.upper < low["bound"].upper:
                self.lowest_informative_ = record
        if bound.upper <= spec.bound:
            best = self.best_
            if (best is None or (informative and not best[0]["informative"])
                    or (informative == best[0]["informative"]
                        and loss < best[0]["loss"] - spec.tol)):
                self.best_ = (record, _state(net))
                progress = True
            self.met_informative_ |= informative
        self.stale_ = 0 if progress else self.stale_ + 1
        self._step_offsets(train_pred)
        if self.stale_ >= spec.patience:
            raise KeyboardInterrupt  # skorch's way to stop after this epoch

    def on_train_end(self, net, X=None, y=None, **kwargs):
        record, state = self.best_ if self.best_ is not None else self.lowest_
        net.module_.load_state_dict(state)
        self.chosen_ = record
        self.feasible_ = self.best_ is not None
        self.best_ = self.lowest_ = None
        # the fitted net keeps no training rows
        self.valid = self.base_weights_ = self.train_X_ = None


def _state(net):
    return copy.deepcopy(net.module_.state_dict())


def _minority_share(pred):
    share = float(np.mean(pred == 1)) if len(pred) else 0.0
    return min(share, 1 - share)


@dataclass
class FairnessBound:
    """What ``fit`` needs for ``fairness_bound``: the metric, the route, the callback of the
    group-blind route, the tolerance of the group-aware route and the fitted attributes."""

    bound: float
    confidence: float
    metric: str
    conditions: tuple
    intersectional: bool
    group_aware: bool
    patience: int
    tol: float
    callback: object = None
    rule_tolerance: float = None
    validation_fraction: float = None

    def estimate(self, pred, y, group_sets, weights=None):
        return rate_gap_upper_bound(pred, y, group_sets, weights, self.conditions,
                                    self.confidence)

    def held_out_fraction(self, data, validation_fraction):
        """The share of the rows to hold out for certifying (:func:`certifying_fraction` for
        the groups of the bound)."""
        return certifying_fraction(
            data.y_codes, data.user_weights,
            _group_sets(data.groups, self.intersectional or self.group_aware),
            self.conditions, self.bound, self.confidence, validation_fraction)

    def split(self, data, validation_fraction):
        """``data`` with a held-out split of :meth:`held_out_fraction` (the same one when
        ``validation_fraction`` is enough); sets ``self.validation_fraction``."""
        fraction = self.held_out_fraction(data, validation_fraction)
        self.validation_fraction = fraction
        if data.valid_index is not None and fraction <= validation_fraction:
            return data
        train, valid = _hold_out(data.y_codes, fraction, data.seed)
        return replace(data, train_index=train, valid_index=valid)

    def attach(self, parts, data, objective, device):
        """Switch the soft penalty off and, group-blind, add the callback to
        ``parts.callbacks``."""
        if data.n_classes != 2:
            raise ValueError(f"fairness_bound bounds a rate of the positive class: it needs a "
                             f"binary y; got {data.n_classes} classes.")
        objective.fairness_strength = objective.strength = 0.0
        if self.group_aware:
            return
        index, train = data.valid_index, data.train_index
        y = data.y_codes[index]
        group_sets = _group_sets(data.groups, self.intersectional)
        valid = {"X": torch.as_tensor(data.X[index], device=device),
                 "y": torch.as_tensor(y, dtype=torch.long, device=device),
                 "w": torch.as_tensor(data.user_weights[index], dtype=torch.float64,
                                      device=device),
                 "y_np": y, "w_np": data.user_weights[index],
                 "groups": [codes[index] for codes in group_sets],
                 "train_y": data.y_codes[train], "train_w": data.user_weights[train],
                 "train_groups": [codes[train] for codes in group_sets],
                 "n_groups": [int(codes.max()) + 1 for codes in group_sets]}
        self.callback = GroupOffsets(self, valid)
        parts.callbacks.append(("fairness_bound", self.callback))

    def fit_rule(self, data):
        """``fit`` of a GroupThresholds for the group-aware route, or None for the group-blind
        route. The thresholds are fitted on the training rows; the held-out rows certify: the
        tolerance starts at the bound less the margin of the held-out group sizes and is
        lowered by the excess (at least a tenth of the bound), refitting on the training rows,
        until the upper bound of the rule's predictions on the held-out rows meets the bound
        (at most four refits)."""
        if not self.group_aware:
            return None
        train, held_out = data.train_index, data.valid_index

        def fit(rule, proba, y, *, sample_weight=None, sensitive_features=None, **kwargs):
            # post_process passes every row in order (GroupThresholds needs no held-out rows)
            weights = (np.ones(len(proba)) if sample_weight is None
                       else np.asarray(sample_weight, float))
            rule, _ = certify_group_thresholds(
                rule, proba, y, weights, sensitive_features, train, held_out, data.groups.cells,
                self.bound, self.conditions, self.confidence)
            self.rule_tolerance = rule.tolerance_
            return rule
        return fit

    def report(self, est, data, predict):
        """The fitted attributes, from the final model's held-out predictions (``predict``
        of row indices), with a warning when only a (near-)constant model meets the bound, or
        when the final model's decisions no longer meet it (a post-hoc calibrator that moves
        decisions, such as ``"vector"`` or ``"isotonic"``, after the group-blind route
        certified the network's)."""
        index = data.valid_index
        pred = predict(index)
        y = data.y_codes[index]
        groups = _group_sets(data.groups, self.intersectional or self.group_aware)
        bound = self.estimate(pred, y, [g[index] for g in groups], data.user_weights[index])
        callback = self.callback
        chosen = None if callback is None else callback.chosen_
        fitted = {"fairness_offsets_": None if chosen is None else chosen["offsets"],
                  "fairness_valid_": bound.value,
                  "fairness_margin_": bound.margin,
                  "fairness_validation_fraction_": self.validation_fraction}
        name = f"fairness_bound={self.bound:g} ({self.metric}, confidence {self.confidence:g})"
        if callback is not None and not callback.feasible_:
            low = chosen["bound"]
            warnings.warn(
                f"{name} was not met on the held-out rows by any epoch: the lowest upper bound "
                f"reached was {low.upper:.4f} ({low.value:.4f} + margin {low.margin:.4f} for "
                "these group sizes); that model is kept. Raise fairness_bound, lower "
                "fairness_confidence, train longer or add data.", UserWarning, stacklevel=3)
        elif callback is not None and bound.upper > self.bound + 1e-12:
            warnings.warn(
                f"{name} was met on the held-out rows by the network's decisions, but the "
                f"post-hoc calibrator post_calibration={est.post_calibration!r} moved decisions: "
                f"the fitted model's upper bound is {bound.upper:.4f} ({bound.value:.4f} + "
                f"margin {bound.margin:.4f}). Use post_calibration=None (a calibrator that "
                "keeps every decision) or 'temperature'.", UserWarning, stacklevel=3)
        elif callback is None and bound.upper > self.bound + 1e-12:
            warnings.warn(
                f"{name} was not met on the held-out rows by the group thresholds: their upper "
                f"bound is {bound.upper:.4f} ({bound.value:.4f} + margin {bound.margin:.4f} for "
                f"these group sizes) at tolerance {self.rule_tolerance:.4f}; that rule is kept. "
                "Raise fairness_bound, lower fairness_confidence, raise validation_fraction or "
                "add data.", UserWarning, stacklevel=3)
        elif _minority_share(pred) <= 1 - _CONSTANT_SHARE:
            share = float(np.mean(pred == np.bincount(pred, minlength=2).argmax()))
            best = None if callback is None else callback.lowest_informative_
            feasible = ("no model predicting both classes was seen" if best is None else
                        f"the lowest upper bound of a model predicting both classes was "
                        f"{best['bound'].upper:.4f} ({best['bound'].value:.4f} + margin "
                        f"{best['bound'].margin:.4f})")
            warnings.warn(
                f"{name} is met only by a (near-)constant classifier: it predicts one class "
                f"for {share:.1%} of the held-out rows; {feasible}. Raise fairness_bound, "
                "lower fairness_confidence or add data.", UserWarning, stacklevel=3)
        return fitted


def fairness_bound_parts(est, parts):
    """``(parts, spec)``: the parts of one fit and the :class:`FairnessBound` of ``est`` (None
    without ``fairness_bound``), with clear errors for the settings it cannot serve. Under a
    bound, ``post_calibration=None`` becomes a calibrator fitted on the held-out rows that keeps
    every decision, so that the certified decisions are the model's: group-blind,
    :class:`MonotoneCubicScaling` (the per-group class weights bend the reliability curve
    beyond what one temperature undoes; chosen by cross-fitting inside the certifying rows of
    Adult, ECE 0.0164 -> 0.0080, docs/fairness_bound.md), group-aware, temperature scaling
    (the network trains without class weights)."""
    bound = est.fairness_bound
    if bound is None:
        return parts, None
    term = parts.fairness
    if term is None:
        raise ValueError("fairness_bound bounds the metric of the fairness term: set fairness= "
                         "(e.g. 'demographic_parity') too.")
    entry = next((v for k, v in BOUND_METRICS.items() if isinstance(term, k)), None)
    if entry is None:
        raise ValueError(f"fairness_bound bounds the demographic parity, equalized odds or "
                         f"equal opportunity difference; fairness={est.fairness!r} has no such "
                         "metric.")
    metric, conditions, constraint = entry
    if est.fairness_strength != 1.0:
        warnings.warn("fairness_strength is not used with fairness_bound: the penalty is off and "
                      "the bound is reached by per-group class weights (group-blind) or group "
                      "thresholds (group-aware).", UserWarning, stacklevel=3)
    rule = parts.decision_rule
    group_aware = isinstance(rule, GroupThresholds)
    if group_aware and rule.constraint != constraint:
        raise ValueError(f"fairness_bound bounds the {metric}, which GroupThresholds("
                         f"constraint={rule.constraint!r}) does not hold; use "
                         + (f"GroupThresholds(constraint={constraint!r})." if constraint else
                            "the group-blind route (decision='argmax')."))
    if not group_aware and not isinstance(rule, Argmax):
        raise ValueError(f"fairness_bound chooses the decision itself: use decision='argmax' "
                         f"(group-blind) or decision=GroupThresholds(...) (group-aware); got "
                         f"decision={est.decision!r}.")
    if parts.post_calibrator is None:
        parts = replace(parts, post_calibrator=TemperatureScaling() if group_aware
                        else MonotoneCubicScaling())
    return parts, FairnessBound(bound=float(bound), confidence=float(est.fairness_confidence),
                         metric=metric, conditions=conditions,
                         intersectional=bool(getattr(term, "intersectional", False)),
                         group_aware=group_aware, patience=int(est.n_iter_no_change),
                         tol=float(est.tol))
