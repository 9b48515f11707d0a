"""Additive calibration penalties (MMCE, DCA) and their contract.

A calibration penalty is a small ``torch.nn.Module`` that is also a scikit-learn style
parameter holder (``get_params``/``set_params``, ``clone``-able, picklable, parameters
declared in ``_parameter_constraints`` and checked once), like the data losses of
:mod:`sklearn_fairloss.losses` and the fairness penalties of :mod:`sklearn_fairloss.fairness`
(all are :class:`~sklearn_fairloss._torch_utils.ParamsModule`).

Contract
--------
``penalty(logits, y, sample_weight=None) -> scalar tensor``:

- ``logits``: float tensor ``(n, n_classes)``, binary included (two columns);
- ``y``: int64 class codes ``(n,)``;
- ``sample_weight``: float tensor ``(n,)`` or ``None`` (all ones); zero weights are allowed.

The value is a differentiable function of ``softmax(logits)``, non-negative, and zero on
perfectly calibrated predictions. Weighted statistics use the normalisation
``sum(w * v) / sum(w)``, so that weight 2 on a row equals duplicating it. A batch with a single
class, only correct or only wrong predictions, no rows or all-zero weights gives a finite value
(``0`` where the statistic is undefined), never NaN. The estimator adds it to the data loss::

    total = data_loss + calibration_strength * penalty(logits, y, sample_weight)

Both penalties here measure the calibration of the *confidence* ``r_i = max_k p_ik`` against
the *correctness* ``c_i = 1[argmax_k p_ik == y_i]`` (top-label calibration): gradients flow
through the confidences, the correctness is a step function of the logits.
"""

import torch

from .._param_validation import InstanceOf, Real
from .._registry import resolve_alias
from .._torch_utils import ParamsModule, row_weights

__all__ = ["CALIBRATION_PENALTIES", "CalibrationPenaltyBase", "DCAPenalty", "MMCEPenalty",
           "get_calibration_penalty"]


def confidence_correctness(logits, y):
    """Top-label confidence ``max softmax`` (differentiable) and correctness (0/1, detached).

    Parameters
    ----------
    logits : torch.Tensor of shape (n, n_classes)
    y : torch.Tensor of shape (n,)

    Returns
    -------
    confidence, correct : torch.Tensor of shape (n,)
    """
    probs = torch.softmax(logits, dim=1)
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == y.to(predicted.device)).to(logits.dtype)
    return confidence, correct


