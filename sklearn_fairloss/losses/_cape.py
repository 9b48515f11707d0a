"""CaPE: calibrated probability estimation (Liu, Kaku, Zhu et al., ICML 2022)."""

import numpy as np
import torch
import torch.nn.functional as F

from .._callbacks import RefitTargets
from .._param_validation import Integer, Options, Real
from .._torch_utils import accumulation_dtype, one_hot, row_weights
from ._base import LossBase

__all__ = ["CaPELoss"]

_GRID_SIZE = 1001  # grid on [0, 1] where the kernel estimate is tabulated
_CHUNK = 4096  # rows per chunk of the kernel estimate


def _as_tensor(values, dtype=None):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
    else:
        values = torch.as_tensor(np.asarray(values))
    return values if dtype is None else values.to(dtype)


def _overall_mean(targets, weights):
    """The weighted mean target, the estimate where the local ones are undefined."""
    return (weights * targets).sum() / weights.sum().clamp_min(torch.finfo(weights.dtype).tiny)


def bin_estimate(scores, targets, weights, n_bins):
    """Equal-frequency bin estimate of ``P(target = 1 | score)``.

    Rows are sorted by score and cut into ``n_bins`` consecutive blocks of (almost) equal size
    (rows ``[floor(b n / B), floor((b + 1) n / B))``, as in the authors' code); each bin's
    value is the weighted mean target of its rows (the overall weighted mean when its
    weights sum to zero). Bin ``b`` covers scores up to the midpoint between its largest score
    and the smallest score of bin ``b + 1``.

    Returns
    -------
    boundaries : torch.Tensor of shape (n_bins' - 1,)
    values : torch.Tensor of shape (n_bins',)
        ``n_bins' = min(n_bins, n)`` (empty bins are dropped).
    """
    n = scores.numel()
    order = scores.argsort()
    scores, targets, weights = scores[order], targets[order], weights[order]
    overall = _overall_mean(targets, weights)
    cuts = sorted({int(b * n / n_bins) for b in range(n_bins + 1)})
    values, boundaries = [], []
    for left, right in zip(cuts[:-1], cuts[1:]):
        w = weights[left:right]
        total = w.sum()
        values.append((w * targets[left:right]).sum() / total if bool(total > 0) else overall)
        if right < n:
            boundaries.append((scores[right - 1] + scores[right]) / 2)
    return torch.stack(boundaries) if boundaries else scores[:0], torch.stack(values)


def kernel_estimate(scores, targets, weights, bandwidth, grid):
    """Nadaraya-Watson estimate of ``P(target = 1 | score)`` at the ``grid`` points.

    ``sum_j w_j K((g - s_j) / h) t_j / sum_j w_j K((g - s_j) / h)`` with the Gaussian kernel
    ``K`` and bandwidth ``h`` (the authors' ``kde`` option, computed over all rows instead of
    a window of neighbours). Where all kernel weights vanish, the overall weighted mean.
    """
    num = torch.zeros_like(grid)
    den = torch.zeros_like(grid)
    for start in range(0, scores.numel(), _CHUNK):
        s = scores[start:start + _CHUNK]
        k = torch.exp(-0.5 * ((grid[:, None] - s[None, :]) / bandwidth) ** 2)
        kw = k * weights[start:start + _CHUNK][None, :]
        num += kw @ targets[start:start + _CHUNK]
        den += kw.sum(dim=1)
    tiny = torch.finfo(grid.dtype).tiny
    return torch.where(den > tiny, num / den.clamp_min(tiny), _overall_mean(targets, weights))


