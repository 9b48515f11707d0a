"""Post-hoc calibrators on logits: temperature, vector and matrix scaling, isotonic regression.

A post-hoc calibrator is a scikit-learn style object (``get_params``/``set_params``,
``clone``-able, picklable) fitted on held-out logits after training. It never sees features:

- ``fit(logits, y, sample_weight=None, sensitive_features=None) -> self``;
- ``transform(logits, sensitive_features=None) -> calibrated logits`` of the same shape;
- ``predict_proba(logits, sensitive_features=None) -> softmax(transform(logits))``.

``logits`` are float arrays of shape ``(n, n_classes)``, binary included (two columns); ``y``
holds integer class codes ``0 .. n_classes - 1``. Weighted objectives use the normalisation
``sum(w * loss) / sum(w)``. The global calibrators accept ``sensitive_features`` and ignore it,
so that a caller can always pass it; the per-group calibrator
:class:`GroupTemperatureScaling` needs it (``requires_sensitive_features = True``).

The optimisation is in numpy float64 with analytic gradients (scipy's bounded Brent search for
one temperature, L-BFGS-B otherwise): no torch, deterministic, and fast on the CPU.
"""

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from .._param_validation import Integer, ParamsValidationMixin, Real
from .._validation import check_sample_weight
from ._checks import check_codes, check_scores

__all__ = [
    "PostCalibratorBase",
    "TemperatureScaling",
    "VectorScaling",
    "MatrixScaling",
    "IsotonicCalibration",
    "MonotoneCubicScaling",
]

#: Bounds of log T in the temperature searches: T in [4.5e-5, 2.2e4].
LOG_T_BOUNDS = (-10.0, 10.0)
#: Smallest calibrated probability of :class:`IsotonicCalibration` (its logits are logs).
PROBA_FLOOR = 1e-12


def _normalised_weights(sample_weight, n_samples, reference="logits"):
    """Weights that sum to one (uniform when ``sample_weight`` is None), and their raw sum
    (``n_samples`` when ``sample_weight`` is None)."""
    w = check_sample_weight(sample_weight, n_samples, reference=reference)
    if w is None:
        return np.full(n_samples, 1.0 / n_samples), float(n_samples)
    total = float(w.sum())
    return w / total, total


# ---------------------------------------------------------------------------------------------
# Weighted negative log-likelihood and its gradient
# ---------------------------------------------------------------------------------------------

def _nll_and_grad(scaled, y, w):
    """Weighted NLL ``sum_i w_i * (-log softmax(scaled_i)[y_i])`` and its gradient in ``scaled``.

    ``w`` is normalised by the caller (sums to one, or to the effective sample size).
    """
    logp = log_softmax(scaled, axis=1)
    rows = np.arange(scaled.shape[0])
    loss = -np.dot(w, logp[rows, y])
    grad = np.exp(logp)
    grad[rows, y] -= 1.0
    grad *= w[:, None]
    return loss, grad


def _weighted_temperature(logits, y, w):
    """The temperature minimising the weighted NLL of ``softmax(logits / T)``.

    The NLL is convex in 1 / T (a one-parameter multinomial logistic model), hence unimodal
    in log T: scipy's bounded Brent search on log T finds the minimum.
    """

    def objective(log_t):
        return _nll_and_grad(logits * np.exp(-log_t), y, w)[0]

    result = minimize_scalar(objective, bounds=LOG_T_BOUNDS, method="bounded",
                             options={"xatol": 1e-10})
    return float(np.exp(result.x))


# ---------------------------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------------------------

