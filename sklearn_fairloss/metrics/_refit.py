"""A ``refit`` callable for ``GridSearchCV``: the best-scoring candidate whose fairness metric
stays within a bound."""

import warnings
from dataclasses import KW_ONLY, dataclass

import numpy as np

__all__ = ["ConstrainedRefit", "FairnessConstraintWarning"]

_FALLBACKS = ("closest", "best_score", "raise")
#: Former names of the fallbacks (accepted with a FutureWarning).
_RENAMED = {"least_violation": "closest"}


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
    fallback : {"closest", "best_score", "raise"}, default="closest"
        What to do when no candidate meets the bound. ``"closest"``: warn with
        :class:`FairnessConstraintWarning` and pick the candidate closest to the bound (ties
        broken by ``score``); ``"best_score"``: warn and pick the best-scoring candidate,
        ignoring the constraint; ``"raise"``: raise ``ValueError``. The warning names the
        bound, the best value any candidate reached, and what the fallback costs in
        ``score`` against the best-scoring candidate. The default keeps the constraint
        first, which is why it was set: the candidate closest to the bound is the one that
        honours it most. But the fairest candidates of a search are often nearly constant
        models (a tiny ``C``), whose score may be barely above the majority class: read the
        warning, and pass ``"raise"`` where no silent fallback is acceptable (an automated
        pipeline) or ``"best_score"`` where the score matters more than the bound.
        ``"least_violation"`` is the former name of ``"closest"`` (``FutureWarning``).

    Attributes
    ----------
    n_qualified_ : int
        Number of candidates within the bound at the last call.
    score_ : float
        Mean ``score`` of the chosen candidate at the last call.
    constraint_value_ : float
        The chosen candidate's constraint metric, in the metric's own units.
    fell_back_ : bool
        Whether the last call used the fallback (no candidate met the bound).

    Notes
    -----
    With a callable ``refit``, scikit-learn's searches set ``best_index_``, ``best_params_``
    and ``best_estimator_`` but **not** ``best_score_`` (the callable's criterion is not a
    score). Read the chosen candidate's values from ``cv_results_`` instead, e.g.
    ``search.cv_results_["mean_test_accuracy"][search.best_index_]``, or from this object's
    ``score_`` and ``constraint_value_`` after the search.

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
    ...            "dp": make_fairness_scorer("demographic_parity_difference",
    ...                                      sensitive_features=[1])}
    >>> refit = ConstrainedRefit("accuracy", "dp", bound=0.3)
    >>> search = GridSearchCV(LogisticRegression(), {"C": [1e-4, 1e-2, 1.0]},
    ...                       scoring=scoring, refit=refit, cv=3).fit(X, y)
    >>> -search.cv_results_["mean_test_dp"][search.best_index_] <= 0.3
    np.True_
    >>> hasattr(search, "best_score_")  # scikit-learn's rule for a callable refit
    False
    >>> bool(refit.score_ == search.cv_results_["mean_test_accuracy"][search.best_index_])
    True
    """

    score: str
    constraint: str
    _: KW_ONLY
    bound: float
    greater_is_better: bool = False
    fallback: str = "closest"

    def _column(self, cv_results, name):
        key = f"mean_test_{name}"
        if key not in cv_results:
            available = sorted(k[len("mean_test_"):] for k in cv_results
                               if k.startswith("mean_test_"))
            raise KeyError(f"ConstrainedRefit needs the scorer {name!r} in the search's scoring "
                           f"dict; cv_results_ has scorers {available}.")
        return np.asarray(cv_results[key], dtype=np.float64)

    def _check_fallback(self):
        if self.fallback in _RENAMED:
            new = _RENAMED[self.fallback]
            warnings.warn(f"fallback={self.fallback!r} is deprecated; use fallback={new!r}.",
                          FutureWarning, stacklevel=3)
            return new
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback must be one of {list(_FALLBACKS)}; got "
                             f"{self.fallback!r}.")
        return self.fallback

    def _choose(self, index, score, value, fell_back):
        self.score_ = float(score[index])
        self.constraint_value_ = float(value[index])
        self.fell_back_ = fell_back
        return int(index)

    def __call__(self, cv_results):
        """Return the index of the chosen candidate in ``cv_results``.

        Parameters
        ----------
        cv_results : dict
            The search's ``cv_results_`` (needs ``mean_test_<score>`` and
            ``mean_test_<constraint>``).

        Returns
        -------
        index : int
        """
        fallback = self._check_fallback()
        score = self._column(cv_results, self.score)
        reported = self._column(cv_results, self.constraint)
        value = reported if self.greater_is_better else -reported
        violation = (self.bound - value) if self.greater_is_better else (value - self.bound)
        ok = (violation <= 0) & ~np.isnan(violation) & ~np.isnan(score)
        self.n_qualified_ = int(ok.sum())
        score_key = np.where(np.isnan(score), -np.inf, score)
        if ok.any():
            return self._choose(np.flatnonzero(ok)[np.argmax(score_key[ok])], score, value,
                                False)
        op = ">=" if self.greater_is_better else "<="
        finite = ~np.isnan(violation)
        best_score = int(np.argmax(score_key))
        if finite.any():
            closest = np.flatnonzero(np.isclose(violation, np.nanmin(violation), rtol=0,
                                                atol=1e-12))
            closest = int(closest[np.argmax(score_key[closest])])
            reached = (f"the best value any of the {len(value)} candidates reached is "
                       f"{value[closest]:.4g} (candidate {closest}, {self.score} = "
                       f"{score[closest]:.4g})")
        else:
            closest = None
            reached = f"{self.constraint} is NaN for every candidate"
        message = (f"No candidate has {self.constraint} {op} {self.bound} (the bound): "
                   f"{reached}.")
        if fallback == "raise":
            raise ValueError(message + " Relax the bound or widen the search.")
        if fallback == "best_score" or closest is None:
            index, chosen = best_score, "the best-scoring candidate, ignoring the bound"
        else:
            index, chosen = closest, "the candidate closest to the bound"
        cost = ""
        if index != best_score:
            cost = (f"; it scores {score_key[best_score] - score[index]:.4g} below the "
                    f"best-scoring candidate {best_score} ({self.score} = "
                    f"{score[best_score]:.4g}): check it beats a trivial model")
        warnings.warn(f"{message} Falling back to {chosen} (fallback={fallback!r}): "
                      f"candidate {index}, {self.constraint} = {value[index]:.4g}, "
                      f"{self.score} = {score[index]:.4g}{cost}. Pass fallback='raise' to "
                      "make this an error.", FairnessConstraintWarning, stacklevel=2)
        return self._choose(index, score, value, True)
