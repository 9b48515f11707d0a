"""Epoch schedules of the training terms, as skorch callbacks.

A loss, fairness term or calibration term that changes from one epoch to the next declares
the callbacks it needs in its ``callbacks()`` method (a list of ``(name, callback)``); the
training engine appends them to the net's callbacks. Each callback reads the training
objective from ``net.criterion_`` (its ``loss``, ``fairness``, ``strength`` and
``fairness_strength``), the epoch from ``net.history`` and the epoch budget from
``net.max_epochs``, as skorch's ``LRScheduler`` does for the learning rate. skorch calls the
callbacks in list order after the net's own ``on_epoch_begin``, which has already opened the
history row of the epoch: the 0-based index of the epoch about to run is
``len(net.history) - 1``.

Rank 3 of the layer table: imports numpy, torch and ``skorch.callbacks`` only.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EarlyStoppingFromStart", "LossSchedule", "RefitTargets", "StrengthWarmup"]


def _epoch(net):
    """0-based index of the epoch about to run (skorch opened its history row already)."""
    return len(net.history) - 1


class LossSchedule(Callback):
    """Tell the data loss which epoch is about to start: ``loss.set_epoch(epoch, max_epochs)``.

    At the beginning of each epoch it calls ``net.criterion_.loss.set_epoch(epoch,
    net.max_epochs)`` with the 0-based ``epoch``. Declared by every loss that overrides
    ``set_epoch``: the deferred re-weighting (DRW) of LDAM, which switches class-balanced
    row weights on from epoch ``ceil(drw_start * max_epochs)`` (Cao, Wei, Gaidon, Arechiga
    and Ma 2019, "Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
    NeurIPS 2019, arXiv:1906.07413, Section 3.3), and CaPE's alternation of cross-entropy
    and calibration epochs (Liu et al. 2022, "Deep Probability Estimation", ICML 2022,
    arXiv:2111.10734).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skorch.history import History
    >>> from sklearn_fairloss._callbacks import LossSchedule
    >>> from sklearn_fairloss.losses import LDAMLoss
    >>> net = SimpleNamespace(criterion_=SimpleNamespace(loss=LDAMLoss()), history=History(),
    ...                       max_epochs=10)
    >>> for epoch in range(9):
    ...     net.history.new_epoch()
    ...     LossSchedule().on_epoch_begin(net)
    >>> net.criterion_.loss.epoch_, net.criterion_.loss.reweighting_active()
    (8, True)
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        net.criterion_.loss.set_epoch(_epoch(net), net.max_epochs)

    def unfinished(self, net, kept_epoch):
        """The loss's message when its schedule never acted on the kept model, else None."""
        return net.criterion_.loss.schedule_unfinished(kept_epoch, net.max_epochs)


