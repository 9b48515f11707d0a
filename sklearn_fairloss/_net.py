"""Training engine: the skorch net behind :class:`~sklearn_fairloss.FairLossClassifier`.

An implementation detail, not public API. It holds three pieces:

- :class:`TensorRows`: the training rows as tensors already on the training device: features,
  integer class codes, row weights and, when given, the sensitive attributes.
- :class:`TensorBatchIterator`: batches by indexing those tensors with slices of a shuffled
  index, instead of per-row ``Dataset.__getitem__`` plus collation, which is where plain
  skorch spends most of its time on tabular data.
- :class:`FairLossNet`: a small ``skorch.NeuralNet`` subclass that feeds the dict batches
  through the module and computes the training objective (:class:`TrainingObjective`: the
  weighted data loss plus the fairness and calibration terms) in :meth:`FairLossNet.get_loss`.

Epoch schedules are skorch callbacks: the loss, fairness and calibration objects declare the
ones they need (``callbacks()``), temperature sampling adds :class:`SamplingSchedule`, and the
user's ``callbacks=`` come last. :func:`build_net` assembles a net from these parts.
"""

import sys
from dataclasses import dataclass

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.helper import predefined_split
from torch import nn

from ._backbone import TabularNetwork, linear_start, numerical_bins
from ._callbacks import EarlyStoppingFromStart

__all__ = ["TensorRows", "TensorBatchIterator", "TrainingObjective", "FairLossNet",
           "SamplingSchedule", "build_net", "resolve_device", "stratified_permutation"]

def resolve_device(device):
    """Return the torch device string for ``device`` (``"auto"``: CUDA when present)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto' or a torch device such as 'cpu' or 'cuda'; got {device!r}."
        ) from exc
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; use device='auto' "
            "or device='cpu'."
        )
    return str(device)


class TensorRows:
    """Training rows held as tensors on one device.

    Parameters
    ----------
    X : torch.Tensor of shape (n, n_features), float32
    y : torch.Tensor of shape (n,), int64 class codes
    sample_weight : torch.Tensor of shape (n,), float32
    extras : dict of str to torch.Tensor
        Further per-row tensors (for example ``sensitive``) carried into every batch.
    """

    def __init__(self, X, y, sample_weight, extras=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.extras = dict(extras or {})

    def __len__(self):
        return self.X.shape[0]

    def subset(self, index):
        """Rows ``index`` (a 1-D integer tensor or array) as a new :class:`TensorRows`."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.X.device)
        return TensorRows(
            self.X[index], self.y[index], self.sample_weight[index],
            {key: value[index] for key, value in self.extras.items()},
        )

    def batch(self, index):
        """Rows ``index`` (an int64 tensor on the rows' device) as an ``(X_dict, y)`` pair."""
        # index_select is several times faster than advanced indexing on the CPU
        X_dict = {"X": self.X.index_select(0, index),
                  "sample_weight": self.sample_weight.index_select(0, index)}
        for key, value in self.extras.items():
            X_dict[key] = value.index_select(0, index)
        return X_dict, self.y.index_select(0, index)

    def batch_view(self, start, stop):
        """Rows ``start:stop`` as the ``(X_dict, y)`` pair the net consumes (views, no copy)."""
        X_dict = {"X": self.X[start:stop], "sample_weight": self.sample_weight[start:stop]}
        for key, value in self.extras.items():
            X_dict[key] = value[start:stop]
        return X_dict, self.y[start:stop]


