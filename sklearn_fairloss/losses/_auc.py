"""Mann-Whitney (AUC) loss: logistic loss over positive-negative score differences."""

import math

import torch
import torch.nn.functional as F

from .._param_validation import Real
from .._torch_utils import row_weights, weighted_mean
from ._base import LossBase
from ._utils import one_vs_rest_log_odds

__all__ = ["MannWhitneyLoss"]


class MannWhitneyLoss(LossBase):
    r"""Mann-Whitney (AUC) loss: binary cross-entropy on pairwise score differences.

    For each positive row ``i`` and negative row ``j`` the pair loss is
    ``log(1 + exp(-(s_i - s_j)))``, the binary cross-entropy of "``i`` ranks above ``j``";
    its pair-average upper-bounds (a multiple of) the area over the ROC curve, ``1 - AUC``.
    The score ``s`` is the positive-class margin ``z_1 - z_0`` for binary problems; for
    multiclass problems each class is scored one-vs-rest by its log-odds
    ``z_k - logsumexp_{j != k} z_j`` and the per-class losses are averaged over the classes
    that have both positives and negatives in the batch.

    Pairs are weighted by ``w_i * w_j`` and averaged (``sum w_i w_j l_ij / sum w_i w_j``).
    To keep the cost linear in the batch size ``n``, each class uses all its pairs when
    there are at most ``pairs_per_row * n`` of them and otherwise that many pairs drawn
    uniformly with replacement, from a generator seeded from torch's global random number
    generator while training (so ``torch.manual_seed`` makes runs reproducible) and with a
    fixed seed in evaluation mode (so validation losses do not fluctuate). A batch with no
    positive-negative pair gives a zero that keeps the autograd graph.

    From Sheikholeslami, Hosseini, Bechard, Daruru and Rajeswar (2025), "Optimizing What
    Matters: AUC-Driven Learning for Robust Neural Retrieval", arXiv:2510.00137; the
    Wilcoxon-Mann-Whitney statistic as AUC goes back to Hanley and McNeil (1982).

    Parameters
    ----------
    pairs_per_row : float, default=4.0
        Pair budget per class, as a multiple of the batch size (``> 0``).

    Notes
    -----
    The loss depends only on score differences within a class, so it teaches a ranking,
    not probabilities: recalibrate if ``predict_proba`` matters. :meth:`log_prior_shift`
    returns ``None``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import MannWhitneyLoss
    >>> logits = torch.tensor([[0.0, 1.0], [0.0, -1.0]])  # margins 1 and -1
    >>> y = torch.tensor([1, 0])
    >>> round(float(MannWhitneyLoss()(logits, y)), 4)  # log(1 + exp(-2))
    0.1269
    """

    _parameter_constraints = {"pairs_per_row": [Real(0.0, low_open=True)]}

    def __init__(self, pairs_per_row=4.0):
        super().__init__()
        self.pairs_per_row = pairs_per_row

    def _generator(self):
        if self.training:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        else:
            seed = 0
        return torch.Generator().manual_seed(seed)

    def forward(self, logits, y, sample_weight=None):
        self._ensure_validated()
        n, n_classes = logits.shape
        budget = max(1, math.ceil(float(self.pairs_per_row) * n))
        w = row_weights(sample_weight, logits)
        scores = one_vs_rest_log_odds(logits)
        classes = [1] if n_classes == 2 else range(n_classes)
        y_cpu = y.detach().cpu()
        generator = None
        terms = []
        for k in classes:
            is_pos = y_cpu == k
            pos = is_pos.nonzero().squeeze(1)
            neg = (~is_pos).nonzero().squeeze(1)
            n_pos, n_neg = pos.numel(), neg.numel()
            if n_pos == 0 or n_neg == 0:
                continue
            if n_pos * n_neg <= budget:
                i, j = pos.repeat_interleave(n_neg), neg.repeat(n_pos)
            else:
                if generator is None:
                    generator = self._generator()
                i = pos[torch.randint(n_pos, (budget,), generator=generator)]
                j = neg[torch.randint(n_neg, (budget,), generator=generator)]
            i, j = i.to(logits.device), j.to(logits.device)
            s = scores[:, k]
            terms.append(weighted_mean(F.softplus(s[j] - s[i]), w[i] * w[j]))
        if not terms:
            return (logits * 0.0).sum()
        return torch.stack(terms).mean()
