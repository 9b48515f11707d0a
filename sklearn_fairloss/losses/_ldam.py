"""Label-distribution-aware margin loss with deferred re-weighting (Cao et al. 2019)."""

import math

import torch.nn.functional as F

from .._param_validation import Real
from .._torch_utils import one_hot
from ._utils import ClassCountsLossBase, effective_number_weights

__all__ = ["LDAMLoss"]


class LDAMLoss(ClassCountsLossBase):
    r"""LDAM: cross-entropy with a class-dependent margin, plus deferred re-weighting (DRW).

    The true class's logit is lowered by a margin that grows as the class gets rarer,
    ``Delta_c = max_margin * (n_min / n_c) ** (1/4)``:
    ``loss_i = -log softmax(z_i - Delta_{y_i} e_{y_i})[y_i]``, averaged with the row weights.
    With deferred re-weighting, from the epoch ``drw_start * max_epochs`` on, each row is
    also weighted by the class-balanced weight of its class (effective number with
    ``beta``, normalised to sum to the number of classes; see :class:`ClassBalancedLoss`).

    The class counts ``n_c`` come from :meth:`set_class_counts`, called by
    ``FairLossClassifier`` in ``fit``, and the epoch from :meth:`set_epoch`, called at the
    start of every epoch by the :class:`~sklearn_fairloss._callbacks.LossSchedule` callback
    that :meth:`callbacks` declares.

    From Cao, Wei, Gaidon, Arechiga and Ma (2019), "Learning Imbalanced Datasets with
    Label-Distribution-Aware Margin Loss", NeurIPS 2019 (arXiv:1906.07413).

    Parameters
    ----------
    max_margin : float, default=0.5
        Margin of the rarest class, in logit units (``>= 0``). ``0`` is cross-entropy.
    drw_start : float or None, default=0.8
        Fraction of ``max_epochs`` in ``[0, 1]`` after which the class-balanced re-weighting
        starts (the paper: epoch 160 of 200). ``None`` never re-weights; ``0`` always does.
        Before the first :meth:`set_epoch` call the loss re-weights only if ``drw_start``
        is ``0``.
    beta : float, default=0.9999
        Effective-number hyper-parameter of the re-weighting, in ``[0, 1]``.

    Notes
    -----
    The paper applies the margin to cosine logits multiplied by a scale ``s = 30``; here the
    margin applies to the model's raw logits, so ``max_margin`` is in logit units (the
    paper's setting is comparable to ``max_margin = s * 0.5``) and ``predict_proba`` uses the
    logits the model was trained on.

    The margins do not correspond to any prior shift (Menon et al. 2021 show LDAM's margins
    are not of the Fisher-consistent form), so :meth:`log_prior_shift` returns ``None``.
    Recalibrate probabilities post hoc if they matter.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import LDAMLoss
    >>> loss = LDAMLoss(max_margin=0.5).set_class_counts(torch.tensor([16.0, 1.0]))
    >>> [round(m, 4) for m in loss.margins(2).tolist()]
    [0.25, 0.5]
    >>> loss = loss.set_epoch(90, max_epochs=100)  # after 80% of the epochs: DRW is on
    >>> float(loss(torch.zeros(2, 2), torch.tensor([0, 1]))) > 0
    True
    """

    _parameter_constraints = {
        "max_margin": [Real(0.0)],
        "drw_start": [None, Real(0.0, 1.0)],
        "beta": [Real(0.0, 1.0)],
    }

    def __init__(self, max_margin=0.5, drw_start=0.8, beta=0.9999):
        super().__init__()
        self.max_margin = max_margin
        self.drw_start = drw_start
        self.beta = beta

    def set_epoch(self, epoch, max_epochs):
        """Record the epoch about to start (0-based) and the epoch budget; returns self."""
        self.epoch_ = int(epoch)
        self.max_epochs_ = int(max_epochs)
        return self

    def schedule_unfinished(self, kept_epoch, max_epochs):
        """A message when the deferred re-weighting never started before the kept epoch."""
        if self.drw_start is None or float(self.drw_start) == 0.0:
            return None
        start = math.ceil(float(self.drw_start) * max_epochs)
        if kept_epoch >= start:
            return None
        return (f"LDAM's deferred re-weighting (drw_start={self.drw_start}) starts at epoch "
                f"{start + 1} of max_epochs={max_epochs}, but the model kept is from epoch "
                f"{kept_epoch + 1} (training stopped early): it never applied. Lower drw_start "
                "or use loss='ldam' (no re-weighting).")

    def reweighting_active(self):
        """Whether the deferred re-weighting applies at the current epoch."""
        self._ensure_validated()
        if self.drw_start is None:
            return False
        start = float(self.drw_start)
        if start == 0.0:
            return True
        epoch = getattr(self, "epoch_", None)
        if epoch is None:
            return False
        return epoch >= math.ceil(start * self.max_epochs_)

    def margins(self, n_classes, like=None):
        """Per-class margins ``max_margin * (n_min / n_c) ** (1/4)``, shape ``(n_classes,)``."""
        self._ensure_validated()
        inv = self._counts(n_classes, like).pow(-0.25)
        return inv * (float(self.max_margin) / inv.max())

    def per_sample_loss(self, logits, y):
        n_classes = logits.shape[1]
        margins = self.margins(n_classes, logits)
        shifted = logits - one_hot(y, n_classes, logits.dtype) * margins[y][:, None]
        loss = F.cross_entropy(shifted, y, reduction="none")
        if self.reweighting_active():
            loss = effective_number_weights(self._counts(n_classes, logits), self.beta)[y] * loss
        return loss