class PostCalibratorBase(ParamsValidationMixin, BaseEstimator):
    """Base class of the post-hoc calibrators: validation and :meth:`predict_proba`.

    Subclasses declare ``_parameter_constraints`` (checked when :meth:`fit` starts) and
    implement ``_fit(logits, y, w, sensitive_features)`` (``w`` sums to one; the raw sum of
    the weights is ``self._weight_total``) and ``_transform(logits, sensitive_features)`` on
    validated float64 arrays.

    Examples
    --------
    A calibrator that shifts every logit of the first class by a fitted constant:

    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import PostCalibratorBase
    >>> class FirstClassShift(PostCalibratorBase):
    ...     def _fit(self, logits, y, w, sensitive_features):
    ...         self.shift_ = float(np.dot(w, y == 0) - np.dot(w, y == 1))
    ...     def _transform(self, logits, sensitive_features):
    ...         return logits + [self.shift_, 0.0]
    >>> FirstClassShift().fit(np.zeros((4, 2)), [0, 0, 0, 1]).shift_
    0.5
    """

    #: Whether :meth:`fit` and :meth:`transform` need ``sensitive_features``.
    requires_sensitive_features = False

    def fit(self, logits, y, sample_weight=None, sensitive_features=None):
        """Fit the calibrator on held-out logits.

        Parameters
        ----------
        logits : array-like of shape (n_samples, n_classes)
            Raw scores of a classifier (binary: two columns); probabilities are their softmax.
        y : array-like of shape (n_samples,)
            Integer class codes ``0 .. n_classes - 1`` (column index of the true class).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights; the objective is ``sum(w * loss) / sum(w)``.
        sensitive_features : array-like or DataFrame, default=None
            Protected attribute(s) per row; ignored by the global calibrators.

        Returns
        -------
        self : object
        """
        self._validate_params()
        logits = check_scores(logits)
        y = check_codes(y, logits.shape[0], logits.shape[1])
        w, self._weight_total = _normalised_weights(sample_weight, logits.shape[0])
        self.n_classes_ = logits.shape[1]
        self._fit(logits, y, w, sensitive_features)
        return self

    def transform(self, logits, sensitive_features=None):
        """Calibrated logits: their softmax are the calibrated probabilities.

        Parameters
        ----------
        logits : array-like of shape (n_samples, n_classes)
            Raw scores, as given to :meth:`fit`.
        sensitive_features : array-like or DataFrame, default=None
            Protected attribute(s) per row; ignored by the global calibrators.

        Returns
        -------
        calibrated : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "n_classes_")
        logits = check_scores(logits, n_classes=self.n_classes_)
        return self._transform(logits, sensitive_features)

    def predict_proba(self, logits, sensitive_features=None):
        """Calibrated probabilities: ``softmax(transform(logits))``.

        Parameters
        ----------
        logits : array-like of shape (n_samples, n_classes)
        sensitive_features : array-like or DataFrame, default=None

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self.transform(logits, sensitive_features=sensitive_features), axis=1)


# ---------------------------------------------------------------------------------------------
# Global calibrators
# ---------------------------------------------------------------------------------------------

class TemperatureScaling(PostCalibratorBase):
    """Temperature scaling: one temperature ``T`` for all logits, ``softmax(logits / T)``.

    ``T`` minimises the (weighted) negative log-likelihood on held-out data (Guo, Pleiss, Sun &
    Weinberger 2017, "On Calibration of Modern Neural Networks", ICML). ``T > 1`` softens
    over-confident predictions; the predicted class never changes. For two classes it is
    Platt scaling (Platt 1999) of the margin without intercept.

    The NLL is convex in ``1 / T``; a bounded Brent search on ``log T`` (``T`` in
    ``[4.5e-5, 2.2e4]``) finds its minimum to ``1e-10`` in ``log T``.

    Attributes
    ----------
    temperature_ : float
        The fitted temperature.
    n_classes_ : int
        Number of columns of the logits seen in :meth:`fit`.

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : ``method="temperature"``, on whole estimators.
    GroupTemperatureScaling : one temperature per protected group.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import TemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(scale=2.0, size=(2000, 3))
    >>> y = np.array([rng.choice(3, p=p) for p in np.exp(z) / np.exp(z).sum(1, keepdims=True)])
    >>> cal = TemperatureScaling().fit(3.0 * z, y)   # logits three times too confident
    >>> round(cal.temperature_, 1)
    3.0
    >>> proba = cal.predict_proba(3.0 * z)   # = softmax(3 z / T), close to softmax(z)
    >>> bool(np.allclose(proba.argmax(1), z.argmax(1)))
    True
    """

    def _fit(self, logits, y, w, sensitive_features):
        self.temperature_ = _weighted_temperature(logits, y, w)

    def _transform(self, logits, sensitive_features):
        return logits / self.temperature_


