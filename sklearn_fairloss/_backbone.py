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
- An optional linear path (``linear``) adds a logistic regression's logits to the network's:
  the path starts at scikit-learn's ``LogisticRegression`` fitted on the training rows
  (:func:`linear_start`) and the network's own output layer at zero, so training starts from
  the linear model and early stopping leaves it only while the held-out loss improves (the
  "wide" part of Cheng et al., "Wide & Deep Learning for Recommender Systems", 2016, started
  at its convex optimum).
- The concatenated representation goes through the hidden layers. With ``ensemble_size=k >
  1`` they are TabM's parameter-efficient ensemble of ``k`` MLPs from the authors' package
  ``tabm`` (Gorishniy, Kotelnikov and Babenko, "TabM: Advancing Tabular Deep Learning with
  Parameter-Efficient Ensembling", ICLR 2025): in training the module returns the ``k``
  members' logits, shaped ``(n, k, n_classes)``, and the objective averages the members'
  losses (TabM's training rule); in evaluation it returns the log of the members' mean
  probability, shaped ``(n, n_classes)``, so that everything after training sees one model.
- With ``identity_normalization`` (one MLP only), the features that feed the output layer go
  through :class:`~sklearn_fairloss.fairness.FairIdentityNormalizer` (Harvard-GF's fair
  identity normalisation, per group: ``forward`` then needs ``cells``, each row's group cell).
"""

import math
import warnings

import numpy as np
import rtdl_num_embeddings
import tabm
import torch
from torch import nn

from .fairness import FairIdentityNormalizer

__all__ = ["ACTIVATIONS", "EMBEDDING_SCALE", "LINEAR_START_ROWS", "NUMERICAL_EMBEDDINGS",
           "TabularNetwork", "linear_start", "numerical_bins"]

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
EMBEDDING_SCALE = 10.0


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


#: Rows of the training data the linear start is fitted on, at most (a random subset beyond):
#: it is a starting point, which training then moves.
LINEAR_START_ROWS = 50_000


def linear_start(X, y, sample_weight, n_numerical, n_binary, cardinalities, n_classes, seed=0):
    """The starting coefficients of :class:`TabularNetwork`'s linear path: scikit-learn's
    ``LogisticRegression()`` fitted on the encoded training rows (numeric and binary columns
    as they are, each categorical column one-hot; at most :data:`LINEAR_START_ROWS` rows).

    Returns ``(weight, intercept, tables)``: the class logits' coefficients of the numeric and
    binary columns ``(n_classes, n_numerical + n_binary)``, the intercepts ``(n_classes,)`` and
    one ``(codes, n_classes)`` table per categorical column. A binary logistic regression's
    logit difference is split evenly over the two classes; a class absent from the rows starts
    at a low logit.
    """
    from scipy import sparse
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    if len(y) > LINEAR_START_ROWS:  # subsample first: no float64 copy of every row
        keep = np.random.default_rng(seed).choice(len(y), LINEAR_START_ROWS, replace=False)
        keep = torch.as_tensor(keep, device=X.device)
        X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
    X = X.detach().cpu().double().numpy()
    y = y.detach().cpu().numpy()
    weights = sample_weight.detach().cpu().double().numpy()
    n_plain = n_numerical + n_binary
    blocks = [sparse.csr_matrix(X[:, :n_plain])]
    for j, cardinality in enumerate(cardinalities):
        codes = X[:, n_plain + j].astype(np.int64)
        blocks.append(sparse.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)),
                                        shape=(len(codes), cardinality)))
    design = sparse.hstack(blocks, format="csr")
    coef = np.zeros((n_classes, design.shape[1]))
    intercept = np.zeros(n_classes)
    present = np.unique(y[weights > 0])
    if len(present) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(max_iter=1000).fit(
                design, y, sample_weight=weights)
        classes = model.classes_
        model_coef, model_intercept = model.coef_, model.intercept_
        if len(classes) == 2:  # one logit difference: split it evenly over the two classes
            model_coef = np.vstack([-model_coef / 2, model_coef / 2])
            model_intercept = np.array([-1.0, 1.0]) * model_intercept / 2
        coef[classes], intercept[classes] = model_coef, model_intercept
        intercept[np.setdiff1d(np.arange(n_classes), classes)] = -10.0
    tables, column = [], n_plain
    for cardinality in cardinalities:
        tables.append(torch.as_tensor(coef[:, column:column + cardinality].T,
                                      dtype=torch.float32))
        column += cardinality
    return (torch.as_tensor(coef[:, :n_plain], dtype=torch.float32),
            torch.as_tensor(intercept, dtype=torch.float32), tables)


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
    linear : tuple or None
        ``(weight, intercept, tables)`` of :func:`linear_start`: a trainable linear path on
        the encoded columns, added to the logits, with the network's output layer started at
        zero; None: no linear path.
    identity_normalization : dict or None
        Keyword arguments of :class:`~sklearn_fairloss.fairness.FairIdentityNormalizer`
        (``n_groups`` included), applied to the features that feed the output layer (the
        linear path is left as it is); None: none. Not with ``ensemble_size > 1``.
    """

    def __init__(self, n_numerical, n_binary, cardinalities, n_classes,
                 hidden_layer_sizes=(64, 64), activation="relu", dropout=0.0, ensemble_size=1,
                 numerical_embedding=None, embedding_scale=1.0, bins=None, linear=None,
                 identity_normalization=None):
        super().__init__()
        if identity_normalization is not None and ensemble_size > 1:
            raise ValueError("identity_normalization works with one MLP, not with "
                             f"ensemble_size={ensemble_size} (TabM).")
        self.linear = self.identity_normalization = None
        if linear is not None:
            weight, intercept, tables = linear
            with warnings.catch_warnings():  # no plain columns: a zero-width weight, which
                # torch warns it cannot initialise; it is overwritten just below anyway
                warnings.filterwarnings("ignore", "Initializing zero-element tensors")
                self.linear = nn.Linear(weight.shape[1], n_classes)
            with torch.no_grad():
                self.linear.weight.copy_(weight)
                self.linear.bias.copy_(intercept)
            self.linear_categorical = nn.ModuleList(
                nn.Embedding.from_pretrained(table, freeze=False) for table in tables)
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
            self._start_from_linear()
            if identity_normalization is not None:  # drawn last: no change to the others
                self.identity_normalization = FairIdentityNormalizer(
                    n_features=d_out, **identity_normalization)
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
        self._start_from_linear()

    def _start_from_linear(self):
        # with a linear path, the network's own logits start at zero: the first model is the
        # logistic regression, and training (early stopping) moves away from it only as far
        # as the held-out loss improves
        if self.linear is not None:
            with torch.no_grad():
                for parameter in self.output.parameters():
                    parameter.zero_()

    def _linear_logits(self, X, codes):
        logits = self.linear(X[:, :self.n_numerical + self.n_binary])
        for j, table in enumerate(self.linear_categorical):
            logits = logits + table(codes[:, j])
        return logits

    def forward(self, X, cells=None, **batch_extras):
        # The batch also carries sample_weight and sensitive attributes for the loss;
        # ``cells`` (each row's group cell) is read by the identity normalisation only.
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
        linear = None if self.linear is None else self._linear_logits(X, codes)
        if self.ensemble_view is None:
            features = self.hidden(x)
            if self.identity_normalization is not None:
                features = self.identity_normalization(features, cells)
            logits = self.output(features)
            return logits if linear is None else logits + linear
        logits = self.output(self.hidden(self.ensemble_view(x)))  # (n, k, n_classes)
        if linear is not None:
            logits = logits + linear[:, None, :]
        if self.training:
            return logits
        # one model after training: the log of the members' mean probability
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=1) - math.log(
            self.ensemble_size)
