"""Per-group post-hoc calibration: a temperature per protected group, optionally shrunk.

Calibrated overall does not mean calibrated per group: a model can be over-confident for one
group and under-confident for another, with the errors cancelling in the overall ECE.
:class:`GroupTemperatureScaling` fits one temperature per group (per intersectional cell
with several attributes). Predicting with it needs the group of each row.
"""

import math
import warnings

import numpy as np
from scipy.optimize import minimize_scalar

from .._param_validation import Options, Real
from ._calibrators import (
    LOG_T_BOUNDS,
    PostCalibratorBase,
    _nll_and_grad,
    _weighted_temperature,
)
from ._group_index import encode_groups, lookup_groups

__all__ = ["GroupTemperatureScaling"]

MSG_SF_REQUIRED = (
    "{cls}.{method} needs sensitive_features: the protected attribute(s) of each row (1-D "
    "array-like, 2-D array or DataFrame), as given to fit. For a FairLossClassifier with a "
    "per-group post_calibration, pass predict_proba(X, sensitive_features=...) or, inside a "
    "meta-estimator, request it with set_predict_proba_request(sensitive_features=True)."
)
MSG_UNSEEN = (
    "sensitive_features holds group(s) not seen in fit: {groups}. {action}"
)


class GroupTemperatureScaling(PostCalibratorBase):
    r"""Temperature scaling per protected group, with optional shrinkage to a shared one.

    Group :math:`g` gets its own temperature :math:`T_g`, ``softmax(logits / T_g)`` (Guo et
    al. 2017's temperature scaling, "On Calibration of Modern Neural Networks", ICML, applied
    per group; the aim is the group-wise calibration of Pleiss et al. 2017, "On Fairness and
    Calibration", NeurIPS, and, over intersectional cells, of Hébert-Johnson et al. 2018,
    "Multicalibration: Calibration for the (Computationally-Identifiable) Masses", ICML).
    With several attributes, a group is a combination of their values (intersectional cell).

    The shared-plus-group variant, for small groups, first fits the shared temperature
    :math:`T` on all rows, then writes :math:`\log T_g = \log T + \delta_g` and, per group,
    minimises

    .. math::

        \sum_{i \in g} w_i \,\mathrm{NLL}_i\bigl(\mathrm{logits}_i / T_g\bigr)
        + \mathrm{shrinkage} \cdot \delta_g^2

    (a Gaussian prior on :math:`\log T_g` centred on the shared temperature; each problem is
    one-dimensional, solved by a bounded Brent search). The penalty's curvature
    ``2 * shrinkage`` competes with the NLL's, about :math:`\sum_{i \in g} w_i
    \mathrm{Var}_{k \sim p_i}(s_{ik})` for the scaled logits :math:`s`, typically 0.1 to a few
    per row: a group with many more rows than ``shrinkage`` keeps its own temperature, a group
    with fewer is pulled to the shared one. ``shrinkage=0`` fits independent temperatures;
    ``shrinkage=inf`` gives every group the shared temperature. Weights count as rows (weight
    2 is the same as duplicating a row), so with ``sample_weight`` the scale of ``shrinkage``
    is that of the weights.

    Parameters
    ----------
    shrinkage : float, default=0.0
        Strength of the L2 penalty on :math:`\delta_g`, in units of rows (see above); the
        alias ``"group_temperature_shrunk"`` uses 10.
    handle_unknown : {"shared", "error"}, default="shared"
        What :meth:`transform` does with a group not seen in :meth:`fit` (e.g. a small group
        absent from the calibration split): ``"shared"`` uses the shared temperature
        ``temperature_`` and warns (``UserWarning``); ``"error"`` raises a ``ValueError``.

    Attributes
    ----------
    groups_ : list
        The groups seen in :meth:`fit`, sorted: values of the attribute (one attribute) or
        tuples of values (several).
    group_temperatures_ : ndarray of shape (n_groups,)
        The temperature of each group of ``groups_``.
    temperature_ : float
        The shared temperature :math:`T`: temperature scaling fitted on all rows.
    sensitive_names_ : list of str
        Names of the attributes (``sensitive_feature_<j>`` when unnamed).
    n_classes_ : int

    See Also
    --------
    TemperatureScaling : one temperature for everyone.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import GroupTemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> group = np.where(rng.random(4000) < 0.5, "F", "M")
    >>> z = rng.normal(scale=2.0, size=(4000, 2))
    >>> y = (rng.random(4000) < 1 / (1 + np.exp(z[:, 0] - z[:, 1]))).astype(int)
    >>> logits = z * np.where(group == "F", 2.0, 0.5)[:, None]  # too sure for F, too shy for M
    >>> cal = GroupTemperatureScaling().fit(logits, y, sensitive_features=group)
    >>> {g: round(float(t), 1) for g, t in zip(cal.groups_, cal.group_temperatures_)}
    {'F': 2.0, 'M': 0.5}
    >>> proba = cal.predict_proba(logits, sensitive_features=group)
    """

    requires_sensitive_features = True
    _parameter_constraints = {
        "shrinkage": [Real(0, math.inf, finite=False)],
        "handle_unknown": [Options("shared", "error")],
    }

    def __init__(self, shrinkage=0.0, handle_unknown="shared"):
        self.shrinkage = shrinkage
        self.handle_unknown = handle_unknown

    def _fit(self, logits, y, w, sensitive_features):
        if sensitive_features is None:
            raise ValueError(MSG_SF_REQUIRED.format(cls=type(self).__name__, method="fit"))
        codes, groups, self.sensitive_names_ = encode_groups(sensitive_features,
                                                             logits.shape[0])
        self.groups_ = groups
        self.temperature_ = _weighted_temperature(logits, y, w)
        shrinkage = float(self.shrinkage)
        if math.isinf(shrinkage):
            self.group_temperatures_ = np.full(len(groups), self.temperature_)
            return self
        # Weights in units of rows: weight 2 on a row is the same as duplicating it.
        w_rows = w * self._weight_total
        log_shared = math.log(self.temperature_)
        temps = np.empty(len(groups))
        for g in range(len(groups)):
            rows = codes == g
            delta = self._group_delta(logits[rows], y[rows], w_rows[rows], log_shared,
                                      shrinkage)
            temps[g] = math.exp(log_shared + delta)
        self.group_temperatures_ = temps
        return self

    @staticmethod
    def _group_objective(delta, logits, y, w, log_shared, shrinkage):
        """``sum_i w_i NLL_i(logits_i / T_g) + shrinkage * delta ** 2`` with
        ``log T_g = log_shared + delta``, divided by ``sum(w) + shrinkage`` (scale only)."""
        nll = _nll_and_grad(logits * math.exp(-(log_shared + delta)), y, w)[0]
        return (nll + shrinkage * delta ** 2) / (w.sum() + shrinkage)

    def _group_delta(self, logits, y, w, log_shared, shrinkage):
        if w.sum() <= 0:
            return 0.0
        # Same bounds on log T_g as the global search: shrinkage=0 is the independent fit.
        bounds = (LOG_T_BOUNDS[0] - log_shared, LOG_T_BOUNDS[1] - log_shared)
        result = minimize_scalar(self._group_objective, bounds=bounds, method="bounded",
                                 args=(logits, y, w, log_shared, shrinkage),
                                 options={"xatol": 1e-10})
        return float(result.x)

    def _transform(self, logits, sensitive_features):
        if sensitive_features is None:
            raise ValueError(MSG_SF_REQUIRED.format(cls=type(self).__name__,
                                                    method="transform"))
        index, unseen = lookup_groups(sensitive_features, logits.shape[0], self.groups_,
                                      self.sensitive_names_)
        # index -1 (an unseen group) picks the shared temperature, appended last
        temps = np.append(self.group_temperatures_, self.temperature_)
        if unseen:
            if self.handle_unknown == "error":
                raise ValueError(MSG_UNSEEN.format(
                    groups=unseen, action=f"Groups seen in fit: {self.groups_}; pass "
                    "handle_unknown='shared' to use the shared temperature for them."))
            warnings.warn(MSG_UNSEEN.format(
                groups=unseen, action=f"Using the shared temperature {self.temperature_:.4g} "
                "for their rows."), UserWarning, stacklevel=3)
        return logits / temps[index][:, None]