class _AffineScaling(PostCalibratorBase):
    """``logits @ W + b`` fitted by weighted NLL with an L2 penalty towards the identity."""

    _diagonal = True
    _parameter_constraints = {"alpha": [Real(0)], "max_iter": [Integer(1)], "tol": [Real(0)]}

    def __init__(self, alpha=0.0, max_iter=1000, tol=1e-10):
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def _unpack(self, theta, k):
        if self._diagonal:
            return np.diag(theta[:k]), theta[k:]
        return theta[:k * k].reshape(k, k), theta[k * k:]

    def _objective(self, theta, logits, y, w):
        k = logits.shape[1]
        W, b = self._unpack(theta, k)
        loss, g = _nll_and_grad(logits @ W + b, y, w)
        grad_W = logits.T @ g
        grad_b = g.sum(axis=0)
        # L2 penalty towards the identity map (W = I, b = 0).
        dev_W = W - np.eye(k)
        loss += 0.5 * self.alpha * (np.sum(dev_W ** 2) + np.sum(b ** 2))
        grad_W = grad_W + self.alpha * dev_W
        grad_b = grad_b + self.alpha * b
        grad = np.concatenate([np.diag(grad_W) if self._diagonal else grad_W.ravel(), grad_b])
        return loss, grad

    def _fit(self, logits, y, w, sensitive_features):
        k = logits.shape[1]
        theta0 = np.concatenate([np.ones(k) if self._diagonal else np.eye(k).ravel(),
                                 np.zeros(k)])
        result = minimize(self._objective, theta0, args=(logits, y, w), jac=True,
                          method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-8})
        W, b = self._unpack(result.x, k)
        # Softmax ignores a constant added to every logit: centre the bias.
        self.coef_ = np.diag(W).copy() if self._diagonal else W
        self.intercept_ = b - b.mean()
        self.n_iter_ = int(result.nit)

    def _transform(self, logits, sensitive_features):
        if self._diagonal:
            return logits * self.coef_ + self.intercept_
        return logits @ self.coef_ + self.intercept_


class VectorScaling(_AffineScaling):
    """Vector scaling: a scale and a bias per class, ``softmax(logits * a + b)``.

    Fitted by (weighted) negative log-likelihood with L-BFGS (Guo et al. 2017, "On
    Calibration of Modern Neural Networks", ICML; Kull et al. 2019, "Beyond temperature
    scaling: Obtaining well-calibrated multiclass probabilities with Dirichlet calibration",
    NeurIPS). Unlike temperature scaling it can change the predicted class. For two classes
    it generalises Platt scaling (Platt 1999) of the margin.

    {parameters}
    Examples
    --------
    Logits ``z`` would be calibrated, but the model added a bias to each class:

    >>> from sklearn_fairloss.postprocessing import VectorScaling
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(scale=2.0, size=(3000, 3))
    >>> y = np.array([rng.choice(3, p=p) for p in np.exp(z) / np.exp(z).sum(1, keepdims=True)])
    >>> cal = VectorScaling().fit(z + [1.0, 0.0, -1.0], y)
    >>> cal.intercept_.round(1)
    array([-1.,  0.,  1.])
    """


class MatrixScaling(_AffineScaling):
    """Matrix scaling: ``softmax(logits @ W + b)`` with a full ``(n_classes, n_classes)`` W.

    Fitted by (weighted) negative log-likelihood with L-BFGS (Guo et al. 2017; Kull et al.
    2019, "Beyond temperature scaling: Obtaining well-calibrated multiclass probabilities
    with Dirichlet calibration", NeurIPS, where the L2 penalty towards the identity map is
    recommended: matrix scaling over-fits with many classes).

    {parameters}
    Examples
    --------
    Scores whose columns are in the wrong order (class ``k`` scored in column ``k - 1``):
    ``W`` learns the permutation back.

    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import MatrixScaling
    >>> scores = np.random.default_rng(0).normal(size=(2000, 3))
    >>> cal = MatrixScaling(alpha=1e-3).fit(scores[:, [1, 2, 0]], scores.argmax(axis=1))
    >>> predicted = cal.predict_proba(scores[:, [1, 2, 0]]).argmax(axis=1)
    >>> bool((predicted == scores.argmax(axis=1)).mean() > 0.95)
    True
    """

    _diagonal = False


