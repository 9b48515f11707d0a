"""Fair identity normalisation (FIN): a learned per-group normalisation of hidden features."""

import torch
from torch import nn
from torch.nn.functional import softplus

__all__ = ["FairIdentityNormalizer"]


class FairIdentityNormalizer(nn.Module):
    """Normalise each row's features with learned statistics of its group (Harvard-GF's FIN).

    For a row ``x`` of group ``g``,
    ``y = (1 - m) * (x - mu_g) / (softplus(sigma_g) + eps) + m * x``, with one learnable
    ``mu_g`` and one learnable raw scale ``sigma_g`` of ``n_features`` entries per group and a
    fixed momentum ``m``: the authors' ``Fair_Identity_Normalizer`` (``src/modules.py`` of
    Harvard-GF), placed between the hidden layers and the output layer. It is group-aware: the
    group of every row is needed at prediction time as well.

    A row whose group code is ``-1`` (a group not seen in training) gets the average of its
    normalisations under the known groups, weighted by ``group_weights``; the layer after it
    being linear, the logits are then the group-weighted average of the logits the row would
    get in each known group. The authors' code has no such case.

    Parameters
    ----------
    n_groups : int
        Number of groups (intersectional cells with several protected attributes).
    n_features : int
        Width of the features normalised (the input of the output layer).
    momentum : float, default=0.3
        ``m``, the share of the features kept as they are (the authors' ``--fin_momentum``).
    mu_scale : float, default=0.01
        The ``mu_g`` start as ``randn * mu_scale`` (the authors' ``--fin_mu``).
    sigma_scale : float, default=1.0
        The raw scales ``sigma_g`` start as ``randn * sigma_scale`` (the authors'
        ``--fin_sigma``).
    eps : float, default=1e-6
        Added to ``softplus(sigma_g)``.
    group_weights : array-like of shape (n_groups,) or None, default=None
        Weights of the groups in the average given to rows of an unseen group (normalised to
        sum to 1); None: equal weights.

    Attributes
    ----------
    mus : torch.nn.Parameter of shape (n_groups, n_features)
    sigmas : torch.nn.Parameter of shape (n_groups, n_features)
        The raw scales; the scale of group ``g`` is ``softplus(sigmas[g]) + eps``.
    group_weights : torch.Tensor of shape (n_groups,)
        A buffer, summing to 1.

    References
    ----------
    Luo, Tian, Shi, Pasquale, Shen, Zebardast, Elze and Wang, "Harvard Glaucoma Fairness: A
    Retinal Nerve Disease Dataset for Fairness Learning and Fair Identity Normalization", IEEE
    Transactions on Medical Imaging 43(7), 2623-2633, 2024 (arXiv:2306.09264); code:
    github.com/Harvard-Ophthalmology-AI-Lab/Harvard-GF.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import FairIdentityNormalizer
    >>> _ = torch.manual_seed(0)
    >>> fin = FairIdentityNormalizer(n_groups=2, n_features=3)
    >>> x = torch.ones(4, 3)
    >>> y = fin(x, torch.tensor([0, 1, 1, -1]))  # -1: a group unseen in training
    >>> y.shape, bool(torch.equal(y[1], y[2])), bool(torch.equal(y[0], y[1]))
    (torch.Size([4, 3]), True, False)
    """

    def __init__(self, n_groups, n_features, momentum=0.3, mu_scale=0.01, sigma_scale=1.0,
                 eps=1e-6, group_weights=None):
        super().__init__()
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1]; got {momentum!r}.")
        self.n_groups, self.n_features = int(n_groups), int(n_features)
        self.momentum, self.eps = float(momentum), float(eps)
        self.mus = nn.Parameter(torch.randn(self.n_groups, self.n_features) * mu_scale)
        self.sigmas = nn.Parameter(torch.randn(self.n_groups, self.n_features) * sigma_scale)
        weights = (torch.ones(self.n_groups) if group_weights is None
                   else torch.as_tensor(group_weights, dtype=torch.float32).clone())
        if weights.shape != (self.n_groups,) or not bool((weights >= 0).all()) or not bool(
                weights.sum() > 0):
            raise ValueError(f"group_weights must hold {self.n_groups} non-negative weights, "
                             "not all zero.")
        self.register_buffer("group_weights", weights / weights.sum())

    def extra_repr(self):
        return (f"n_groups={self.n_groups}, n_features={self.n_features}, "
                f"momentum={self.momentum}")

    def forward(self, x, groups):
        """Normalise the rows of ``x`` (``(n, n_features)``) by their group codes
        ``groups`` (``(n,)`` integers in ``[-1, n_groups)``; -1: an unseen group)."""
        if groups is None:
            raise ValueError("FairIdentityNormalizer normalises per group: it needs the group "
                             "of each row (groups).")
        groups = groups.reshape(-1).long()
        m = self.momentum
        scale = softplus(self.sigmas) + self.eps
        known = groups >= 0
        index = groups.clamp_min(0)
        y = (1 - m) * (x - self.mus[index]) / scale[index] + m * x
        if bool(known.all()):
            return y
        # an unseen group: the group-weighted average of the row's normalisations
        pooled = ((x[:, None, :] - self.mus) / scale * self.group_weights[:, None]).sum(dim=1)
        return torch.where(known[:, None], y, (1 - m) * pooled + m * x)