class RefitTargets(Callback):
    """Refit CaPE's empirical probabilities from the model's scores on the training rows.

    At the beginning of each epoch for which ``net.criterion_.loss.needs_targets()`` is
    true (a calibration epoch of CaPE), it computes the model's probabilities on the
    training rows, ``softmax(net.predict_logits_tensor(dataset_train.X))`` (evaluation mode,
    no gradient), and calls ``loss.update_targets(probs, dataset_train.y,
    dataset_train.sample_weight)``. Place it after :class:`LossSchedule`, which sets the
    epoch that ``needs_targets`` reads.

    The schedule of Liu, Kaku, Zhu, Leibovich, Mohan, Yu, Huang, Zanna, Razavian,
    Niles-Weed and Fernandez-Granda (2022), "Deep Probability Estimation", ICML 2022
    (arXiv:2111.10734): the calibration targets are re-estimated from the current scores at
    the start of every calibration epoch.
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        loss = net.criterion_.loss
        if not loss.needs_targets():
            return
        rows = dataset_train
        logits = net.predict_logits_tensor(rows.X, cells=rows.extras.get("cells"))
        loss.update_targets(torch.softmax(logits, dim=1), rows.y, rows.sample_weight)


class StrengthWarmup(Callback):
    """Ramp the fairness strength linearly over the first ``warmup`` epochs.

    At the beginning of epoch ``e`` (0-based) it sets ``net.criterion_.strength`` to
    ``net.criterion_.fairness_strength * min(1, (e + 1) / warmup)`` (the full strength when
    ``warmup == 0``) and records it in the history column ``"fairness_strength"``, every
    epoch. The training objective uses ``strength`` on training batches only; validation
    batches score the full strength, so that early stopping does not prefer the weakly
    penalised first epochs.

    The linear ramp of a penalty's weight from 0 to its full value is the annealing schedule
    of Bowman, Vilnis, Vinyals, Dai, Jozefowicz and Bengio (2016), "Generating Sentences
    from a Continuous Space", CoNLL 2016 (arXiv:1511.06349), applied to the fairness term:
    the data loss shapes the network first, then the penalty reaches its full weight.

    Parameters
    ----------
    warmup : int, default=0
        Number of epochs over which the strength ramps up (``0``: none).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skorch.history import History
    >>> from sklearn_fairloss._callbacks import StrengthWarmup
    >>> net = SimpleNamespace(criterion_=SimpleNamespace(fairness_strength=3.0, strength=3.0),
    ...                       history=History(), max_epochs=5)
    >>> for epoch in range(4):
    ...     net.history.new_epoch()
    ...     StrengthWarmup(warmup=3).on_epoch_begin(net)
    >>> net.history[:, "fairness_strength"]
    [1.0, 2.0, 3.0, 3.0]
    """

    def __init__(self, warmup=0):
        self.warmup = warmup

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        objective = net.criterion_
        warmup = self.warmup
        ramp = 1.0 if warmup <= 0 else min(1.0, (_epoch(net) + 1) / warmup)
        objective.strength = objective.fairness_strength * ramp
        net.history.record("fairness_strength", objective.strength)

    def unfinished(self, net, kept_epoch):
        """A message when the kept model (0-based epoch ``kept_epoch``, e.g. restored by
        early stopping) was trained before the warm-up reached the full strength."""
        if kept_epoch + 1 >= self.warmup:
            return None
        return (f"The fairness warm-up (warmup={self.warmup}) had not reached the full strength "
                f"at the epoch kept (epoch {kept_epoch + 1}, restored by early stopping): the "
                "model was trained at a reduced fairness strength. Lower warmup or raise "
                "n_iter_no_change.")


class EarlyStoppingFromStart(EarlyStopping):
    """skorch's ``EarlyStopping`` that counts the starting model as epoch 0.

    Before the first epoch it scores the untrained module on the held-out rows (the same
    ``valid_loss`` as every epoch: the objective's batch means averaged by batch size) and
    keeps its weights as the best so far. An epoch then replaces it only when it improves the
    held-out loss by more than ``threshold``; when none does, ``best_epoch_`` stays 0 and the
    starting weights are restored at the end. Used with ``linear_start=True``, whose start is
    a fitted logistic regression: the network moves away from it only as far as the held-out
    rows say it should (model selection between the start and every epoch, as
    early stopping does between epochs; Prechelt 1998, "Early Stopping - But When?", in
    Neural Networks: Tricks of the Trade).

    ``start_loss_`` is the held-out loss of the start.

    Examples
    --------
    >>> from sklearn_fairloss._callbacks import EarlyStoppingFromStart
    >>> EarlyStoppingFromStart(patience=10, threshold=1e-4, threshold_mode="abs").monitor
    'valid_loss'
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        _, dataset_valid = net.get_split_datasets(X, y)
        if dataset_valid is None or not len(dataset_valid):
            return
        losses, sizes = [], []
        for batch in net.get_iterator(dataset_valid, training=False):
            losses.append(net.validation_step(batch)["loss"].item())
            sizes.append(len(batch[1]))
        self.start_loss_ = float(np.average(losses, weights=sizes))
        self.dynamic_threshold_ = self._calc_new_threshold(self.start_loss_)
        if self.load_best:
            self.best_model_weights_ = {name: value.detach().clone()
                                        for name, value in net.module_.state_dict().items()}