@dataclass
class TensorBatchIterator:
    """Iterate over :class:`TensorRows` in batches of ``batch_size`` rows.

    With ``shuffle=True`` each pass draws a permutation from ``generator`` and gathers each
    batch's rows by index; without shuffling, batches are contiguous views. With ``strata``
    (an int64 CPU tensor of one stratum code per row, for example group x class cells) the
    permutation spreads every stratum evenly over the pass (:func:`stratified_permutation`),
    so that each batch holds every stratum in proportion. With ``sampling_weights`` (a float
    CPU tensor, one non-negative weight per row) each pass instead draws ``len(rows)`` rows
    with replacement, with probabilities proportional to the weights.
    """

    rows: TensorRows
    batch_size: int
    shuffle: bool = False
    generator: object = None
    strata: object = None
    sampling_weights: object = None

    def __len__(self):
        return -(-len(self.rows) // self.batch_size)

    def __iter__(self):
        rows = self.rows
        if not self.shuffle:
            for start in range(0, len(rows), self.batch_size):
                yield rows.batch_view(start, start + self.batch_size)
            return
        if self.sampling_weights is not None:
            # a pass of len(rows) draws with replacement, row i with probability
            # proportional to sampling_weights[i] (temperature sampling)
            perm = torch.multinomial(self.sampling_weights, len(rows), replacement=True,
                                     generator=self.generator)
        elif self.strata is None:
            perm = torch.randperm(len(rows), generator=self.generator)
        else:
            perm = stratified_permutation(self.strata, self.generator)
        for index in perm.to(rows.X.device).split(self.batch_size):
            yield rows.batch(index)


class TrainingObjective(nn.Module):
    """The training objective: data loss plus, optionally, a fairness term.

    ``total = loss + strength * penalty`` for an additive penalty; for a group scaling,
    ``total = weighted_mean(per_row_loss, w * multiplier ** strength)``. Kept as one module
    (skorch's ``criterion``) so that ``.to(device)`` moves every buffer of its parts.

    An optional calibration penalty adds ``calibration_strength * penalty(logits, y, w)``.

    ``forward(logits, y, batch, training)`` returns ``(total, terms)``: ``terms`` holds the
    detached values of ``data_loss``, ``fairness_penalty`` (for a scaling: the scaled loss
    minus the data loss) and ``calibration_penalty`` when those terms are present.
    """

    def __init__(self, loss, fairness=None, fairness_strength=0.0, calibration=None,
                 calibration_strength=0.0):
        super().__init__()
        self.loss = loss
        self.fairness = fairness
        self.fairness_strength = fairness_strength
        self.strength = fairness_strength
        self.calibration = calibration
        self.calibration_strength = calibration_strength

    def term_names(self):
        """Names of the terms :meth:`forward` reports, in order."""
        names = []
        if self.fairness is not None or self.calibration is not None:
            names.append("data_loss")
        if self.fairness is not None:
            names.append("fairness_penalty")
        if self.calibration is not None:
            names.append("calibration_penalty")
        return names

    def forward(self, logits, y, batch, training=False):
        """Return ``(total, terms)``: the objective and a dict of detached term values."""
        sample_weight = batch.get("sample_weight")
        # validation batches score the full-strength objective, so that a warm-up does not
        # make early stopping prefer the weakly penalised first epochs
        strength = self.strength if training else self.fairness_strength
        if self.fairness is None:
            total, terms = self.loss(logits, y, sample_weight=sample_weight), {}
        else:
            total, terms = self.fairness.objective(self.loss, logits, y, batch, strength,
                                                   training)
        if self.calibration is not None:
            penalty = self.calibration(logits, y, sample_weight=sample_weight)
            if "data_loss" not in terms:
                terms["data_loss"] = total.detach()
            total = total + self.calibration_strength * penalty
            terms["calibration_penalty"] = penalty.detach()
        return total, terms


def stratified_permutation(strata, generator=None):
    """A random permutation in which every stratum is spread evenly.

    Each row gets the key ``(rank of the row within its stratum + u) / size of the stratum``
    with ranks from a random shuffle and ``u`` uniform in ``[0, 1)``; sorting the keys
    interleaves the strata in proportion: any ``b`` consecutive rows hold
    ``b * size / n`` rows of each stratum, give or take fewer than 2 (so at least one when
    ``b * size / n >= 2``).
    """
    n = strata.shape[0]
    shuffled = torch.randperm(n, generator=generator)
    codes = strata[shuffled]
    order = torch.argsort(codes, stable=True)
    sorted_codes = codes[order]
    counts = torch.bincount(sorted_codes)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n) - starts[sorted_codes]
    keys = (rank.double() + torch.rand(n, generator=generator, dtype=torch.float64)) / counts[
        sorted_codes].double()
    return shuffled[order[torch.argsort(keys)]]


