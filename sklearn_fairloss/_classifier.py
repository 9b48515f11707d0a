"""FairLossClassifier: a scikit-learn classifier that composes named parts on a skorch net.

``fit`` is three steps: :func:`~sklearn_fairloss._prepare.prepare_training_data` (validate the
data once), :func:`~sklearn_fairloss._net.build_net` and training, then post-processing (the
prior correction, the post-hoc calibrator and the decision rule, fitted on held-out or
training rows). Fitted attributes are assigned only when all three have succeeded.
"""

import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._backbone import EMBEDDING_SCALE
from ._fairness_bound import fairness_bound_parts
from ._net import resolve_device
from ._partial_fit import partial_fit
from ._parts import PARAMETER_CONSTRAINTS, resolve_parts
from ._post_training import post_process
from ._prepare import check_same_length, encode_features, prepare_training_data
from ._training import batch_composition, train_network, training_objective, training_outcome
from ._validation import split_sensitive_columns, take_rows

__all__ = ["FairLossClassifier"]


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
    ensemble_size : int, default=1
        ``k > 1`` trains TabM's parameter-efficient ensemble of ``k`` MLPs (Gorishniy et al.
        2025, the authors' ``tabm`` package; hidden layers of one width) and predicts with the
        members' mean probability; ``1``: one MLP.
    numerical_embedding : {"periodic", "piecewise_linear"} or None, default="periodic"
        Embedding of each numeric column before the hidden layers (Gorishniy et al. 2022, the
        authors' ``rtdl_num_embeddings``): periodic (PLR, lite), piecewise-linear (PLE), or
        None (the scaled values themselves).
    embedding_scale : float, default=10.0
        Initial scale of the periodic embeddings' frequencies (sigma in Gorishniy et al.
        2022): larger values let the network bend sooner on a numeric column. Chosen by
        ``benchmarks/bench_defaults.py`` on training rows only, together with
        ``linear_start`` (without the linear start, 1.0 suited the smaller data sets better).
        Without early stopping (``early_stopping=False``, ``partial_fit``) the sharper
        features overfit sooner: use 1.0 there.
    linear_start : bool, default=True
        Add a linear path to the network's logits and start training from a logistic
        regression: the path starts at scikit-learn's ``LogisticRegression()`` fitted on the
        encoded training rows (categorical columns one-hot; at most 50,000 rows), the
        network's own output at zero, and both are then trained together. With early stopping
        the start is scored on the held-out rows as epoch 0 and an epoch replaces it only if
        it lowers the held-out loss by more than ``tol``; when none does, the model is the
        logistic regression refitted on every training row (not when ``post_calibration`` or
        a decision rule is fitted on the held-out rows), and a warning names any configured
        loss, fairness or calibration term that therefore never acted. This is what keeps
        small data sets at least as good as a logistic regression (see
        ``docs/backbone.md``). False: the network alone, from a random start.
    identity_normalization : bool or dict, default=False
        True: fair identity normalisation (FIN, Luo et al. 2024, Harvard-GF), a learned
        per-group normalisation of the features that feed the output layer,
        ``(1 - m) * (h - mu_g) / (softplus(sigma_g) + 1e-6) + m * h`` with ``mu_g`` and
        ``sigma_g`` learned per group (per intersectional cell with several attributes)
        (:class:`~sklearn_fairloss.fairness.FairIdentityNormalizer`; the linear path of
        ``linear_start`` is left as it is). The model is then group-aware: ``fit`` and
        :meth:`predict`, :meth:`predict_proba` and :meth:`decision_function` need
        ``sensitive_features`` (or the sensitive columns of a DataFrame ``X`` named in
        ``fit``). A dict sets options: ``"momentum"`` (``m``, default 0.3), ``"mu_scale"``
        and ``"sigma_scale"`` (the initial scales of ``mu_g`` and ``sigma_g``, default 0.01
        and 1.0: the authors' values), ``"unseen_groups"`` (read at predict, as
        ``GroupThresholds``' option): ``"average"`` (default) gives a row of a group not seen
        in ``fit`` the average of its logits under the known groups, weighted by their
        share of the training rows, with a warning; ``"error"`` raises. Not with
        ``ensemble_size > 1`` nor ``fairness_bound``. See docs/fairness.md.
    categorical_features : "from_dtype", None or array-like, default="from_dtype"
        Categorical columns, each given a learned embedding per category (unseen or missing
        categories at predict share one): ``"from_dtype"`` takes the non-numeric columns of a
        DataFrame (``object``, ``string``, ``category``), as ``HistGradientBoostingClassifier``
        does; or column names, positions or a boolean mask; None: all columns numeric.
    feature_scaling : {"quantile", "standard"} or None, default="quantile"
        Scaling of the numeric columns, learned in ``fit``: scikit-learn's
        ``QuantileTransformer`` to a normal distribution, ``StandardScaler``, or None (as
        given; scale them yourself).
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
        Weight of the fairness term, ``>= 0``; ``0`` trains as without it. Not used with
        ``fairness_bound`` (the penalty is then off).
    fairness_bound : float or None, default=None
        The largest allowed value, on unseen data, of the metric of ``fairness=`` (binary
        ``y``): the demographic parity difference (``DemographicParity``), the equalized odds
        difference (``EqualizedOdds``) or the equal opportunity difference
        (``EqualOpportunity``), in ``(0, 1)``; per intersectional cell with
        ``intersectional=True``. It is reached from the training rows alone (held-out split:
        ``validation_fraction``): a one-sided upper confidence bound of the metric (level
        ``fairness_confidence``, margins from the group sizes) must meet it. With
        ``decision="argmax"`` the model needs no groups at predict (group-blind): per-group
        class weights follow dual ascent during training and the held-out epoch of lowest loss
        that meets the bound is kept. With ``decision=GroupThresholds(...)`` (group-aware) the
        thresholds' tolerance is the bound less the margin. ``post_calibration=None`` then
        means a calibrator on the held-out rows that keeps every decision
        (:class:`~sklearn_fairloss.postprocessing.MonotoneCubicScaling` group-blind,
        temperature scaling group-aware). A warning says when only a (near-)constant model
        meets the bound, or none, or when a post-hoc calibrator moved the certified
        decisions. See docs/fairness_bound.md.
    fairness_confidence : float, default=0.9
        Confidence of the upper bound used by ``fairness_bound``, in ``(0, 1)``.
    batch_sampler : None, "stratified" or a batch sampler, default=None
        Which rows make a training batch. ``None`` shuffles; ``"stratified"``
        (:class:`~sklearn_fairloss.weighting.StratifiedBatchSampler`) puts every group x class
        cell (classes alone without ``sensitive_features``) in every batch in proportion to
        its size, so that penalties see every group; a
        :class:`~sklearn_fairloss.weighting.WeightedBatchSampler` draws each epoch's rows with
        replacement with probabilities from a weighting strategy (temperature sampling, Li et
        al. 2025, with its ``cooldown``). Without a cooldown, :meth:`predict_proba` undoes the
        class-prior shift of the sampling.
    calibration : None, str or CalibrationPenaltyBase, default=None
        A calibration penalty of :mod:`sklearn_fairloss.calibration` (``"mmce"``,
        ``"dca"`` or an object) added to the objective as
        ``calibration_strength * penalty``; tunable as ``calibration__<param>``.
    calibration_strength : float, default=1.0
        Weight of the calibration penalty, ``>= 0``.
    post_calibration : None, str or PostCalibratorBase, default=None
        A post-hoc calibrator of :mod:`sklearn_fairloss.calibration` (``"temperature"``,
        ``"vector"``, ``"matrix"``, ``"isotonic"``, ``"monotone_cubic"`` (binary),
        ``"group_temperature"``, ``"group_temperature_shrunk"`` or an object), fitted on the
        held-out split (see ``validation_fraction``) after training. Per-group calibrators need
        ``sensitive_features`` in ``fit`` and in ``predict_proba``/``predict`` (pass them
        directly, route them with ``set_predict_proba_request(sensitive_features=True)``,
        or name columns of a DataFrame ``X`` in ``fit``).
    decision : "argmax", "proba", "balanced", float, str or a decision rule, default="argmax"
        The decision rule of :meth:`predict`: a rule object of
        :mod:`sklearn_fairloss.postprocessing`, or one of these spellings. ``"argmax"``: the
        class the training objective favours, the most probable class under the training
        prior (with ``class_weight``, a class-reweighting strategy or a prior-shifting loss,
        predictions move as in scikit-learn; without them, the most probable class);
        ``"proba"``: the most probable class by :meth:`predict_proba` (the Bayes rule for
        accuracy); ``"balanced"``: the Bayes rule for balanced error,
        ``argmax p(y|x) / prior(y)``;
        a float in ``(0, 1)`` (binary only): predict the positive class when its probability
        reaches it; a metric name (binary only: ``"f1"``, ``"balanced_accuracy"``,
        ``"accuracy"``, ``"mcc"``): the threshold that maximises it on the held-out split
        (``threshold_``).
        A :class:`~sklearn_fairloss.postprocessing.GroupThresholds` (binary only) chooses one
        threshold per protected group on the training rows so that the groups' positive
        rates (or true-positive rates) agree within its ``tolerance``; it needs
        ``sensitive_features`` in ``fit``, and in :meth:`predict` unless the group-blind rule
        already meets the constraint. :meth:`predict_proba` is unchanged.
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer class, default="adam"
        The optimizer.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    batch_size : int, default=1024
        Rows per mini-batch (capped at the number of training rows); chosen with
        ``benchmarks/bench_defaults.py`` (no worse than 256 in validation log-loss, faster).
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    early_stopping : "auto" or bool, default="auto"
        If True, set aside ``validation_fraction`` of the training rows (stratified by class)
        and stop when the validation loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, restoring the best epoch's weights. If False, train on all rows and stop when
        the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs (as
        ``MLPClassifier`` does). ``"auto"`` (as ``HistGradientBoostingClassifier``'s): on
        when ``fit`` gets at least 100 rows and the held-out split can hold every class, off
        below (``do_early_stopping_`` says which). Without it the network overfits and loses
        to ``LogisticRegression`` in held-out log-loss (``benchmarks/bench_defaults.py``).
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
    callbacks : None or list of skorch callbacks, default=None
        The user's skorch callbacks (``ProgressBar()``, ``LRScheduler(...)``, ``Checkpoint``,
        or ``(name, callback)`` pairs), cloned in each ``fit`` and run after the package's own
        (early stopping and the schedules the loss and fairness objects declare).
    warm_start : bool, default=False
        If True, ``fit`` continues from the previous fit's network weights and optimizer state
        (same features, classes and ``hidden_layer_sizes``) for up to ``max_epochs`` more
        epochs, as scikit-learn's ``warm_start``; post-processing is refitted.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split. The same
        seed gives the same model on the CPU.
    verbose : int, default=0
        ``1`` prints a line per epoch; ``0`` is silent.
    fairness_warmup, stratify_batches, group_thresholds, sampling_temperature, \
sampling_cooldown : deprecated
        The old spellings of ``fairness=...(warmup=k)``, ``batch_sampler="stratified"``,
        ``decision=GroupThresholds(...)`` and
        ``batch_sampler=WeightedBatchSampler(TemperatureSampling(tau), cooldown=...)``;
        they keep working with a ``FutureWarning``.

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
    decision_rule_ : decision rule
        The fitted rule of :meth:`predict` (:mod:`sklearn_fairloss.postprocessing`).
    threshold_ : float or None
        The positive-class probability threshold of :meth:`predict` (binary problems with a
        float or metric ``decision``).
    group_thresholds_ : GroupThresholds or None
        ``decision_rule_`` when it is a :class:`~sklearn_fairloss.postprocessing.GroupThresholds`.
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
    do_early_stopping_ : bool
        Whether early stopping was used (``early_stopping="auto"`` decides from the data).
    fairness_valid_, fairness_margin_ : float
        With ``fairness_bound``: the metric of the fitted model on the held-out rows, and the
        margin of its upper confidence bound for their group sizes.
    fairness_offsets_ : list of ndarray or None
        Group-blind ``fairness_bound``: the log-odds class-weight offset of each group (per
        attribute, or per cell), as chosen.
    fairness_validation_fraction_ : float
        With ``fairness_bound``: the share of the rows held out to certify the bound
        (``validation_fraction``, or more where the smallest groups need it, at most 0.5).
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
    .. [3] Luo, Y., Tian, Y., Shi, M., Pasquale, L. R., Shen, L. Q., Zebardast, N., Elze, T.
       and Wang, M. (2024). "Harvard Glaucoma Fairness: A Retinal Nerve Disease Dataset for
       Fairness Learning and Fair Identity Normalization." IEEE Transactions on Medical
       Imaging 43(7), 2623-2633 (arXiv:2306.09264): ``identity_normalization``.

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

    _parameter_constraints = PARAMETER_CONSTRAINTS

    # Under metadata routing, ``sensitive_features`` is requested by default (as by the
    # package's scorers): no other scikit-learn object consumes it, so fairlearn's
    # ``cross_validate(pipe, X, y, params={"sensitive_features": A})`` works as it is.
    # ``sample_weight`` keeps scikit-learn's default (unset: an explicit request).
    __metadata_request__fit = {"sensitive_features": True}
    __metadata_request__predict = {"sensitive_features": True}
    __metadata_request__predict_proba = {"sensitive_features": True}
    __metadata_request__predict_log_proba = {"sensitive_features": True}
    __metadata_request__decision_function = {"sensitive_features": True}

    def __init__(self, hidden_layer_sizes=(64, 64), *, activation="relu", dropout=0.0,
                 ensemble_size=1, numerical_embedding="periodic",
                 embedding_scale=EMBEDDING_SCALE, linear_start=True,
                 identity_normalization=False, categorical_features="from_dtype",
                 feature_scaling="quantile",
                 loss="cross_entropy", class_weight=None, sample_weight_strategy=None,
                 fairness=None, fairness_strength=1.0, fairness_bound=None,
                 fairness_confidence=0.9, calibration=None,
                 calibration_strength=1.0, post_calibration=None, decision="argmax",
                 batch_sampler=None, optimizer="adam", lr=1e-3, weight_decay=0.0,
                 batch_size=1024, max_epochs=100, early_stopping="auto", validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, sensitive_as_input=True, device="auto",
                 callbacks=None, warm_start=False, random_state=None, verbose=0,
                 fairness_warmup=0, stratify_batches=False, group_thresholds=None,
                 sampling_temperature=None, sampling_cooldown=0.0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.numerical_embedding = numerical_embedding
        self.embedding_scale = embedding_scale
        self.linear_start = linear_start
        self.identity_normalization = identity_normalization
        self.categorical_features = categorical_features
        self.feature_scaling = feature_scaling
        self.loss = loss
        self.class_weight = class_weight
        self.sample_weight_strategy = sample_weight_strategy
        self.fairness = fairness
        self.fairness_strength = fairness_strength
        self.fairness_bound = fairness_bound
        self.fairness_confidence = fairness_confidence
        self.calibration = calibration
        self.calibration_strength = calibration_strength
        self.post_calibration = post_calibration
        self.decision = decision
        self.batch_sampler = batch_sampler
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
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.fairness_warmup = fairness_warmup
        self.stratify_batches = stratify_batches
        self.group_thresholds = group_thresholds
        self.sampling_temperature = sampling_temperature
        self.sampling_cooldown = sampling_cooldown

    def fit(self, X, y, sample_weight=None, sensitive_features=None):
        """Train the network.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features: numbers, and (see ``categorical_features``) text or categorical columns
            of a DataFrame (sparse matrices are densified).
        y : array-like of shape (n_samples,)
            Class labels (strings, integers or booleans), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; the data loss is their weighted mean.
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            Protected attribute(s) per row: a 1-D array, a 2-D array or DataFrame for several
            attributes, or column name(s) of ``X`` when ``X`` is a DataFrame. Carried into
            every training batch; needed at predict time only by the group-aware parts
            (``identity_normalization``, a per-group ``post_calibration`` or decision rule).

        Returns
        -------
        self : FairLossClassifier
        """
        start_time = time.perf_counter()
        try:
            fitted = self._fit(X, y, sample_weight, sensitive_features)
        except BaseException:
            # a failed fit leaves the estimator unfitted, never half-fitted or stale
            for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
                delattr(self, name)
            raise
        self.__dict__.update(fitted, fit_time_=time.perf_counter() - start_time)
        return self

    def _fit(self, X, y, sample_weight, sensitive_features):
        """The three steps of ``fit``; returns the fitted attributes without setting any."""
        parts, bound = fairness_bound_parts(self, resolve_parts(self))
        device = resolve_device(self.device)
        data = prepare_training_data(self, X, y, sample_weight, sensitive_features,
                                     needs_held_out=parts.needs_held_out()
                                     or bound is not None)
        if bound is not None:  # a certifying split large enough for the bound
            data = bound.split(data, self.validation_fraction)
        objective = training_objective(self, parts, data)
        sampler = batch_composition(self, parts.batch_sampler, data)
        if bound is not None:
            bound.attach(parts, data, objective, device)
        net = train_network(self, parts, data, objective, sampler, device)
        history, sampled_mass = training_outcome(net, data.early_stopping, data.X, sampler)
        fitted = post_process(parts, data, net, sampled_mass,
                              fit_rule=None if bound is None else bound.fit_rule(data))
        if bound is not None:
            fitted.update(bound.report(self, data, lambda index: self._fitted_predict(
                fitted, data.X[index], data.sensitive, index)))
        encoder = data.group_encoder
        fitted.update(
            classes_=data.classes, n_features_in_=data.n_features_in, history_=history,
            n_iter_=len(history), do_early_stopping_=data.early_stopping,
            sensitive_names_=None if encoder is None else encoder.names_,
            sensitive_groups_=None if encoder is None else encoder.categories_,
            loss_=objective.loss, fairness_=objective.fairness,
            calibration_=objective.calibration, sample_weight_strategy_=data.strategy,
            _sensitive_columns=data.sensitive_columns, _feature_encoder=data.feature_encoder,
            _group_encoder=encoder,
            _dropped_sensitive_columns=None if self.sensitive_as_input else data.sensitive_columns)
        self.__dict__.pop("feature_names_in_", None)
        self.__dict__.pop("_stream", None)  # a refit ends partial_fit's stream
        if data.feature_names_in is not None:
            fitted["feature_names_in_"] = data.feature_names_in
        return fitted

    def partial_fit(self, X, y, classes=None, sample_weight=None, sensitive_features=None):
        """Train the network for one pass over a chunk of rows, continuing from the last call.

        For data larger than memory: call it once per partition (of a Dask DataFrame, a
        parquet data set, ...), for as many passes over the partitions as training needs
        (scikit-learn's contract: ``classes`` on the first call, one pass per call as
        ``MLPClassifier.partial_fit``). After :meth:`fit`, it continues the fitted network.

        What ``fit`` learns from all rows is learned from the first call's rows and then
        kept: the scaling of the numeric columns (``feature_scaling``), the categories of the
        categorical columns, the protected groups, the ``sample_weight_strategy``; with a
        small or unrepresentative first partition prefer ``feature_scaling="standard"``
        (see docs/user_guide/streaming.md, where both are measured). A group (or an
        intersectional cell) absent from the first call is an error on the call that brings
        it: make the first partition hold every group. ``sample_weight`` and
        ``sensitive_features`` are per call, as in ``fit``; the fairness and calibration terms
        act on every batch as in ``fit``, and epoch schedules (a fairness ``warmup``) count
        calls. The class prior (prior correction, ``decision="balanced"``) accumulates over
        all calls. Nothing is held out: ``early_stopping`` and ``max_epochs`` do not apply,
        and the parts that need held-out rows (``post_calibration``, a tuned or per-group
        ``decision``, ``fairness_bound``), ``class_weight="balanced"``, temperature
        sampling and ``CaPELoss`` are refused; validate on a held-out partition yourself
        (``score`` or a fairness metric after each pass). A failed first call leaves the
        estimator unfitted; a failed later call leaves it as it was.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The chunk's features, with the columns of the first call.
        y : array-like of shape (n_samples,)
            The chunk's labels; a chunk may hold a single class.
        classes : array-like of shape (n_classes,), default=None
            Every class label of the stream: required on the first call, and if given later
            it must be the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of the chunk.
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            The chunk's protected attribute(s), as in :meth:`fit`; needed in every call when
            given in the first (column names of a DataFrame ``X`` are remembered).

        Returns
        -------
        self : FairLossClassifier

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn_fairloss import FairLossClassifier
        >>> X, y = make_classification(n_samples=2000, random_state=0)
        >>> clf = FairLossClassifier(hidden_layer_sizes=(16,), feature_scaling="standard",
        ...                          random_state=0)
        >>> for epoch in range(5):
        ...     for chunk in np.array_split(np.arange(2000), 4):  # four partitions
        ...         clf = clf.partial_fit(X[chunk], y[chunk], classes=[0, 1])
        >>> clf.n_iter_, bool(clf.score(X, y) > 0.8)
        (20, True)
        """
        start_time = time.perf_counter()
        first = "net_" not in self.__dict__
        try:
            fitted = partial_fit(self, X, y, classes, sample_weight, sensitive_features)
        except BaseException:
            if first:  # a failed first call leaves the estimator unfitted
                for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
                    delattr(self, name)
            raise
        if "feature_names_in_" not in fitted:
            self.__dict__.pop("feature_names_in_", None)
        self.__dict__.update(fitted, fit_time_=time.perf_counter() - start_time)
        return self

    def _fitted_predict(self, fitted, X, sensitive, index):
        """Class codes of the fitted parts (before they are assigned) for encoded ``X``."""
        logits = fitted["net_"].predict_logits(X) + fitted["_log_prior_shift"]
        rows = None if sensitive is None else take_rows(sensitive, index)
        if fitted["post_calibrator_"] is not None:
            logits = fitted["post_calibrator_"].transform(logits, sensitive_features=rows)
        return fitted["decision_rule_"].predict(softmax(logits, axis=1), sensitive_features=rows)

    def _logits(self, X, sensitive_features=None):
        """Logits of the true class distribution (the training prior shift undone)."""
        check_is_fitted(self)
        cells = self._identity_cells(X, sensitive_features)
        dropped = self._dropped_sensitive_columns
        if dropped and isinstance(X, pd.DataFrame):
            X = X.drop(columns=[c for c in dropped if c in X.columns])
        return (self.net_.predict_logits(encode_features(self, X), cells=cells)
                + self._log_prior_shift)

    def _identity_cells(self, X, sensitive_features):
        """Each row's group cell for the identity normalisation (-1: unseen in ``fit``), or
        None when the network has none."""
        if getattr(self.net_.module_, "identity_normalization", None) is None:
            return None
        sensitive = self._predict_sensitive(
            X, sensitive_features, "identity_normalization normalises per group")
        cells = self._group_encoder.transform(sensitive, unseen="ignore").cells
        if np.any(cells < 0):
            options = self.identity_normalization
            unseen = (options.get("unseen_groups", "average") if isinstance(options, dict)
                      else "average")
            n_rows = int(np.sum(cells < 0))
            if unseen == "error":
                raise ValueError(
                    f"sensitive_features holds {n_rows} row(s) of groups not seen in fit, which "
                    "identity_normalization has no statistics for; pass "
                    "identity_normalization={'unseen_groups': 'average'} to give them the "
                    "average over the known groups.")
            warnings.warn(
                f"sensitive_features holds {n_rows} row(s) of groups not seen in fit: "
                "identity_normalization gives them the average of their logits over the "
                "known groups (unseen_groups='average').", UserWarning, stacklevel=4)
        return cells

    def _predict_sensitive(self, X, sensitive_features, needed_by):
        """``sensitive_features`` for predicting on ``X``: as given, else the columns of a
        DataFrame ``X`` named in ``fit``; an error naming ``needed_by`` when neither is there."""
        if sensitive_features is None:
            if self._sensitive_columns is None or not isinstance(X, pd.DataFrame):
                raise ValueError(
                    f"{needed_by}: pass sensitive_features to predict_proba/predict (in a "
                    "Pipeline or search, route them with set_predict_proba_request("
                    "sensitive_features=True) and set_predict_request(sensitive_features=True)).")
            sensitive_features, _ = split_sensitive_columns(X, self._sensitive_columns)
        check_same_length(X, sensitive_features=sensitive_features)
        return sensitive_features

    def _calibrated_logits(self, X, sensitive_features):
        logits = self._logits(X, sensitive_features)
        calibrator = self.post_calibrator_
        if calibrator is None:
            return logits
        if calibrator.requires_sensitive_features:
            sensitive_features = self._predict_sensitive(
                X, sensitive_features,
                f"post_calibration={self.post_calibration!r} calibrates per group")
        elif sensitive_features is not None:
            check_same_length(X, sensitive_features=sensitive_features)
        return calibrator.transform(logits, sensitive_features=sensitive_features)

    def decision_function(self, X, sensitive_features=None):
        """Scores of the network, before any post-hoc calibration.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like or DataFrame, default=None
            Needed only by ``identity_normalization``.

        Returns
        -------
        ndarray of shape (n_samples,) for binary problems (the positive class's margin,
        ``logit[1] - logit[0]``), else (n_samples, n_classes) (the logits). The logits are
        those of :meth:`predict_proba` without a post-hoc calibrator: ``softmax`` of them
        gives the class probabilities.
        """
        logits = self._logits(X, sensitive_features)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

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
            Needed only by a per-group ``post_calibration`` and by
            ``identity_normalization``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._calibrated_logits(X, sensitive_features), axis=1)

    def predict_log_proba(self, X, sensitive_features=None):
        """Logarithm of :meth:`predict_proba` (same arguments), computed stably from the
        logits: ``log_softmax`` instead of the log of a rounded probability.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._calibrated_logits(X, sensitive_features), axis=1)

    def predict(self, X, sensitive_features=None):
        """Predicted class labels, by the ``decision`` rule (``decision_rule_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like or DataFrame, default=None
            Needed only by a per-group ``post_calibration``, a per-group decision rule
            (unless no group thresholds were kept) and ``identity_normalization``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = softmax(self._calibrated_logits(X, sensitive_features), axis=1)
        rule = self.decision_rule_
        if rule.requires_sensitive_features:
            spelling = (f"group_thresholds={self.group_thresholds!r}"
                        if self.group_thresholds is not None else f"decision={self.decision!r}")
            sensitive_features = self._predict_sensitive(X, sensitive_features,
                                                         f"{spelling} predicts per group")
        return self.classes_[rule.predict(proba, sensitive_features=sensitive_features)]

    # loss_, fairness_ and calibration_ are views of net_.criterion_, which skorch pickles with
    # device mapping (GPU-trained models load on a CPU); they are restored from the net.
    _NET_VIEWS = {"loss_": "loss", "fairness_": "fairness", "calibration_": "calibration"}

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        views = self._NET_VIEWS if "net_" in state else {}
        return {key: value for key, value in state.items() if key not in views}

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
