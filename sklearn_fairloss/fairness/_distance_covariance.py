"""Distance-covariance penalty between predictions and mixed-type protected attributes."""

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from .._param_validation import InstanceOf, Options, Real
from ._base import PenaltyBase, _batch_probabilities
from ._docstrings import fill_doc

__all__ = ["DistanceCovariance"]


#: Elements of one ``(rows, n)`` block of a distance matrix. The penalty never holds a whole
#: ``(n, n)`` matrix: it works through row blocks of about this size (16 MiB in float64), so
#: its memory is O(n) plus a few blocks whatever the batch size.
_BLOCK_ELEMENTS = 2**21


def _row_blocks(n, width=1):
    """Slices of consecutive rows whose ``(rows, n, width)`` blocks hold ~_BLOCK_ELEMENTS."""
    step = max(1, _BLOCK_ELEMENTS // max(1, n * width))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _row_means(block, blocks, pi):
    """``d @ pi`` (the weighted row means ``d_k.``) of the matrix given by ``block(rows)``."""
    return torch.cat([block(rows) @ pi for rows in blocks])


def _centred(block, means, grand, rows):
    """Rows ``rows`` of the weighted double-centred distance matrix with the sign of a kernel.

    ``U_kl = -(d_kl - d_k. - d_.l + d_..)`` with weighted means ``d_k. = sum_l pi_l d_kl``:
    ``-J d J``, positive semi-definite for a metric of negative type (Euclidean, discrete),
    as in Chakraborty & Zhang (2019). For two variables the sign cancels and
    ``pi' (U_X * U_Y) pi`` is the V-statistic ``dCov_n^2`` of Székely, Rizzo & Bakirov (2007).
    """
    return -(block - means[rows, None] - means[None, :] + grand)


def _euclidean(a, b):
    """Euclidean distances between the rows of ``a`` and of ``b`` with a zero (not NaN)
    gradient at 0."""
    diff = a[:, None, :] - b[None, :, :]
    squared = (diff * diff).sum(dim=-1)
    positive = squared > 0
    safe = torch.where(positive, squared, torch.ones_like(squared)).sqrt()
    return torch.where(positive, safe, torch.zeros_like(squared))


def _prediction_block(probs, rows):
    """Rows ``rows`` of the prediction distances ``||p - p'|| / sqrt(2)``."""
    if probs.shape[1] == 2:  # |p_1 - p_1'|, without the (rows, n, C) difference
        return (probs[rows, 1, None] - probs[None, :, 1]).abs()
    return _euclidean(probs[rows], probs) / 2**0.5


class _Attribute:
    """One attribute's distances, divided by its ``dCov_n(S, S)`` so that its dVar is 1.

    Makes the penalty free of the attribute's unit (age in years or decades) and puts
    categorical and continuous attributes on one scale (the scale-invariant form of
    Chakraborty & Zhang 2019). An attribute constant in the batch gives zeros. The distances
    are given by row blocks; they do not depend on the model (no gradient).
    """

    def __init__(self, column, continuous, pi, blocks):
        self.column, self.continuous, self.dtype = column, continuous, pi.dtype
        means = _row_means(self._raw, blocks, pi)
        grand = pi @ means
        dvar = sum(pi[rows] @ _centred(self._raw(rows), means, grand, rows).square() @ pi
                   for rows in blocks)
        self.zero = not bool(dvar > 0)
        self.root = dvar.sqrt()
        self.means, self.grand = means / self.root, grand / self.root

    def _raw(self, rows):
        """Rows ``rows`` of the unscaled distances: ``|v - v'|`` or ``1[s != s']``."""
        column = self.column
        if self.continuous:
            return (column[rows, None] - column[None, :]).abs()
        return (column[rows, None] != column[None, :]).to(self.dtype)

    def block(self, rows):
        """Rows ``rows`` of the scaled distances."""
        distances = self._raw(rows)
        return torch.zeros_like(distances) if self.zero else distances / self.root

    def centred(self, rows):
        """Rows ``rows`` of the double-centred scaled distances (see :func:`_centred`)."""
        if self.zero:
            return torch.zeros((rows.stop - rows.start, len(self.column)), dtype=self.dtype,
                               device=self.column.device)
        return _centred(self.block(rows), self.means, self.grand, rows)


class _BlockPenalty(torch.autograd.Function):
    """``sum_kl pi_k pi_l U_kl W_kl`` (``U``: the centred prediction distances, ``W``: the
    model-free factor given by row blocks), with its gradient, one row block at a time.

    The forward pass is the V-statistic formula; the backward pass uses its exact derivative
    ``dP/dd_kl = -pi_k pi_l (W_kl - w_k - w_l + pi'w)`` with ``w = W pi``, so that neither
    pass keeps an ``(n, n)`` matrix.
    """

    @staticmethod
    def forward(ctx, probs, pi, kernel, blocks):
        means = _row_means(lambda rows: _prediction_block(probs, rows), blocks, pi)
        grand = pi @ means
        value = probs.new_zeros(())
        kernel_means = []
        for rows in blocks:
            factor = kernel(rows)
            u_pred = _centred(_prediction_block(probs, rows), means, grand, rows)
            value = value + pi[rows] @ (u_pred * factor) @ pi
            kernel_means.append(factor @ pi)
        ctx.kernel, ctx.blocks = kernel, blocks
        ctx.save_for_backward(probs, pi, torch.cat(kernel_means))
        return value

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        probs, pi, means = ctx.saved_tensors
        grand = pi @ means
        grad = torch.zeros_like(probs)
        for rows in ctx.blocks:
            # d value / d d_kl, doubled: d_kl = d_lk both depend on row k.
            coef = _centred(ctx.kernel(rows), means, grand, rows)
            coef = coef * (2.0 * pi[rows, None] * pi[None, :])
            if probs.shape[1] == 2:  # d_kl = |p_k1 - p_l1|
                grad[rows, 1] = (coef * (probs[rows, 1, None] - probs[None, :, 1]).sign()).sum(1)
            else:  # d_kl = ||p_k - p_l|| / sqrt(2)
                distances = _euclidean(probs[rows], probs)
                positive = distances > 0
                coef = torch.where(positive, coef, torch.zeros_like(coef)) / (
                    2**0.5 * torch.where(positive, distances, torch.ones_like(distances)))
                grad[rows] = probs[rows] * coef.sum(1, keepdim=True) - coef @ probs
        return grad * grad_output, None, None, None


@fill_doc
class DistanceCovariance(PenaltyBase):
    """Distance-covariance penalty between predictions and the protected attributes.

    The squared distance covariance ``dCov^2(Yhat, S)`` of Székely, Rizzo & Bakirov (2007,
    "Measuring and Testing Dependence by Correlation of Distances", Annals of Statistics 35)
    is zero if and only if the predicted probabilities ``Yhat`` are independent of ``S``, and
    captures linear and non-linear dependence, for categorical and continuous ``S`` alike.
    Following Lee, Antonio, Avanzi, Marchi & Zhou (2025, "Machine Learning with Multitype
    Protected Attributes: Intersectional Fairness through Regularisation", arXiv:2509.08163),
    its empirical V-statistic on the batch is the penalty (demographic parity in the
    distributional sense), and several attributes are handled by one of two multivariate
    forms:

    - ``"ccdcov"``: concatenated distance covariance ``dCov^2(Yhat, (S_1, ..., S_k))``, the
      distance covariance between the predictions and the vector of all attributes; zero iff
      the predictions are independent of the attributes jointly, so it catches intersectional
      disparities (fairness gerrymandering).
    - ``"jdcov"``: joint distance covariance (Chakraborty & Zhang 2019, "Distance Metrics for
      Measuring Joint Dependence with Application to Causal Inference", JASA 114),
      ``JdCov^2(Yhat, S_1, ..., S_k; c) = sum_kl pi_k pi_l prod_i (U^i_kl + c) - c^(k+1)``,
      which sums the pairwise ``dCov^2(Yhat, S_j)``, ``dCov^2(S_i, S_j)`` and the higher-order
      terms, weighted by powers of ``c``. The terms that involve only the attributes do not
      depend on the model, so they are dropped: the penalty is
      ``sum_kl pi_k pi_l U^0_kl prod_{i>=1} (U^i_kl + c)``, which has the gradient of
      ``JdCov^2`` and is zero when the predictions are independent of the attributes.

    With one attribute both forms equal ``dCov^2(Yhat, S)``.

    Distances: predictions use the Euclidean distance between probability vectors divided by
    ``sqrt(2)`` (binary: ``|p_1 - p_1'|``); a categorical attribute uses the discrete metric
    ``1[s != s']`` (the Euclidean distance of its one-hot code over ``sqrt(2)``); a continuous
    attribute uses ``|v - v'|`` on ``sensitive_values``. Each attribute's distances are divided
    by its ``dCov_n(S_j, S_j)`` so that the penalty does not depend on units. ``U`` are the
    double-centred distance matrices with weights ``pi = w / sum(w)`` (the V-statistic of the
    weighted empirical distribution, so weight 2 equals a duplicated row).

    Cost: ``O(n^2 k)`` time per batch, but ``O(n)`` memory: the ``(n, n)`` distance
    matrices are never stored, they are computed (and differentiated) by blocks of rows of
    about two million entries (16 MiB in float64) each: about 80 MB of tensors at a batch
    of 4,096 rows (1 GB with whole matrices), whatever the batch size; only the time grows.
    The value is a squared distance covariance, typically 1e-3 to 1e-1: expect a larger
    ``fairness_strength`` than for the parity penalties.

    Parameters
    ----------
    method : {"ccdcov", "jdcov"}, default="ccdcov"
        Multivariate form for several attributes (see above). The default, CCdCov, is the
        form the paper introduces for intersectional fairness; it has no tuning parameter.
    c : float, default=1.0
        JdCov's weight of the higher-order terms (``c >= 0``); 1 is the value Chakraborty &
        Zhang recommend for the scale-invariant version. Ignored by ``"ccdcov"``.
    continuous : "auto", sequence of bool or sequence of int, default="auto"
        Which attributes are continuous (compared by value, from ``sensitive_values``);
        the others are categorical (compared by group code). ``"auto"`` uses the ``numeric``
        flags given to :meth:`set_groups` by the estimator (numeric columns, such as age, are
        continuous), and treats every attribute as categorical when there are none. A
        sequence of booleans (one per attribute) or of column indices overrides it.
    {warmup}

    See Also
    --------
    DemographicParity

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import DistanceCovariance
    >>> logits = torch.tensor([[0.0, 2.0], [0.0, 1.0], [0.0, -1.0], [0.0, -2.0]])
    >>> y = torch.tensor([1, 1, 0, 0])
    >>> sex = torch.tensor([[0], [0], [1], [1]])
    >>> dcov = DistanceCovariance()
    >>> round(float(dcov(logits, y, sex)), 4)
    0.2685
    >>> age = torch.tensor([[25.0], [35.0], [45.0], [55.0]])
    >>> dcov = DistanceCovariance(continuous=[True])
    >>> codes = torch.arange(4)[:, None]  # one group per age; the values are what counts
    >>> round(float(dcov(logits, y, codes, sensitive_values=age)), 4)
    0.2649
    """

    _parameter_constraints = {
        **PenaltyBase._parameter_constraints,
        "method": [Options("ccdcov", "jdcov")],
        "c": [Real(0.0)],
        "continuous": [Options("auto"), InstanceOf((list, tuple, np.ndarray),
                                                   "a sequence of bool or of column indices")],
    }

    def __init__(self, method="ccdcov", c=1.0, continuous="auto", warmup=0):
        super().__init__(warmup=warmup)
        self.method = method
        self.c = c
        self.continuous = continuous

    def _continuous_mask(self, k):
        if isinstance(self.continuous, str):  # "auto"
            numeric = getattr(self, "numeric_", None)
            if numeric is None:
                return [False] * k
            if len(numeric) != k:
                raise ValueError(
                    f"set_groups was given {len(numeric)} attributes but sensitive has {k}."
                )
            return list(numeric)
        flags = list(self.continuous)
        if all(isinstance(f, bool) for f in flags):
            if len(flags) != k:
                raise ValueError(
                    f"continuous has {len(flags)} flags but sensitive has {k} attributes; "
                    "give one per attribute."
                )
            return flags
        mask = [False] * k
        for index in flags:
            if not 0 <= int(index) < k:
                raise ValueError(
                    f"continuous names attribute {index!r}, but sensitive has {k} attributes."
                )
            mask[int(index)] = True
        return mask

    def _attributes(self, sensitive, sensitive_values, pi, blocks):
        """The scaled distances of each attribute (see :class:`_Attribute`)."""
        k = sensitive.shape[1]
        mask = self._continuous_mask(k)
        out = []
        for j in range(k):
            if mask[j]:
                if sensitive_values is None:
                    raise ValueError(
                        f"DistanceCovariance treats attribute {j} as continuous and needs "
                        "sensitive_values; got None."
                    )
                values = torch.as_tensor(sensitive_values).to(pi.device, pi.dtype)
                if values.ndim == 1:
                    values = values[:, None]
                column = values[:, j]
            else:
                column = sensitive[:, j]
            out.append(_Attribute(column, mask[j], pi, blocks))
        return out

    def _attribute_kernel(self, attributes, pi, blocks):
        """``rows -> `` the rows of the model-free factor of the penalty: the centred
        attribute kernel (CCdCov) or ``prod_i (U^i + c)`` (JdCov)."""
        if self.method == "ccdcov" or len(attributes) == 1:
            if len(attributes) == 1:
                joint = attributes[0].block
            else:  # the distance of the concatenated vector: sqrt(sum_j d_j^2)
                def joint(rows):
                    return sum(a.block(rows).square() for a in attributes).sqrt()
            means = _row_means(joint, blocks, pi)
            grand = pi @ means
            return lambda rows: _centred(joint(rows), means, grand, rows)
        c = float(self.c)

        def product(rows):
            out = attributes[0].centred(rows) + c
            for attribute in attributes[1:]:
                out = out * (attribute.centred(rows) + c)
            return out
        return product

    def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
        """The penalty for one batch (see the class docstring); a scalar tensor."""
        self._ensure_validated()
        zero = logits.sum() * 0.0
        if logits.shape[0] == 0:
            return zero
        sensitive, probs, weights = _batch_probabilities(logits, sensitive, sample_weight)
        total = weights.sum()
        if not bool(total > 0):
            return zero
        pi = weights / total
        blocks = _row_blocks(probs.shape[0], probs.shape[1] if probs.shape[1] > 2 else 1)
        kernel = self._attribute_kernel(
            self._attributes(sensitive, sensitive_values, pi, blocks), pi, blocks)
        value = _BlockPenalty.apply(probs, pi, kernel, blocks)
        return value.to(logits.dtype)


