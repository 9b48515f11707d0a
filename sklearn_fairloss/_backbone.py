"""The network of :class:`FairLossClassifier`: feature embeddings, then an MLP or a TabM
ensemble of MLPs, then class logits.

:class:`TabularNetwork` reads the float32 matrix of :class:`~._features.FeatureEncoder`: the
first ``n_numerical`` columns are numeric, the next ``n_binary`` binary (0/1, taken as they
are: one-hot indicators need no embedding), the rest categorical codes (0: unseen or missing).

- Numeric columns go through an embedding from the authors' package ``rtdl_num_embeddings``
  (Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical Features in Tabular Deep
  Learning", NeurIPS 2022): ``"periodic"`` (PLR, the lite variant that shares the outer linear
  layer), ``"piecewise_linear"`` (PLE with tree-free quantile bins, version B), or None (the
  values themselves).
- Categorical codes get one learned embedding per category (``nn.Embedding``).
- The concatenated representation goes through the hidden layers. With ``ensemble_size=k >
  1`` they are TabM's parameter-efficient ensemble of ``k`` MLPs from the authors' package
  ``tabm`` (Gorishniy, Kotelnikov and Babenko, "TabM: Advancing Tabular Deep Learning with
  Parameter-Efficient Ensembling", ICLR 2025): in training the module returns the ``k``
  members' logits, shaped ``(n, k, n_classes)``, and the objective averages the members'
  losses (TabM's training rule); in evaluation it returns the log of the members' mean
  probability, shaped ``(n, n_classes)``, so that everything after training sees one model.
"""

import math

import rtdl_num_embeddings
import tabm
import torch
from torch import nn

__all__ = ["ACTIVATIONS", "EMBEDDING_SCALE", "NUMERICAL_EMBEDDINGS", "TabularNetwork",
           "numerical_bins"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}

#: Spellings of ``numerical_embedding``.
NUMERICAL_EMBEDDINGS = ("periodic", "piecewise_linear", None)

#: Width of every feature embedding.
D_EMBEDDING = 16
#: The default ``embedding_scale`` of FairLossClassifier (chosen by benchmarks/bench_defaults.py).
EMBEDDING_SCALE = 1.0


def numerical_bins(X_numerical, n_bins=48):
    """Quantile bin edges per numeric column for the piecewise-linear embeddings, by the
    authors' ``rtdl_num_embeddings.compute_bins``; it refuses a constant column, which gets two
    edges around its value instead (its embedding is then linear)."""
    X_numerical = X_numerical.float()
    n_bins = max(2, min(n_bins, X_numerical.shape[0] - 1))
    varying = (X_numerical != X_numerical[:1]).any(dim=0)
    computed = iter(rtdl_num_embeddings.compute_bins(X_numerical[:, varying], n_bins)
                    if varying.any() else [])
    return [next(computed) if varies else torch.stack([column[0] - 1, column[0] + 1])
            for varies, column in zip(varying.tolist(), X_numerical.T)]


def _mlp_layers(d_in, hidden_layer_sizes, activation, dropout):
    layers = []
    for size in hidden_layer_sizes:
        layers += [nn.Linear(d_in, size), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d_in = size
    return nn.Sequential(*layers), d_in


class TabularNetwork(nn.Module):
    """Embeddings, hidden layers (one MLP, or TabM's ensemble of ``ensemble_size``), logits.

    Parameters
    ----------
    n_numerical : int
        Numeric columns, first in the input (embedded).
    n_binary : int
        Binary columns, next in the input (taken as they are).
    cardinalities : list of int
        Codes per categorical column (the rest of the input).
    n_classes : int
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers (equal widths when ``ensemble_size > 1``).
    activation : str
        A key of :data:`ACTIVATIONS`.
    dropout : float
    ensemble_size : int
        ``k`` of TabM; 1 is a single MLP.
    numerical_embedding : {"periodic", "piecewise_linear", None}
    embedding_scale : float
        Initial scale of the periodic embeddings' frequencies (the paper's sigma).
    bins : list of torch.Tensor or None
        Bin edges per numeric column (``"piecewise_linear"`` only).
    """

    def __init__(self, n_numerical, n_binary, cardinalities, n_classes,
                 hidden_layer_sizes=(64, 64), activation="relu", dropout=0.0, ensemble_size=1,
                 numerical_embedding=None, embedding_scale=1.0, bins=None):
        super().__init__()
        self.n_numerical, self.n_binary = n_numerical, n_binary
        self.ensemble_size = ensemble_size
        chunks = []
        self.numerical = None
        if n_numerical and numerical_embedding == "periodic":
            self.numerical = rtdl_num_embeddings.PeriodicEmbeddings(
                n_numerical, D_EMBEDDING, frequency_init_scale=embedding_scale, lite=True)
        elif n_numerical and numerical_embedding == "piecewise_linear":
            self.numerical = rtdl_num_embeddings.PiecewiseLinearEmbeddings(
                bins, D_EMBEDDING, activation=False, version="B")
        chunks += [D_EMBEDDING if self.numerical is not None else 1] * n_numerical
        chunks += [1] * n_binary
        self.categorical = nn.ModuleList(nn.Embedding(c, D_EMBEDDING) for c in cardinalities)
        chunks += [D_EMBEDDING] * len(cardinalities)
        d_in = sum(chunks)
        if ensemble_size == 1:
            self.hidden, d_out = _mlp_layers(d_in, hidden_layer_sizes, activation, dropout)
            self.ensemble_view = None
            self.output = nn.Linear(d_out, n_classes)
            return
        self.ensemble_view = tabm.EnsembleView(k=ensemble_size)
        d_out = d_in
        self.hidden = nn.Identity()
        if hidden_layer_sizes:
            self.hidden = tabm.make_tabm_backbone(
                d_in=d_in, n_blocks=len(hidden_layer_sizes), d_block=hidden_layer_sizes[0],
                dropout=dropout, activation=ACTIVATIONS[activation].__name__,
                k=ensemble_size, arch_type="tabm",
                start_scaling_init="normal" if self.numerical is not None else "random-signs",
                start_scaling_init_chunks=chunks)
            d_out = hidden_layer_sizes[0]
        self.output = tabm.LinearEnsemble(d_out, n_classes, k=ensemble_size)

    def forward(self, X, **batch_extras):
        # The batch also carries sample_weight and sensitive attributes for the loss.
        parts = []
        if self.n_numerical:
            numeric = X[:, :self.n_numerical]
            parts.append(numeric if self.numerical is None
                         else self.numerical(numeric).flatten(1))
        n_plain = self.n_numerical + self.n_binary
        if self.n_binary:
            parts.append(X[:, self.n_numerical:n_plain])
        codes = X[:, n_plain:].long()
        parts += [embedding(codes[:, j]) for j, embedding in enumerate(self.categorical)]
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        if self.ensemble_view is None:
            return self.output(self.hidden(x))
        logits = self.output(self.hidden(self.ensemble_view(x)))  # (n, k, n_classes)
        if self.training:
            return logits
        # one model after training: the log of the members' mean probability
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=1) - math.log(
            self.ensemble_size)