class CalibrationPenaltyBase(ParamsModule):
    """Base class of the additive calibration penalties.

    Subclasses call ``super().__init__()`` first, store their constructor parameters
    unchanged, declare them in ``_parameter_constraints`` and implement :meth:`forward`
    (calling ``self._ensure_validated()`` first). See the module docstring of
    ``sklearn_fairloss.calibration._penalties`` for the contract.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.calibration import CalibrationPenaltyBase
    >>> class MeanConfidence(CalibrationPenaltyBase):
    ...     def forward(self, logits, y, sample_weight=None):
    ...         return logits.softmax(dim=1).max(dim=1).values.mean()
    >>> float(MeanConfidence()(torch.zeros(2, 2), torch.tensor([0, 1])))
    0.5
    """

    def forward(self, logits, y, sample_weight=None):
        """The penalty, a non-negative scalar tensor; implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward.")


class MMCEPenalty(CalibrationPenaltyBase):
    r"""Maximum mean calibration error (MMCE), a kernel calibration penalty.

    With confidences ``r_i = max_k p_ik``, correctness ``c_i = 1[argmax_k p_ik = y_i]`` and
    the Laplacian kernel ``k(r, r') = exp(-|r - r'| / bandwidth)``, the squared MMCE of a batch
    is the V-statistic

    .. math::

        \mathrm{MMCE}^2 = \frac{\sum_{i,j} w_i w_j (c_i - r_i)(c_j - r_j) k(r_i, r_j)}
                               {(\sum_i w_i)^2},

    the squared RKHS norm of the kernel mean embedding of ``E[(c - r) phi(r)]``, zero for
    calibrated predictions (``E[c | r] = r``). The penalty is ``MMCE`` (the square root, as in
    the paper's training objective ``NLL + lambda * MMCE``) or ``MMCE^2`` with
    ``squared=True``. Because the kernel is positive definite the value is non-negative; it
    is exactly zero on a batch where, within each distinct confidence level, the weighted
    fraction of correct rows equals that confidence.

    ``weighted=True`` gives the paper's ``MMCE_w``, which normalises the correct and the wrong
    rows separately (designed for training sets where almost every row is correctly
    classified): the squared distance between the weighted mean of ``(1 - r) phi(r)`` over
    correct rows and of ``r phi(r)`` over wrong rows. It is zero when the batch holds only
    correct or only wrong rows, and is *not* zero in general on calibrated predictions.

    From Kumar, Sarawagi and Jain (2018), "Trainable Calibration Measures for Neural Networks
    from Kernel Mean Embeddings", ICML 2018 (PMLR 80:2805-2814).

    Parameters
    ----------
    bandwidth : float, default=0.4
        Width of the Laplacian kernel (the paper's value).
    squared : bool, default=False
        Return ``MMCE^2`` instead of ``MMCE``. The square root has an unbounded derivative at
        zero; it is computed as ``sqrt(MMCE^2 + 1e-10) - sqrt(1e-10)`` (zero at zero; the
        authors' code uses ``sqrt(MMCE^2 + 1e-10)``).
    weighted : bool, default=False
        Use the paper's ``MMCE_w`` estimator instead of ``MMCE_m``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.calibration import MMCEPenalty
    >>> # every confidence is 0.75 and 3 rows out of 4 are right: calibrated
    >>> logits = torch.log(torch.tensor([[0.75, 0.25]])).repeat(4, 1)
    >>> y = torch.tensor([0, 0, 0, 1])
    >>> round(float(MMCEPenalty()(logits, y)), 6)
    0.0
    >>> round(float(MMCEPenalty(squared=True)(logits, torch.zeros(4, dtype=torch.long))), 4)
    0.0625
    """

    _parameter_constraints = {
        "bandwidth": [Real(0.0, low_open=True)],
        "squared": [InstanceOf(bool, "a bool")],
        "weighted": [InstanceOf(bool, "a bool")],
    }

    def __init__(self, bandwidth=0.4, squared=False, weighted=False):
        super().__init__()
        self.bandwidth = bandwidth
        self.squared = squared
        self.weighted = weighted

    @staticmethod
    def _kernel(r, bandwidth):
        return torch.exp(-(r[:, None] - r[None, :]).abs() / bandwidth)

    def forward(self, logits, y, sample_weight=None):
        """The MMCE of the batch, a non-negative scalar tensor."""
        self._ensure_validated()
        bandwidth = float(self.bandwidth)
        weights = row_weights(sample_weight, logits)
        confidence, correct = confidence_correctness(logits, y)
        if self.weighted:
            squared = self._weighted_squared(confidence, correct, weights, bandwidth)
        else:
            total = weights.sum().clamp_min(torch.finfo(logits.dtype).tiny)
            residual = weights * (correct - confidence) / total
            squared = residual @ self._kernel(confidence, bandwidth) @ residual
        squared = squared.clamp_min(0.0)  # rounding can leave a tiny negative value
        if self.squared:
            return squared
        eps = torch.tensor(1e-10, dtype=squared.dtype, device=squared.device)
        return torch.sqrt(squared + eps) - torch.sqrt(eps)

    def _weighted_squared(self, confidence, correct, weights, bandwidth):
        tiny = torch.finfo(confidence.dtype).tiny
        w_right = weights * correct
        w_wrong = weights * (1.0 - correct)
        m, n = w_right.sum(), w_wrong.sum()
        if not (bool(m > 0) and bool(n > 0)):
            return (confidence * 0.0).sum()
        # signed embedding: (1 - r) phi(r) / m on right rows minus r phi(r) / n on wrong rows
        coef = w_right * (1.0 - confidence) / m.clamp_min(tiny)
        coef = coef - w_wrong * confidence / n.clamp_min(tiny)
        return coef @ self._kernel(confidence, bandwidth) @ coef


class DCAPenalty(CalibrationPenaltyBase):
    r"""Difference between confidence and accuracy (DCA) of a batch.

    .. math::

        \mathrm{DCA} = \left| \frac{\sum_i w_i c_i}{\sum_i w_i}
                      - \frac{\sum_i w_i r_i}{\sum_i w_i} \right|,

    the absolute gap between the (weighted) accuracy and mean top-label confidence
    ``r_i = max_k p_ik`` of the batch, with ``c_i = 1[argmax_k p_ik = y_i]``. It is zero when
    the mean confidence equals the accuracy (a necessary condition of calibration), and is
    added to cross-entropy as ``CE + beta * DCA``.

    From Liang, Zhang, Wang and Jacobs (2020), "Improved Trainable Calibration Method for
    Neural Networks on Medical Imaging Classification", BMVC 2020 (arXiv:2009.04057).

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.calibration import DCAPenalty
    >>> logits = torch.log(torch.tensor([[0.75, 0.25]])).repeat(4, 1)
    >>> round(float(DCAPenalty()(logits, torch.tensor([0, 0, 0, 1]))), 6)  # accuracy 0.75
    0.0
    >>> round(float(DCAPenalty()(logits, torch.tensor([0, 0, 1, 1]))), 6)  # accuracy 0.5
    0.25
    """

    def forward(self, logits, y, sample_weight=None):
        """The DCA of the batch, a non-negative scalar tensor."""
        self._ensure_validated()
        weights = row_weights(sample_weight, logits)
        confidence, correct = confidence_correctness(logits, y)
        total = weights.sum().clamp_min(torch.finfo(logits.dtype).tiny)
        return ((weights * (correct - confidence)).sum() / total).abs()


#: String aliases of the calibration penalties: ``FairLossClassifier(calibration="mmce")``.
CALIBRATION_PENALTIES = {"mmce": MMCEPenalty, "dca": DCAPenalty}


def get_calibration_penalty(calibration):
    """Return a fresh calibration penalty for a string alias or a penalty object.

    Parameters
    ----------
    calibration : str, CalibrationPenaltyBase or None
        A key of :data:`CALIBRATION_PENALTIES`, or a penalty (cloned, so the caller's object
        is never modified). ``None`` is returned as is.

    Returns
    -------
    CalibrationPenaltyBase or None

    Examples
    --------
    >>> from sklearn_fairloss.calibration import get_calibration_penalty
    >>> get_calibration_penalty("mmce")
    MMCEPenalty()
    """
    return resolve_alias(calibration, CALIBRATION_PENALTIES, param="calibration penalty",
                         base=CalibrationPenaltyBase, allow_none=True,
                         example="sklearn_fairloss.calibration.MMCEPenalty()")
