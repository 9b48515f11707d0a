"""The torch base of the training terms: one parameter-holder module and the tensor helpers
that the losses, fairness terms and calibration terms share.

- :class:`ParamsModule`: a ``torch.nn.Module`` that is also a scikit-learn parameter holder
  (``get_params``/``set_params``, ``clone``, pickling, scikit-learn's ``repr``), validates its
  ``_parameter_constraints`` once (see :mod:`sklearn_fairloss._param_validation`) and
  declares the skorch callbacks its epoch schedule needs (:meth:`ParamsModule.callbacks`).
  The base of :class:`~sklearn_fairloss.losses.LossBase`, the fairness penalties and
  scalings and the calibration penalties.
- :func:`weighted_mean`, :func:`row_weights`, :func:`one_hot`, :func:`accumulation_dtype`:
  small numerics used by all of them.

Rank 3 of the layer table (``docs/architecture.md``): imports torch, scikit-learn and the
torch-free shared modules only.
"""

import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from torch import nn

from ._param_validation import ParamsValidationMixin

__all__ = ["ParamsModule", "accumulation_dtype", "one_hot", "row_weights", "weighted_mean"]


class ParamsModule(ParamsValidationMixin, BaseEstimator, nn.Module):
    """A ``torch.nn.Module`` that is a scikit-learn parameter holder.

    Subclasses call ``super().__init__()`` first, then store their constructor parameters
    unchanged (scikit-learn's rule, so that ``clone`` and ``GridSearchCV`` work), and declare
    ``_parameter_constraints``. Methods that read the parameters call
    ``self._ensure_validated()`` first: the checks run once (again after ``set_params``),
    not on every batch; the estimator calls ``_validate_params()`` on its copies when ``fit``
    starts. Anything learned from data is kept in registered buffers, so that
    ``.to(device)`` moves it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss._param_validation import Real
    >>> from sklearn_fairloss._torch_utils import ParamsModule
    >>> class Scale(ParamsModule):
    ...     _parameter_constraints = {"factor": [Real(0)]}
    ...     def __init__(self, factor=1.0):
    ...         super().__init__()
    ...         self.factor = factor
    ...     def forward(self, x):
    ...         self._ensure_validated()
    ...         return self.factor * x
    >>> Scale(factor=2.0)
    Scale(factor=2.0)
    >>> float(Scale(factor=2.0)(torch.tensor(3.0)))
    6.0
    >>> Scale(factor=-1.0)._validate_params()
    Traceback (most recent call last):
    ...
    ValueError: factor must be a real number in [0, inf); got -1.0.
    """

    def __init__(self):
        nn.Module.__init__(self)

    def callbacks(self):
        """The skorch callbacks the object's epoch schedule needs.

        The training engine appends them to its callbacks, in this order.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            Empty by default.
        """
        return []

    # nn.Module defines __call__ and __repr__; keep scikit-learn's readable repr.
    __repr__ = BaseEstimator.__repr__


def weighted_mean(values, sample_weight=None):
    """Weighted mean ``sum(w * v) / sum(w)`` of per-row values.

    Parameters
    ----------
    values : torch.Tensor of shape (n,)
        Per-row values (for example per-row losses).
    sample_weight : torch.Tensor of shape (n,) or None
        Non-negative row weights. ``None`` means all ones (the plain mean).

    Returns
    -------
    torch.Tensor
        A scalar. Zero (not NaN) when the weights sum to zero or ``values`` is empty.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import weighted_mean
    >>> float(weighted_mean(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 3.0])))
    2.5
    """
    if sample_weight is None:
        if values.numel() == 0:
            return values.sum()
        return values.mean()
    sample_weight = sample_weight.to(values.dtype)
    total = sample_weight.sum()
    return (sample_weight * values).sum() / total.clamp_min(torch.finfo(values.dtype).tiny)


def row_weights(sample_weight, like):
    """Row weights as a 1-D tensor of ``like``'s dtype and device, one per row of ``like``.

    Parameters
    ----------
    sample_weight : torch.Tensor, array-like of shape (n,) or None
        Row weights; ``None`` gives all ones.
    like : torch.Tensor of shape (n, ...)
        The tensor whose rows are weighted (logits, probabilities, per-row losses).

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss._torch_utils import row_weights
    >>> row_weights(None, torch.zeros(2, 3, dtype=torch.float64))
    tensor([1., 1.], dtype=torch.float64)
    >>> row_weights([2, 1], torch.zeros(2))
    tensor([2., 1.])
    """
    n = like.shape[0]
    if sample_weight is None:
        return torch.ones(n, dtype=like.dtype, device=like.device)
    return torch.as_tensor(sample_weight).to(dtype=like.dtype, device=like.device).reshape(n)


def one_hot(codes, n_columns=None, dtype=torch.float32):
    """One-hot matrix ``(n, n_columns)`` of integer codes, as floats.

    Parameters
    ----------
    codes : torch.Tensor of shape (n,), int64
        Codes ``0 .. n_columns - 1``.
    n_columns : int or None, default=None
        Number of columns; ``None`` uses ``max(codes) + 1`` (1 for no rows).
    dtype : torch.dtype, default=torch.float32

    Returns
    -------
    torch.Tensor of shape (n, n_columns)

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss._torch_utils import one_hot
    >>> one_hot(torch.tensor([0, 2]))
    tensor([[1., 0., 0.],
            [0., 0., 1.]])
    """
    if n_columns is None:
        n_columns = int(codes.max()) + 1 if codes.numel() else 1
    return F.one_hot(codes, n_columns).to(dtype)


def accumulation_dtype(tensor):
    """The dtype for sums over many rows: float64, except on MPS (which has no float64).

    Group statistics accumulated in float64 give exact zeros for identical groups.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss._torch_utils import accumulation_dtype
    >>> accumulation_dtype(torch.zeros(2))
    torch.float64
    """
    return tensor.dtype if tensor.device.type == "mps" else torch.float64
