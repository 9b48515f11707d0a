"""A ``refit`` callable for ``GridSearchCV``: the best-scoring candidate whose fairness metric
stays within a bound."""

import warnings
from dataclasses import KW_ONLY, dataclass

import numpy as np

__all__ = ["ConstrainedRefit", "FairnessConstraintWarning"]

_FALLBACKS = ("least_violation", "best_score", "raise")


class FairnessConstraintWarning(UserWarning):
    """No candidate of a search met the fairness bound; a fallback candidate was chosen."""


@dataclass(eq=False)
class ConstrainedRefit:
    """Pick the best candidate of a search subject to a bound on another scorer.

    Pass an instance as ``GridSearchCV(refit=...)`` (or ``RandomizedSearchCV``) with a
    multi-metric ``scoring`` dict: among the candidates whose mean ``constraint`` score is
    within ``bound``, it returns the index of the one with the best mean ``score``; for
    example the most accurate model with demographic parity difference <= 0.05.

    Scorers of "lower is better" metrics report negated values in ``cv_results_`` (as
    scikit-learn's ``neg_*`` scorers and :func:`make_fairness_scorer` for differences do);
    ``ConstrainedRefit`` undoes the sign, so ``bound`` is in the metric's own units.

    Parameters
    ----------
    score : str
        Key of the scorer to maximise in the ``scoring`` dict (e.g. ``"accuracy"``).
    constraint : str
        Key of the fairness scorer in the ``scoring`` dict (e.g. ``"dp"``).
    bound : float
        The bound, in the metric's own units.
    greater_is_better : bool, default=False
        Direction of the constraint metric. False (differences, divergences): the metric
        must be <= ``bound``, and its scorer reports ``-metric``. True (ratios): the metric
        must be >= ``bound``, and its scorer reports the metric itself.
    fallback : {"least_violation", "best_score", "raise"}, default="least_violation"
        What to do when no candidate qualifies: warn with
        :class:`FairnessConstraintWarning` and pick the candidate closest to the bound (ties
        broken by ``score``) or the best-scoring one, or raise ``ValueError``.

    Attributes
    ----------
    n_qualified_ : int
        Number of candidates within the bound at the last call.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_fairloss.metrics import ConstrainedRefit, make_fairness_scorer
    >>> rng = np.random.default_rng(0)
    >>> group = rng.integers(0, 2, 400)
    >>> X = np.column_stack([rng.normal(size=400) + group, group])
    >>> y = (X[:, 0] + rng.normal(size=400) > 0.5).astype(int)
    >>> scoring = {"accuracy": "accuracy",
    ...            "dp": make_fairness_scorer("demographic_parity_difference", sensitive=[1])}
    >>> refit = ConstrainedRefit("accuracy", "dp", bound=0.3)
    >>> search = GridSearchCV(LogisticRegression(), {"C": [1e-4, 1e-2, 1.0]},
    ...                       scoring=scoring, refit=refit, cv=3).fit(X, y)
    >>> -search.cv_results_["mean_test_dp"][search.best_index_] <= 0.3
    np.True_
    """

    score: str
    constraint: str
    _: KW_ONLY
    bound: float
    greater_is_better: bool = False
    fallback: str = "least_violation"

    def _column(self, cv_results, name):
        key = f"mean_test_{name}"
        if key not in cv_results:
            available = sorted(k[len("mean_test_"):] for k in cv_results
                               if k.startswith("mean_test_"))
            raise KeyError(f"ConstrainedRefit needs the scorer {name!r} in the search's scoring "
                           f"dict; cv_results_ has scorers {available}.")
        return np.asarray(cv_results[key], dtype=np.float64)

    def __call__(self, cv_results):
        """Return the index of the chosen candidate in ``cv_results``."""
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback must be one of {list(_FALLBACKS)}; got "
                             f"{self.fallback!r}.")
        score = self._column(cv_results, self.score)
        reported = self._column(cv_results, self.constraint)
        value = reported if self.greater_is_better else -reported
        violation = (self.bound - value) if self.greater_is_better else (value - self.bound)
        ok = (violation <= 0) & ~np.isnan(violation) & ~np.isnan(score)
        self.n_qualified_ = int(ok.sum())
        score_key = np.where(np.isnan(score), -np.inf, score)
        if ok.any():
            return int(np.flatnonzero(ok)[np.argmax(score_key[ok])])
        op = ">=" if self.greater_is_better else "<="
        finite = ~np.isnan(violation)
        best_value = (np.nanmax(value) if self.greater_is_better else np.nanmin(value)) \
            if finite.any() else float("nan")
        message = (f"No candidate has {self.constraint} {op} {self.bound}: the best value "
                   f"reached is {best_value:.4g}.")
        if self.fallback == "raise":
            raise ValueError(message + " Relax the bound or widen the search.")
        if self.fallback == "best_score" or not finite.any():
            index = int(np.argmax(score_key))
            chosen = "the best-scoring candidate"
        else:
            least = np.nanmin(violation)
            tied = np.flatnonzero(np.isclose(violation, least, rtol=0, atol=1e-12))
            index = int(tied[np.argmax(score_key[tied])])
            chosen = "the candidate closest to the bound"
        warnings.warn(f"{message} Falling back to {chosen} (index {index}, "
                      f"{self.constraint} = {value[index]:.4g}, {self.score} = "
                      f"{score[index]:.4g}).", FairnessConstraintWarning, stacklevel=2)
        return index