def _noop(*args, **kwargs):
    """A picklable sink that drops messages (skorch callbacks print by default)."""


class PlainPrintLog(PrintLog):
    """skorch's per-epoch table without ANSI colour codes (which make log files unreadable)."""

    def format_row(self, row, key, color):
        return super().format_row({k: v for k, v in row.items() if k != f"{key}_best"}, key,
                                  color)


class SamplingSchedule(Callback):
    """Temperature sampling's schedule: each epoch before ``uniform_from`` draws rows with
    probabilities proportional to ``weights``; from ``uniform_from`` on, the cooldown of Li et
    al. 2025 ("Upsample or Upweight? Balanced Training on Heavily Imbalanced Datasets",
    NAACL): ``"step"`` (the paper's) shuffles uniformly again; ``"linear"`` draws epoch
    ``k = 1 .. m`` of the ``m = max_epochs - uniform_from`` cooldown epochs with probabilities
    proportional to ``weights ** ((m - k) / m)`` (uniform in the last).

    Parameters
    ----------
    weights : torch.Tensor of shape (n_train,), float64, on the CPU
        Per-row sampling weights of the training rows.
    uniform_from : int
        Index of the first cooldown epoch (the first uniform one with ``"step"``).
    schedule : {"step", "linear"}, default="step"
    """

    def __init__(self, weights, uniform_from, schedule="step"):
        self.weights = weights
        self.uniform_from = uniform_from
        self.schedule = schedule

    def weights_at(self, epoch, max_epochs):
        """The sampling weights of 0-based ``epoch`` (None: uniform shuffling)."""
        if epoch < self.uniform_from:
            return self.weights
        if self.schedule == "step" or epoch >= max_epochs - 1:
            return None
        return self.weights ** ((max_epochs - 1 - epoch) / (max_epochs - self.uniform_from))

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1  # 0-based index of the epoch about to run
        net.train_iterator_.sampling_weights = self.weights_at(epoch, net.max_epochs)

    def unfinished(self, net, kept_epoch):
        """A message when the cooldown was due but the kept model (0-based epoch
        ``kept_epoch``) was trained before it started."""
        if self.uniform_from >= net.max_epochs or kept_epoch >= self.uniform_from:
            return None
        return (f"The sampling cooldown starts at epoch {self.uniform_from + 1}, but the model "
                f"kept is from epoch {kept_epoch + 1} (training stopped early): it never ran. "
                "predict_proba undoes the sampling's class-prior shift instead.")