class CaPELoss(LossBase):
    r"""Calibrated probability estimation (CaPE): cross-entropy alternating with a pull of the
    predictions towards empirical probabilities estimated from the model's own scores.

    Cross-entropy on the labels makes a network discriminate but, trained long, it overfits
    and its probabilities become over-confident. CaPE alternates it with a *calibration*
    objective: the cross-entropy between the predictions and empirical probabilities
    ``q_i = P_hat(y = k | score = p_ik)`` estimated on the training set from the current
    scores, either by equal-frequency bins (``method="bin"``) or by a Gaussian kernel
    (``method="kernel"``). Following the authors' code (``calibration_tools/cape.py``),
    after ``warmup_epochs`` epochs of cross-entropy, one epoch in ``n_ce_epochs + 1`` is a
    calibration epoch: the estimate is refitted from the scores at its start and every batch
    of it minimises ``-sum_k q_ik log p_ik``; the other epochs minimise cross-entropy.

    The estimate is kept as a map from score to empirical probability (bin boundaries and
    values, or the kernel estimate tabulated on a grid of 1001 points of ``[0, 1]`` and
    interpolated linearly), applied to each batch's current, detached scores: no row indices
    are needed (a small tensor, moved to the batch's device when applied). Multiclass: one
    estimate per class (one-vs-rest on ``p_k``), normalised to sum to one over the classes.
    Binary: the estimate of class 1 and its complement.

    From Liu, Kaku, Zhu, Leibovich, Mohan, Yu, Huang, Zanna, Razavian, Niles-Weed and
    Fernandez-Granda (2022), "Deep Probability Estimation", ICML 2022 (arXiv:2111.10734).

    Parameters
    ----------
    method : {"bin", "kernel"}, default="bin"
        Estimator of the empirical probabilities.
    n_bins : int, default=10
        Number of equal-frequency bins (``method="bin"``).
    bandwidth : float, default=0.1
        Standard deviation of the Gaussian kernel on the probability scale
        (``method="kernel"``).
    warmup_epochs : int, default=10
        Epochs of plain cross-entropy before the first calibration epoch (the paper starts
        CaPE from a network trained with cross-entropy up to early stopping).
    n_ce_epochs : int, default=5
        Cross-entropy epochs between two calibration epochs (the authors' ``calpertrain``).

    Notes
    -----
    The schedule is driven by the skorch callbacks that :meth:`callbacks` declares: at the
    start of each epoch ``e`` (0-based), :class:`~sklearn_fairloss._callbacks.LossSchedule`
    calls ``loss.set_epoch(e, max_epochs)``; when ``loss.needs_targets()`` is then ``True``,
    :class:`~sklearn_fairloss._callbacks.RefitTargets` computes the model's current
    probabilities on the *training* rows (softmax of the logits, evaluation mode, no
    gradient) and calls ``loss.update_targets(probs, y, sample_weight)``. Without these calls
    (or in evaluation mode, that is on validation batches) the loss is plain cross-entropy.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import CaPELoss
    >>> loss = CaPELoss(n_bins=2, warmup_epochs=0)
    >>> _ = loss.set_epoch(0, max_epochs=10)
    >>> loss.needs_targets()
    True
    >>> p1 = torch.tensor([0.1, 0.2, 0.3, 0.4])  # scores of class 1 on the training rows
    >>> probs = torch.stack([1 - p1, p1], dim=1)
    >>> _ = loss.update_targets(probs, torch.tensor([0, 1, 1, 1]))
    >>> loss.empirical_probabilities(torch.tensor([[0.9, 0.1], [0.6, 0.4]]))[:, 1]
    tensor([0.5000, 1.0000])
    """

    _parameter_constraints = {
        "method": [Options("bin", "kernel")],
        "n_bins": [Integer(1)],
        "bandwidth": [Real(0.0, low_open=True)],
        "warmup_epochs": [Integer(0)],
        "n_ce_epochs": [Integer(0)],
    }

    def __init__(self, method="bin", n_bins=10, bandwidth=0.1, warmup_epochs=10, n_ce_epochs=5):
        super().__init__()
        self.method = method
        self.n_bins = n_bins
        self.bandwidth = bandwidth
        self.warmup_epochs = warmup_epochs
        self.n_ce_epochs = n_ce_epochs

    def set_epoch(self, epoch, max_epochs):
        """Record the epoch about to start (see Notes).

        Returns
        -------
        self
        """
        self._ensure_validated()
        self.epoch_ = int(epoch)
        return self

    def callbacks(self):
        """``LossSchedule`` (the epoch), then ``RefitTargets`` (the calibration targets).

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
        """
        return [*super().callbacks(), ("refit_targets", RefitTargets())]

    def schedule_unfinished(self, kept_epoch, max_epochs):
        """A message when no calibration epoch ran before the kept epoch."""
        if kept_epoch >= self.warmup_epochs:
            return None
        return (f"CaPE's calibration epochs start after warmup_epochs={self.warmup_epochs}, but "
                f"the model kept is from epoch {kept_epoch + 1} (training stopped early or "
                "max_epochs is small): it is plain cross-entropy. Lower warmup_epochs.")

    def needs_targets(self):
        """Whether the current epoch is a calibration epoch (so targets must be refitted)."""
        epoch = getattr(self, "epoch_", None)
        if epoch is None or epoch < self.warmup_epochs:
            return False
        return (epoch - self.warmup_epochs) % (self.n_ce_epochs + 1) == 0

    def update_targets(self, probs, y, sample_weight=None):
        """Fit the empirical-probability map from the model's scores on the training rows.

        Parameters
        ----------
        probs : torch.Tensor or array-like of shape (n, n_classes)
            The model's current predicted probabilities (softmax) on the training rows.
        y : torch.Tensor or array-like of shape (n,)
            Class codes ``0 .. n_classes - 1``.
        sample_weight : torch.Tensor, array-like of shape (n,) or None
            Row weights (weighted bin means and kernel averages).

        Returns
        -------
        self
        """
        self._ensure_validated()
        probs = _as_tensor(probs, torch.float64)
        y = _as_tensor(y).long()
        if probs.ndim != 2 or probs.shape[1] < 2 or y.shape != (probs.shape[0],):
            raise ValueError(
                "probs must have shape (n, n_classes) with n_classes >= 2 and y shape (n,); "
                f"got {tuple(probs.shape)} and {tuple(y.shape)}."
            )
        n, n_classes = probs.shape
        weights = row_weights(sample_weight, probs)
        if n == 0 or not bool(weights.sum() > 0):
            raise ValueError("update_targets needs at least one row with a positive weight.")
        onehot = one_hot(y, n_classes, torch.float64)
        columns = [1] if n_classes == 2 else range(n_classes)
        maps = []
        for k in columns:
            if self.method == "bin":
                maps.append(bin_estimate(probs[:, k], onehot[:, k], weights, int(self.n_bins)))
            else:
                grid = torch.linspace(0.0, 1.0, _GRID_SIZE, dtype=torch.float64)
                maps.append(kernel_estimate(probs[:, k], onehot[:, k], weights,
                                            float(self.bandwidth), grid))
        self.n_classes_ = n_classes
        self.maps_ = maps
        return self

    def empirical_probabilities(self, probs):
        """Empirical probabilities ``q`` (targets) at the scores ``probs``, shape ``(n, K)``.

        Parameters
        ----------
        probs : torch.Tensor of shape (n, n_classes)
            Predicted probabilities.

        Returns
        -------
        torch.Tensor of shape (n, n_classes), in ``probs``' dtype and device, rows summing
        to one.
        """
        maps = getattr(self, "maps_", None)
        if maps is None:
            raise RuntimeError("call update_targets(probs, y) before empirical_probabilities.")
        if probs.shape[1] != self.n_classes_:
            raise ValueError(
                f"update_targets saw {self.n_classes_} classes but probs has "
                f"{probs.shape[1]} columns."
            )
        dtype = accumulation_dtype(probs)
        scores = probs.detach().to(dtype)
        columns = [1] if self.n_classes_ == 2 else range(self.n_classes_)
        estimates = []
        for k, fitted in zip(columns, maps):
            s = scores[:, k]
            if self.method == "bin":
                boundaries, values = (t.to(dtype=dtype, device=s.device) for t in fitted)
                estimates.append(values[torch.searchsorted(boundaries, s.contiguous(), right=True)])
            else:
                fitted = fitted.to(dtype=dtype, device=s.device)
                position = s.clamp(0.0, 1.0) * (_GRID_SIZE - 1)
                left = position.floor().long().clamp(max=_GRID_SIZE - 2)
                frac = position - left
                estimates.append(fitted[left] * (1 - frac) + fitted[left + 1] * frac)
        if self.n_classes_ == 2:
            q1 = estimates[0].clamp(0.0, 1.0)
            targets = torch.stack([1.0 - q1, q1], dim=1)
        else:
            targets = torch.stack(estimates, dim=1).clamp_min(0.0)
            total = targets.sum(dim=1, keepdim=True)
            uniform = torch.full_like(targets, 1.0 / self.n_classes_)
            targets = torch.where(total > 0, targets / total.clamp_min(1e-300), uniform)
        return targets.to(dtype=probs.dtype, device=probs.device)

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        calibrating = (
            self.training and self.needs_targets() and getattr(self, "maps_", None) is not None
        )
        if not calibrating:
            return F.cross_entropy(logits, y, reduction="none")
        log_probs = F.log_softmax(logits, dim=1)
        targets = self.empirical_probabilities(log_probs.detach().exp())
        return -(targets * log_probs).sum(dim=1)
