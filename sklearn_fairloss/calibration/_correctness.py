"""Correctness-aware post-hoc calibration with tabular perturbations (Liu et al. 2024)."""

import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._param_validation import InstanceOf, Integer, ParamsValidationMixin, Real

__all__ = ["CorrectnessAwareCalibrator"]

_VIEWS = ("noise", "dropout", "noise+dropout")


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _TemperatureNet(nn.Module):
    """Features -> per-row temperature in ``[1 / t_max, t_max]``, starting at 1."""

    def __init__(self, n_features, hidden_size, max_temperature):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden_size)
        self.out = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.log_max = math.log(max_temperature)

    def forward(self, features):
        raw = self.out(torch.relu(self.hidden(features))).squeeze(1)
        # smooth bound of log T in [-log t_max, log t_max] (the authors clamp T to [0.1, 10])
        return torch.exp(self.log_max * torch.tanh(raw / self.log_max))


class CorrectnessAwareCalibrator(ParamsValidationMixin, BaseEstimator):
    """Post-hoc calibrator trained with the correctness-aware (CA) objective.

    A small network predicts a temperature ``T(x) > 0`` for each row; calibrated logits are
    ``logits / T(x)`` (the predicted class never changes). It is trained on held-out data so
    that the calibrated top-label confidence ``r_i`` matches the *correctness*
    ``c_i = 1[argmax logits_i = y_i]``: it minimises the class-balanced squared error

    ``sum_i w_i b_i (r_i - c_i) ** 2 / sum_i w_i b_i``, with ``b_i = 1 - acc`` on correct
    rows and ``acc`` on wrong rows (``acc`` the weighted accuracy), as in the authors' code,

    so that it lowers the confidence of wrong predictions and raises that of right ones
    rather than pushing up the true-class probability as cross-entropy does.

    A row alone says little about whether its prediction is right; the paper reads it from
    how the prediction changes on *transformed* versions of the input (rotation, greyscale,
    colour jitter). For tabular data the views here are perturbations of the feature
    matrix: Gaussian noise (``noise_scale`` times each column's standard deviation), feature
    dropout (each entry replaced by its column mean with probability ``dropout_rate``) and
    both, cycled over ``n_views`` views. The calibrator's input, as in the paper, is each
    view's softmax probabilities at the ``top_k`` classes ranked first by the original
    logits (``n_views * top_k`` features).

    From Liu, Wang, Zou, Zou and Zheng (2024), "Optimizing Calibration by Gaining Aware of
    Prediction Correctness", arXiv:2404.13016 (code: ``liuyvchi/Correctness-aware-calibration``).

    Parameters
    ----------
    n_views : int, default=3
        Number of perturbed views (noise, dropout, noise+dropout, noise, ...).
    noise_scale : float, default=0.1
        Standard deviation of the Gaussian noise, in units of each column's standard
        deviation (on the data given to ``fit``).
    dropout_rate : float, default=0.2
        Probability in ``[0, 1)`` that an entry is replaced by its column mean.
    top_k : int, default=4
        Number of top classes whose probabilities are read in each view
        (at most ``n_classes``).
    hidden_size : int, default=5
        Width of the hidden layer of the temperature network (the paper's ``feat_dim``).
    max_temperature : float, default=10.0
        Temperatures are kept in ``[1 / max_temperature, max_temperature]``.
    max_iter : int, default=300
        Full-batch Adam steps.
    learning_rate : float, default=0.01
        Adam's step size.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations and the network's initialisation. The perturbations in
        :meth:`transform` are drawn from a generator seeded from the same value, so that an
        integer ``random_state`` makes ``transform`` deterministic.

    Attributes
    ----------
    n_classes_ : int
    n_features_in_ : int
    column_mean_, column_std_ : ndarray of shape (n_features_in_,)
        Statistics of the calibration data used by the perturbations.
    module_ : torch.nn.Module
        The fitted temperature network (float64).
    loss_curve_ : list of float
        CA loss per Adam step.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.calibration import CorrectnessAwareCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> def logits_fn(X):  # an over-confident model
    ...     return np.column_stack([np.zeros(len(X)), 8.0 * X[:, 0]])
    >>> cal = CorrectnessAwareCalibrator(max_iter=50, random_state=0)
    >>> cal = cal.fit(logits_fn, X, y)
    >>> cal.transform(logits_fn, X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "n_views": [Integer(1)],
        "noise_scale": [Real(0.0)],
        "dropout_rate": [Real(0.0, 1.0, high_open=True)],
        "top_k": [Integer(1)],
        "hidden_size": [Integer(1)],
        "max_temperature": [Real(1.0, low_open=True)],
        "max_iter": [Integer(0)],
        "learning_rate": [Real(0.0, low_open=True)],
        "random_state": [None, Integer(0), InstanceOf(np.random.RandomState,
                                                    "a numpy RandomState")],
    }

    def __init__(
        self,
        n_views=3,
        noise_scale=0.1,
        dropout_rate=0.2,
        top_k=4,
        hidden_size=5,
        max_temperature=10.0,
        max_iter=300,
        learning_rate=0.01,
        random_state=None,
    ):
        self.n_views = n_views
        self.noise_scale = noise_scale
        self.dropout_rate = dropout_rate
        self.top_k = top_k
        self.hidden_size = hidden_size
        self.max_temperature = max_temperature
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    @staticmethod
    def _logits(logits_fn, X, n_rows):
        logits = np.asarray(logits_fn(X), dtype=np.float64)
        if logits.ndim != 2 or logits.shape[0] != n_rows or logits.shape[1] < 2:
            raise ValueError(
                "logits_fn(X) must return an array of shape (n_samples, n_classes) with "
                f"n_classes >= 2 (binary included: two columns); got shape {logits.shape}."
            )
        return logits

    def _views(self, X, rng):
        """The perturbed copies of ``X``, one per view."""
        views = []
        for v in range(int(self.n_views)):
            kind = _VIEWS[v % len(_VIEWS)]
            Xv = X.copy()
            if "dropout" in kind:
                mask = rng.random(X.shape) < self.dropout_rate
                Xv = np.where(mask, self.column_mean_[None, :], Xv)
            if "noise" in kind:
                Xv = Xv + rng.normal(size=X.shape) * (self.noise_scale * self.column_std_)[None, :]
            views.append(Xv.astype(X.dtype, copy=False))
        return views

    def _features(self, logits_fn, X, logits, rng):
        k = min(int(self.top_k), logits.shape[1])
        top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
        feats = []
        for Xv in self._views(X, rng):
            probs_v = _softmax(self._logits(logits_fn, Xv, X.shape[0]))
            feats.append(np.take_along_axis(probs_v, top, axis=1))
        return np.concatenate(feats, axis=1)

    @staticmethod
    def _check_X(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-d array; got shape {X.shape}.")
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        return X

    def fit(self, logits_fn, X, y, sample_weight=None):
        """Fit the temperature network on held-out data.

        Parameters
        ----------
        logits_fn : callable
            ``logits_fn(X) -> ndarray of shape (n_samples, n_classes)``: the trained model's
            logits (binary included: two columns) for a feature matrix shaped like ``X``.
        X : array-like of shape (n_samples, n_features)
            Held-out rows (numeric; the perturbations act on this matrix).
        y : array-like of shape (n_samples,)
            Class codes ``0 .. n_classes - 1`` (the columns of the logits).
        sample_weight : array-like of shape (n_samples,) or None
            Row weights.

        Returns
        -------
        self
        """
        self._validate_params()
        X = self._check_X(X)
        n = X.shape[0]
        y = np.asarray(y)
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must be integer class codes of shape ({n},); got {y.shape}.")
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                f"sample_weight must be {n} non-negative finite values; got shape "
                f"{weights.shape}."
            )
        if n == 0 or not weights.sum() > 0:
            raise ValueError("fit needs at least one row with a positive sample_weight.")
        logits = self._logits(logits_fn, X, n)
        if y.min() < 0 or y.max() >= logits.shape[1]:
            raise ValueError(f"y must hold class codes in [0, {logits.shape[1] - 1}].")
        self.n_classes_ = logits.shape[1]
        self.n_features_in_ = X.shape[1]
        self.column_mean_ = np.average(X, axis=0, weights=weights)
        self.column_std_ = np.sqrt(
            np.average((X - self.column_mean_) ** 2, axis=0, weights=weights)
        )
        rng = check_random_state(self.random_state)
        features = self._features(logits_fn, X, logits, rng)

        correct = (logits.argmax(axis=1) == y).astype(float)
        accuracy = np.sum(weights * correct) / np.sum(weights)
        balance = np.where(correct == 1, 1.0 - accuracy, accuracy)
        row_weights = weights * balance
        if not row_weights.sum() > 0:  # all right or all wrong: no balancing possible
            row_weights = weights
        row_weights = row_weights / row_weights.sum()

        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = _TemperatureNet(
                features.shape[1], int(self.hidden_size), float(self.max_temperature)
            ).double()
        f = torch.as_tensor(features)
        z = torch.as_tensor(logits)
        c = torch.as_tensor(correct)
        w = torch.as_tensor(row_weights)
        optimizer = torch.optim.Adam(module.parameters(), lr=float(self.learning_rate))
        curve = []
        for _ in range(int(self.max_iter)):
            optimizer.zero_grad()
            loss = self._ca_loss(module, f, z, c, w)
            loss.backward()
            optimizer.step()
            curve.append(float(loss.detach()))
        module.eval()
        self.module_ = module
        self.loss_curve_ = curve
        return self

    @staticmethod
    def _ca_loss(module, features, logits, correct, weights):
        confidence = torch.softmax(logits / module(features)[:, None], dim=1).max(dim=1).values
        return (weights * (confidence - correct) ** 2).sum()

    def temperatures(self, logits_fn, X):
        """Per-row temperatures ``T(x)``, shape ``(n_samples,)``."""
        return self._temperatures_and_logits(logits_fn, X)[0]

    def _temperatures_and_logits(self, logits_fn, X):
        check_is_fitted(self, "module_")
        X = self._check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features but the calibrator was fitted with "
                f"{self.n_features_in_}."
            )
        logits = self._logits(logits_fn, X, X.shape[0])
        if logits.shape[1] != self.n_classes_:
            raise ValueError(
                f"logits_fn returned {logits.shape[1]} columns; the calibrator was fitted "
                f"with {self.n_classes_}."
            )
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else None
        rng = np.random.RandomState(seed)
        features = self._features(logits_fn, X, logits, rng)
        with torch.no_grad():
            temps = self.module_(torch.as_tensor(features)).numpy()
        return temps, logits

    def transform(self, logits_fn, X):
        """Calibrated logits ``logits_fn(X) / T(x)``, shape ``(n_samples, n_classes)``.

        Parameters
        ----------
        logits_fn : callable
            The same model as in :meth:`fit`.
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
        """
        temps, logits = self._temperatures_and_logits(logits_fn, X)
        return logits / temps[:, None]

    def predict_proba(self, logits_fn, X):
        """Calibrated probabilities, the softmax of :meth:`transform`."""
        return _softmax(self.transform(logits_fn, X))