class FairLossNet(NeuralNet):
    """skorch ``NeuralNet`` driving one :class:`FairLossClassifier` fit.

    Differences to skorch's defaults: the data arrive as :class:`TensorRows` already on the
    device; batches come from :class:`TensorBatchIterator`; the loss receives the batch's row
    weights; and the default callbacks are trimmed to what the estimator reads. Schedules are
    callbacks (see :func:`build_net`); the net itself knows no particular loss or penalty.
    """

    def __init__(self, *args, generator=None, strata=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.strata = strata

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        # per-epoch means of the batch values recorded in get_loss
        for name in self.criterion.term_names():
            callbacks.append((name, PassthroughScoring(name=name, on_train=True)))
        if self.verbose:
            # a terminal gets a progress bar and colours; a log file plain lines
            if sys.stdout.isatty():
                callbacks += [("progress_bar", ProgressBar()), ("print_log", PrintLog())]
            else:
                callbacks.append(("print_log", PlainPrintLog()))
        return callbacks

    def _set_training(self, training=True):
        # skorch sets the mode before every batch; walking the module tree each time costs
        # more than the forward pass of a small network, so only switch when it changes.
        if self.module_.training != training:
            super()._set_training(training)

    def check_data(self, X, y=None):
        if not isinstance(X, TensorRows):  # pragma: no cover - internal misuse
            raise TypeError("FairLossNet is fed TensorRows by FairLossClassifier.")

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        iterator = TensorBatchIterator(
            dataset, batch_size=self.batch_size, shuffle=training, generator=self.generator,
            strata=self.strata if training else None,
        )
        if training:
            self.train_iterator_ = iterator
        return iterator

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch stops training by raising KeyboardInterrupt (EarlyStopping does, at the end of
        # an epoch) and swallows it in partial_fit. A user's Ctrl-C arrives inside an epoch
        # instead, leaving its history row without a train_loss: mark that case, so that the
        # estimator propagates it rather than post-processing a half-trained net.
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            if len(self.history) == 0 or "train_loss" not in self.history[-1]:
                self.interrupted_ = True
            raise

    def forget_training_data(self):
        """Drop every reference to training rows (the batch iterator, the validation split,
        the strata and the sampling schedule's per-row weights), so that the fitted net, and
        a pickle of it, holds parameters and fitted state only."""
        self.__dict__.pop("train_iterator_", None)
        self.train_split = None
        self.strata = None
        for _, callback in self.callbacks_:
            if isinstance(callback, SamplingSchedule):
                callback.weights = None
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if y_pred.ndim == 3:
            # a TabM ensemble in training: every member's logits, each member trained on the
            # whole batch, so the objective sees k copies of each row (TabM's training rule)
            k = y_pred.shape[1]
            y_pred, y_true = y_pred.flatten(0, 1), y_true.repeat_interleave(k)
            X = {key: value.repeat_interleave(k, dim=0) for key, value in X.items()
                 if key != "X"}
        total, terms = self.criterion_(y_pred, y_true, X, training=training)
        if training:
            for name, value in terms.items():
                self.history.record_batch(name, value.item())
        return total

    @torch.no_grad()
    def predict_logits_tensor(self, X, chunk_size=65536, cells=None):
        """Logits of the module in eval mode for a tensor already on the device (``cells``:
        each row's group cell, a tensor on the device, for the identity normalisation)."""
        module = self.module_
        was_training = module.training
        module.eval()
        out = torch.cat([module(X[i:i + chunk_size],
                                cells=None if cells is None else cells[i:i + chunk_size])
                         for i in range(0, X.shape[0], chunk_size)])
        module.train(was_training)
        return out

    @torch.inference_mode()
    def predict_logits(self, X, chunk_size=65536, cells=None):
        """Raw logits of the trained module for a float32 numpy array ``X`` (numpy, float64);
        ``cells``: each row's group cell (int64 numpy, -1 for an unseen one), for the
        identity normalisation."""
        module = self.module_
        module.eval()
        out = []
        for start in range(0, X.shape[0], chunk_size):
            chunk = X[start:start + chunk_size]
            if not chunk.flags.writeable:  # a DataFrame's values: torch warns on these
                chunk = chunk.copy()
            chunk = torch.as_tensor(chunk).to(self.device)
            rows = None if cells is None else torch.as_tensor(
                cells[start:start + chunk_size], dtype=torch.long, device=self.device)
            out.append(module(chunk, cells=rows).double().cpu())
        if not out:
            return np.empty((0, self.module__n_classes))
        return torch.cat(out).numpy()


def _stopping_rule(early_stopping, patience, tol, verbose, score_start=False):
    sink = print if verbose else _noop
    monitor = "valid_loss" if early_stopping else "train_loss"
    # with a fitted start (linear_start), the start itself competes with every epoch
    rule = EarlyStoppingFromStart if early_stopping and score_start else EarlyStopping
    return rule(monitor=monitor, patience=patience, threshold=tol,
                threshold_mode="abs", load_best=bool(early_stopping), sink=sink)


def build_net(*, n_numerical, n_binary, cardinalities, n_classes, objective, optimizer,
              train_rows, valid_rows, sampler, settings, user_callbacks, seed, device,
              identity_normalization=None):
    """A :class:`FairLossNet` for one fit, with every schedule as a callback.

    Parameters
    ----------
    n_numerical, n_binary : int
        Numeric and binary columns of the encoded features (the first ones).
    cardinalities : list of int
        Codes per categorical column (the remaining ones).
    n_classes : int
    objective : TrainingObjective
    optimizer : torch.optim.Optimizer class
    train_rows, valid_rows : TensorRows, TensorRows or None
        Training rows, and the held-out rows scored by early stopping (or None).
    sampler : dict
        ``{"strata": tensor or None, "weights": tensor or None, "uniform_from": int,
        "cooldown_schedule": str}``: the batch composition (stratified batches, or
        temperature sampling and its cooldown).
    settings : dict
        ``hidden_layer_sizes``, ``activation``, ``dropout``, ``ensemble_size``,
        ``numerical_embedding``, ``embedding_scale``, ``linear_start``, ``lr``,
        ``weight_decay``,
        ``batch_size``, ``max_epochs``, ``early_stopping``, ``n_iter_no_change``, ``tol``,
        ``verbose``.
    user_callbacks : list of (str, skorch.callbacks.Callback)
        The user's callbacks, run after the package's.
    seed : int
    device : str
    identity_normalization : dict or None
        Keyword arguments of :class:`~sklearn_fairloss.fairness.FairIdentityNormalizer`
        (``n_groups`` and ``group_weights`` included), or None.
    """
    callbacks = [("stopping", _stopping_rule(settings["early_stopping"],
                                             settings["n_iter_no_change"], settings["tol"],
                                             settings["verbose"],
                                             settings.get("score_start", False)))]
    for term in (objective.loss, objective.fairness, objective.calibration):
        if term is not None:
            callbacks.extend(term.callbacks())
    if sampler["weights"] is not None:
        callbacks.append(("sampling_schedule",
                          SamplingSchedule(sampler["weights"], sampler["uniform_from"],
                                           sampler.get("cooldown_schedule", "step"))))
    embedding = settings["numerical_embedding"]
    bins = (numerical_bins(train_rows.X[:, :n_numerical].cpu())
            if embedding == "piecewise_linear" and n_numerical else None)
    linear = (linear_start(train_rows.X, train_rows.y, train_rows.sample_weight, n_numerical,
                           n_binary, cardinalities, n_classes, seed=seed)
              if settings["linear_start"] else None)
    return FairLossNet(
        module=TabularNetwork,
        module__linear=linear,
        module__identity_normalization=identity_normalization,
        module__n_numerical=n_numerical,
        module__n_binary=n_binary,
        module__cardinalities=list(cardinalities),
        module__n_classes=n_classes,
        module__ensemble_size=int(settings["ensemble_size"]),
        module__numerical_embedding=embedding,
        module__embedding_scale=float(settings["embedding_scale"]),
        module__bins=bins,
        module__hidden_layer_sizes=settings["hidden_layer_sizes"],
        module__activation=settings["activation"],
        module__dropout=float(settings["dropout"]),
        criterion=objective,
        optimizer=optimizer,
        optimizer__weight_decay=float(settings["weight_decay"]),
        lr=float(settings["lr"]),
        max_epochs=int(settings["max_epochs"]),
        batch_size=int(min(settings["batch_size"], len(train_rows))),
        train_split=predefined_split(valid_rows) if valid_rows is not None else None,
        callbacks=callbacks + list(user_callbacks),
        device=device,
        verbose=int(settings["verbose"]),
        generator=torch.Generator().manual_seed(seed),
        strata=sampler["strata"],
    )