_AFFINE_DOC = """Parameters
    ----------
    alpha : float, default=0.0
        Strength of the L2 penalty ``alpha / 2 * ({penalty} + ||b||^2)`` towards the
        identity map; the weighted NLL is a mean, so ``alpha`` does not grow with the sample
        size. A small value (``1e-3``) keeps the {what} finite on separable data.
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-10
        Relative tolerance on the objective (L-BFGS-B's ``ftol``).

    Attributes
    ----------
    coef_ : ndarray of shape {shape}
        {coef}
    intercept_ : ndarray of shape (n_classes,)
        The bias of each class (centred: softmax ignores a shared constant).
    n_iter_ : int
        Number of L-BFGS iterations run.
    n_classes_ : int
        Number of columns of the logits seen in :meth:`fit`.
"""
VectorScaling.__doc__ = VectorScaling.__doc__.replace("{parameters}", _AFFINE_DOC.format(
    penalty="||a - 1||^2", what="scales", shape="(n_classes,)",
    coef="``a``, the scale of each class's logit."))
MatrixScaling.__doc__ = MatrixScaling.__doc__.replace("{parameters}", _AFFINE_DOC.format(
    penalty="||W - I||^2", what="weights", shape="(n_classes, n_classes)",
    coef="``W``: calibrated logit ``j`` is ``sum_k logits[:, k] * W[k, j] + b[j]``."))


class IsotonicCalibration(PostCalibratorBase):
    """Isotonic regression of each class's probability, one-vs-rest, renormalised.

    A non-decreasing step function maps ``softmax(logits)[:, k]`` to the frequency of class
    ``k`` (Zadrozny & Elkan 2002, "Transforming Classifier Scores into Accurate Multiclass
    Probability Estimates", KDD); the rows are then renormalised to sum to one. With two
    classes only the positive class is fitted and ``p0 = 1 - p1``, as in
    :class:`sklearn.calibration.CalibratedClassifierCV`. :meth:`transform` returns the log of
    the calibrated probabilities (floored at ``1e-12``), so that their softmax gives the
    probabilities back. It needs more data than the parametric scalings (hundreds of rows
    per class) and may tie scores, so that rankings can change.

    Attributes
    ----------
    calibrators_ : list of IsotonicRegression
        One per class (only the positive class for binary logits).
    n_classes_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import IsotonicCalibration
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(scale=2.0, size=1000)
    >>> y = (rng.random(1000) < 1 / (1 + np.exp(-m))).astype(int)
    >>> logits = np.column_stack([np.zeros(1000), 4.0 * m])   # over-confident
    >>> proba = IsotonicCalibration().fit(logits, y).predict_proba(logits)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((1000, 2), True)
    """

    def _fit(self, logits, y, w, sensitive_features):
        proba = softmax(logits, axis=1)
        classes = [1] if logits.shape[1] == 2 else range(logits.shape[1])
        self.calibrators_ = [
            IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                proba[:, k], (y == k).astype(np.float64), sample_weight=w)
            for k in classes
        ]

    def _transform(self, logits, sensitive_features):
        proba = softmax(logits, axis=1)
        if self.n_classes_ == 2:
            p1 = self.calibrators_[0].predict(proba[:, 1])
            out = np.column_stack([1.0 - p1, p1])
        else:
            out = np.column_stack([iso.predict(proba[:, k])
                                   for k, iso in enumerate(self.calibrators_)])
            total = out.sum(axis=1, keepdims=True)
            empty = total[:, 0] <= 0
            out[empty] = 1.0 / self.n_classes_
            total[empty] = 1.0
            out /= total
        return np.log(np.clip(out, PROBA_FLOOR, 1.0))


