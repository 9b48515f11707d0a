"""FairLossClassifier: a scikit-learn classifier that builds and drives a skorch net."""

import numbers
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
)
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._net import (
    ACTIVATIONS,
    MLP,
    FairLossNet,
    TensorRows,
    TrainingObjective,
    _noop,
    resolve_device,
)
from ._sensitive import encode_sensitive_features, split_sensitive_columns
from ._validation import check_sample_weight
from .calibration import get_calibration_penalty, get_post_calibrator
from .fairness import GroupScalingBase, GroupThresholds, get_fairness
from .fairness._group_thresholds import CONSTRAINTS as GROUP_THRESHOLD_CONSTRAINTS
from .losses import LossBase, get_loss
from .weighting import check_strategy

__all__ = ["FairLossClassifier"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class _SamplingSchedule:
    """Row sampling weights per epoch: ``weights`` before ``uniform_from``, then None."""

    def __init__(self, weights, uniform_from):
        self.weights = weights
        self.uniform_from = uniform_from

    def __call__(self, epoch):
        return self.weights if epoch < self.uniform_from else None


#: Metrics a binary decision threshold can be tuned for (``decision="f1"``, ...).
_METRICS = {
    "f1": f1_score,
    "balanced_accuracy": balanced_accuracy_score,
    "accuracy": accuracy_score,
    "mcc": matthews_corrcoef,
}


def _take_rows(data, index):
    """Rows ``index`` of an array-like, Series or DataFrame."""
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.iloc[index]
    return np.asarray(data)[index]


def _tune_threshold(proba, y, sample_weight, metric):
    """The probability threshold in ``(0, 1)`` that maximises ``metric`` on held-out rows.

    Candidates are the midpoints between consecutive distinct probabilities (at most 256
    quantiles); ties go to the threshold closest to 0.5. The approach of scikit-learn's
    ``TunedThresholdClassifierCV``, on one held-out split.
    """
    scorer = _METRICS[metric]
    values = np.unique(np.quantile(proba, np.linspace(0, 1, 257)))
    candidates = np.concatenate([[0.5], (values[:-1] + values[1:]) / 2])
    scores = np.array([scorer(y, (proba >= t).astype(int), sample_weight=sample_weight)
                       for t in candidates])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def _densify(X):
    """Sparse input (a one-hot ColumnTransformer's usual output) becomes a dense array."""
    return X.toarray() if sp.issparse(X) else X


def _n_rows(value):
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return shape[0]
    if hasattr(value, "__len__"):
        return len(value)
    return np.asarray(value).shape[0]


def _check_same_length(X, **arrays):
    """Raise a ValueError naming the argument whose length differs from X's."""
    n_samples = _n_rows(X)
    for name, value in arrays.items():
        if value is None or isinstance(value, (str, numbers.Number)):
            continue
        length = _n_rows(value)
        if length != n_samples:
            raise ValueError(
                f"{name} has {length} rows but X has {n_samples} rows; "
                "they must have the same length."
            )


class FairLossClassifier(ClassifierMixin, BaseEstimator):
    """Neural-network classifier trained with a pluggable data loss, on a skorch net.

    A multilayer perceptron (``hidden_layer_sizes``) is trained by minimising the data loss
    ``loss`` averaged with the row weights, ``sum_i w_i * loss_i / sum_i w_i`` (the
    normalisation of scikit-learn's ``MLPClassifier``), with mini-batches drawn from tensors
    held on the training device. The sensitive attributes given to :meth:`fit` travel in every
    batch next to the features, labels and weights, for the fairness penalties to read.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer. ``()`` gives a multinomial logistic regression.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Activation after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, in ``[0, 1)``.
    loss : str or LossBase, default="cross_entropy"
        The data loss: a string alias of :data:`sklearn_fairloss.losses.LOSSES` or a loss
        object (its parameters are tunable as ``loss__<param>``).
    class_weight : None, "balanced" or dict, default=None
        Weights per class, multiplied into the row weights. ``"balanced"`` uses
        ``n_samples / (n_classes * count(class))`` (as scikit-learn's estimators do).
    sample_weight_strategy : None, str or WeightingStrategy, default=None
        A strategy of :mod:`sklearn_fairloss.weighting` (for example ``Reweighing()``, or an
        alias such as ``"reweighing"``), fitted on the training rows of each ``fit`` (so each
        cross-validation fold recomputes it; its parameters are tunable as
        ``sample_weight_strategy__<param>``). Its weights multiply ``sample_weight``.
        Strategies over groups need ``sensitive_features``.
    fairness : None, str, PenaltyBase or GroupScalingBase, default=None
        A fairness term of :mod:`sklearn_fairloss.fairness` (or a string alias of
        :data:`sklearn_fairloss.fairness.FAIRNESS`); needs ``sensitive_features`` in ``fit``.
        A penalty is added to the data loss, ``loss + fairness_strength * penalty``; a group
        scaling reweights the per-row data losses by ``multiplier ** fairness_strength``.
        Its parameters are tunable as ``fairness__<param>``.
    fairness_strength : float, default=1.0
        Weight of the fairness term, ``>= 0``; ``0`` trains as without it.
    fairness_warmup : int, default=0
        Number of epochs over which the strength ramps linearly from
        ``fairness_strength / fairness_warmup`` up to ``fairness_strength``; ``0`` applies the
        full strength from the first epoch.
    stratify_batches : bool, default=False
        If True, every training batch holds each group x class cell (of the sensitive
        attributes' intersection, or of the classes alone without ``sensitive_features``) in
        proportion to its size, so that penalties see every group in every batch.
    calibration : None, str or CalibrationPenaltyBase, default=None
        A calibration penalty of :mod:`sklearn_fairloss.calibration` (``"mmce"``,
        ``"dca"`` or an object) added to the objective as
        ``calibration_strength * penalty``; tunable as ``calibration__<param>``.
    calibration_strength : float, default=1.0
        Weight of the calibration penalty, ``>= 0``.
    post_calibration : None, str or PostCalibratorBase, default=None
        A post-hoc calibrator of :mod:`sklearn_fairloss.calibration` (``"temperature"``,
        ``"vector"``, ``"matrix"``, ``"isotonic"``, ``"group_temperature"``,
        ``"group_temperature_shrunk"`` or an object), fitted on the held-out split (see
        ``validation_fraction``) after training. Per-group calibrators need
        ``sensitive_features`` in ``fit`` and in ``predict_proba``/``predict`` (pass them
        directly, route them with ``set_predict_proba_request(sensitive_features=True)``,
        or name columns of a DataFrame ``X`` in ``fit``).
    decision : "argmax", "proba", "balanced", float or str, default="argmax"
        The decision rule of :meth:`predict`. ``"argmax"``: the class the training
        objective favours, that is the most probable class under the training prior (with
        ``class_weight``, a class-reweighting strategy or a prior-shifting loss, predictions
        move as in scikit-learn; without them it is the most probable class);
        ``"proba"``: the most probable class by :meth:`predict_proba` (the Bayes rule for
        accuracy); ``"balanced"``: the Bayes rule for balanced error,
        ``argmax p(y|x) / prior(y)``;
        a float in ``(0, 1)`` (binary only): predict the positive class when its probability
        reaches it; a metric name (binary only: ``"f1"``, ``"balanced_accuracy"``,
        ``"accuracy"``, ``"mcc"``): the threshold that maximises it on the held-out split
        (``threshold_``).
    group_thresholds : None, {"demographic_parity", "equal_opportunity"} or GroupThresholds, \
            default=None
        Binary only; replaces ``decision``. After training, choose one probability threshold
        per protected group (per intersectional cell with several attributes) on the training
        rows so that the groups' positive rates (or true-positive rates) agree within the
        rule's ``tolerance`` (a string means tolerance 0; pass
        :class:`~sklearn_fairloss.fairness.GroupThresholds` for another, tunable as
        ``group_thresholds__tolerance``), at the highest expected accuracy. Needs
        ``sensitive_features`` in ``fit``, and in :meth:`predict` unless the group-blind rule
        already meets the constraint (``group_thresholds_.thresholds_`` is None).
        :meth:`predict_proba` is unchanged.
    sampling_temperature : float or None, default=None
        Temperature sampling of the training batches (Li et al. 2025, "Upsample or
        Upweight? Balanced Training on Heavily Imbalanced Datasets", NAACL): each epoch draws
        as many rows as there are, with replacement, class ``c`` with probability
        proportional to ``n_c ** (1 / sampling_temperature)``. ``1`` is uniform, large values
        balance the classes; ``None`` shuffles without resampling.
    sampling_cooldown : float, default=0.0
        Share of ``max_epochs``, at the end of training, that samples uniformly again (the
        paper's cooldown), in ``[0, 1]``. With no cooldown, :meth:`predict_proba` undoes the
        class-prior shift of the sampling; with a cooldown the final uniform epochs restore
        the data's prior and no correction is applied.
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    batch_size : int, default=256
        Rows per mini-batch (capped at the number of training rows).
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    early_stopping : bool, default=False
        If True, set aside ``validation_fraction`` of the training rows (stratified by class)
        and stop when the validation loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, restoring the best epoch's weights. If False, stop when the training loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs (as ``MLPClassifier`` does).
    validation_fraction : float, default=0.1
        Share of the training rows held out (stratified by class) when early stopping, a
        post-hoc calibrator or a metric-tuned decision needs them, in ``(0, 1)``. One split
        serves all three.
    n_iter_no_change : int, default=10
        Patience, in epochs, of the stopping rule.
    tol : float, default=1e-4
        Minimum improvement of the monitored loss. ``0`` stops only on no improvement at all.
    sensitive_as_input : bool, default=True
        When ``sensitive_features`` names columns of a DataFrame ``X``, whether those columns
        stay model inputs. If False they are dropped from ``X`` in ``fit`` and ``predict``
        (``feature_names_in_`` then lists the remaining columns).
    device : str, default="auto"
        Torch device; ``"auto"`` takes CUDA when it is available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split. The same
        seed gives the same model on the CPU.
    verbose : int, default=0
        ``1`` prints a line per epoch; ``0`` is silent.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Number of model inputs seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the model inputs, when ``X`` is a DataFrame with string column names.
    sensitive_names_ : list of str or None
        Names of the sensitive attributes given to ``fit``, or None.
    sensitive_groups_ : list of ndarray or None
        The groups of each sensitive attribute seen in ``fit``.
    loss_ : LossBase
        The fitted copy of ``loss``.
    fairness_ : PenaltyBase, GroupScalingBase or None
        The fitted copy of ``fairness``.
    calibration_ : CalibrationPenaltyBase or None
        The fitted copy of ``calibration``.
    post_calibrator_ : PostCalibratorBase or None
        The post-hoc calibrator fitted on the held-out split.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies of the training data (with ``sample_weight``), used by
        ``decision="balanced"``.
    threshold_ : float or None
        The positive-class probability threshold of :meth:`predict` (binary problems with a
        float or metric ``decision``).
    group_thresholds_ : GroupThresholds or None
        The fitted group-threshold rule (``thresholds_`` per group in ``groups_``), or None.
    sample_weight_strategy_ : WeightingStrategy or None
        The strategy fitted on the training rows (its ``weight_table()`` shows the weights).
    net_ : skorch.NeuralNet
        The trained skorch net (an implementation detail; its ``module_`` is the network).
    history_ : pandas.DataFrame
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (with early stopping)
        and ``dur`` (seconds); with ``fairness``, also ``data_loss`` (the weighted data loss
        alone), ``fairness_penalty`` (the penalty's value, or for a group scaling the scaled
        loss minus the data loss) and ``fairness_strength`` (after warm-up).
    n_iter_ : int
        Number of epochs run.
    fit_time_ : float
        Seconds spent in ``fit``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : the scikit-learn network this estimator mirrors.

    References
    ----------
    .. [1] Tietz, M., Fan, T. J., Nouri, D., Bossan, B. and skorch Developers (2017).
       "skorch: A scikit-learn compatible neural network library that uses PyTorch."
    .. [2] Kingma, D. P. and Ba, J. (2015). "Adam: A Method for Stochastic Optimization."
       ICLR.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_fairloss import FairLossClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = FairLossClassifier(hidden_layer_sizes=(16,), lr=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.8
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        hidden_layer_sizes=(64, 64),
        activation="relu",
        dropout=0.0,
        loss="cross_entropy",
        class_weight=None,
        sample_weight_strategy=None,
        fairness=None,
        fairness_strength=1.0,
        fairness_warmup=0,
        stratify_batches=False,
        calibration=None,
        calibration_strength=1.0,
        post_calibration=None,
        decision="argmax",
        group_thresholds=None,
        sampling_temperature=None,
        sampling_cooldown=0.0,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_epochs=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        sensitive_as_input=True,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.class_weight = class_weight
        self.sample_weight_strategy = sample_weight_strategy
        self.fairness = fairness
        self.fairness_strength = fairness_strength
        self.fairness_warmup = fairness_warmup
        self.stratify_batches = stratify_batches
        self.calibration = calibration
        self.calibration_strength = calibration_strength
        self.post_calibration = post_calibration
        self.decision = decision
        self.group_thresholds = group_thresholds
        self.sampling_temperature = sampling_temperature
        self.sampling_cooldown = sampling_cooldown
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.sensitive_as_input = sensitive_as_input
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation helpers

    def _check_params(self):
        def positive_int(name):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")

        def number_in(name, low, high, low_open=False, high_open=True):
            value = getattr(self, name)
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if ok:
                ok = (value > low if low_open else value >= low) and (
                    value < high if high_open else value <= high)
            if not ok:
                lo, hi = "(" if low_open else "[", ")" if high_open else "]"
                raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}; "
                                 f"got {value!r}.")

        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers; "
                f"got {self.hidden_layer_sizes!r}."
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {self.activation!r}."
            )
        number_in("dropout", 0, 1)
        number_in("lr", 0, np.inf, low_open=True)
        number_in("weight_decay", 0, np.inf)
        number_in("validation_fraction", 0, 1, low_open=True)
        number_in("tol", 0, np.inf)
        number_in("fairness_strength", 0, np.inf)
        number_in("calibration_strength", 0, np.inf)
        number_in("sampling_cooldown", 0, 1, high_open=False)
        if self.sampling_temperature is not None:
            number_in("sampling_temperature", 0, np.inf, low_open=True)
            if self.stratify_batches:
                raise ValueError(
                    "stratify_batches=True and sampling_temperature cannot be combined: both "
                    "decide which rows make a batch."
                )
        if (not isinstance(self.fairness_warmup, numbers.Integral)
                or isinstance(self.fairness_warmup, bool) or self.fairness_warmup < 0):
            raise ValueError(
                f"fairness_warmup must be a non-negative integer; got {self.fairness_warmup!r}."
            )
        positive_int("batch_size")
        positive_int("max_epochs")
        positive_int("n_iter_no_change")
        if isinstance(self.optimizer, str):
            if self.optimizer not in OPTIMIZERS:
                raise ValueError(
                    f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer "
                    f"class; got {self.optimizer!r}."
                )
            optimizer = OPTIMIZERS[self.optimizer]
        elif isinstance(self.optimizer, type) and issubclass(self.optimizer,
                                                              torch.optim.Optimizer):
            optimizer = self.optimizer
        else:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer "
                f"class; got {self.optimizer!r}."
            )
        return tuple(int(s) for s in sizes), optimizer

    def _check_decision(self, n_classes):
        decision = self.decision
        if isinstance(decision, str):
            if decision in ("argmax", "proba", "balanced"):
                return decision
            if decision in _METRICS:
                if n_classes != 2:
                    raise ValueError(
                        f"decision={decision!r} tunes a threshold, which needs a binary y; got "
                        f"{n_classes} classes. Use decision='argmax' or 'balanced'."
                    )
                return decision
        elif isinstance(decision, numbers.Real) and not isinstance(decision, bool):
            if not 0 < decision < 1:
                raise ValueError(f"decision as a threshold must be in (0, 1); got {decision!r}.")
            if n_classes != 2:
                raise ValueError(
                    f"decision={decision!r} is a probability threshold, which needs a binary y; "
                    f"got {n_classes} classes."
                )
            return float(decision)
        raise ValueError(
            "decision must be 'argmax', 'proba', 'balanced', a threshold in (0, 1) or one of "
            f"{sorted(_METRICS)}; got {decision!r}."
        )

    def _check_group_thresholds(self, n_classes, sensitive, decision):
        """A fresh GroupThresholds for ``group_thresholds``, or None."""
        rule = self.group_thresholds
        if rule is None:
            return None
        if isinstance(rule, str) and rule in GROUP_THRESHOLD_CONSTRAINTS:
            rule = GroupThresholds(constraint=rule)
        elif isinstance(rule, GroupThresholds):
            rule = clone(rule)
        else:
            raise ValueError(
                f"group_thresholds must be None, one of {list(GROUP_THRESHOLD_CONSTRAINTS)} or a "
                f"GroupThresholds; got {rule!r}."
            )
        rule._check_params()
        if n_classes != 2:
            raise ValueError(
                f"group_thresholds needs a binary y (one threshold per group); got {n_classes} "
                "classes."
            )
        if sensitive is None:
            raise ValueError("group_thresholds chooses one threshold per group: pass "
                             "sensitive_features to fit.")
        if decision not in ("argmax", "proba"):
            raise ValueError(
                f"group_thresholds replaces the decision rule; leave decision at 'argmax' (got "
                f"decision={self.decision!r})."
            )
        return rule

    def _class_weight_per_class(self, y_codes):
        n_classes = len(self.classes_)
        cw = self.class_weight
        if cw is None:
            return np.ones(n_classes)
        if isinstance(cw, str):
            if cw != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {cw!r}.")
            counts = np.bincount(y_codes, minlength=n_classes)
            return len(y_codes) / (n_classes * counts)
        if isinstance(cw, dict):
            unknown = [label for label in cw if label not in set(self.classes_.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight has keys {unknown} that are not classes of y "
                    f"({self.classes_.tolist()})."
                )
            weights = np.array([float(cw.get(label, 1.0)) for label in self.classes_])
            if not np.all(np.isfinite(weights)) or np.any(weights < 0):
                raise ValueError("class_weight values must be finite and non-negative.")
            return weights
        raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {cw!r}.")

    def _drop_sensitive_columns(self, X):
        dropped = getattr(self, "_dropped_sensitive_columns", None)
        if dropped and isinstance(X, pd.DataFrame):
            present = [c for c in dropped if c in X.columns]
            X = X.drop(columns=present)
        return X

    # ------------------------------------------------------------------------------- fit

    def fit(self, X, y, sample_weight=None, sensitive_features=None):
        """Train the network.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (float64 is cast to float32; sparse matrices are densified).
        y : array-like of shape (n_samples,)
            Class labels (strings, integers or booleans), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; the data loss is their weighted mean.
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            Protected attribute(s) per row: a 1-D array, a 2-D array or DataFrame for several
            attributes, or column name(s) of ``X`` when ``X`` is a DataFrame. Carried into
            every training batch; not needed at predict time.

        Returns
        -------
        self : FairLossClassifier
        """
        start_time = time.perf_counter()
        sizes, optimizer = self._check_params()
        X, y, y_codes, sensitive = self._validate_fit_data(X, y, sensitive_features)
        n_samples, n_classes = X.shape[0], len(self.classes_)
        user_weights, weights = self._row_weights(y, y_codes, sensitive, sample_weight)
        extras = self._encode_sensitive(sensitive, n_samples)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        decision = self._check_decision(n_classes)
        group_rule = self._check_group_thresholds(n_classes, sensitive, decision)
        self.post_calibrator_ = get_post_calibrator(self.post_calibration)
        train_index, valid_index = self._hold_out(y_codes, decision, seed)

        def to_rows(index):
            return TensorRows(
                torch.as_tensor(X[index], device=device),
                torch.as_tensor(y_codes[index], dtype=torch.long, device=device),
                torch.as_tensor(weights[index], dtype=torch.float32, device=device),
                {key: torch.as_tensor(value[index], device=device)
                 for key, value in extras.items()},
            )

        train_rows = to_rows(train_index)
        valid_rows = to_rows(valid_index) if self.early_stopping else None
        objective = self._training_objective(sensitive, y_codes[train_index],
                                             weights[train_index])
        sampling_schedule, sampled_mass = self._temperature_sampling(
            y_codes[train_index], weights[train_index], n_classes)
        strata = self._batch_strata(y_codes[train_index], extras, train_index)

        cuda_devices = [torch.device(device)] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            self.net_ = FairLossNet(
                module=MLP,
                module__n_features=X.shape[1],
                module__n_classes=n_classes,
                module__hidden_layer_sizes=sizes,
                module__activation=self.activation,
                module__dropout=float(self.dropout),
                criterion=objective,
                optimizer=optimizer,
                optimizer__weight_decay=float(self.weight_decay),
                lr=float(self.lr),
                max_epochs=int(self.max_epochs),
                batch_size=int(min(self.batch_size, len(train_rows))),
                train_split=predefined_split(valid_rows) if valid_rows is not None else None,
                callbacks=[("stopping", self._stopping_rule())],
                device=device,
                verbose=int(self.verbose),
                generator=torch.Generator().manual_seed(seed),
                fairness_warmup=int(self.fairness_warmup),
                strata=strata,
                sampling_schedule=sampling_schedule,
            )
            self.net_.fit(train_rows, None)
        self.loss_ = self.net_.criterion_.loss
        self.fairness_ = self.net_.criterion_.fairness
        self.calibration_ = self.net_.criterion_.calibration

        self._set_prior_correction(y_codes, user_weights, weights, sampled_mass)
        self.threshold_ = decision if isinstance(decision, float) else None
        if valid_index is not None and (self.post_calibrator_ is not None
                                        or decision in _METRICS):
            self._fit_on_held_out(X, y_codes, user_weights, sensitive, valid_index, decision)
        self.group_thresholds_ = None
        if group_rule is not None:
            proba = softmax(self._fit_logits(X, sensitive), axis=1)[:, 1]
            self.group_thresholds_ = group_rule.fit(proba, sensitive, sample_weight=user_weights)
        self._record_history()
        self.fit_time_ = time.perf_counter() - start_time
        return self

    # ------------------------------------------------------------------------ fit, in steps

    def _validate_fit_data(self, X, y, sensitive_features):
        """Resolve sensitive column names, validate X and y, and learn ``classes_``."""
        self._dropped_sensitive_columns = None
        sensitive, sensitive_names = split_sensitive_columns(X, sensitive_features)
        self._sensitive_columns = sensitive_names
        if sensitive_names is not None and not self.sensitive_as_input:
            X = X.drop(columns=sensitive_names)
            self._dropped_sensitive_columns = sensitive_names
        _check_same_length(X, y=y)
        X, y = validate_data(self, X, y, dtype=np.float32, accept_sparse=True)
        X = _densify(X)
        check_classification_targets(y)
        self.classes_, y_codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                f"{self.classes_.tolist()}."
            )
        return X, y, y_codes, sensitive

    def _row_weights(self, y, y_codes, sensitive, sample_weight):
        """The user's weights (ones when None) and the training weights: user weights times
        the weighting strategy's and the class weights."""
        n_samples = len(y_codes)
        user_weights = check_sample_weight(sample_weight, n_samples, reference="X")
        if user_weights is None:
            user_weights = np.ones(n_samples)
        weights = user_weights
        self.sample_weight_strategy_ = None
        if self.sample_weight_strategy is not None:
            strategy = check_strategy(self.sample_weight_strategy)
            self.sample_weight_strategy_ = strategy.fit(y, sensitive, sample_weight=weights)
            weights = weights * self.sample_weight_strategy_.compute(y, sensitive)
        weights = weights * self._class_weight_per_class(y_codes)[y_codes]
        return user_weights, weights

    def _encode_sensitive(self, sensitive, n_samples):
        """Per-row tensors of the sensitive attributes for the batches (empty without)."""
        self.sensitive_names_ = None
        self.sensitive_groups_ = None
        if sensitive is None:
            return {}
        codes, values, encoding = encode_sensitive_features(sensitive, n_samples)
        self.sensitive_names_ = encoding.names
        self.sensitive_groups_ = encoding.categories
        self._sensitive_encoding = encoding
        return {"sensitive": codes, "sensitive_values": values}

    def _hold_out(self, y_codes, decision, seed):
        """Training and held-out row indices (held-out None when nothing needs it)."""
        index = np.arange(len(y_codes))
        if not (self.early_stopping or self.post_calibrator_ is not None
                or decision in _METRICS):
            return index, None
        try:
            return train_test_split(index, test_size=self.validation_fraction,
                                    stratify=y_codes, random_state=seed)
        except ValueError as exc:
            raise ValueError(
                "could not hold out a stratified split of validation_fraction="
                f"{self.validation_fraction} for early stopping, post_calibration or a "
                f"metric decision ({exc}). Use more data or a larger validation_fraction."
            ) from exc

    def _training_objective(self, sensitive, train_codes, train_weights):
        """Fresh copies of the loss, fairness and calibration terms, set up for this data."""
        n_classes = len(self.classes_)
        loss = get_loss(self.loss)
        calibration = get_calibration_penalty(self.calibration)
        fairness = get_fairness(self.fairness)
        if fairness is not None:
            if sensitive is None:
                raise ValueError(
                    f"fairness={self.fairness!r} needs the protected attribute(s): pass "
                    "sensitive_features to fit."
                )
            if (isinstance(fairness, GroupScalingBase)
                    and type(loss).per_sample_loss is LossBase.per_sample_loss):
                raise ValueError(
                    f"fairness={self.fairness!r} reweights per-row losses, but loss="
                    f"{self.loss!r} is not a mean of per-row losses; use a penalty such as "
                    "DemographicParity, or a per-row loss such as cross_entropy."
                )
            fairness.set_groups(self._sensitive_encoding.n_groups,
                                numeric=self._sensitive_encoding.numeric)
        class_counts = np.bincount(train_codes, weights=train_weights, minlength=n_classes)
        loss.set_class_counts(torch.as_tensor(class_counts, dtype=torch.float32))
        return TrainingObjective(loss, fairness, float(self.fairness_strength), calibration,
                                 float(self.calibration_strength))

    def _temperature_sampling(self, train_codes, train_weights, n_classes):
        """The per-epoch row sampling weights, and the sampled class mass (None when the
        cooldown ends training on uniform sampling, or without temperature sampling)."""
        if self.sampling_temperature is None:
            return None, None
        counts = np.bincount(train_codes, minlength=n_classes).astype(np.float64)
        per_row = np.power(np.maximum(counts, 1.0),
                           1.0 / self.sampling_temperature - 1.0)[train_codes]
        schedule = _SamplingSchedule(
            torch.as_tensor(per_row, dtype=torch.float64),
            uniform_from=int(np.ceil((1 - self.sampling_cooldown) * self.max_epochs)))
        sampled_mass = None
        if self.sampling_cooldown == 0:
            sampled_mass = np.bincount(train_codes, weights=train_weights * per_row,
                                       minlength=n_classes)
        return schedule, sampled_mass

    def _batch_strata(self, train_codes, extras, train_index):
        """Group x class cell of each training row, for ``stratify_batches``."""
        if not self.stratify_batches:
            return None
        cells = train_codes[:, None]
        if "sensitive" in extras:
            cells = np.column_stack([extras["sensitive"][train_index], cells])
        return torch.as_tensor(np.unique(cells, axis=0, return_inverse=True)[1].ravel(),
                               dtype=torch.long)

    def _stopping_rule(self):
        sink = print if self.verbose else _noop
        if self.early_stopping:
            return EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change,
                                 threshold=self.tol, threshold_mode="abs", load_best=True,
                                 sink=sink)
        return EarlyStopping(monitor="train_loss", patience=self.n_iter_no_change,
                             threshold=self.tol, threshold_mode="abs", sink=sink)

    def _set_prior_correction(self, y_codes, user_weights, weights, sampled_mass):
        """``predict_proba`` estimates the class distribution of the data as given (with the
        user's sample_weight): undo the prior shift taught by class weights, a weighting
        strategy or temperature sampling (log of the ratio of the data's to the effective
        class frequencies) and by the loss itself (``LossBase.log_prior_shift``)."""
        n_classes = len(self.classes_)
        prior = np.bincount(y_codes, weights=user_weights, minlength=n_classes)
        effective = np.bincount(y_codes, weights=weights, minlength=n_classes)
        if sampled_mass is not None:
            effective = sampled_mass
        self.class_prior_ = prior / prior.sum()
        tiny = np.finfo(np.float64).tiny
        shift = np.log(np.maximum(self.class_prior_, tiny)) - np.log(
            np.maximum(effective / effective.sum(), tiny))
        loss_shift = self.loss_.log_prior_shift(n_classes)
        if loss_shift is not None:
            shift = shift + torch.as_tensor(loss_shift).double().cpu().numpy()
        self._log_prior_shift = shift - shift.mean()

    def _fit_on_held_out(self, X, y_codes, user_weights, sensitive, valid_index, decision):
        """Fit the post-hoc calibrator, then tune the decision threshold, on held-out rows."""
        logits = self.net_.predict_logits(X[valid_index]) + self._log_prior_shift
        held_out_sensitive = None
        if sensitive is not None:
            held_out_sensitive = _take_rows(sensitive, valid_index)
        if self.post_calibrator_ is not None:
            self.post_calibrator_.fit(logits, y_codes[valid_index],
                                      sample_weight=user_weights[valid_index],
                                      sensitive_features=held_out_sensitive)
        logits = self._fit_logits(X[valid_index], held_out_sensitive, logits)
        if decision in _METRICS:
            self.threshold_ = _tune_threshold(softmax(logits, axis=1)[:, 1],
                                              y_codes[valid_index], user_weights[valid_index],
                                              decision)

    def _fit_logits(self, X, sensitive, logits=None):
        """Calibrated logits of validated fit rows (``logits``: their uncalibrated ones)."""
        if logits is None:
            logits = self.net_.predict_logits(X) + self._log_prior_shift
        if self.post_calibrator_ is None:
            return logits
        return self.post_calibrator_.transform(logits, sensitive_features=sensitive)

    def _record_history(self):
        columns = ["epoch", "train_loss"] + (["valid_loss"] if self.early_stopping else [])
        columns += self.net_.criterion_.term_names()
        if self.fairness_ is not None:
            columns.append("fairness_strength")
        columns.append("dur")
        self.history_ = pd.DataFrame(
            [{key: row[key] for key in columns} for row in self.net_.history]
        )
        self.n_iter_ = len(self.history_)
        if not np.all(np.isfinite(self.history_["train_loss"].to_numpy())):
            raise ValueError(
                "Training diverged: the training loss is not finite. Scale the features "
                "(for example with StandardScaler) or lower lr."
            )

    # ---------------------------------------------------------------------------- predict

    def _raw_logits(self, X):
        check_is_fitted(self)
        X = self._drop_sensitive_columns(X)
        X = _densify(validate_data(self, X, dtype=np.float32, accept_sparse=True, reset=False))
        return self.net_.predict_logits(X)

    def _logits(self, X):
        """Logits of the true class distribution (the training prior shift undone)."""
        return self._raw_logits(X) + self._log_prior_shift

    def _predict_sensitive(self, X, sensitive_features, needed_by):
        """``sensitive_features`` for predicting on ``X``: as given, else the columns of a
        DataFrame ``X`` named in ``fit``; an error naming ``needed_by`` when neither is there."""
        if sensitive_features is None:
            if self._sensitive_columns is not None and isinstance(X, pd.DataFrame):
                sensitive_features, _ = split_sensitive_columns(X, self._sensitive_columns)
            else:
                raise ValueError(
                    f"{needed_by}: pass sensitive_features to "
                    "predict_proba/predict (in a Pipeline or search, route them with "
                    "set_predict_proba_request(sensitive_features=True) and "
                    "set_predict_request(sensitive_features=True))."
                )
        _check_same_length(X, sensitive_features=sensitive_features)
        return sensitive_features

    def _calibrated_logits(self, X, sensitive_features):
        logits = self._logits(X)
        calibrator = self.post_calibrator_
        if calibrator is None:
            return logits
        if calibrator.requires_sensitive_features:
            sensitive_features = self._predict_sensitive(
                X, sensitive_features,
                f"post_calibration={self.post_calibration!r} calibrates per group")
        elif sensitive_features is not None:
            _check_same_length(X, sensitive_features=sensitive_features)
        return calibrator.transform(logits, sensitive_features=sensitive_features)

    def decision_function(self, X):
        """Scores of the network, before any post-hoc calibration.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for binary problems (the positive class's margin,
        ``logit[1] - logit[0]``), else (n_samples, n_classes) (the logits). The logits are
        those of :meth:`predict_proba` without a post-hoc calibrator: ``softmax`` of them
        gives the class probabilities.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X, sensitive_features=None):
        """Class probabilities, columns in the order of ``classes_``.

        The softmax of the logits, with the prior shift of class weights, weighting
        strategies and prior-shifting losses undone (so the probabilities describe the data
        as given, not the reweighted training distribution), then post-hoc calibrated when
        ``post_calibration`` is set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like or DataFrame, default=None
            Needed only by a per-group ``post_calibration``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._calibrated_logits(X, sensitive_features), axis=1)

    def predict_log_proba(self, X, sensitive_features=None):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like or DataFrame, default=None
            Needed only by a per-group ``post_calibration``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._calibrated_logits(X, sensitive_features), axis=1)

    def predict(self, X, sensitive_features=None):
        """Predicted class labels, by the ``decision`` rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like or DataFrame, default=None
            Needed only by a per-group ``post_calibration`` and by ``group_thresholds``
            (unless no group thresholds were kept).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logits = self._calibrated_logits(X, sensitive_features)
        rule = getattr(self, "group_thresholds_", None)
        if rule is not None:
            if rule.requires_sensitive_features:
                sensitive_features = self._predict_sensitive(
                    X, sensitive_features,
                    f"group_thresholds={self.group_thresholds!r} predicts per group")
            proba = softmax(logits, axis=1)[:, 1]
            return self.classes_[rule.predict(proba, sensitive_features)]
        if self.threshold_ is not None:
            proba = softmax(logits, axis=1)
            return self.classes_[(proba[:, 1] >= self.threshold_).astype(int)]
        if self.decision == "argmax":
            # the decision the training objective aims at: with class weights, a weighting
            # strategy or a prior-shifting loss, the training prior's (as in scikit-learn)
            logits = logits - self._log_prior_shift
        elif self.decision == "balanced":
            logits = logits - np.log(self.class_prior_)
        return self.classes_[np.argmax(logits, axis=1)]

    # loss_, fairness_ and calibration_ are views of modules inside net_.criterion_. skorch
    # pickles the net's modules through torch with device mapping (a model trained on a GPU
    # loads on a CPU-only machine); pickling the views with plain pickle would store CUDA
    # tensors a second time, outside that mapping. So they are restored from the net.
    _NET_VIEWS = {"loss_": "loss", "fairness_": "fairness", "calibration_": "calibration"}

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        if "net_" in state:
            for name in self._NET_VIEWS:
                state.pop(name, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is not None:
            for name, part in self._NET_VIEWS.items():
                setattr(self, name, getattr(net.criterion_, part))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = False
        return tags