class MonotoneCubicScaling(PostCalibratorBase):
    r"""Logistic calibration of a binary margin through a strictly increasing cubic that keeps
    every decision: ``p = sigmoid(f(m))``, ``f(m) = a_1 m + a_2 m^2 + a_3 m^3``.

    ``m`` is the margin ``logits[:, 1] - logits[:, 0]``. ``f(0) = 0`` and ``f`` is strictly
    increasing, so the predicted class (``m > 0``) and the ranking of the rows never change:
    unlike :class:`VectorScaling` or :class:`IsotonicCalibration`, it can follow a decision rule
    that has already been certified (``FairLossClassifier(fairness_bound=...)``), while a cubic
    follows a reliability curve that one temperature cannot (over-confident in the middle,
    under-confident in the tails). Monotonicity is built into the parameters: on the
    standardised margin ``u = m / s`` (``s`` the weighted root mean square of ``m``),
    ``f'(u) = (p u + q)^2 + e^r``, i.e. ``a_1 = q^2 + e^r``, ``a_2 = p q``, ``a_3 = p^2 / 3``
    (a sum-of-squares derivative, the usual parametrisation of monotone polynomials), fitted by
    weighted negative log-likelihood with L-BFGS. It is logistic calibration (Platt 1999) on a
    monotone polynomial of the score, without an intercept (cf. Wang and Liu 2020, monotone
    polynomial calibration). Binary logits only.

    Parameters
    ----------
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-10
        Relative tolerance on the objective (L-BFGS-B's ``ftol``).

    Attributes
    ----------
    coef_ : ndarray of shape (3,)
        ``(a_1, a_2, a_3)`` of ``f`` in the raw margin ``m``.
    scale_ : float
        ``s``, the root mean square of the margins seen in :meth:`fit`.
    n_iter_ : int
    n_classes_ : int

    References
    ----------
    .. [1] Platt, J. (1999). "Probabilistic outputs for support vector machines and comparisons
       to regularized likelihood methods." Advances in Large Margin Classifiers.
    .. [2] Wang, Y. and Liu, X. (2020). "Multivariate probability calibration with isotonic
       Bernstein polynomials." IJCAI.

    Examples
    --------
    Margins whose true log-odds are ``0.5 m + 0.02 m^3``: one temperature cannot follow them.

    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import MonotoneCubicScaling
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(scale=3.0, size=20000)
    >>> y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * m + 0.02 * m ** 3)))).astype(int)
    >>> logits = np.column_stack([np.zeros_like(m), m])
    >>> cal = MonotoneCubicScaling().fit(logits, y)
    >>> bool(np.abs(cal.coef_ - [0.5, 0.0, 0.02]).max() < 0.02)
    True
    >>> bool((cal.predict_proba(logits).argmax(1) == (m > 0)).all())   # decisions kept
    True
    """

    _parameter_constraints = {"max_iter": [Integer(1)], "tol": [Real(0)]}

    def __init__(self, max_iter=1000, tol=1e-10):
        self.max_iter = max_iter
        self.tol = tol

    @staticmethod
    def _margin(logits):
        if logits.shape[1] != 2:
            raise ValueError(f"MonotoneCubicScaling calibrates the margin of two classes; got "
                             f"logits with {logits.shape[1]} columns.")
        return logits[:, 1] - logits[:, 0]

    def _fit(self, logits, y, w, sensitive_features):
        m = self._margin(logits)
        self.scale_ = float(np.sqrt(np.dot(w, m * m))) or 1.0
        u = m / self.scale_
        powers = np.column_stack([u, u * u, u ** 3])
        target = (y == 1).astype(np.float64)

        def objective(theta):
            p, q, r = theta
            a = np.array([q * q + np.exp(r), p * q, p * p / 3.0])
            f = powers @ a
            loss = float(np.dot(w, np.logaddexp(0.0, f) - target * f))
            g = powers.T @ (w * (expit(f) - target))  # d loss / d a
            return loss, np.array([g[1] * q + g[2] * 2.0 * p / 3.0,
                                   g[0] * 2.0 * q + g[1] * p, g[0] * np.exp(r)])

        # start at f = u (one temperature s); p, q not both 0 (a stationary point of p and q)
        result = minimize(objective, np.array([0.1, 0.1, 0.0]), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-10})
        p, q, r = result.x
        self.coef_ = np.array([q * q + np.exp(r), p * q, p * p / 3.0]) / self.scale_ ** np.arange(
            1, 4)
        self.n_iter_ = int(result.nit)

    def _transform(self, logits, sensitive_features):
        m = self._margin(logits)
        f = m * (self.coef_[0] + m * (self.coef_[1] + m * self.coef_[2]))
        return np.column_stack([-f, f]) / 2.0
